"""The data panel: a plotext scatter of one feature column against the labels, as the book draws it,
with the model's line over it, moving as training goes, and the true line dimmer.

Features are named by the weight that multiplies them, as the results and the landscape name the
weights: x₂ is w2's feature, the book's `features[:, 1]` (its code counts columns from 0). The y axis
covers the bulk of the labels; one far out is drawn at the edge with its value (see data_view)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from textual.reactive import reactive

from linreg_tui.run.preview import DataPreview
from linreg_tui.ui.plots.data_view import DOWN, UP, EdgeMarks, bulk_range, edge_label, subscript, with_room
from linreg_tui.ui.plots.loss import UI_SHARE
from linreg_tui.ui.plots.plotting import CachedPlot
from linreg_tui.ui.widgets.fitting import FittedBorder, Wording

MODEL_COLOR = (255, 165, 0)
TRUE_COLOR = (130, 130, 130)
#: Labels beyond the view, drawn at its edge.
EDGE_COLOR = (255, 80, 80)
#: A line (a diverged run's) is clipped to the labels' view widened by this share of it on each side,
#: so that it cannot squash the scatter into one row.
LINE_MARGIN = 0.25
#: While training the line moves at most this often: each move rebuilds the whole scatter (about 25 ms of
#: Python here, the GIL the training thread waits for).
LINE_SECONDS = 1.0


class DataPlot(CachedPlot):
    """`plt.scatter(features[:, 1], labels)` from d2l 3.2, in the terminal."""

    BORDER_TITLE = "Data"
    #: Which feature column is drawn, counted from 0 as the book's code does: column 1 is x₂, w2's
    #: feature, the one the book draws.
    column: reactive[int] = reactive(1)

    can_focus = True  # f2 marks it in the wide layout

    def __init__(self) -> None:
        super().__init__(id="data", classes="panel")
        self.preview: DataPreview | None = None
        #: Rows of the step-mode minibatch that are among the drawn ones (see `highlight`).
        self.highlighted: tuple[int, ...] = ()
        #: The model drawn as a line: all weights (the untracked ones from the last epoch's end) and b.
        self.model_w: list[float] | None = None
        self.model_b = 0.0
        #: The data's true (w, b), for its line; None: data with no true parameters (a table, a file).
        self.truth: tuple[tuple[float, ...], float] | None = None
        #: The columns' names and the label's, for data that has them; None: x₁, x₂, … and y.
        self.names: tuple[tuple[str, ...], str] | None = None
        self._means: tuple[float, ...] = ()
        #: The labels' bulk (see data_view.bulk_range), and the y range last drawn, lines included.
        self._bulk = (0.0, 0.0)
        self._y_view = (0.0, 1.0)
        self.edge_marks = EdgeMarks((), ())
        self.fitted_border = FittedBorder(self)
        self._dirty = False
        self._replotted_at = 0.0
        self._drawn_line: tuple[float, float] | None = None

    def on_mount(self) -> None:
        self.replot()

    def on_resize(self) -> None:
        self.fitted_border.refit()

    def show(self, preview: DataPreview) -> None:
        if preview == self.preview:  # a run starting on the data already shown: nothing to redraw
            return
        self.preview = preview
        self.names = preview.names
        # Other data: the last run's lines (its truth, its model) belong to the data it trained on. A run
        # shows its own data first and then starts its fit (start_fit).
        self.truth = self.model_w = None
        self._means = tuple(math.fsum(values) / len(values) for values in preview.columns)
        self._bulk = bulk_range(preview.labels)
        column = min(self.column, len(preview.columns) - 1)
        if column != self.column:
            self.column = column  # its watcher redraws
        else:
            self.replot()

    def highlight(self, indices: tuple[int, ...]) -> None:
        """Mark these examples (a step-mode minibatch) over the scatter, those among the drawn first
        rows; () clears the mark. A marker of its own, so it reads without colour too."""
        drawn = len(self.preview.labels) if self.preview is not None else 0
        shown = tuple(index for index in indices if index < drawn)
        if shown != self.highlighted:
            self.highlighted = shown
            self.replot()

    def _draw_highlight(self) -> None:
        if self.preview is not None and self.highlighted:
            low, high = self._y_view
            xs = [self.preview.columns[self.column][index] for index in self.highlighted]
            ys = [min(high, max(low, self.preview.labels[index])) for index in self.highlighted]
            self.plt.scatter(xs, ys, marker="x", color="red")

    # The model's line ------------------------------------------------------------------------------

    def start_fit(
        self, truth: tuple[tuple[float, ...], float] | None, num_features: int, initial: Sequence[float]
    ) -> None:
        """A run starts: its true line (where the data has one), and the model before step 1 (`initial`:
        the tracked weights and b; the untracked weights start near 0, drawn as 0 until the first epoch
        ends)."""
        self.truth = truth
        self.model_w = [0.0] * num_features
        self.follow(initial)

    def set_names(self, names: tuple[tuple[str, ...], str] | None) -> None:
        """The columns' names and the label's (a table's, a file's), or None for x₁, x₂, … and y."""
        if names != self.names:
            self.names = names
            self.replot()

    def follow(self, tracked: Sequence[float]) -> None:
        """The tracked weights and b after the latest step (w1..w_k, b)."""
        if self.model_w is not None:
            self.model_w[: len(tracked) - 1] = tracked[:-1]
            self.model_b = tracked[-1]
            self._dirty = True

    def set_model(self, w: Sequence[float], b: float, now: bool = False) -> None:
        """All weights and b (an epoch's end, or the run's result; `now`: draw without waiting)."""
        if self.model_w is not None:
            self.model_w, self.model_b = list(w), b
            self._dirty = True
            if now:
                self.replot()

    def fit_line(self) -> tuple[float, float] | None:
        """The model's (slope, intercept) for the shown column, the other features at their means."""
        if self.model_w is None or not self._means or len(self.model_w) != len(self._means):
            return None
        return _line(self.model_w, self.model_b, self.column, self._means)

    def on_show(self) -> None:
        self.redraw_if_dirty(now=True)  # shown again: the model's line as it is now

    def redraw_if_dirty(self, now: bool = False) -> None:
        """Called by the redraw tick: as the loss chart, at most UI_SHARE of the time goes to building it."""
        spacing = 0.0 if now else max(LINE_SECONDS, self.build_seconds / UI_SHARE)
        if self._dirty and self.region.area and time.monotonic() - self._replotted_at >= spacing:
            if self._line_moved():
                self.replot()
            else:
                self._dirty = False  # a settled model: its line would be drawn where it is

    def _line_moved(self) -> bool:
        """Whether the model's line moved by a quarter of a character row at either end of the chart."""
        fit, drawn = self.fit_line(), self._drawn_line
        if fit is None or drawn is None or self.preview is None:
            return True
        xs = self.preview.columns[self.column]
        low, high = self._y_view
        row = (high - low) / max(1, self.size.height)
        return any(abs((fit[0] - drawn[0]) * x + fit[1] - drawn[1]) > row / 4 for x in (min(xs), max(xs)))

    def _line_segments(self, low: float, high: float) -> list[LineToDraw]:
        """The true line and the model's, each clipped to the data's x range and the y view [low, high]
        widened by LINE_MARGIN (None: no part of it there); none before a run."""
        fit = self.fit_line()
        if fit is None or self.preview is None:
            return []
        xs = self.preview.columns[self.column]
        margin = (high - low) * LINE_MARGIN
        box = ((min(xs), max(xs)), (low - margin, high + margin))
        lines = [LineToDraw(clip_line(*fit, *box), MODEL_COLOR, "model")]
        if self.truth is not None:
            true_line = _line(self.truth[0], self.truth[1], self.column, self._means)
            lines.insert(0, LineToDraw(clip_line(*true_line, *box), TRUE_COLOR, "true"))
        return lines

    def _draw_lines(self, lines: list[LineToDraw]) -> Wording:
        """The true line (dim) and the model's over the scatter; returns the legend's wordings ("" when
        no line is known), the one that says which are off the chart in full, then briefly."""
        colours = not (self.app.no_color or self.app.console.color_system not in ("256", "truecolor"))
        marks = {TRUE_COLOR: "━" if colours else "·", MODEL_COLOR: "━" if colours else "*"}
        long_words, short_words = [], []
        for line in lines:
            mark = marks[line.color]
            if line.segment is not None:
                (xa, xb), (ya, yb) = line.segment
                self.plt.plot([xa, xb], [ya, yb], color=line.color, marker="braille" if colours else mark)
            r, g, b = line.color
            key = f"[rgb({r},{g},{b})]{mark}[/] {line.word}"
            long_words.append(key + (" (off the chart)" if line.segment is None else ""))
            short_words.append(key + (" (off)" if line.segment is None else ""))
        return (" ".join(long_words), " ".join(short_words)) if lines else ""

    def _draw_scatter(self, low: float, high: float) -> None:
        """The points inside [low, high]; those beyond it at its edge, an arrow each, the most extreme
        on each side written with its value."""
        assert self.preview is not None
        xs, labels = self.preview.columns[self.column], self.preview.labels
        inside = [(x, y) for x, y in zip(xs, labels, strict=True) if low <= y <= high]
        if inside:
            self.plt.scatter(*zip(*inside, strict=True), marker="braille", color="cyan")
        self.edge_marks = EdgeMarks.beyond(labels, low, high)
        middle = (min(xs) + max(xs)) / 2
        for rows, edge, arrow in ((self.edge_marks.above, high, UP), (self.edge_marks.below, low, DOWN)):
            if rows:
                self.plt.scatter([xs[row] for row in rows], [edge] * len(rows), marker=arrow, color=EDGE_COLOR)
                # Written away from the nearer side of the chart, so that the frame does not cut it.
                x = xs[rows[0]]
                left = x <= middle
                self.plt.text(
                    edge_label(rows, labels, arrow, arrow_first=left),
                    x=x,
                    y=edge,
                    color=EDGE_COLOR,
                    alignment="left" if left else "right",
                )

    def wait_for_run(self, reason: str) -> None:
        self.preview = None
        self.replot(reason)

    def next_column(self) -> None:
        if self.preview is not None:
            self.column = (self.column + 1) % len(self.preview.columns)

    def watch_column(self) -> None:
        self.replot()

    def replot(self, waiting: str = "making the data…") -> None:
        plt = self.plt
        plt.clear_figure()  # data, title, labels and ticks: every replot draws them all again
        if self.preview is None:
            self.fitted_border.set(title=["Data"], subtitle=[])
            # plotext drops a title wider than the chart (a third of 200 columns): a parenthesis goes below.
            head, opening, rest = waiting.partition(" (")
            plt.title(head)
            if opening:
                plt.xlabel(f"({rest}")
            self.replotted()
            return
        self._dirty = False
        self._replotted_at = time.monotonic()
        self._drawn_line = self.fit_line()
        preview, column = self.preview, self.column
        drawn = len(preview.labels)
        lines = self._line_segments(*self._bulk)
        # The view: the labels' bulk and the lines' ends (a diverged run's line runs past the data).
        ends = [y for line in lines if line.segment is not None for y in line.segment[1]]
        low, high = with_room(min([*self._bulk, *ends]), max([*self._bulk, *ends]))
        self._y_view = (low, high)
        self._draw_scatter(low, high)
        legend = self._draw_lines(lines)
        self._draw_highlight()
        plt.ylim(low, high)
        name, label = f"x{subscript(column + 1)}", "labels"
        if self.names is not None and column < len(self.names[0]):
            name, label = self.names[0][column], self.names[1]
        # The count and the lines' legend go under the chart: beside the title they were cut off at 120×36.
        self.fitted_border.set(
            title=[(f"Data: {name} (w{column + 1}'s feature) vs {label}", f"Data: {name} vs {label}", f"{name} vs y")],
            subtitle=[
                legend,
                (f"{drawn:,} points",)
                if not preview.downsampled
                else (f"first {drawn:,} of {preview.total:,} drawn", f"{drawn:,} of {preview.total:,}"),
            ],
        )
        plt.xlabel(f"{name} (w{column + 1}'s feature)")
        self.replotted()


