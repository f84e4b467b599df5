"""The optimization chapter's theory for the run's own quadratic (d2l 12.3 and 12.6): how fast full-batch
gradient descent and momentum can converge, with which learning rate and β, and how fast this run should.

Every loss the app minimises with the plain squared loss is a quadratic L(θ* + e) = L* + ½eᵀHe whose
Hessian H has eigenvalues in [λmin, λmax] (κ = λmax/λmin). Full-batch steps are then linear maps of the
error e = θ − θ*, one per eigenvalue λ of H:

- gradient descent: e ← (1 − ηλ)e, which shrinks by |1 − ηλ| a step;
- heavy ball (the book's momentum, v ← βv + g, θ ← θ − ηv): e_{k+1} = (1 + β − ηλ)e_k − βe_{k−1}, whose
  2×2 iteration matrix [[1 + β − ηλ, −β], [1, 0]] has the roots of z² − (1 + β − ηλ)z + β as eigenvalues.

The rate of the run is the largest of these moduli over H's eigenvalues: the spectral radius of the
iteration. Plain floats, no torch: the report, the JSON and the form read it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from linreg_tui.run.config import RunConfig

#: The log says how many steps take the distance to the optimum to this fraction of its start.
TOLERANCE = 1e-4
#: Below about this fraction of its start float32's rounding stops the distance shrinking (measured on the
#: κ ≈ 100 presets: it stalls near 1e-5 of about 6), so the observed rate is taken from the steps above it.
FLOAT32_FLOOR = 1e-5
#: The optimizers the theory speaks of: plain gradient descent and the heavy ball.
THEORY_OPTIMIZERS = ("sgd", "momentum")


def gd_optimal_lr(low: float, high: float) -> float:
    """η* = 2/(λmin + λmax): |1 − ηλ| is equal at both ends of the spectrum, so neither dominates."""
    return 2 / (low + high)


def gd_optimal_rate(low: float, high: float) -> float:
    """(κ − 1)/(κ + 1), the shrink per step at η*: about 1 − 2/κ for a large κ."""
    return (high - low) / (high + low)


@dataclass(frozen=True)
class MomentumOptimum:
    """The heavy ball's best constants for a quadratic and its rate with them (Polyak's)."""

    lr: float  #: (2/(√λmin + √λmax))²
    beta: float  #: ((√κ − 1)/(√κ + 1))²
    rate: float  #: (√κ − 1)/(√κ + 1): about 1 − 2/√κ, so about √κ times fewer steps than gradient descent


def momentum_optimal(low: float, high: float) -> MomentumOptimum:
    """At these constants both ends of the spectrum have a double root of modulus √β: the discriminant
    (1 + β − ηλ)² − 4β is zero at λmin and λmax, and every λ between has a complex pair of modulus √β."""
    root_low, root_high = math.sqrt(low), math.sqrt(high)
    rate = (root_high - root_low) / (root_high + root_low)
    return MomentumOptimum(lr=(2 / (root_low + root_high)) ** 2, beta=rate * rate, rate=rate)


def momentum_stable_lr(beta: float, high: float) -> float:
    """(2 + 2β)/λmax: above it the root of z² − (1 + β − ηλmax)z + β at z < −1 leaves the unit circle
    (at z = −1 the polynomial is 2 + 2β − ηλmax). With β = 0 it is gradient descent's 2/λmax."""
    return (2 + 2 * beta) / high


def stable_lr(optimizer: str, beta: float, max_stable_lr: float) -> float:
    """The run's full-batch bound from gradient descent's 2/λmax: (1 + β) times it for momentum."""
    return (1 + beta) * max_stable_lr if optimizer == "momentum" else max_stable_lr


def heavy_ball_modulus(lr: float, beta: float, curvature: float) -> float:
    """The largest |z| with z² − (1 + β − ηλ)z + β = 0, for λ = `curvature`."""
    c = 1 + beta - lr * curvature
    discriminant = c * c - 4 * beta
    if discriminant <= 0:
        return math.sqrt(beta)  # a complex pair: |z|² = z·z̄ = β
    return (abs(c) + math.sqrt(discriminant)) / 2


def predicted_rate(optimizer: str, lr: float, beta: float, low: float, high: float) -> float | None:
    """The spectral radius of the full-batch iteration on a quadratic with Hessian eigenvalues in
    [low, high]: the factor by which the error shrinks a step once the slowest direction dominates
    (None for an optimizer the theory does not cover).

    Why the two ends suffice: each eigenvalue λ of H has its own modulus, and the ends are eigenvalues,
    so the radius is the largest modulus over H's spectrum, which lies within [low, high]. For gradient
    descent |1 − ηλ| is convex in λ, so over an interval it is largest at an end. For the heavy ball the
    largest root modulus depends on c = 1 + β − ηλ alone: √β while c² ≤ 4β, then (|c| + √(c² − 4β))/2,
    which grows with |c|. So it is a non-decreasing function of |c|, and |c| is convex in λ (c is affine
    in it): over an interval of λ it too is largest at an end.
    """
    if optimizer == "sgd":
        return max(abs(1 - lr * low), abs(1 - lr * high))
    if optimizer == "momentum":
        return max(heavy_ball_modulus(lr, beta, low), heavy_ball_modulus(lr, beta, high))
    return None


