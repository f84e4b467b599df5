"""The loss panel: the minibatch loss per step and the full-data loss per epoch, live, beside a few
earlier runs for comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from textual.reactive import reactive
from textual_plotext import PlotextPlot

from linreg_tui.ui.series import DecimatedSeries

#: How many earlier runs stay on the chart.
KEEP_RUNS = 3
#: Redraws per second at most, however fast the losses arrive.
REDRAW_HZ = 10
PREVIOUS_COLORS = ((130, 130, 170), (150, 120, 100), (110, 150, 110))


@dataclass
class LossHistory:
    label: str
    steps: DecimatedSeries = field(default_factory=DecimatedSeries)
    epoch_steps: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)


class LossPlot(PlotextPlot):
    BORDER_TITLE = "Loss"

    log_y: reactive[bool] = reactive(False)

    def __init__(self) -> None:
        super().__init__(id="loss", classes="panel")
        self.current: LossHistory | None = None
        self.previous: list[LossHistory] = []
        self._dirty = True

    def on_mount(self) -> None:
        self.set_interval(1 / REDRAW_HZ, self._replot_if_dirty)
        self.replot()

    def start_run(self, label: str) -> None:
        if self.current is not None and len(self.current.steps):
            self.previous = [self.current, *self.previous][:KEEP_RUNS]
        self.current = LossHistory(label)
        self._dirty = True

    def add_steps(self, first_step: int, losses: tuple[float, ...]) -> None:
        if self.current is not None:
            self.current.steps.extend(first_step, losses)
            self._dirty = True

    def add_epoch(self, step: int, loss: float) -> None:
        if self.current is not None:
            self.current.epoch_steps.append(step)
            self.current.epoch_losses.append(loss)
            self._dirty = True

    def clear_previous(self) -> None:
        self.previous = []
        self._dirty = True

    def watch_log_y(self) -> None:
        self._dirty = True

    def _replot_if_dirty(self) -> None:
        if self._dirty:
            self.replot()

    def replot(self) -> None:
        self._dirty = False
        self._log_range: tuple[float, ...] = ()
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        scale = "log y" if self.log_y else "linear y"
        self.border_title = f"Loss ({scale}; ^l toggles)"
        drawn = False
        for history, color in zip(reversed(self.previous), PREVIOUS_COLORS, strict=False):
            drawn |= self._draw_series(*history.steps.points(), f"{history.label}", color)
        if self.current is not None:
            drawn |= self._draw_series(*self.current.steps.points(), "step (minibatch)", "cyan")
            xs, ys = self.current.epoch_steps, self.current.epoch_losses
            drawn |= self._draw_series(xs, ys, "epoch (full data)", "orange", scatter=True)
        if not drawn:
            plt.title("no run yet: ctrl+r trains")
        elif self.log_y:
            self._label_decades()
        plt.xlabel("step")
        self.refresh()

    def _label_decades(self) -> None:
        """Label a log10-transformed axis with powers of ten.

        The log is taken here rather than with plotext's yscale("log"): plotext applies the log to its
        stored data on every build, and a widget is built again on each repaint."""
        low, high = math.floor(self._log_range[0]), math.ceil(self._log_range[1])
        stride = max(1, (high - low) // 6)
        decades = list(range(low, high + 1, stride))
        self.plt.yticks(decades, [f"1e{d}" for d in decades])

    def _draw_series(self, xs: list[float], ys: list[float], label: str, color: object, scatter: bool = False) -> bool:
        """Plot the finite (and, on a log axis, positive) points; say whether any were drawn."""
        keep = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y) and (y > 0 or not self.log_y)]
        if not keep:
            return False
        kx, ky = zip(*keep, strict=True)
        if self.log_y:
            ky = tuple(math.log10(y) for y in ky)
            self._log_range = (min(ky + self._log_range[:1]), max(ky + self._log_range[1:]))
        if scatter:
            self.plt.scatter(kx, ky, label=label, color=color, marker="dot")
        else:
            self.plt.plot(kx, ky, label=label, color=color, marker="braille")
        return True
