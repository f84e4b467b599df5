"""A run's learning rate at each step, worked out from its configuration and its live changes, the way
the training loop sets it: the schedule's rate (run.optimizers.scheduled_lrs) until the first change made
while the run trained, then each change's rate from its step on. Torch-free, so the metrics writers, the
result and the app's Parameters view say the same rates the engine was given without asking the loop."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from linreg_tui.run.config import RunConfig
from linreg_tui.run.optimizers import scheduled_lrs


class LearningRates:
    """The learning rate of each step of a run with `config`, given its live changes (step, lr)."""

    def __init__(self, config: RunConfig, changes: Iterable[tuple[int, float]] = ()) -> None:
        self.config = config
        #: Whether the run has a learning rate at all (adadelta has none: its steps are its own).
        self.applies = config.applies("lr")
        self.change_steps: list[int] = []
        self.change_lrs: list[float] = []
        for step, lr in changes:
            self.change(step, lr)

    def change(self, step: int, lr: float) -> None:
        """From `step` on the run uses `lr` (a LearningRateChanged); changes come in step order."""
        self.change_steps.append(step)
        self.change_lrs.append(lr)

    @property
    def scheduled(self) -> bool:
        return self.applies and self.config.schedule != "constant"

    @property
    def varies(self) -> bool:
        """Whether the rate is not the same for every step: a schedule, or a change made while training."""
        return self.applies and (self.scheduled or bool(self.change_steps))

    def at(self, step: int) -> float | None:
        """The learning rate of step `step` (1 for the first); None without one (adadelta)."""
        if not self.applies:
            return None
        changed = bisect.bisect_right(self.change_steps, step)
        if changed:
            return self.change_lrs[changed - 1]
        return scheduled_lrs(self.config, step, 1)[0] if self.scheduled else self.config.lr

    def of_steps(self, first: int, count: int) -> list[float | None]:
        """The learning rates of steps first … first + count − 1: a schedule's stretch at once, each
        change's stretch as one value repeated."""
        if not self.applies:
            return [None] * count
        rates: list[float | None] = []
        step, end = first, first + count
        while step < end:
            changed = bisect.bisect_right(self.change_steps, step)
            stretch_end = self.change_steps[changed] if changed < len(self.change_steps) else end
            length = min(stretch_end, end) - step
            if changed:
                rates += [self.change_lrs[changed - 1]] * length
            elif self.scheduled:
                rates += scheduled_lrs(self.config, step, length)
            else:
                rates += [self.config.lr] * length
            step += length
        return rates
