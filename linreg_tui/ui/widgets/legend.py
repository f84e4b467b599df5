"""A chart's legend: keys in rows that break between keys, never inside one.

Textual wraps a text at any white space, the no-break space included (its word pattern is `\\S+\\s*`),
so "━ w3 (true 0.01)" came out as "━ w3 (true" over "0.01)", a value parted from its name. Here the
rows are made for the width the legend has, a key at a time, and made again when the width changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from linreg_tui.ui.widgets.fitting import visible_len
from linreg_tui.ui.widgets.quiet_static import QuietStatic

#: Between two keys on a row.
GAP = "  "


def rows_of(groups: Sequence[Sequence[str]], width: int) -> list[str]:
    """Each group's keys (markup) in rows of at most `width` cells, a group starting a row of its own;
    a key wider than the row has one to itself (Textual wraps it: a sentence, not a key). Width 0 (not
    laid out yet): one row per group."""
    rows: list[str] = []
    for group in groups:
        row = ""
        for key in group:
            longer = f"{row}{GAP}{key}" if row else key
            if row and width and visible_len(longer, markup=True) > width:
                rows.append(row)
                row = key
            else:
                row = longer
        if row:
            rows.append(row)
    return rows


class Legend(QuietStatic):
    """Keys under a chart, laid out for its width (see the module's docstring)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.groups: tuple[tuple[str, ...], ...] = ()
        self._text = ""

    def show(self, *groups: Sequence[str]) -> None:
        """These keys, each group from a row of its own. Laid out again only when they changed: an
        update that changes the height costs a layout pass of the screen."""
        groups_now = tuple(tuple(group) for group in groups)
        if groups_now != self.groups:
            self.groups = groups_now
            self._lay_out()

    def on_resize(self) -> None:
        self._lay_out()

    def _lay_out(self) -> None:
        text = "\n".join(rows_of(self.groups, self.content_size.width))
        if text != self._text:
            self._text = text
            self.update(text)
