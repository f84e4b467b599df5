"""Where the main screen's six panels go: tabs below 110 columns, a grid of four cells (two of them
shared) up to 150, all six from there; which panel an f-key or a tab brings up."""

from __future__ import annotations

from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tabs

PANELS = ("data", "loss", "weights", "landscape", "log", "results")
#: Between 110 and 150 columns the grid has four cells: these panels share one, the first shown until
#: its partner's f-key is pressed. From 150 columns all six are shown (the screen's class -wider).
SHARED_CELLS = (("loss", "weights"), ("landscape", "log"))
WIDER = 150
MIN_WIDTH, MIN_HEIGHT = 60, 16
#: Below this height the header and the device note make room for the form's buttons.
LOW_HEIGHT = 24
#: The footer's keys take 76 columns with Step and Pause, 60 without them.
FOOTER_ROOM_FOR_STEP = 80


class PanelLayout:
    """The panels' arrangement on the screen that holds them (its tabs, its -wider class): any screen
    with `#panels` (each panel a child named by its id) and `#view-tabs`."""

    def __init__(self, screen: Screen[None]) -> None:
        self.screen = screen

    def panel(self, name: str) -> Widget:
        return self.screen.query_one(f"#panels > #{name}")  # not the form's field of that name ("loss")

    def mounted(self) -> None:
        self.panel("data").add_class("-current")  # the first tab's panel, until a tab is chosen
        for first, *_ in SHARED_CELLS:
            self.show_in_cell(first)

    def tab_chosen(self, tab_id: str | None) -> None:
        name = (tab_id or "tab-data").removeprefix("tab-")
        for panel in PANELS:
            self.panel(panel).set_class(panel == name, "-current")

    def show(self, name: str) -> None:
        """Narrow: switch to the panel's tab. Wide: the panel takes its cell; focus marks it (and scrolls
        the log)."""
        self.screen.query_one("#view-tabs", Tabs).active = f"tab-{name}"
        self.show_in_cell(name)
        panel = self.panel(name)
        focusable = [panel] if panel.can_focus else [w for w in panel.query("*") if w.can_focus]
        if focusable:
            focusable[0].focus()

    def show_in_cell(self, name: str) -> None:
        """In the four-cell grid, the panel is shown and the one it shares its cell with is not."""
        for cell in SHARED_CELLS:
            if name in cell:
                for panel in cell:
                    self.panel(panel).set_class(panel != name, "-alternate")

    def resized(self) -> None:
        self.screen.set_class(self.screen.size.width >= WIDER, "-wider")
        self.screen.refresh_bindings()  # the footer's Step and Pause need FOOTER_ROOM_FOR_STEP columns

    def footer_has_room_for_step(self) -> bool:
        return self.screen.size.width >= FOOTER_ROOM_FOR_STEP
