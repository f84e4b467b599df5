"""The learning rate against the step, drawn on the Parameters view's chart against its own axis on the
right: the run's schedule (run.optimizers.scheduled_lrs, torch-free) with the changes made while it
trained, worked out here from the run's configuration and its LearningRateChanged events, as the loop sets
them (run.learning_rates). On the same chart, not one of its own: a chart a few rows high had no rows
left for the parameters at 80×24 and 120×36."""

from __future__ import annotations

from typing import Any

from linreg_tui.run.config import RunConfig
from linreg_tui.run.learning_rates import LearningRates
from linreg_tui.ui.plots.loss import Color

LR_COLOR: Color = (250, 200, 80)


class LearningRateLine:
    """Drawn only for a run whose rate varies (a schedule, or a change made while it trained): a constant
    rate's flat line would say nothing the form does not."""

    def __init__(self) -> None:
        self.rates: LearningRates | None = None

    def start_run(self, config: RunConfig) -> None:
        self.rates = LearningRates(config)

    def change(self, step: int, lr: float) -> None:
        """The run uses `lr` from `step` on (its schedule, if it had one, ended there)."""
        if self.rates is not None:
            self.rates.change(step, lr)

    @property
    def shown(self) -> bool:
        return self.rates is not None and self.rates.varies

    def series(self, steps: list[int]) -> tuple[list[int], list[float]]:
        """The rate at each of `steps` the parameters are drawn at (step 0, before any step, has none),
        and on both sides of each change, so that a jump is drawn as one. Bounded as they are: the
        sampled path's few hundred steps and one pair per change."""
        rates = self.rates
        if rates is None or not rates.varies or not steps:
            return [], []
        last = steps[-1]
        jumps = {edge for step in rates.change_steps if step <= last for edge in (step - 1, step)}
        shown = sorted({step for step in steps if step >= 1} | {step for step in jumps if step >= 1})
        return shown, [rates.at(step) or 0.0 for step in shown]  # a rate that varies is never None

    def draw(self, plt: Any, steps: list[int], no_colour: bool) -> bool:
        """Draw the rate over `steps` (the parameters', so the x axis is theirs) on the right-hand axis;
        whether anything was drawn."""
        shown, values = self.series(steps)
        if not shown:
            return False
        plt.plot(shown, values, color=LR_COLOR, marker="l" if no_colour else "braille", yside="right")
        low, high = min(values), max(values)
        ticks = [low, high] if high > low else [low]
        plt.yticks(ticks, [f"{tick:.3g}" for tick in ticks], yside="right")
        return True

    def note(self) -> str:
        """What the line is, for the legend: the schedule, and where a live change ended it."""
        rates = self.rates
        if rates is None or not rates.varies:
            return ""
        schedule = rates.config.schedule
        if not rates.change_steps:
            return f"lr, {schedule} schedule (right axis)"
        if rates.scheduled:
            return f"lr, {schedule} schedule to step {rates.change_steps[0] - 1:,}, then as changed (right axis)"
        return "lr, as changed while training (right axis)"
