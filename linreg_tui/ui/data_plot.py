"""The data panel: a plotext scatter of one feature column against the labels, as the book draws it."""

from __future__ import annotations

from textual.reactive import reactive

from linreg_tui.data import DataPreview
from linreg_tui.ui.plotting import CachedPlot


class DataPlot(CachedPlot):
    """`plt.scatter(features[:, 1], labels)` from d2l 3.2, in the terminal."""

    BORDER_TITLE = "Data"
    #: Which feature column is drawn; the book draws column 1.
    column: reactive[int] = reactive(1)

    can_focus = True  # f2 marks it in the wide layout

    def __init__(self) -> None:
        super().__init__(id="data", classes="panel")
        self.preview: DataPreview | None = None
        #: Rows of the step-mode minibatch that are among the drawn ones (see `highlight`).
        self.highlighted: tuple[int, ...] = ()

    def on_mount(self) -> None:
        self.replot()

    def show(self, preview: DataPreview) -> None:
        if preview == self.preview:  # a run starting on the data already shown: nothing to redraw
            return
        self.preview = preview
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
            xs = [self.preview.columns[self.column][index] for index in self.highlighted]
            self.plt.scatter(xs, [self.preview.labels[index] for index in self.highlighted], marker="x", color="red")

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
            self.border_title = "Data"
            self.border_subtitle = ""
            plt.title(waiting)
            self.replotted()
            return
        preview, column = self.preview, self.column
        drawn = len(preview.labels)
        # The count goes under the chart: beside the title it was cut off at 120×36.
        self.border_title = f"Data: features[:, {column}] vs labels"
        self.border_subtitle = (
            f"{drawn:,} points" if not preview.downsampled else f"first {drawn:,} of {preview.total:,} drawn"
        )
        plt.scatter(preview.columns[column], preview.labels, marker="braille", color="cyan")
        self._draw_highlight()
        plt.xlabel(f"feature {column}")
        self.replotted()
