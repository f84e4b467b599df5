"""A plotext plot that is built only when its data or size changes."""

from __future__ import annotations

import time

from textual.app import RenderResult
from textual.geometry import Region
from textual.strip import Strip
from textual_plotext import PlotextPlot


class CachedPlot(PlotextPlot):
    """textual-plotext builds the whole plotext canvas (tens of milliseconds of Python) on every render,
    and a layout change anywhere on the screen renders every widget again. While training, that work
    competes with the training thread for the GIL, so we build once per `replot` and per size."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._version = 0
        self._cache_key: tuple[object, ...] | None = None
        self._cached: RenderResult = ""
        #: The UI thread's CPU time for the last build, from plotext's canvas to the lines on the screen,
        #: so that a caller can space its redraws out.
        self.build_seconds = 0.0
        self._build_started: float | None = None

    def replotted(self) -> None:
        """Call after changing the plot's data: the next render builds it again."""
        self._version += 1
        self.refresh()

    def render(self) -> RenderResult:
        key = (self.size, self.app.theme, self.theme, self._version)
        if key != self._cache_key:
            self._build_started = time.thread_time()
            self._cached = super().render()
            self._cache_key = key
        return self._cached

    def render_lines(self, crop: Region) -> list[Strip]:
        """As Textual's, timing a build (render() makes the Text, Textual cuts it into lines): thread
        time, not the wall clock, which waiting for the GIL stretches."""
        lines = super().render_lines(crop)
        if self._build_started is not None:
            self.build_seconds = time.thread_time() - self._build_started
            self._build_started = None
        return lines
