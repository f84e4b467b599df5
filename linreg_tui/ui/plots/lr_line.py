"""The learning rate against the step, a small line under the Parameters view's chart: the run's schedule
(run.optimizers.scheduled_lrs, torch-free) with the changes made while it trained, worked out here from
the run's configuration and its LearningRateChanged events, as the loop sets them (run.learning_rates)."""

from __future__ import annotations

from linreg_tui.run.config import RunConfig
from linreg_tui.run.learning_rates import LearningRates
from linreg_tui.ui.plots.loss import Color, step_ticks
from linreg_tui.ui.plots.plotting import CachedPlot

LR_COLOR: Color = (250, 200, 80)


class LearningRateLine(CachedPlot):
    """Shown only for a run whose rate varies (a schedule, or a change made while it trained): a constant
    rate's flat line would say nothing the form does not, in rows the parameters need."""

    DEFAULT_CSS = """
    LearningRateLine {
        height: 6;
        display: none;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="weights-lr")
        self.rates: LearningRates | None = None

    def start_run(self, config: RunConfig) -> None:
        self.rates = LearningRates(config)
        self.display = self.rates.varies

    def change(self, step: int, lr: float) -> None:
        """The run uses `lr` from `step` on (its schedule, if it had one, ended there)."""
        if self.rates is not None:
            self.rates.change(step, lr)
            self.display = self.rates.varies

    def series(self, steps: list[int]) -> tuple[list[int], list[float]]:
        """The rate at each of `steps` the parameters are drawn at (step 0, before any step, has none),
        and on both sides of each change, so that a jump is drawn as one."""
        rates = self.rates
        if rates is None or not rates.varies or not steps:
            return [], []
        last = steps[-1]
        jumps = {edge for step in rates.change_steps if step <= last for edge in (step - 1, step)}
        shown = sorted({step for step in steps if step >= 1} | {step for step in jumps if step >= 1})
        return shown, [rates.at(step) or 0.0 for step in shown]  # a rate that varies is never None

    def replot(self, steps: list[int], no_colour: bool) -> None:
        """Draw the rate over `steps` (the parameters' steps, so that both charts share their x axis)."""
        if not self.display:
            return
        plt = self.plt
        plt.clear_figure()
        shown, values = self.series(steps)
        if shown:
            plt.plot(shown, values, color=LR_COLOR, marker="l" if no_colour else "braille")
            ticks = step_ticks(0, max(1, steps[-1]))
            plt.xticks(ticks, [str(t) for t in ticks])
            low, high = min(values), max(values)
            plt.yticks([low, high] if high > low else [low], [f"{low:.3g}", f"{high:.3g}"][: 2 if high > low else 1])
            plt.ylabel("lr")
        self.replotted()
