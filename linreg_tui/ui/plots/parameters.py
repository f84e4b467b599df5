"""The Parameters panel: each tracked weight and the bias against the step, the true values as
horizontal reference lines, and the learning rate on a right-hand axis when it varies (ui/plots/lr_line.py)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical

from linreg_tui.run.config import RunConfig
from linreg_tui.ui.plots.loss import REDRAW_HZ, UI_SHARE, Color, step_ticks
from linreg_tui.ui.plots.lr_line import LR_COLOR, LearningRateLine
from linreg_tui.ui.plots.plotting import CachedPlot
from linreg_tui.ui.plots.tracked import Point, SampledPath
from linreg_tui.ui.widgets.legend import Legend

#: One colour per tracked parameter (w1..w4, then b).
COLORS: tuple[Color, ...] = ((40, 200, 220), (255, 165, 0), (120, 220, 90), (220, 110, 220), (240, 240, 240))
#: The true values' lines, dimmer versions of the same colours.
DIM = 0.55


class ParamsOverTime(Vertical):
    """w1..w_k and b of the live run against the step; with more features, the first few and a note."""

    BORDER_TITLE = "Parameters over time"
    DEFAULT_CSS = """
    ParamsOverTime #weights-chart {
        height: 1fr;
    }
    ParamsOverTime #weights-legend {
        height: auto;
        max-height: 4;
        padding: 0 1;
    }
    """
    can_focus = True  # f7 marks it in the wide layout

    def __init__(self) -> None:
        super().__init__(id="weights", classes="panel")
        self.names: tuple[str, ...] = ()
        self.truth: tuple[float, ...] = ()
        self.num_features = 0
        self.path: SampledPath | None = None
        self.chart = CachedPlot(id="weights-chart")
        self.legend = Legend(id="weights-legend")
        self.lr_line = LearningRateLine()
        self._dirty = False
        self._replotted_at = 0.0

    def compose(self) -> ComposeResult:
        yield self.chart
        yield self.legend

    def on_mount(self) -> None:
        self.replot()

    def start_run(
        self,
        names: tuple[str, ...],
        truth: tuple[float, ...] | None,
        initial: Point,
        num_features: int,
        config: RunConfig | None = None,
    ) -> None:
        self.names, self.truth, self.num_features = names, truth or (), num_features
        self.path = SampledPath(initial)
        if config is not None:
            self.lr_line.start_run(config)
        self.replot()

    def mark_lr_change(self, step: int, lr: float) -> None:
        """The run uses `lr` from `step` on: the lr line shows it (drawn at the next redraw)."""
        self.lr_line.change(step, lr)
        self._dirty = True

    def add_steps(self, first_step: int, tracked: Sequence[Point]) -> None:
        if self.path is not None and tracked:
            self.path.extend(first_step, tracked)
            self._dirty = True

    def series(self) -> dict[str, tuple[list[int], list[float]]]:
        """Each parameter's (steps, values), as drawn."""
        if self.path is None:
            return {}
        steps, points = self.path.series()
        return {name: (steps, [point[k] for point in points]) for k, name in enumerate(self.names)}

    def on_show(self) -> None:
        self.redraw_if_dirty(now=True)  # shown again: what came while hidden, at once

    def redraw_if_dirty(self, now: bool = False) -> None:
        """Called by the redraw tick: as the loss chart, at most UI_SHARE of the time goes to building it."""
        spacing = 0.0 if now else max(1 / REDRAW_HZ, self.chart.build_seconds / UI_SHARE)
        # Hidden (its cell's partner or another tab is shown): nothing to draw until it is shown again.
        if self._dirty and self.region.area and time.monotonic() - self._replotted_at >= spacing:
            self.replot()

    def replot(self) -> None:
        self._dirty = False
        self._replotted_at = time.monotonic()
        plt = self.chart.plt
        plt.clear_figure()
        no_colour = self.app.no_color or self.app.console.color_system not in ("256", "truecolor")
        legend: list[str] = []
        last_step = 0
        low, high = min(self.truth, default=0.0), max(self.truth, default=0.0)
        for name, (steps, values) in self.series().items():
            color = COLORS[min(len(COLORS) - 1, self.names.index(name))] if name != "b" else COLORS[-1]
            # The data's true value as a dim line, where it has one (not a table's or a file's data).
            true_value = self.truth[self.names.index(name)] if self.truth else None
            if true_value is not None:
                plt.hline(true_value, color=tuple(round(c * DIM) for c in color))
            # Without colours each line is drawn with its own name's last character: 1, 2, 3, 4, b.
            plt.plot(steps, values, color=color, marker=name[-1] if no_colour else "braille")
            last_step = max(last_step, steps[-1])
            low, high = min(low, *values), max(high, *values)
            # No live values here: a legend that changes is a layout pass per redraw (Results has them).
            label = name if true_value is None else f"{name} (true {true_value:.4g})"
            legend.append(_key(color, name[-1] if no_colour else "━", label))
        if self.path is not None and self.lr_line.draw(plt, self.path.series()[0], no_colour):
            legend.append(_key(LR_COLOR, "l" if no_colour else "━", self.lr_line.note()))
        if self.path is not None:
            ticks = step_ticks(0, max(1, last_step))
            plt.xticks(ticks, [str(t) for t in ticks])
            if high > low:  # short labels of our own: plotext writes a diverged run's 1e18 in 19 digits
                values = [low + k * (high - low) / 4 for k in range(5)]
                plt.yticks(values, [f"{v:.3g}" for v in values])
            plt.xlabel("step")
        if self.path is None:
            # In the legend, which wraps: plotext leaves out a title wider than the chart.
            self.legend.show(["no run yet: ctrl+r trains; each weight and b are drawn against the step"])
        else:
            notes = ["dim lines: the true values"] if self.truth else []
            if self.num_features > len(self.names) - 1:
                notes.append(f"w1–w{len(self.names) - 1} of {self.num_features:,}")
            self.legend.show(legend, [f"({' · '.join(notes)})"] if notes else [])
        self.chart.replotted()


def _key(color: Color, mark: str, label: str) -> str:
    r, g, b = color
    return f"[rgb({r},{g},{b})]{mark}[/]\u00a0{label.replace(' ', chr(0xA0))}"
