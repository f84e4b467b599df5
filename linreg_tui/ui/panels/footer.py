"""The footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

#: What the footer shows of one key: the key, its action and words, and whether it is enabled.
ShownKey = tuple[str, str, str, bool, str]


class QuietFooter(Footer):
    """Textual's footer removes and mounts all its keys on every refresh of the bindings: a restyle and
    a layout pass of the screen, about 0.1 s of Python. A moving focus refreshes them twice and a run's
    start moves it, all while the training thread waits for the GIL; most of those refreshes change
    nothing that the footer shows. Here they are skipped."""

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self._shown: tuple[ShownKey, ...] | None = None

    def bindings_changed(self, screen: Screen) -> None:
        shown = tuple(
            (key, active.binding.action, active.binding.description, active.enabled, active.tooltip)
            for key, active in screen.active_bindings.items()
            if active.binding.show
        )
        if shown == self._shown:
            return
        if screen.app.app_focus:  # without it Textual's footer waits and builds at the next change
            self._shown = shown
        super().bindings_changed(screen)
