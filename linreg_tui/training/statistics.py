"""The loss as a function of the parameters, from the data's sufficient statistics.

With Z = [X, 1] and θ = (w, b), every loss of this chapter is a quadratic in θ:

    Σ (Zθ − y)² = θᵀ(ZᵀZ)θ − 2θᵀ(Zᵀy) + yᵀy

so ZᵀZ, Zᵀy and yᵀy (float64, one pass over the data per run) give the full-data loss anywhere, the
closed-form optimum, the curvature, and from it the conditioning and the largest stable learning rate,
without touching the data again. Each engine keeps its own scale: scratch and fast report means of
½(ŷ−y)², concise (nn.MSELoss) means of (ŷ−y)². The surface is the squared loss's: with huber or absolute
loss, or weight decay, the run minimises another function (run.events.RunStarted.surface_is_exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from linreg_tui.run.memory import optimum_rows_per_chunk
from linreg_tui.run.result import Optimum
from linreg_tui.run.surface import TRACKED_WEIGHTS, Conditioning, LossSurface, loss_scale
from linreg_tui.training.data import Dataset


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


def least_squares(stats: SufficientStats) -> Optimum:
    """Float64 least squares with a bias column, from the data's ZᵀZ and Zᵀy (one chunked pass over the
    data per run, sufficient_statistics). X ~ N(0, 1) keeps them well conditioned. lstsq (not
    solve) so that fewer examples than unknowns still give the minimum-norm answer instead of an error;
    its rank says whether the answer is unique."""
    d = stats.num_features
    answer = torch.linalg.lstsq(stats.gram, stats.zty.unsqueeze(1), driver="gelsd")
    solution = answer.solution.reshape(-1)
    return Optimum(tuple(solution[:d].tolist()), float(solution[d]), unique=int(answer.rank) == d + 1)


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
        hessian_eigenvalues = torch.linalg.eigvalsh(hessian)
        hessian_min, hessian_max = float(hessian_eigenvalues[0]), float(hessian_eigenvalues[-1])
    else:
        hessian_min, hessian_max = curvature * low, curvature * high
    return Conditioning(
        condition_number=math.inf if singular else high / low,
        max_stable_lr=2 / hessian_max if hessian_max > 0 else math.inf,
        hessian_min=0.0 if singular and not wd else max(hessian_min, 0.0),
        hessian_max=hessian_max,
    )


def loss_surface(
    stats: SufficientStats, best: Optimum, truth: tuple[tuple[float, ...], float] | None, impl: str
) -> LossSurface:
    """The loss over the tracked parameters, the others at the optimum; `truth` the data's true (w, b),
    marked on the map (None: data with no true parameters, nothing marked)."""
    d = stats.num_features
    optimum = torch.tensor([*best.w, best.b], dtype=torch.float64)
    tracked = [*range(min(d, TRACKED_WEIGHTS)), d]
    index = torch.tensor(tracked)
    scale = loss_scale(impl)
    hessian = (2 * scale / stats.count) * stats.gram[index][:, index]
    residual = stats.yty - 2 * float(optimum @ stats.zty) + float(optimum @ stats.gram @ optimum)
    true = None if truth is None else [*truth[0], truth[1]]
    return LossSurface(
        names=tuple(f"w{i + 1}" if i < d else "b" for i in tracked),
        optimum=tuple(optimum[index].tolist()),
        truth=None if true is None else tuple(true[i] for i in tracked),
        hessian=tuple(tuple(row) for row in hessian.tolist()),
        floor=max(0.0, scale * residual / stats.count),
        held=d - (len(tracked) - 1),
    )