@dataclass(frozen=True)
class LineToDraw:
    """A line over the scatter: its part inside the view (None: none of it is), colour and legend word."""

    segment: tuple[tuple[float, float], tuple[float, float]] | None
    color: tuple[int, int, int]
    word: str


def _line(w: Sequence[float], b: float, column: int, means: Sequence[float]) -> tuple[float, float]:
    """y = w[column]·x + (b + Σ_{j≠column} w[j]·mean[j])."""
    offset = math.fsum(wj * mean for j, (wj, mean) in enumerate(zip(w, means, strict=True)) if j != column)
    return w[column], b + offset


def clip_line(
    slope: float, intercept: float, x_range: tuple[float, float], y_range: tuple[float, float]
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of y = slope·x + intercept inside the box, as ((x_a, x_b), (y_a, y_b)); None if none is.

    An end cut by the top or bottom of the box takes that edge's y, not slope·x + intercept again: for a
    diverged run's line (slope ~5e18) one ulp of x is ±600 in y, and both ends can round to one x."""
    if not (math.isfinite(slope) and math.isfinite(intercept)):
        return None
    (x_low, x_high), (y_low, y_high) = x_range, y_range
    if slope == 0:
        return ((x_low, x_high), (intercept, intercept)) if y_low <= intercept <= y_high else None
    # Where the line crosses the bottom and the top of the box, in the order of x.
    crossings = [((y_low - intercept) / slope, y_low), ((y_high - intercept) / slope, y_high)]
    (x_in, y_in), (x_out, y_out) = sorted(crossings)
    start = (x_low, slope * x_low + intercept) if x_low > x_in else (x_in, y_in)
    end = (x_high, slope * x_high + intercept) if x_high < x_out else (x_out, y_out)
    if start[0] > end[0]:
        return None
    return (start[0], end[0]), (start[1], end[1])
