"""The log pane: the book's printed lines, and what else the user should know."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import RichLog

MAX_LINES = 5000
STYLES = {"info": "", "book": "bold", "note": "dim", "warning": "yellow", "error": "bold red"}


class LogPane(RichLog):
    BORDER_TITLE = "Log"

    def __init__(self) -> None:
        super().__init__(id="log", classes="panel", wrap=True, min_width=20, max_lines=MAX_LINES, markup=False)
        self.entries: list[tuple[str, str]] = []  # (line, kind): kept to re-wrap on resize

    @property
    def lines_written(self) -> list[str]:
        return [line for line, _ in self.entries]

    def say(self, line: str, kind: str = "info") -> None:
        self.entries.append((line, kind))
        if len(self.entries) > MAX_LINES:
            del self.entries[0]
        self.write(Text(line, style=STYLES[kind]))

    def on_resize(self, event: events.Resize) -> None:
        """RichLog wraps at write time; lines written while hidden (a narrow layout's other tab) or
        at another width are wrapped again for the width the pane has now."""
        if event.size.width:
            self.clear()
            for line, kind in self.entries:
                self.write(Text(line, style=STYLES[kind]))
