"""The least-squares optimum and the conditioning of real data, in float64 by orthogonal factorizations.

statistics.py works from ZᵀZ (Z = [X, 1]): fine for the book's X ~ N(0, 1), but forming ZᵀZ squares the
condition number, and on nearly collinear data (Longley) or badly scaled columns (the book's x^i/i! up to
degree 19) that leaves no correct digit: on Longley, float32 data through the Gram matrix gets −0.85 of
NIST's certified digits, the normal equations in float64 about 6. Here instead:

- one pass over the float64 rows, a chunk at a time, builds R of the QR factorization of [Z, y]
  (Householder, by LAPACK through numpy; stacking each chunk under the R so far is the tall-skinny QR,
  as backward stable as one factorization of the whole matrix), so memory stays at one chunk;
- the optimum is the least-squares solution of R_Z θ = Qᵀy by SVD (numpy's lstsq, LAPACK gelsd), with
  the columns scaled by powers of two first (exact, and it keeps a tiny x^19/19! column from being taken
  for rank deficiency); on Longley it agrees with NIST's certified values to about 11-12 digits;
- the conditioning comes from the singular values of R_Z (those of Z), never from the eigenvalues of ZᵀZ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from linreg_tui.run.result import Optimum
from linreg_tui.run.surface import Conditioning, loss_scale

#: Rows per chunk of the QR pass: enough to amortize each small factorization, at most 128 MiB a chunk.
CHUNK_ROWS = 8192
CHUNK_VALUES = 1 << 24


@dataclass(frozen=True, eq=False)
class Factor:
    """R of [Z, y] = QR with Z = [X, 1]: (k, d+2) upper triangular, k = min(n, d+2). ‖Zθ − y‖ = ‖R[θ; −1]‖
    for every θ, so the optimum, its loss and the conditioning all come from R."""

    r: np.ndarray
    count: int  #: n, the rows factored

    @property
    def num_features(self) -> int:
        return self.r.shape[1] - 2

    @property
    def r_z(self) -> np.ndarray:
        """R of Z alone (the first d+1 columns): RᵀR = ZᵀZ."""
        return self.r[:, :-1]


def factor(features: np.ndarray, target: np.ndarray) -> Factor:
    """One chunked pass over float64 rows (n, d) and (n,)."""
    n, d = features.shape
    width = d + 2
    rows = max(4 * width, min(CHUNK_ROWS, CHUNK_VALUES // width))
    block = np.empty((min(rows, max(n, 1)), width))
    r = np.zeros((0, width))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        chunk = block[: stop - start]
        chunk[:, :d] = features[start:stop]
        chunk[:, d] = 1.0
        chunk[:, d + 1] = target[start:stop]
        r = np.linalg.qr(np.vstack([r, chunk]), mode="r")
    return Factor(r, n)


def least_squares(factor: Factor) -> Optimum:
    """argmin over (w, b) of Σ(Xw + b − y)². Unique when Z has full column rank (rank d + 1 at lstsq's
    tolerance, on the power-of-two-scaled columns); otherwise the least-norm answer in those scaled
    coordinates, and `unique` is False."""
    d = factor.num_features
    r_z, qty = factor.r_z, factor.r[:, -1]
    if r_z.shape[0] == 0:
        return Optimum((0.0,) * d, 0.0, unique=False)
    scale = _power_of_two_scale(np.linalg.norm(r_z, axis=0))
    solution, _, rank, _ = np.linalg.lstsq(r_z * scale, qty, rcond=None)
    theta = solution * scale
    return Optimum(tuple(float(v) for v in theta[:d]), float(theta[d]), unique=int(rank) == d + 1)


def _power_of_two_scale(norms: np.ndarray) -> np.ndarray:
    """1/‖column‖ rounded to a power of two (so that scaling is exact); 1 for a column of zeros."""
    safe = np.where(norms > 0, norms, 1.0)
    return np.ldexp(1.0, -np.round(np.log2(safe)).astype(int))


def residual_sum_of_squares(factor: Factor, w: tuple[float, ...], b: float) -> float:
    """Σ(Xw + b − y)² over the factored rows, from R alone."""
    theta = np.array([*w, b, -1.0])
    return float(np.sum((factor.r @ theta) ** 2))


def singular_values(factor: Factor) -> np.ndarray:
    """Those of Z/√n, largest first (their squares are the eigenvalues of ZᵀZ/n); d+1 of them, zeros
    when fewer rows than unknowns."""
    values = np.zeros(factor.num_features + 1)
    if factor.count:
        found = np.linalg.svd(factor.r_z / math.sqrt(factor.count), compute_uv=False)
        values[: len(found)] = found
    return values


def condition_number(factor: Factor) -> float:
    """λmax / λmin of ZᵀZ/n, (σmax/σmin)²: inf when Z is singular to float64's precision (σmin within
    max(n, d+1)·ε of σmax, lstsq's own rank tolerance)."""
    values = singular_values(factor)
    high, low = float(values[0]), float(values[-1])
    tolerance = max(factor.count, len(values)) * np.finfo(np.float64).eps
    if high == 0 or low <= high * tolerance:
        return math.inf
    return (high / low) ** 2


