"""The loss as a function of the parameters, from the data's sufficient statistics.

With Z = [X, 1] and θ = (w, b), every loss of this chapter is a quadratic in θ:

    Σ (Zθ − y)² = θᵀ(ZᵀZ)θ − 2θᵀ(Zᵀy) + yᵀy

so ZᵀZ, Zᵀy and yᵀy (float64, one pass over the data per run) give the full-data loss anywhere, the
closed-form optimum, the curvature, and from it the conditioning and the largest stable learning rate,
without touching the data again. Each engine keeps its own scale: scratch and fast report means of
½(ŷ−y)², concise (nn.MSELoss) means of (ŷ−y)². The surface is the squared loss's: with huber or absolute
loss, or weight decay, the run minimises another function (training.RunStarted.surface_is_exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from linreg_tui.config import optimum_rows_per_chunk
from linreg_tui.data import Dataset

#: The landscape and the parameters-over-time view follow the first few weights and the bias; with
#: more features the rest are held at the optimum (and the view says so).
TRACKED_WEIGHTS = 4


def loss_scale(impl: str) -> float:
    """The factor in front of the mean squared error: ½ for the book's squared_loss, 1 for MSELoss."""
    return 1.0 if impl == "concise" else 0.5


@dataclass(frozen=True)
class SufficientStats:
    """ZᵀZ, Zᵀy and yᵀy of one data set, in float64 on the CPU."""

    gram: torch.Tensor  # (d+1, d+1)
    zty: torch.Tensor  # (d+1,)
    yty: float
    count: int

    @property
    def num_features(self) -> int:
        return self.gram.shape[0] - 1


def sufficient_statistics(data: Dataset) -> SufficientStats:
    """One pass over the data in chunks, so memory stays at one chunk even for millions of examples."""
    features, labels = data.features.cpu(), data.labels.cpu()
    d = features.shape[1]
    chunk_rows = optimum_rows_per_chunk(d)  # the memory estimate counts one such chunk
    gram = torch.zeros(d + 1, d + 1, dtype=torch.float64)
    zty = torch.zeros(d + 1, dtype=torch.float64)
    yty = 0.0
    for start in range(0, features.shape[0], chunk_rows):
        X = features[start : start + chunk_rows].double()
        y = labels[start : start + chunk_rows, 0].double()
        Z = torch.cat([X, torch.ones(X.shape[0], 1, dtype=torch.float64)], dim=1)
        gram += Z.T @ Z
        zty += Z.T @ y
        yty += float(y @ y)
    return SufficientStats(gram, zty, yty, features.shape[0])


def solve_least_squares(stats: SufficientStats) -> torch.Tensor:
    """θ* = argmin Σ(Zθ − y)²: lstsq (not solve), so that fewer examples than unknowns still give the
    minimum-norm exact fit instead of an error."""
    return torch.linalg.lstsq(stats.gram, stats.zty.unsqueeze(1), driver="gelsd").solution.reshape(-1)


@dataclass(frozen=True)
class Conditioning:
    """How hard the problem is for gradient descent, before any step is taken."""

    #: λmax / λmin of ZᵀZ/n (inf when fewer examples than unknowns make it singular).
    condition_number: float
    #: 2 / λmax of the Hessian of the run's own loss: full-batch gradient descent converges below it
    #: and diverges above it. Minibatch SGD is noisier and can diverge below it.
    max_stable_lr: float


def conditioning(
    stats: SufficientStats, impl: str, loss: str = "squared", wd: float = 0.0, summed_over: int = 1
) -> Conditioning:
    """The condition number of the data, and the stability bound of the run's own loss: its curvature
    (the squared loss's on this engine's scale; huber's is ½-scale where residuals are within delta,
    absolute's is 0) times `summed_over` (concise's reduction='sum' sums a minibatch of that many
    examples), plus weight decay's λ on the weights."""
    eigenvalues = torch.linalg.eigvalsh(stats.gram / stats.count)
    low, high = float(eigenvalues[0]), float(eigenvalues[-1])
    # Round-off leaves a singular ZᵀZ/n with eigenvalues of about ε·λmax instead of 0.
    singular = low <= high * (stats.gram.shape[0] * torch.finfo(torch.float64).eps)
    curvature = 2 * {"squared": loss_scale(impl), "huber": 0.5, "absolute": 0.0}[loss] * summed_over
    if wd:
        hessian = curvature * stats.gram / stats.count
        d = stats.num_features
        hessian[range(d), range(d)] += wd  # the penalty on w, not b
        hessian_max = float(torch.linalg.eigvalsh(hessian)[-1])
    else:
        hessian_max = curvature * high
    return Conditioning(
        condition_number=math.inf if singular else high / low,
        max_stable_lr=2 / hessian_max if hessian_max > 0 else math.inf,
    )


@dataclass(frozen=True)
class LossSurface:
    """The full-data loss over the tracked parameters (the first few weights and the bias), the others
    held at the optimum; plain floats, so the UI draws it without torch.

    The loss is L(θ* + Δ) = floor + ½ ΔᵀHΔ exactly (θ* is a minimum, H the Hessian), on the run's own scale.
    """

    names: tuple[str, ...]  #: "w1", "w2", …, "b"
    optimum: tuple[float, ...]
    truth: tuple[float, ...]
    hessian: tuple[tuple[float, ...], ...]
    floor: float  #: the loss at the optimum
    held: int  #: how many weights are not tracked (held at the optimum)

    def loss(self, i: int, j: int, x: float, y: float) -> float:
        """The loss with tracked parameter i at x, j at y, and every other parameter at the optimum."""
        dx, dy = x - self.optimum[i], y - self.optimum[j]
        H = self.hessian
        return self.floor + 0.5 * (H[i][i] * dx * dx + 2 * H[i][j] * dx * dy + H[j][j] * dy * dy)

    def grid(self, i: int, j: int, xs: list[float], ys: list[float]) -> list[list[float]]:
        """Rows for ys (top row first: the largest y), columns for xs."""
        return [[self.loss(i, j, x, y) for x in xs] for y in reversed(ys)]

    def pairs(self) -> list[tuple[int, int]]:
        """The pairs a key cycles through: w1×w2 first (w1×b with one feature)."""
        count = len(self.names)
        return [(i, j) for i in range(count) for j in range(i + 1, count)]


def loss_surface(
    stats: SufficientStats, optimum: torch.Tensor, true_w: tuple[float, ...], true_b: float, impl: str
) -> LossSurface:
    d = stats.num_features
    tracked = [*range(min(d, TRACKED_WEIGHTS)), d]
    index = torch.tensor(tracked)
    scale = loss_scale(impl)
    hessian = (2 * scale / stats.count) * stats.gram[index][:, index]
    residual = stats.yty - 2 * float(optimum @ stats.zty) + float(optimum @ stats.gram @ optimum)
    truth = [*true_w, true_b]
    return LossSurface(
        names=tuple(f"w{i + 1}" if i < d else "b" for i in tracked),
        optimum=tuple(optimum[index].tolist()),
        truth=tuple(truth[i] for i in tracked),
        hessian=tuple(tuple(row) for row in hessian.tolist()),
        floor=max(0.0, scale * residual / stats.count),
        held=d - (len(tracked) - 1),
    )
