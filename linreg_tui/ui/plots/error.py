"""The data-size plot: max |w error| against the number of examples n on log-log axes, with the fitted
slope beside the 1/√n law (the book's last concise exercise, the `data-size` preset).

The logs are taken here, with decade tick labels of our own: plotext's xscale/yscale("log") apply the
log to its stored data on every build, and a widget is built again on each repaint (the second build
takes the log of logs; plots/loss.py does the same for its log y axis).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from linreg_tui.run.sweep import SweepRow, error_slope
from linreg_tui.ui.plots.plotting import CachedPlot

LAW = "the error falls like 1/√n: a slope of about −0.5 on these axes"
POINT_COLOR = (255, 165, 0)
FIT_COLOR = (40, 200, 220)


def error_points(rows: Sequence[SweepRow]) -> list[tuple[float, float]]:
    """(log10 n, log10 max|w error|) of each finished run with a positive, finite error."""
    return [
        (math.log10(row.point.config.num_examples), math.log10(row.max_w_error))
        for row in rows
        if row.status == "finished" and row.max_w_error is not None and 0 < row.max_w_error < math.inf
    ]


def decade_ticks(low: float, high: float) -> list[int]:
    """The whole decades from floor(low) to ceil(high), at least two."""
    first, last = math.floor(low), math.ceil(high)
    return list(range(first, max(last, first + 1) + 1))


def decade_label(exponent: int) -> str:
    return f"{10.0**exponent:g}" if -3 <= exponent <= 4 else f"1e{exponent}"


class ErrorPlot(Vertical):
    """max |w error| against n, log-log, the least-squares line through the points, and its slope."""

    DEFAULT_CSS = """
    ErrorPlot {
        height: 1fr;
        border: round $secondary;
        border-title-color: $secondary;
    }
    ErrorPlot #error-chart {
        height: 1fr;
    }
    ErrorPlot #error-law {
        height: auto;
        padding: 0 1;
    }
    """
    BORDER_TITLE = "Error against data size (log-log)"

    def __init__(self) -> None:
        super().__init__(id="error-plot")
        self.chart = CachedPlot(id="error-chart")
        self.law = Static(id="error-law")
        #: The fitted slope of the points drawn (None: fewer than two sizes yet).
        self.slope: float | None = None

    def compose(self) -> ComposeResult:
        yield self.chart
        yield self.law

    def show(self, rows: Sequence[SweepRow]) -> None:
        points = error_points(rows)
        self.slope = error_slope(list(rows))
        plt = self.chart.plt
        plt.clear_figure()
        plt.xlabel("examples n")
        plt.ylabel("max |w error|")
        if points:
            xs, ys = zip(*points, strict=True)
            plt.scatter(xs, ys, color=POINT_COLOR, marker="o")
            if self.slope is not None and max(xs) > min(xs):
                # The least-squares line has the fitted slope and passes through the points' mean.
                mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
                ends = (min(xs), max(xs))
                plt.plot(ends, [mean_y + self.slope * (x - mean_x) for x in ends], color=FIT_COLOR)
            x_ticks, y_ticks = decade_ticks(min(xs), max(xs)), decade_ticks(min(ys), max(ys))
            plt.xlim(x_ticks[0], x_ticks[-1])
            plt.ylim(y_ticks[0], y_ticks[-1])
            plt.xticks(x_ticks, [decade_label(t) for t in x_ticks])
            plt.yticks(y_ticks, [decade_label(t) for t in y_ticks])
        self.chart.replotted()
        fitted = "too few sizes to fit yet" if self.slope is None else f"fitted slope {self.slope:.2f}"
        self.law.update(f"{fitted} · {LAW}")
