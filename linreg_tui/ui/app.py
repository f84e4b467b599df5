"""The linreg-tui app: the main screen, the keys that work on every screen, and a clean exit on signals."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Mapping
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from linreg_tui.config import RunConfig
from linreg_tui.run.result import RunResult
from linreg_tui.ui.help import HelpScreen
from linreg_tui.ui.main_screen import MainScreen

#: Signals that end the app as ctrl+q does, so the terminal is restored (alternate screen, mouse
#: reporting, raw mode): SIGTERM is what `kill` and batch schedulers send, SIGHUP a closed SSH session.
EXIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class LinregApp(App[None]):
    """d2l's linear regression, trained live."""

    CSS_PATH = "app.tcss"
    TITLE = "linreg-tui"
    # The footer's room goes to the app's own keys; every action has a key already.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1,question_mark", "help", "Help", id="help", tooltip="this help"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit", tooltip="quit (a run stops first)"),
    ]

    def __init__(
        self, config: RunConfig | None = None, preset: str | None = None, sweep: Mapping[str, str] | None = None
    ) -> None:
        """`config`: the form's values; `preset`: the preset they came from (the picker names it and the
        log tells its question); `sweep`: the swept fields' comma-separated texts, put in the form."""
        super().__init__()
        self.main_screen = MainScreen(config or RunConfig(), preset, sweep)
        #: The signal that ended the app, if one did.
        self.exit_signal: signal.Signals | None = None

    def get_default_screen(self) -> Screen[None]:
        return self.main_screen

    @property
    def running(self) -> bool:
        """Whether a run is being made or trained."""
        return self.main_screen.running

    @property
    def last_result(self) -> RunResult | None:
        """The last run's result, however it ended (None before the first)."""
        return self.main_screen.last_result

    def on_mount(self) -> None:
        if not self.is_headless:  # a test's app must not take the test runner's signals
            loop = asyncio.get_running_loop()
            for signum in EXIT_SIGNALS:
                loop.add_signal_handler(signum, self._exit_on_signal, signum)

    def _exit_on_signal(self, signum: signal.Signals) -> None:
        # Quitting cancels the workers, so a run stops at its next chunk of steps.
        self.exit_signal = signal.Signals(signum)
        self.exit(return_code=128 + signum)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([*MainScreen.BINDINGS, *self.BINDINGS]))