def steps_to(tolerance: float, rate: float) -> float:
    """Steps for the error to shrink to `tolerance` of its start at `rate` a step: ln(tol)/ln(rate),
    rounded up (inf when it does not shrink)."""
    if rate >= 1:
        return math.inf
    if rate <= 0:
        return 1.0
    return float(math.ceil(math.log(tolerance) / math.log(rate) - 1e-9))


def usable(distances: Sequence[tuple[int, float]], floor: float = FLOAT32_FLOOR) -> list[tuple[int, float]]:
    """The (step, distance) points from the start up to the first that is not finite or falls below
    `floor` of the start (float32's rounding, not the iteration, decides the distance from there on)."""
    if not distances or not distances[0][1] > 0 or not math.isfinite(distances[0][1]):
        return []
    start = distances[0][1]
    points = []
    for step, distance in distances:
        if not math.isfinite(distance) or distance < floor * start:
            break
        points.append((step, distance))
    return points


def observed_rate(distances: Sequence[tuple[int, float]], floor: float = FLOAT32_FLOOR) -> float | None:
    """The geometric mean shrink per step of the distance to the optimum, from (step, distance) points
    (the first the start): (d_last/d_first)^(1/steps) over the points above `floor` of the start. None
    without two such points. It includes the first steps' transient: at momentum's optimal constants the
    roots are double, the error goes as k·ρᵏ, and the observed rate reads a little above ρ."""
    points = usable(distances, floor)
    if len(points) < 2 or points[-1][0] == points[0][0]:
        return None
    (first_step, first), (last_step, last) = points[0], points[-1]
    return (last / first) ** (1 / (last_step - first_step))


def observed_steps_to(tolerance: float, distances: Sequence[tuple[int, float]]) -> int | None:
    """The first step at which the distance was within `tolerance` of its start (None: never)."""
    if not distances or not distances[0][1] > 0:
        return None
    start_step, start = distances[0]
    for step, distance in distances:
        if distance <= tolerance * start:
            return step - start_step
    return None


def why_no_prediction(config: RunConfig) -> str:
    """Why the run's rate is not predicted ('' when it is): the theory is full-batch sgd or momentum at a
    constant learning rate on the plain squared loss."""
    if config.optimizer not in THEORY_OPTIMIZERS:
        return (
            f"no predicted rate: optimizer {config.optimizer}'s steps are not a fixed linear map of the error "
            "(the theory here is for sgd and momentum)"
        )
    if not config.minimises_squared_loss:
        return (
            "no predicted rate: the run does not minimise the plain squared loss (huber, absolute or weight "
            "decay change the function the steps descend)"
        )
    if config.batch_size < config.training_examples:
        return (
            f"no predicted rate: minibatches of {config.batch_size:,} of {config.training_examples:,} examples "
            "add noise to each step; the rate is full-batch gradient descent's (batch_size = num_examples)"
        )
    if config.schedule != "constant":
        return f"no predicted rate: schedule {config.schedule} changes the learning rate from step to step"
    return ""


@dataclass(frozen=True)
class RunTheory:
    """What the theory says of one run, from its Hessian's ends (None: not said, `why` says why)."""

    hessian_min: float
    hessian_max: float
    gd_lr: float | None
    gd_rate: float | None
    momentum: MomentumOptimum | None
    predicted_rate: float | None
    why: str

    @property
    def predicted_steps(self) -> float | None:
        """Steps to TOLERANCE of the start at the predicted rate."""
        return None if self.predicted_rate is None else steps_to(TOLERANCE, self.predicted_rate)


def run_theory(config: RunConfig, hessian_min: float, hessian_max: float) -> RunTheory:
    """The optimal pairs (for sgd and momentum runs on the plain squared loss) and the run's predicted rate
    (full batch, constant lr too)."""
    known = math.isfinite(hessian_min) and math.isfinite(hessian_max) and hessian_max > 0
    why = why_no_prediction(config)
    covered = known and config.optimizer in THEORY_OPTIMIZERS and config.minimises_squared_loss
    if not known and not why:
        why = "no predicted rate: the Hessian's eigenvalues are not known for this run"
    low = max(hessian_min, 0.0)
    return RunTheory(
        hessian_min=hessian_min,
        hessian_max=hessian_max,
        gd_lr=gd_optimal_lr(low, hessian_max) if covered else None,
        gd_rate=gd_optimal_rate(low, hessian_max) if covered else None,
        momentum=momentum_optimal(low, hessian_max) if covered else None,
        predicted_rate=predicted_rate(config.optimizer, config.lr, config.momentum, low, hessian_max)
        if known and not why
        else None,
        why=why,
    )


def distance(w: Sequence[float], b: float, optimum_w: Sequence[float], optimum_b: float) -> float:
    """‖θ − θ*‖ over all the weights and the bias (float64, on the host)."""
    return math.sqrt(sum((v - o) ** 2 for v, o in zip(w, optimum_w, strict=True)) + (b - optimum_b) ** 2)
