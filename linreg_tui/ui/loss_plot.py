"""The loss panel: the minibatch loss per step and the full-data loss per epoch, live, beside a few
earlier runs for comparison."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from linreg_tui.ui.plotting import CachedPlot
from linreg_tui.ui.series import DecimatedSeries

#: How many earlier runs stay on the chart.
KEEP_RUNS = 3
#: The app redraws live charts at most this often, however fast the losses arrive: every frame's
#: Python work holds the GIL that the training thread needs too.
REDRAW_HZ = 3
#: The most of the time that drawing the chart may take while a run trains.
UI_SHARE = 0.1
Color = tuple[int, int, int]
STEP_COLOR: Color = (40, 200, 220)
EPOCH_COLOR: Color = (255, 165, 0)
#: Earlier runs are dimmer, so the live run stands out.
PREVIOUS_COLORS: tuple[Color, ...] = ((140, 130, 190), (170, 130, 100), (120, 160, 120))


@dataclass
class LossHistory:
    label: str
    steps: DecimatedSeries = field(default_factory=DecimatedSeries)
    epoch_steps: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)


class LossPanel(Vertical):
    """Holds the runs' loss histories and redraws them into its chart at a bounded rate."""

    BORDER_TITLE = "Loss"
    can_focus = True  # f3 marks it in the wide layout

    log_y: reactive[bool] = reactive(False, init=False)  # on_mount draws the first time

    def __init__(self) -> None:
        super().__init__(id="loss", classes="panel")
        self.current: LossHistory | None = None
        self.previous: list[LossHistory] = []
        self._dirty = True
        self.chart = CachedPlot(id="loss-chart")
        # The legend lives under the chart: plotext's own legend box would hide the curves under it.
        self.legend = Static(id="loss-legend")
        self._legend_text = ""
        self._replotted_at = 0.0

    def compose(self) -> ComposeResult:
        yield self.chart
        yield self.legend

    def on_mount(self) -> None:
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
        self.replot()

    def watch_log_y(self) -> None:
        self.replot()

    def redraw_if_dirty(self) -> None:
        """Called by the app's redraw tick: redraw when new losses came, and rarely enough that building
        the chart takes at most UI_SHARE of the time."""
        spacing = max(1 / REDRAW_HZ, self.chart.build_seconds / UI_SHARE)
        if self._dirty and time.monotonic() - self._replotted_at >= spacing:
            self.replot()

    def replot(self) -> None:
        self._dirty = False
        self._replotted_at = time.monotonic()
        self._y_range = (math.inf, -math.inf)
        self._x_max = 0.0
        plt = self.chart.plt
        plt.clear_figure()  # data, title, labels and ticks: every replot draws them all again
        title = f"Loss ({'log y' if self.log_y else 'linear y'}; ^l toggles)"
        if self.border_title != title:  # setting it repaints the whole panel, even to the same text
            self.border_title = title
        legend: list[str] = []
        for history, color in zip(reversed(self.previous), PREVIOUS_COLORS, strict=False):
            if self._draw_series(*history.steps.points(), color):
                legend.append(_key(color, history.label))
        if self.current is not None:
            if self._draw_series(*self.current.steps.points(), STEP_COLOR):
                legend.append(_key(STEP_COLOR, f"{self.current.label}: steps"))
            if self._draw_series(self.current.epoch_steps, self.current.epoch_losses, EPOCH_COLOR, scatter=True):
                legend.append(_key(EPOCH_COLOR, "epochs (full data)", mark="•"))
        legend_text = "  ".join(legend) or "no run yet: ctrl+r trains"
        if legend_text != self._legend_text:  # an update costs a layout pass: only when it changed
            self._legend_text = legend_text
            self.legend.update(legend_text)
        if legend:
            self._label_axes()
        plt.xlabel("step")
        self.chart.replotted()

    def _label_axes(self) -> None:
        """Short tick labels: plotext writes 2.5e36 out in full, forty digits wide, and step 750,000 as
        750000.8.

        On a log axis the log is taken here rather than with plotext's yscale("log"): plotext applies
        the log to its stored data on every build, and a widget is built again on each repaint."""
        low, high = self._y_range
        if self.log_y:
            first, last = math.floor(low), math.ceil(high)
            stride = max(1, (last - first) // 6)
            decades = list(range(first, last + 1, stride))
            self.chart.plt.yticks(decades, [f"1e{d}" for d in decades])
        elif high > low and max(abs(low), abs(high)) >= 1e5:  # plotext's own ticks read well below that
            ticks = [low + i * (high - low) / 4 for i in range(5)]
            self.chart.plt.yticks(ticks, [f"{t:.3g}" for t in ticks])
        if self._x_max >= 10_000:
            steps = [round(self._x_max * i / 4) for i in range(5)]
            self.chart.plt.xticks(steps, [_count(step) for step in steps])

    def _draw_series(self, xs: list[float], ys: list[float], color: Color, scatter: bool = False) -> bool:
        """Plot the finite (and, on a log axis, positive) points; say whether any were drawn."""
        keep = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y) and (y > 0 or not self.log_y)]
        if not keep:
            return False
        kx, ky = zip(*keep, strict=True)
        if self.log_y:
            ky = tuple(math.log10(y) for y in ky)
        self._y_range = (min(self._y_range[0], *ky), max(self._y_range[1], *ky))
        self._x_max = max(self._x_max, *kx)
        if scatter:
            self.chart.plt.scatter(kx, ky, color=color, marker="dot")
        else:
            # Dots, not lines: a run's losses are noisy anyway, and plotext draws dots twice as fast.
            self.chart.plt.scatter(kx, ky, color=color, marker="braille")
        return True


def _key(color: Color, label: str, mark: str = "━") -> str:
    r, g, b = color
    keep_together = label.replace(" ", "\u00a0")  # wrap between entries, not inside one
    return f"[rgb({r},{g},{b})]{mark}[/]\u00a0{keep_together}"


def _count(steps: int) -> str:
    """750000 → 750k, 3000000 → 3M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if steps >= size:
            return f"{steps / size:.4g}{suffix}"
    return str(steps)
