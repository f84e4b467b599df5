"""What the main screen's parts share about the session's runs: whether a run is live, the live run's
config, worker, control and learning rate, the last result and trace, every run of the session, and the
devices. Plain state: the run driver writes the live run's part, the run view and the share keys read it,
and the screen hears of `running` through `on_running` (its reactive: the footer, the form's lock)."""

from __future__ import annotations

from collections.abc import Callable

from textual.worker import Worker

from linreg_tui.run.config import RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.run.devices import DeviceChoice
from linreg_tui.run.result import RunResult
from linreg_tui.ui.panels.history import RunHistory, RunTrace
from linreg_tui.ui.screen.thread_start import ThreadStart


class RunSession:
    def __init__(self, on_running: Callable[[bool], None]) -> None:
        self._running = False
        self._on_running = on_running
        #: The config of the run now (a sweep's first point's, in a sweep), or of the last one.
        self.config: RunConfig | None = None
        #: The worker that trains it, and whether its thread has begun (see ThreadStart).
        self.worker: Worker[None] | None = None
        self.begun = ThreadStart()
        #: The run's pause, single steps and live learning rate (a new one per run; None in a sweep).
        self.control: RunControl | None = None
        #: The learning rate the run uses now, and the run's full-batch stability bound, once known.
        self.live_lr = 0.0
        self.max_stable_lr: float | None = None
        #: The preset the form was last filled from (its book figure is shown beside a run that is its own).
        self.preset: str | None = None
        #: The last run's result, however it ended (None before the first).
        self.last_result: RunResult | None = None
        #: The live run's step losses and per-epoch parameters, for saving it as JSON (ctrl+e).
        self.trace: RunTrace | None = None
        #: Every run of the session, and which earlier ones the charts draw (f10).
        self.history = RunHistory()
        #: The devices, once torch has loaded and the probe has answered (None until then).
        self.devices: list[DeviceChoice] | None = None
        #: The worker that loads torch behind the form and finds the devices.
        self.torch_loader: Worker[None] | None = None

    @property
    def running(self) -> bool:
        """Whether a run (or a sweep) is being made or trained."""
        return self._running

    @running.setter
    def running(self, running: bool) -> None:
        self._running = running
        self._on_running(running)

    @property
    def stopping(self) -> bool:
        """Whether the run's worker was told to stop (esc, a quit): its last messages say nothing new."""
        return self.worker is not None and self.worker.is_cancelled

    @property
    def torch_loading(self) -> bool:
        return self.torch_loader is not None and not self.torch_loader.is_finished
