"""The linreg-tui app: the main screen, the keys that work on every screen, and a clean exit on signals."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Mapping
from time import monotonic  # a module-level name, so tests can give the idle limit a fake clock
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from linreg_tui.run.config import RunConfig
from linreg_tui.run.result import RunResult
from linreg_tui.ui.panels.help import HelpScreen
from linreg_tui.ui.screen.main_screen import MainScreen
from linreg_tui.ui.web.served import idle_limit_seconds

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
        #: The seconds without input and training after which the app ends (None: never).
        self.idle_limit = idle_limit_seconds(os.environ)
        #: When the app last had a key or the mouse, or last trained (monotonic()).
        self.last_active = monotonic()

    def get_default_screen(self) -> Screen[None]:
        return self.main_screen

    @property
    def running(self) -> bool:
        """Whether a run is being made or trained."""
        return self.main_screen.running

    @property
    def last_result(self) -> RunResult | None:
        """The last run's result, however it ended (None before the first)."""
        return self.main_screen.session.last_result

    @property
    def training(self) -> bool:
        """Whether a run is training: running and not paused (a sweep cannot pause)."""
        control = self.main_screen.session.control
        return self.running and not (control is not None and control.paused)

    def on_mount(self) -> None:
        if not self.is_headless:  # a test's app must not take the test runner's signals
            loop = asyncio.get_running_loop()
            for signum in EXIT_SIGNALS:
                loop.add_signal_handler(signum, self._exit_on_signal, signum)
        if self.idle_limit is not None:
            # A run's end counts as activity: its tab then has the whole limit from there.
            self.watch(self.main_screen, "running", self._mark_active, init=False)
            # Counted from the first paint, when a person could first see the app (an app that ended
            # sooner, under a tiny limit on a busy machine, ended before its header had mounted).
            self.call_after_refresh(self._start_idle_clock)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseEvent, events.Paste)):
            self.last_active = monotonic()
        await super().on_event(event)

    def _start_idle_clock(self) -> None:
        assert self.idle_limit is not None
        self.last_active = monotonic()
        self.set_timer(self.idle_limit, self._end_if_idle)

    def _mark_active(self) -> None:
        self.last_active = monotonic()

    def _end_if_idle(self) -> None:
        """Ends the app after idle_limit seconds without input while no run trained; else looks again when
        that time will have passed (one timer, not one per key)."""
        assert self.idle_limit is not None
        now = monotonic()
        if self.training:
            self.last_active = now
        idle = now - self.last_active
        if idle < self.idle_limit:
            self.set_timer(self.idle_limit - idle, self._end_if_idle)
            return
        minutes = self.idle_limit / 60
        self.exit(message=f"linreg-tui: ended after {minutes:g} minutes without input and without a run training")

    def _exit_on_signal(self, signum: signal.Signals) -> None:
        # Quitting cancels the workers, so a run stops at its next chunk of steps.
        self.exit_signal = signal.Signals(signum)
        self.exit(return_code=128 + signum)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen([*MainScreen.BINDINGS, *self.BINDINGS]))