def conditioning(
    factor: Factor, impl: str, loss: str = "squared", wd: float = 0.0, summed_over: int = 1
) -> Conditioning:
    """statistics.conditioning's numbers from the singular values: the condition number of ZᵀZ/n, and
    2/λmax of the Hessian of the run's own loss, c·ZᵀZ/n plus weight decay's λ on w (not b), with c the
    same curvature (2 × the engine's loss scale for squared, ½-scale for huber within delta, 0 for absolute,
    times `summed_over` for a summed minibatch). That Hessian is AᵀA for A = [√(c/n)·R_Z; √λ·[I 0]], so
    λmax = σmax(A)²."""
    curvature = 2 * {"squared": loss_scale(impl), "huber": 0.5, "absolute": 0.0}[loss] * summed_over
    d = factor.num_features
    stacked = math.sqrt(curvature / max(factor.count, 1)) * factor.r_z
    if wd:
        penalty = math.sqrt(wd) * np.eye(d, d + 1)
        stacked = np.vstack([stacked, penalty])
    values = np.linalg.svd(stacked, compute_uv=False) if stacked.size else np.zeros(1)
    hessian_max = float(values[0]) ** 2
    # Fewer rows than d + 1 columns, or columns dependent to float64's precision: λmin is 0.
    number = condition_number(factor)
    full_rank = len(values) == d + 1 and (wd > 0 or math.isfinite(number))
    return Conditioning(
        condition_number=number,
        max_stable_lr=2 / hessian_max if hessian_max > 0 else math.inf,
        hessian_min=float(values[-1]) ** 2 if full_rank else 0.0,
        hessian_max=hessian_max,
    )


@dataclass(frozen=True)
class FitQuality:
    """How well (w, b) fits some rows: R² and the RMSE in the target's units."""

    r2: float  #: 1 − SS_res/SS_tot; NaN when the target is constant on these rows (SS_tot = 0)
    rmse: float


def fit_quality(
    w: tuple[float, ...], b: float, features: np.ndarray, target: np.ndarray, target_std: float = 1.0
) -> FitQuality:
    """R² and RMSE of ŷ = Xw + b on these float64 rows. Rows standardized with a target std s_y give
    the RMSE in the file's units with `target_std` = s_y (R² is the same in either units)."""
    residual = features @ np.asarray(w, dtype=np.float64) + b - target
    ss_res = float(residual @ residual)
    centered = target - target.mean()
    ss_tot = float(centered @ centered)
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else math.nan
    return FitQuality(r2=r2, rmse=target_std * math.sqrt(ss_res / len(target)))
