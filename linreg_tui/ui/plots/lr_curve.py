"""The learning-rate curve of a sweep over lr: each rate's final training loss on log-log axes (the median
of its seeds, their range as a bar), the runs that diverged on the top edge, the best rate marked, and
full-batch gradient descent's stability bound 2/λmax (and momentum's (2 + 2β)/λmax) as vertical lines,
with what the curve says in a sentence under it (run/lr_curve.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from linreg_tui.run.lr_curve import lr_curve
from linreg_tui.run.sweep import SweepRow
from linreg_tui.ui.plots.error import decade_label, decade_ticks
from linreg_tui.ui.plots.plotting import CachedPlot

POINT_COLOR = (255, 165, 0)
RANGE_COLOR = (150, 150, 160)
BEST_COLOR = (60, 220, 120)
DIVERGED_COLOR = (255, 60, 60)
BOUND_COLOR = (40, 200, 220)
MOMENTUM_BOUND_COLOR = (200, 120, 255)


class LrCurvePlot(Vertical):
    """Final loss against the learning rate, log-log, with the stability bound."""

    DEFAULT_CSS = """
    LrCurvePlot {
        height: 1fr;
        border: round $secondary;
        border-title-color: $secondary;
    }
    LrCurvePlot #lr-curve-chart {
        height: 1fr;
    }
    LrCurvePlot #lr-curve-says {
        height: auto;
        padding: 0 1;
    }
    """
    BORDER_TITLE = "Final loss against the learning rate (log-log)"

    def __init__(self) -> None:
        super().__init__(id="lr-curve")
        self.chart = CachedPlot(id="lr-curve-chart")
        self.says = Static(id="lr-curve-says")

    def compose(self) -> ComposeResult:
        yield self.chart
        yield self.says

    def show(self, rows: Sequence[SweepRow]) -> None:
        curve = lr_curve(rows)
        plt = self.chart.plt
        plt.clear_figure()
        plt.xlabel("learning rate")
        plt.ylabel("final training loss")
        drawn = [point for point in curve.points if point.median is not None and point.median > 0]
        if curve.points:
            xs = [math.log10(point.lr) for point in curve.points]
            ys = [math.log10(point.median) for point in drawn if point.median is not None]
            lows = [math.log10(point.low) for point in drawn if point.low is not None and point.low > 0]
            highs = [math.log10(point.high) for point in drawn if point.high is not None and point.high > 0]
            bounds = [math.log10(b) for b in (curve.bound, curve.momentum_bound) if b is not None and b > 0]
            x_ticks = decade_ticks(min(xs + bounds), max(xs + bounds))
            y_ticks = decade_ticks(min(lows or ys or [0.0]), max(highs or ys or [0.0]))
            for point in drawn:  # each rate's seeds, lowest to highest
                if point.runs > 1 and point.low is not None and point.high is not None and point.low > 0:
                    x = math.log10(point.lr)
                    plt.plot([x, x], [math.log10(point.low), math.log10(point.high)], color=RANGE_COLOR)
            if drawn:
                plt.plot([math.log10(p.lr) for p in drawn], ys, color=POINT_COLOR, marker="braille")
                plt.scatter([math.log10(p.lr) for p in drawn], ys, color=POINT_COLOR, marker="•")
            diverged = [math.log10(point.lr) for point in curve.points if point.diverged]
            if diverged:  # no loss to draw: on the top edge
                plt.scatter(diverged, [y_ticks[-1]] * len(diverged), color=DIVERGED_COLOR, marker="x")
            if curve.best is not None and curve.best.median is not None and curve.best.median > 0:
                plt.scatter([math.log10(curve.best.lr)], [math.log10(curve.best.median)], color=BEST_COLOR, marker="★")
            for bound, color in ((curve.bound, BOUND_COLOR), (curve.momentum_bound, MOMENTUM_BOUND_COLOR)):
                if bound is not None and bound > 0:
                    plt.vline(math.log10(bound), color=color)
            plt.xlim(x_ticks[0], x_ticks[-1])
            plt.ylim(y_ticks[0], y_ticks[-1])
            plt.xticks(x_ticks, [decade_label(t) for t in x_ticks])
            plt.yticks(y_ticks, [decade_label(t) for t in y_ticks])
        self.chart.replotted()
        key = "• median loss · x diverged (top edge) · ★ lowest · │ 2/λmax" + (
            " · │ momentum's (2 + 2β)/λmax" if curve.momentum_bound is not None else ""
        )
        self.says.update(f"{key}\n{curve.sentence()}")
