"""The learning-rate curve of a sweep over lr: each rate's final training loss (the median and range of its
seeds), where the loss is lowest, where it turns up and where runs diverge, beside the stability bound
2/λmax of full-batch gradient descent (and heavy-ball momentum's (2 + 2β)/λmax). Without torch: the app's
Sweep view draws it, and `linreg-tui sweep` says it in a sentence.

fastai's lr_find estimates this curve within one run by raising the rate as it trains; here every rate is
its own run, trained to the end (batched, about the cost of one).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from linreg_tui.run.sweep import SweepRow

#: The loss "turns up" at the first rate above the best one whose loss is this many times the best.
TURN_UP_FACTOR = 10.0


@dataclass(frozen=True)
class CurvePoint:
    lr: float
    median: float | None  #: the median final loss of the seeds that finished (None: none did)
    low: float | None
    high: float | None
    runs: int
    diverged: int  #: how many of its seeds diverged


@dataclass(frozen=True)
class LrCurve:
    points: list[CurvePoint]
    best: CurvePoint | None  #: the lowest median loss
    turns_up: float | None  #: the first rate above the best whose loss is TURN_UP_FACTOR × the best's, or diverged
    diverges: float | None  #: the smallest rate at which a run diverged
    bound: float | None  #: 2/λmax of the runs' loss (gd), the same for every point (None: they differ)
    momentum_bound: float | None  #: (2 + 2β)/λmax for momentum runs with one β (None otherwise)
    steps: int = 0  #: the steps of each run

    def sentence(self) -> str:
        """What the curve says, measured, beside what the theory predicts."""
        if self.best is None or self.best.median is None:
            return "learning-rate curve: no rate finished"
        parts = [f"learning-rate curve: lowest loss {self.best.median:.3g} at lr {self.best.lr:.3g}"]
        if self.turns_up is not None:
            parts.append(f"the loss turns up from lr {self.turns_up:.3g}")
        if self.diverges is not None:
            parts.append(f"runs diverge from lr {self.diverges:.3g}")
        if self.bound is not None:
            parts.append(f"full-batch gradient descent's bound 2/λmax is {self.bound:.3g}")
        if self.momentum_bound is not None:
            parts.append(f"with momentum (2 + 2β)/λmax = {self.momentum_bound:.3g}")
        bound = self.momentum_bound or self.bound  # the one these runs' optimizer has
        if self.diverges is not None and bound is not None:
            between = [point for point in self.points if bound < point.lr < self.diverges and point.median is not None]
            if self.diverges < bound:
                parts.append("minibatch noise makes runs diverge below the full-batch bound")
            elif between:
                tried = ", ".join(f"{point.lr:.3g}" for point in between[:3]) + (", …" if len(between) > 3 else "")
                parts.append(
                    "just above the bound, full-batch steps grow the error only slowly: the rates tried between "
                    f"it and {self.diverges:.3g} ({tried}) did not overflow in {self.steps:,} steps"
                )
            else:
                parts.append(f"no rate between the bound and {self.diverges:.3g} was tried (a finer range shows it)")
        return "; ".join(parts)


#: The statuses whose loss is drawn: a finished run's, and a batched run's so far while it trains.
FINAL_LOSS = ("finished", "training")


def lr_curve(rows: Sequence[SweepRow]) -> LrCurve:
    """The curve of rows that differ in lr (and seeds): one point per rate, in increasing order."""
    by_lr: dict[float, list[SweepRow]] = {}
    for row in rows:
        by_lr.setdefault(row.point.config.lr, []).append(row)
    points = []
    for lr in sorted(by_lr):
        group = by_lr[lr]
        losses = [
            row.final_loss
            for row in group
            if row.status in FINAL_LOSS and row.final_loss is not None and math.isfinite(row.final_loss)
        ]
        diverged = sum(1 for row in group if row.status == "diverged")
        median = statistics.median(losses) if losses else None
        points.append(
            CurvePoint(
                lr, median, min(losses) if losses else None, max(losses) if losses else None, len(group), diverged
            )
        )
    finished = [point for point in points if point.median is not None and not point.diverged]
    best = min(finished, key=lambda point: point.median or 0.0) if finished else None
    turns_up = None
    if best is not None and best.median is not None:
        for point in points:
            if point.lr > best.lr and (point.diverged or (point.median or 0.0) >= TURN_UP_FACTOR * best.median):
                turns_up = point.lr
                break
    diverging = [point.lr for point in points if point.diverged]
    steps = max(row.point.config.total_steps for row in rows) if rows else 0
    return LrCurve(points, best, turns_up, min(diverging) if diverging else None, *_bounds(rows), steps=steps)


def _bounds(rows: Sequence[SweepRow]) -> tuple[float | None, float | None]:
    """The gd bound when every run has the same one, and momentum's when they also share one β."""
    results = [row.result for row in rows if row.result is not None]
    bounds = {result.max_stable_lr for result in results if math.isfinite(result.max_stable_lr)}
    if len(bounds) != 1:
        return None, None
    bound = bounds.pop()
    betas = {result.config.momentum for result in results if result.config.optimizer == "momentum"}
    if len(betas) == 1 and all(result.config.optimizer == "momentum" for result in results):
        return bound, bound * (1 + betas.pop())
    return bound, None
