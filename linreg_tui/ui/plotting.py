"""A plotext plot that is built only when its data or size changes."""

from __future__ import annotations

import time

from textual.app import RenderResult
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
        #: How long the last build took, so a caller can space its redraws out.
        self.build_seconds = 0.0

    def replotted(self) -> None:
        """Call after changing the plot's data: the next render builds it again."""
        self._version += 1
        self.refresh()

    def render(self) -> RenderResult:
        key = (self.size, self.app.theme, self.theme, self._version)
        if key != self._cache_key:
            started = time.perf_counter()
            self._cached = super().render()
            self.build_seconds = time.perf_counter() - started
            self._cache_key = key
        return self._cached
