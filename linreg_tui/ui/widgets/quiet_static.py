"""A Static whose new text lays the screen out again only when it needs another number of lines."""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


class QuietStatic(Static):
    """Textual's `Static.update` asks for a layout pass every time: it cannot know that the new text
    fits the lines the old one had. A pass re-renders every widget whose region it touches (a chart
    resized is a chart rebuilt), tens to hundreds of milliseconds of Python while the training thread
    waits for the GIL. The legends under the charts change their words as a run goes on, rarely their
    height; here the pass is asked for only when the height (at the width the widget has) changes."""

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        width = self.content_size.width
        width_rule = self.styles.width  # None: the container's width
        if not layout or not width or (width_rule is not None and width_rule.is_auto):
            super().update(content, layout=layout)  # not laid out yet, or its width follows its text
            return
        lines_before = self._lines(width)
        super().update(content, layout=False)
        if self._lines(width) != lines_before:
            self.refresh(layout=True)

    def _lines(self, width: int) -> int:
        return self.get_content_height(self.content_size, self.app.size, width)
