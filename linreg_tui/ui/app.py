"""The linreg-tui app: the panels, the keys, and the training worker that feeds them."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, ProgressBar, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

from linreg_tui.config import ConfigError, RunConfig, check_memory, estimate_memory
from linreg_tui.data import preview_for
from linreg_tui.devices import available_devices, cuda_status, host_free_bytes
from linreg_tui.report import end_lines, epoch_line, start_lines
from linreg_tui.results import RunResult
from linreg_tui.training import (
    EpochEnded,
    RunEnded,
    RunStarted,
    SetupCancelled,
    StepLosses,
    TrainingSetupFailed,
    train,
)
from linreg_tui.ui.data_plot import DataPlot
from linreg_tui.ui.help import HelpScreen
from linreg_tui.ui.log import LogPane
from linreg_tui.ui.loss_plot import REDRAW_HZ, LossPanel
from linreg_tui.ui.messages import PreviewReady, PreviewRefused, RunRefused, RunSetupFailed, TrainingUpdate
from linreg_tui.ui.params import ParamsPanel
from linreg_tui.ui.results import ResultsPanel

PANELS = ("data", "loss", "log", "results")
MIN_WIDTH, MIN_HEIGHT = 60, 16


class LinregApp(App[None]):
    """d2l's linear regression, trained live."""

    CSS_PATH = "app.tcss"
    TITLE = "linreg-tui"
    # The footer's room goes to the app's own keys; every action has a key already.
    ENABLE_COMMAND_PALETTE = False
    # Below 110 columns the four panels become tabs beside the form; below the minimum, a notice.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-tiny"), (MIN_WIDTH, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (MIN_HEIGHT, "-tall")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run", priority=True),
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+l", "toggle_log_y", "Log y", priority=True),
        Binding("ctrl+n", "next_feature", "Feature", priority=True),
        Binding("ctrl+o", "clear_runs", "Clear runs", priority=True),
        Binding("f2", "show_panel('data')", "Data", show=False),
        Binding("f3", "show_panel('loss')", "Loss", show=False),
        Binding("f4", "show_panel('log')", "Log", show=False),
        Binding("f5", "show_panel('results')", "Results", show=False),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    running: reactive[bool] = reactive(False)

    def __init__(self, config: RunConfig | None = None) -> None:
        super().__init__()
        self.initial_config = config or RunConfig()
        self.cancel = threading.Event()
        self.run_config: RunConfig | None = None
        self.last_result: RunResult | None = None
        self._pending_progress: tuple[int, int] | None = None  # (epoch, step) not yet shown
        self._pending_epochs: list[EpochEnded] = []
        self._epochs_shown_at = 0.0
        self._run_started = 0.0
        self._preview_timer: Timer | None = None
        self._previewed: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        devices = [(choice.label, choice.value) for choice in available_devices()]
        devices.insert(1, ("auto (GPU if any)", "auto"))
        yield Header()
        with Horizontal(id="main"):
            yield ParamsPanel(self.initial_config, devices, f"CUDA: {cuda_status()}")
            with Vertical(id="views"):
                yield Tabs(*(Tab(name.capitalize(), id=f"tab-{name}") for name in PANELS), id="view-tabs")
                with Container(id="panels"):
                    yield DataPlot()
                    yield LossPanel()
                    yield LogPane()
                    yield ResultsPanel()
        with Horizontal(id="status-row"):
            # Percentage and ETA are in the status line: the bar's own labels cost a layout pass each.
            yield ProgressBar(id="progress", show_percentage=False, show_eta=False)
            yield Static("ready: ctrl+r trains, f1 explains", id="status")
        yield Static(
            f"The terminal is too small: linreg-tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}. "
            "Enlarge it; a run goes on meanwhile, and ctrl+q quits.",
            id="too-small",
        )
        yield Footer()

    @property
    def main_screen(self) -> Screen[None]:
        """The panels' screen, whichever is on top: messages from a run arrive while the help is open."""
        return self.screen_stack[0]

    def on_mount(self) -> None:
        self.sub_title = "d2l 3.2 / 3.3"
        self.main_screen.query_one(DataPlot).add_class("-current")  # the first tab's panel, until a tab is chosen
        log = self.main_screen.query_one(LogPane)
        log.say(f"devices: cpu · CUDA: {cuda_status()}", "note")
        log.say("ctrl+r trains with the form's values (the book's defaults to start); f1 explains.", "note")
        self.main_screen.query_one(ParamsPanel).query_one("#true_w").focus()
        self._schedule_preview(self.initial_config, delay=None)
        self.set_interval(1 / REDRAW_HZ, self._redraw_tick)

    # Actions -------------------------------------------------------------------------------------

    def action_run(self) -> None:
        if self.running:
            return
        try:
            config = self.main_screen.query_one(ParamsPanel).read_config()
        except ConfigError as error:
            self.main_screen.query_one(LogPane).say(f"not started: {error}", "warning")
            self._set_status("not started: see the form")
            return
        if self._preview_timer is not None:
            self._preview_timer.stop()  # the run draws its own data; a pending preview would make it twice
        self.cancel = threading.Event()
        self.run_config = config
        self._pending_progress, self._pending_epochs = None, []  # nothing of the last run carries over
        self.running = True
        self._set_status(f"starting {config.impl} on {config.device}…")
        self.train_in_thread(config, self.cancel)

    def action_stop(self) -> None:
        if self.running and not self.cancel.is_set():
            self.cancel.set()
            self._set_status("stopping…")

    async def action_quit(self) -> None:
        # The worker stops within a chunk of steps, or after the set-up phase it is in (making the data
        # for 10⁸ examples takes seconds, and a thread cannot be interrupted).
        self.cancel.set()
        self.exit()

    def action_toggle_log_y(self) -> None:
        plot = self.main_screen.query_one(LossPanel)
        plot.log_y = not plot.log_y

    def action_next_feature(self) -> None:
        self.main_screen.query_one(DataPlot).next_column()

    def action_clear_runs(self) -> None:
        self.main_screen.query_one(LossPanel).clear_previous()
        self.main_screen.query_one(LogPane).say("earlier runs cleared from the loss chart", "note")

    def action_show_panel(self, name: str) -> None:
        """Narrow: switch to the panel's tab. Wide: all are shown; focus marks it (and scrolls the log)."""
        self.main_screen.query_one("#view-tabs", Tabs).active = f"tab-{name}"
        panel = self.main_screen.query_one(f"#{name}")
        focusable = [panel] if panel.can_focus else [w for w in panel.query("*") if w.can_focus]
        if focusable:
            focusable[0].focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run and Stop show as unavailable in the footer when they would do nothing."""
        if action == "run":
            return None if self.running else True
        if action == "stop":
            return True if self.running else None
        return True

    def watch_running(self, running: bool) -> None:
        self.main_screen.query_one(ParamsPanel).set_running(running)
        self.main_screen.query_one("#progress", ProgressBar).display = running
        self.refresh_bindings()

    # The training worker -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def train_in_thread(self, config: RunConfig, cancel: threading.Event) -> None:
        """Runs in a thread: the core posts its events here as messages; widgets never see torch."""
        try:
            train(config, lambda event: self.post_message(TrainingUpdate(event)), cancel)
        except ConfigError as error:
            self.post_message(RunRefused(error))
        except TrainingSetupFailed as error:
            self.post_message(RunSetupFailed(str(error)))
        except SetupCancelled as error:
            self.post_message(RunSetupFailed(str(error), cancelled=True))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place unexpected worker errors land: say so, and leave the app usable."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        where = "training" if event.worker.group == "training" else "preparing the data preview"
        self.main_screen.query_one(LogPane).say(f"error while {where}: {type(error).__name__}: {error}", "error")
        if event.worker.group == "training":
            self.running = False
            self._set_status("failed: see the log")

    @on(TrainingUpdate)
    def route_training_event(self, message: TrainingUpdate) -> None:
        event = message.event
        log, loss = self.main_screen.query_one(LogPane), self.main_screen.query_one(LossPanel)
        if isinstance(event, RunStarted):
            config = event.config
            for line in start_lines(event):
                log.say(line, "note" if line.startswith("loss:") else "info")
            loss.start_run(f"{config.impl} lr={config.lr:g}")
            self.main_screen.query_one(DataPlot).show(event.preview)
            self.main_screen.query_one(ResultsPanel).start(config.true_w, config.true_b, event.optimum)
            self.main_screen.query_one("#progress", ProgressBar).update(total=config.total_steps, progress=0)
            self._run_started = time.monotonic()  # the ETA counts training, not making the data
            self.sub_title = f"{config.impl} · {event.device} · training"
        elif isinstance(event, StepLosses):
            loss.add_steps(event.first_step, event.losses)
            self._pending_progress = (event.epoch, event.first_step + len(event.losses) - 1)
        elif isinstance(event, EpochEnded):
            # Shown on the next redraw tick: short epochs would otherwise cost a layout pass each.
            self._pending_epochs.append(event)
            loss.add_epoch(event.steps, event.loss)
        elif isinstance(event, RunEnded):
            self._finish(event)

    def _finish(self, event: RunEnded) -> None:
        self._show_epochs(now=True)
        result = self.last_result = event.result
        log = self.main_screen.query_one(LogPane)
        kind = {"finished": "book", "cancelled": "warning", "diverged": "warning"}.get(result.status, "error")
        *report, status_line = end_lines(result)
        for line in report:
            log.say(line, kind if line == result.message else "book")
        log.say(status_line, kind)
        self.main_screen.query_one(ResultsPanel).finish(result)
        if result.status == "diverged" and not self.main_screen.query_one(LossPanel).log_y:
            self.main_screen.query_one(LossPanel).log_y = True
            log.say("the loss chart now has a log y axis, to show the blow-up (ctrl+l toggles)", "note")
        self.running = False
        summary = f"{result.status} · {result.steps:,} steps · {result.steps_per_second:,.0f} steps/s"
        self.sub_title = f"{result.config.impl} · {result.device} · {summary}"
        if result.diverged_at is not None:
            epoch, step = result.diverged_at
            summary = f"diverged at epoch {epoch}, step {step:,}: try a smaller lr, e.g. {result.config.lr / 10:g}"
        elif result.status == "cancelled":
            summary = result.message  # "cancelled in epoch 2 after 1,234 steps"
        elif result.status == "failed":
            summary = "failed: see the log"
        self._set_status(summary)

    @on(RunRefused)
    def refuse_run(self, message: RunRefused) -> None:
        self.running = False
        self.main_screen.query_one(ParamsPanel).show_errors(message.error.errors)
        self.main_screen.query_one(LogPane).say(f"not started: {message.error}", "error")
        self._set_status("not started: see the form")

    @on(RunSetupFailed)
    def setup_failed(self, message: RunSetupFailed) -> None:
        self.running = False
        if message.cancelled:
            self.main_screen.query_one(LogPane).say(message.reason, "warning")
            self._set_status(message.reason)
        else:
            self.main_screen.query_one(LogPane).say(f"failed: {message.reason}", "error")
            self._set_status("failed: see the log")

    # The data preview ----------------------------------------------------------------------------

    @on(ParamsPanel.Changed)
    def form_changed(self, message: ParamsPanel.Changed) -> None:
        self._schedule_preview(message.config, delay=0.3)

    def _schedule_preview(self, config: RunConfig, delay: float | None) -> None:
        """Redraw the data once typing pauses, and only when the data itself would change."""
        key = data_key(config)
        if key == self._previewed:
            return
        self._previewed = key
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if delay is None:
            self.preview_in_thread(config)
        else:
            self._preview_timer = self.set_timer(delay, lambda: self.preview_in_thread(config))

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def preview_in_thread(self, config: RunConfig) -> None:
        key = data_key(config)
        try:
            check_memory(config, estimate_memory(config, on_cuda=False), host_free_bytes(), None)
        except ConfigError as error:
            self.post_message(PreviewRefused(key, error))
            return
        self.post_message(PreviewReady(key, preview_for(config)))

    @on(PreviewReady)
    def show_preview(self, message: PreviewReady) -> None:
        # A thread worker cannot be stopped: an older, slower preview may arrive after a newer one.
        if self.running or message.key != self._previewed:
            return
        plot = self.main_screen.query_one(DataPlot)
        if message.preview is None:
            plot.wait_for_run("the data is drawn when the run makes it (too large to make twice)")
        else:
            plot.show(message.preview)

    @on(PreviewRefused)
    def preview_refused(self, message: PreviewRefused) -> None:
        if message.key == self._previewed:
            self.main_screen.query_one(ParamsPanel).show_errors(message.error.errors, focus=False)

    # Layout --------------------------------------------------------------------------------------

    @on(Tabs.TabActivated)
    def tab_activated(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-data").removeprefix("tab-")
        for panel in PANELS:
            self.main_screen.query_one(f"#{panel}").set_class(panel == name, "-current")

    def _redraw_tick(self) -> None:
        """The live parts of the screen, updated together (one frame) at most REDRAW_HZ times a second."""
        if not self.screen_stack or not self.main_screen.query(LossPanel):
            return  # closing: the panels are already gone
        self.main_screen.query_one(LossPanel).redraw_if_dirty()
        self._show_progress()
        self._show_epochs()

    def _show_epochs(self, now: bool = False) -> None:
        """The book's `epoch N, loss X` lines and the parameters after the latest epoch, at most once a
        second while training: each write to the log scrolls it, a layout pass of the whole screen."""
        if not self._pending_epochs or (not now and time.monotonic() - self._epochs_shown_at < 1.0):
            return
        self._epochs_shown_at = time.monotonic()
        log = self.main_screen.query_one(LogPane)
        for event in self._pending_epochs:
            log.say(epoch_line(event), "book")
        latest = self._pending_epochs[-1]
        self.main_screen.query_one(ResultsPanel).show_parameters(latest.w, latest.b)
        self._pending_epochs = []

    def _show_progress(self) -> None:
        if self._pending_progress is None or self.run_config is None or not self.running or self.cancel.is_set():
            return  # nothing new, or "stopping…" is what to read now
        epoch, step = self._pending_progress
        self._pending_progress = None
        self.main_screen.query_one("#progress", ProgressBar).update(progress=step)
        config = self.run_config
        elapsed = time.monotonic() - self._run_started
        eta = elapsed / step * (config.total_steps - step) if step else 0.0
        self._set_status(
            f"{step / config.total_steps:4.0%} · epoch {epoch}/{config.epochs} · step {step:,}/"
            f"{config.total_steps:,} · ETA {_clock(eta)}"
        )

    def _set_status(self, text: str) -> None:
        self.main_screen.query_one("#status", Static).update(text, layout=False)  # one line: no layout pass needed


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def data_key(config: RunConfig) -> tuple[object, ...]:
    """What decides the data (and so the scatter): not the learning rate, batch size or engine."""
    return (config.true_w, config.true_b, config.num_examples, config.noise, config.seed)
