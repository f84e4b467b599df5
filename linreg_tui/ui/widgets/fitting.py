"""Text that fits the cells it gets, cut only between words: a status line, a border's title.

A text is given as parts, most important first, each in one wording or several (longest first). What
is shown is the longest that fits: every part in its first wording; else the last part in a shorter
one; else without the last part, and so on. Only when even the first part's shortest wording does not
fit are its trailing words dropped, whole, and an ellipsis says so. A number is a word: it is never
cut ("2,078 ste…" or "step 1,2" cannot happen).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

#: A part of a text: one wording, or several, the longest first.
Wording = str | tuple[str, ...]
SEPARATOR = " · "
ELLIPSIS = "…"


def visible_len(text: str, markup: bool = False) -> int:
    """The cells a text takes on screen (its markup, if any, takes none)."""
    return Text.from_markup(text).cell_len if markup else cell_len(text)


def wordings(part: Wording) -> tuple[str, ...]:
    return (part,) if isinstance(part, str) else part


def full_text(parts: Sequence[Wording], separator: str = SEPARATOR) -> str:
    """Every part in its first (longest) wording: what is said when there is room for all of it."""
    return separator.join(wordings(part)[0] for part in parts if wordings(part)[0])


def fit(parts: Sequence[Wording], width: int, separator: str = SEPARATOR, markup: bool = False) -> str:
    """The longest text of `parts` that fits `width` cells (see the module's docstring); "" for no parts."""
    choices = [wordings(part) for part in parts if wordings(part)[0]]
    for kept in range(len(choices), 0, -1):
        head = [options[0] for options in choices[: kept - 1]]
        for last in choices[kept - 1]:
            text = separator.join([*head, last])
            if visible_len(text, markup) <= width:
                return text
    return leading_words(choices[0][-1], width, markup) if choices else ""


def leading_words(text: str, width: int, markup: bool = False) -> str:
    """As many whole words of `text` as fit `width` with an ellipsis after them; "" when not even one does."""
    words = text.split(" ")
    for count in range(len(words) - 1, 0, -1):
        head = " ".join(words[:count]).rstrip(" ·,;:")
        if head.strip() and visible_len(head + ELLIPSIS, markup) <= width:
            return head + ELLIPSIS
    return ""


def border_room(widget: Widget) -> int:
    """The cells a border title or subtitle gets before Textual cuts it: the edge between the corners,
    less a space on each side of the label and one edge cell beside each corner."""
    return widget.outer_size.width - 6


class FittedLine(Widget):
    """One line that says the longest of its parts' wordings that fits its width, chosen again whenever
    the width changes (a resize renders it again). Plain text: a file name in brackets stays as it is."""

    DEFAULT_CSS = """
    FittedLine {
        height: 1;
    }
    """

    def __init__(self, *parts: Wording, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.parts: tuple[Wording, ...] = parts

    def update(self, *parts: Wording) -> None:
        """Say these parts instead (most important first). Only this line is painted again: its height is
        one row whatever it says, so no layout pass is needed."""
        if parts != self.parts:
            self.parts = parts
            self.refresh()

    @property
    def text(self) -> str:
        """Everything it would say given the room (the status line's meaning, whatever the width)."""
        return full_text(self.parts)

    @property
    def shown(self) -> str:
        """What it says at its present width."""
        return fit(self.parts, self.content_size.width)

    def render(self) -> RenderResult:
        return Content(self.shown)


class FittedBorder:
    """A widget's border title and subtitle, each the longest of its wordings that fits the widget's
    width. The widget calls `refit` when resized: a border label cannot wrap, and Textual cuts one that
    is too long wherever the width ends, "…" in mid-word. The labels may hold markup."""

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        # Until told otherwise, the class's own (BORDER_TITLE, BORDER_SUBTITLE).
        self.title: tuple[Wording, ...] = (widget.BORDER_TITLE,) if widget.BORDER_TITLE else ()
        self.subtitle: tuple[Wording, ...] = (widget.BORDER_SUBTITLE,) if widget.BORDER_SUBTITLE else ()

    def set(self, title: Sequence[Wording] | None = None, subtitle: Sequence[Wording] | None = None) -> None:
        """New wordings for the title and/or the subtitle (None: that one as it is)."""
        if title is not None:
            self.title = tuple(title)
        if subtitle is not None:
            self.subtitle = tuple(subtitle)
        self.refit()

    def refit(self) -> None:
        widget, room = self.widget, border_room(self.widget)
        # Not laid out yet: everything, until the first resize says how much fits.
        title = fit(self.title, room, markup=True) if room > 0 else full_text(self.title)
        subtitle = fit(self.subtitle, room, markup=True) if room > 0 else full_text(self.subtitle)
        if widget.border_title != title:  # setting it repaints the whole widget, even to the same text
            widget.border_title = title
        if widget.border_subtitle != subtitle:
            widget.border_subtitle = subtitle
