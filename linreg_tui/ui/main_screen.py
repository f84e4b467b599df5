"""The main screen: the form, the four panels and the status bar, and the workers that feed them.

It owns the panels (typed accessors, no ids to remember), the training worker and the keys that act on
them; the app keeps what works on every screen (help, quit)."""

from __future__ import annotations

import time
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Header, Static, Tab, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from linreg_tui.conditioning import conditioning_for
from linreg_tui.config import ConfigError, RunConfig, check_memory, estimate_memory, parse_config
from linreg_tui.config_file import ConfigFileError, config_toml, read_config_file
from linreg_tui.control import RunControl
from linreg_tui.data import preview_for
from linreg_tui.devices import DeviceChoice, available_devices, cuda_status, host_free_bytes
from linreg_tui.landscape import Conditioning, loss_scale
from linreg_tui.report import conditioning_lines, end_lines, epoch_line, lr_above_bound, run_command, start_lines
from linreg_tui.results import RunResult
from linreg_tui.sweep import SweepPoint, run_sweep
from linreg_tui.training import EpochEnded as EpochEndedEvent
from linreg_tui.training import RunStarted as RunStartedEvent
from linreg_tui.training import SetupCancelled, TrainingSetupFailed, train
from linreg_tui.ui import messages
from linreg_tui.ui.data_plot import DataPlot
from linreg_tui.ui.file_prompt import FileChoice, FileExists, FilePrompt, free_name, write_file
from linreg_tui.ui.footer import QuietFooter
from linreg_tui.ui.history import HistoryScreen, RunHistory, RunTrace, run_json
from linreg_tui.ui.landscape_plot import LandscapePanel
from linreg_tui.ui.log import LogPane, explained_lines, lr_change_line
from linreg_tui.ui.loss_plot import KEEP_RUNS, REDRAW_HZ, LossPanel
from linreg_tui.ui.pacing import FramePacer
from linreg_tui.ui.params import ParamsPanel
from linreg_tui.ui.params_plot import ParamsOverTime
from linreg_tui.ui.presets_picker import PresetPicker
from linreg_tui.ui.results import ResultsPanel
from linreg_tui.ui.status_bar import StatusBar
from linreg_tui.ui.sweep_panel import Sweep, SweepScreen

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


class MainScreen(Screen[None]):
    """d2l's linear regression, trained live: form → RunConfig → worker → messages → panels."""

    # Below 110 columns the four panels become tabs beside the form; below the minimum, a notice.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-tiny"), (MIN_WIDTH, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-short"),
        (MIN_HEIGHT, "-low"),
        (LOW_HEIGHT, "-tall"),
    ]
    # Short descriptions: at 60 columns the footer must still have room for the app's f1 Help and ^q Quit.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run", priority=True, id="run", tooltip="train with the form's values"),
        Binding("escape", "stop", "Stop", id="stop", tooltip="stop the run (it keeps what it learned)"),
        Binding(
            "ctrl+t",
            "step",
            "Step",
            priority=True,
            id="step",
            tooltip="take one step and explain it (from idle: start a run paused before step 1)",
        ),
        Binding("ctrl+p", "pause", "Pause", priority=True, id="pause", tooltip="pause the run, or go on"),
        # The same keys without a footer entry: below FOOTER_ROOM_FOR_STEP columns the entries above leave
        # the footer (check_action False, which disables them too) and these answer the keys instead.
        Binding("ctrl+t", "step_unlisted", show=False, priority=True),
        Binding("ctrl+p", "pause_unlisted", show=False, priority=True),
        Binding("ctrl+l", "toggle_log_y", "Log y", priority=True, id="log-y", tooltip="loss chart: linear or log y"),
        Binding(
            "ctrl+n",
            "next_feature",
            "Column",
            priority=True,
            id="next-feature",
            tooltip="data chart: next feature column",
        ),
        Binding(
            "ctrl+o",
            "clear_runs",
            "Clear",
            priority=True,
            id="clear-runs",
            tooltip="forget the earlier runs on the loss chart",
        ),
        Binding("f2", "show_panel('data')", "Data", show=False, id="show-data", tooltip="show the Data panel"),
        Binding("f3", "show_panel('loss')", "Loss", show=False, id="show-loss", tooltip="show the Loss panel"),
        Binding("f4", "show_panel('log')", "Log", show=False, id="show-log", tooltip="show the Log panel"),
        Binding(
            "f5", "show_panel('results')", "Results", show=False, id="show-results", tooltip="show the Results panel"
        ),
        Binding(
            "f6",
            "show_panel('landscape')",
            "Landscape",
            show=False,
            id="show-landscape",
            tooltip="show the Landscape panel (the loss map and the run's path)",
        ),
        Binding(
            "f7",
            "show_panel('weights')",
            "Weights",
            show=False,
            id="show-weights",
            tooltip="show the Parameters panel (each weight and b against the step)",
        ),
        Binding(
            "ctrl+g",
            "next_pair",
            "Pair",
            show=False,
            priority=True,
            id="landscape-pair",
            tooltip="landscape: the next pair of parameters (w1×w2, w1×b, …)",
        ),
        Binding(
            "f8",
            "pick_preset",
            "Presets",
            show=False,
            id="pick-preset",
            tooltip="choose a preset (the book's exercises): it fills the form, the log says what to look for",
        ),
        Binding(
            "f9",
            "show_sweep",
            "Sweep",
            show=False,
            id="show-sweep",
            tooltip="the sweep's table (comma-separated values in lr, batch, examples, wd or init std make a "
            "sweep), and after a sweep over examples the error against n, log-log",
        ),
        Binding(
            "f10",
            "show_history",
            "History",
            show=False,
            id="show-history",
            tooltip="the run history: every run of the session; enter, space or a click draws a run on the charts "
            "or hides it",
        ),
        Binding(
            "ctrl+y",
            "copy_command",
            "Copy cmd",
            show=False,
            priority=True,
            id="copy-command",
            tooltip="copy the last run's command line (linreg-tui --headless ..., bit for bit) to the clipboard",
        ),
        Binding(
            "ctrl+s",
            "save_config",
            "Save",
            show=False,
            priority=True,
            id="save-config",
            tooltip="save the form as a TOML config file (linreg-tui --config FILE reads it)",
        ),
        Binding(
            "ctrl+f",
            "open_config",
            "Open",
            show=False,
            priority=True,
            id="open-config",
            tooltip="open a TOML config file into the form",
        ),
        Binding(
            "ctrl+e",
            "save_run",
            "Export",
            show=False,
            priority=True,
            id="save-run",
            tooltip="save the last run as JSON: the config, the command, every loss, the parameters per epoch",
        ),
        Binding(
            "f12",
            "save_screenshot",
            "Screenshot",
            show=False,
            id="save-screenshot",
            tooltip="save a screenshot of the app as SVG",
        ),
    ]

    running: reactive[bool] = reactive(False, init=False)

    def __init__(self, config: RunConfig) -> None:
        super().__init__()
        self.initial_config = config
        self.run_config: RunConfig | None = None
        self.last_result: RunResult | None = None
        #: The devices, once the probe has answered (None until then).
        self.devices: list[DeviceChoice] | None = None
        self.redraw_timer: Timer | None = None
        self.pacer = FramePacer(shortest=1 / REDRAW_HZ, tick=1 / (2 * REDRAW_HZ))
        self._training: Worker[None] | None = None
        #: The run's pause, single steps and live learning rate (a new one per run).
        self.control: RunControl | None = None
        #: The learning rate the run uses now, and the run's full-batch stability bound, once known.
        self.live_lr = 0.0
        self.max_stable_lr: float | None = None
        #: The last run's data, implementation and bound: the form warns of an lr above it before a run.
        self._bound_seen: tuple[tuple[object, ...], str, float] | None = None
        self._rule_said = False  # the engine's update rule is logged once per run, at its first explained step
        self._pending_epochs: list[EpochEndedEvent] = []
        self._epochs_shown_at = 0.0
        self._preview_timer: Timer | None = None
        self._previewed: tuple[object, ...] | None = None
        self._estimated: tuple[object, ...] | None = None  # the form values of the last conditioning estimate
        #: Every run of the session, and which earlier ones the charts draw (f10).
        self.history = RunHistory()
        #: The live run's step losses and per-epoch parameters, for saving it as JSON (ctrl+e).
        self.trace: RunTrace | None = None
        #: The sweep running now, or the last one (f9 shows it).
        self.sweep: Sweep | None = None

    # The panels ----------------------------------------------------------------------------------

    @property
    def params_panel(self) -> ParamsPanel:
        return self.query_one(ParamsPanel)

    @property
    def data_plot(self) -> DataPlot:
        return self.query_one(DataPlot)

    @property
    def loss_panel(self) -> LossPanel:
        return self.query_one(LossPanel)

    @property
    def log_pane(self) -> LogPane:
        return self.query_one(LogPane)

    @property
    def landscape_panel(self) -> LandscapePanel:
        return self.query_one(LandscapePanel)

    @property
    def weights_panel(self) -> ParamsOverTime:
        return self.query_one(ParamsOverTime)

    @property
    def results_panel(self) -> ResultsPanel:
        return self.query_one(ResultsPanel)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def view_tabs(self) -> Tabs:
        return self.query_one("#view-tabs", Tabs)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            # The devices are probed after the first paint (see probe_devices); until then the form offers cpu.
            yield ParamsPanel(self.initial_config)
            with Vertical(id="views"):
                yield Tabs(*(Tab(name.capitalize(), id=f"tab-{name}") for name in PANELS), id="view-tabs")
                with Container(id="panels"):
                    yield DataPlot()
                    yield LossPanel()
                    yield ParamsOverTime()
                    yield LandscapePanel()
                    yield LogPane()
                    yield ResultsPanel()
        yield StatusBar()
        yield Static(
            f"The terminal is too small: linreg-tui needs at least {MIN_WIDTH}×{MIN_HEIGHT}. "
            "Enlarge it; a run goes on meanwhile, and ctrl+q quits.",
            id="too-small",
        )
        yield QuietFooter(compact=True)

    def on_mount(self) -> None:
        self.sub_title = "d2l 3.2 / 3.3"
        self.data_plot.add_class("-current")  # the first tab's panel, until a tab is chosen
        for first, *_ in SHARED_CELLS:
            self._show_in_cell(first)
        self.log_pane.say("ctrl+r trains with the form's values (the book's defaults to start); f1 explains.", "note")
        self.params_panel.query_one("#true_w").focus()
        self.probe_devices()
        self._schedule_preview(self.initial_config, delay=None)
        self.redraw_timer = self.set_interval(self.pacer.tick, self._redraw_if_due)

    # Keys and buttons ----------------------------------------------------------------------------

    def action_run(self, paused: bool = False) -> None:
        """Train with the form's values; `paused`: stop before step 1 (step mode)."""
        if self.running:
            return
        try:
            points = self.params_panel.read_points()
        except ConfigError as error:
            self.log_pane.say(f"not started: {error}", "warning")
            self.status_bar.say("not started: see the form")
            return
        if self._preview_timer is not None:
            self._preview_timer.stop()  # the run draws its own data; a pending preview would make it twice
        if len(points) > 1:
            self._start_sweep(points, paused)
            return
        config = points[0].config
        self.history.default_overlaid = KEEP_RUNS
        self.run_config = config
        self._pending_epochs = []
        self.running = True
        self.status_bar.starting(config)
        self.control = RunControl(paused=paused)
        self.live_lr, self.max_stable_lr = config.lr, None
        self._training = self.train_in_thread(config, self.control)

    def _start_sweep(self, points: list[SweepPoint], paused: bool) -> None:
        """The form holds a sweep: its runs one after another, overlaid on the loss chart."""
        if paused:
            self.log_pane.say("step mode takes one run: the form holds a sweep (comma-separated values)", "warning")
        self.sweep = Sweep(points)
        self.run_config = points[0].config
        self._pending_epochs = []
        self.history.default_overlaid = len(points) - 1  # the sweep's runs, overlaid as they end
        self.running = True
        self.control = None  # no pause, steps or live lr in a sweep: each point is its own run
        self.status_bar.starting(points[0].config)
        self.log_pane.say(f"{self.sweep.describe()} (f9 shows the table)", "note")
        self._training = self.sweep_in_thread(points)

    @property
    def sweeping(self) -> bool:
        return self.sweep is not None and self.sweep.state == "running"

    def action_stop(self) -> None:
        if self.running and self._training is not None and not self._training.is_cancelled:
            self._training.cancel()  # sets the worker's cancelled_event, which the training loop watches
            if self.control is not None:
                self.control.stop()  # wakes a paused run now, not at its next look at the event
            self.status_bar.stopping()

    def action_step(self) -> None:
        """One explained step: from idle a run starts paused before step 1; a running run pauses."""
        if not self.running:
            self.action_run(paused=True)
        if self.running and self.control is not None:
            self.control.step()

    def action_step_unlisted(self) -> None:
        self.action_step()

    def action_pause_unlisted(self) -> None:
        self.action_pause()

    def action_pause(self) -> None:
        if not self.running or self.control is None:
            return
        if self.control.paused:
            self.control.resume()
            self.data_plot.highlight(())
            self.status_bar.say("going on…")
        else:
            self.control.pause()  # the loop pauses after its chunk in progress and says so (Paused)

    @on(Button.Pressed, "#run")
    def run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#stop")
    def stop_pressed(self) -> None:
        self.action_stop()

    def action_toggle_log_y(self) -> None:
        self.loss_panel.log_y = not self.loss_panel.log_y

    def action_next_feature(self) -> None:
        self.data_plot.next_column()

    def action_clear_runs(self) -> None:
        self.history.hide_all()
        self._show_chosen_runs()
        self.log_pane.say("earlier runs cleared from the loss chart (f10: the run history draws them again)", "note")

    def action_next_pair(self) -> None:
        self.landscape_panel.next_pair()

    def action_pick_preset(self) -> None:
        picker = self.params_panel.query_one(PresetPicker)
        if not picker.disabled:
            picker.focus()
            picker.action_show_overlay()

    def action_show_sweep(self) -> None:
        if self.sweep is None:
            self.log_pane.say(
                "no sweep yet: comma-separated values in lr, batch, examples, wd or init std make one", "note"
            )
        elif not isinstance(self.app.screen, SweepScreen):
            self.app.push_screen(SweepScreen(self.sweep))

    @on(PresetPicker.Chosen)
    def preset_chosen(self, message: PresetPicker.Chosen) -> None:
        preset = message.preset
        self.params_panel.set_texts(message.texts)
        self.log_pane.say(f"preset {preset.name}: {preset.summary}", "book")
        self.log_pane.say(preset.question, "info")
        self.log_pane.say(f"look for: {preset.look_for}", "note")
        if preset.sweep:
            self.log_pane.say("the form holds a sweep: ctrl+r runs each of its points, f9 shows the table", "note")

    def action_show_panel(self, name: str) -> None:
        """Narrow: switch to the panel's tab. Wide: the panel takes its cell; focus marks it (and scrolls
        the log)."""
        self.view_tabs.active = f"tab-{name}"
        self._show_in_cell(name)
        panel = self.query_one(f"#panels > #{name}")  # not the form's field of that name ("loss")
        focusable = [panel] if panel.can_focus else [w for w in panel.query("*") if w.can_focus]
        if focusable:
            focusable[0].focus()

    def _show_in_cell(self, name: str) -> None:
        """In the four-cell grid, the panel is shown and the one it shares its cell with is not."""
        for cell in SHARED_CELLS:
            if name in cell:
                for panel in cell:
                    self.query_one(f"#panels > #{panel}").set_class(panel != name, "-alternate")

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDER, "-wider")
        self.refresh_bindings()  # the footer's Step and Pause need FOOTER_ROOM_FOR_STEP columns

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run and Stop show as unavailable in the footer when they would do nothing. Below
        FOOTER_ROOM_FOR_STEP columns Step and Pause leave the footer (their keys still work, through the
        unlisted bindings; f1 lists them), so that f1 Help and ^q Quit stay in sight."""
        if action in ("step", "pause") and self.size.width < FOOTER_ROOM_FOR_STEP:
            return False
        if action == "run":
            return None if self.running else True
        if action in ("stop", "pause"):
            return True if self.running else None
        return True

    def watch_running(self, running: bool) -> None:
        self.params_panel.set_running(running)
        self.refresh_bindings()

    # The training worker -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def train_in_thread(self, config: RunConfig, control: RunControl | None = None) -> None:
        """Runs in a thread: the core posts its events here as messages; widgets never see torch.

        The loop watches this worker's own cancelled_event: esc, quitting, a newer exclusive run or
        `workers.cancel_all()` all stop it, without a flag of our own to remember to set."""
        cancelled = get_current_worker().cancelled_event
        try:
            train(config, lambda event: self.post_message(messages.for_event(event)), cancelled, control)
        except ConfigError as error:
            self.post_message(messages.RunRefused(error))
        except TrainingSetupFailed as error:
            self.post_message(messages.RunSetupFailed(str(error)))
        except SetupCancelled as error:
            self.post_message(messages.RunSetupFailed(str(error), cancelled=True))

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def sweep_in_thread(self, points: list[SweepPoint]) -> None:
        """A sweep: each point's run posts its events as a single run does. esc sets this worker's
        cancelled_event, which stops the current run at its next chunk and the sweep with it."""
        cancelled = get_current_worker().cancelled_event
        run_sweep(
            points,
            on_event=lambda _point, event: self.post_message(messages.for_event(event)),
            on_row=lambda row: self.post_message(messages.SweepRowEnded(row)),
            run_cancel=cancelled,
        )
        self.post_message(messages.SweepEnded())

    @on(messages.SweepRowEnded)
    def sweep_row_ended(self, message: messages.SweepRowEnded) -> None:
        if self.sweep is None:
            return
        self.sweep.rows.append(message.row)
        if message.row.result is None:  # its set-up failed: no RunEnded said so
            self.log_pane.say(f"{message.row.status}: {message.row.message}", "error")
        if isinstance(self.app.screen, SweepScreen):
            self.app.screen.add_row(message.row)

    @on(messages.SweepEnded)
    def sweep_ended(self) -> None:
        sweep = self.sweep
        if sweep is None:
            return
        sweep.state = "finished" if len(sweep.rows) == len(sweep.points) else "stopped"
        self.running = False
        self.log_pane.say(f"{sweep.describe()} (f9 shows the table)", "book")
        self.status_bar.ended(f"{sweep.describe()} · f9 shows the table")
        if isinstance(self.app.screen, SweepScreen):
            self.app.screen.refresh_sweep()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place unexpected worker errors land: say so, and leave the app usable."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        where = {"training": "training", "preview": "preparing the data preview"}.get(
            event.worker.group, "looking for devices"
        )
        self.log_pane.say(f"error while {where}: {type(error).__name__}: {error}", "error")
        if event.worker.group == "training":
            if self.sweep is not None and self.sweep.state == "running":
                self.sweep.state = "stopped"
            self.running = False
            self.status_bar.ended("failed: see the log")

    @on(messages.RunStarted)
    def run_started(self, message: messages.RunStarted) -> None:
        event = message.event
        config = event.config
        for line in start_lines(event):
            self.log_pane.say(line, "note" if line.startswith("loss:") else "info")
        self.loss_panel.start_run(config)
        self.data_plot.show(event.preview)
        self.data_plot.start_fit(config.true_w, config.true_b, event.initial)
        self.landscape_panel.start_run(event.surface, event.initial, event.surface_is_exact)
        if self.loss_panel.current is not None:
            self.history.start(config, self.loss_panel.current, self.landscape_panel.current)
            self.trace = RunTrace(config.num_features)
            self._show_chosen_runs()
        self.weights_panel.start_run(event.surface.names, event.surface.truth, event.initial, config.num_features)
        self.results_panel.start(config.true_w, config.true_b, event.optimum)
        self._show_conditioning(event)
        if not (self._training is not None and self._training.is_cancelled):
            self.status_bar.training(config)
        self.sub_title = f"{config.impl} · {event.device} · training"

    @on(messages.StepLosses)
    def steps_trained(self, message: messages.StepLosses) -> None:
        event = message.event
        self.loss_panel.add_steps(event.first_step, event.losses)
        if self.trace is not None:
            self.trace.losses.extend(event.first_step, event.losses)
        if event.tracked:
            self.landscape_panel.add_steps(event.first_step, event.tracked)
            self.weights_panel.add_steps(event.first_step, event.tracked)
            self.data_plot.follow(event.tracked[-1])
        self.status_bar.note_progress(event.epoch, event.first_step + len(event.losses) - 1)

    @on(messages.Paused)
    def run_paused(self, message: messages.Paused) -> None:
        if self.running and not (self._training is not None and self._training.is_cancelled):
            self.status_bar.paused(message.event.epoch, message.event.step, self.live_lr)

    @on(messages.StepExplained)
    def step_explained(self, message: messages.StepExplained) -> None:
        event, config = message.event, self.run_config
        if config is None:
            return
        if not self._rule_said:
            self.log_pane.say(f"{config.impl}'s update: {event.rule}", "note")
            self._rule_said = True
        for line in explained_lines(event, config.impl, config.batch_size, config.num_features):
            self.log_pane.say(line)
        self.data_plot.highlight(event.indices)

    @on(messages.LearningRateChanged)
    def lr_changed(self, message: messages.LearningRateChanged) -> None:
        event = message.event
        self.log_pane.say(lr_change_line(self.live_lr, event.lr, event.step), "book")
        if self.max_stable_lr is not None and event.lr > self.max_stable_lr:
            self.log_pane.say(lr_above_bound(event.lr, self.max_stable_lr), "warning")
        self.live_lr = event.lr
        self.loss_panel.mark_lr_change(event.step, event.lr)
        self.status_bar.lr_changed(event.lr)

    @on(ParamsPanel.LearningRateChosen)
    def lr_chosen(self, message: ParamsPanel.LearningRateChosen) -> None:
        """A rate typed into the form while the run trains: the run takes it at its next chunk."""
        if self.sweeping:
            self.log_pane.say("a sweep's runs keep their own learning rates: the rate typed is not used", "note")
            return
        if not self.running or self.control is None or message.lr == self.live_lr:
            return
        self.control.set_lr(message.lr)
        if self.control.paused:
            self.log_pane.say(f"lr {message.lr:g} from the next step (the run is paused)", "note")

    def _show_conditioning(self, event: RunStartedEvent) -> None:
        """The condition number and the stability bound beside the results; a warning under the form
        when the run's lr is above the bound (the log's start lines say it too)."""
        conditions, config = event.conditioning, event.config
        self.max_stable_lr = conditions.max_stable_lr
        self._bound_seen = (data_key(config), config.impl, conditions.max_stable_lr)
        self._rule_said = False
        self.data_plot.highlight(())
        self.results_panel.show_conditioning(conditions.condition_number, conditions.max_stable_lr, config.lr)
        if config.lr > conditions.max_stable_lr:
            self.params_panel.note(lr_above_bound(config.lr, conditions.max_stable_lr))

    def _warn_of_lr_above_bound(self, config: RunConfig) -> None:
        """Before a run: the last run's bound holds for the same data (rescaled for the other loss)."""
        if self._bound_seen is None or self.running:
            return
        key, impl, bound = self._bound_seen
        if key == data_key(config):
            bound *= loss_scale(impl) / loss_scale(config.impl)
            if config.lr > bound:
                self.params_panel.note(lr_above_bound(config.lr, bound))

    @on(messages.EpochEnded)
    def epoch_ended(self, message: messages.EpochEnded) -> None:
        # The log line is written on the next redraw tick: short epochs would otherwise cost a layout pass each.
        self._pending_epochs.append(message.event)
        if self.trace is not None:
            self.trace.add_epoch(message.event)
        self.loss_panel.add_epoch(message.event.steps, message.event.loss, message.event.val_loss)
        self.data_plot.set_model(message.event.w, message.event.b)

    @on(messages.RunEnded)
    def run_ended(self, message: messages.RunEnded) -> None:
        self._show_epochs(now=True)
        result = message.event.result
        log = self.log_pane
        kind = {"finished": "book", "cancelled": "warning", "diverged": "warning"}.get(result.status, "error")
        *report, status_line = end_lines(result)
        for line in report:
            log.say(line, kind if line == result.message else "book")
        log.say(status_line, kind)
        self.results_panel.finish(result)
        # The views show the run's end now, not at the next tick (a short run may end before one).
        self.data_plot.set_model(result.w, result.b, now=True)
        self.landscape_panel.redraw_if_dirty(final=True)
        self.weights_panel.replot()
        if result.status == "diverged" and not self.loss_panel.log_y:
            self.loss_panel.log_y = True
            log.say("the loss chart now has a log y axis, to show the blow-up (ctrl+l toggles)", "note")
        summary = f"{result.status} · {result.steps:,} steps · {result.steps_per_second:,.0f} steps/s"
        self.sub_title = f"{result.config.impl} · {result.device} · {summary}"
        if result.diverged_at is not None:
            epoch, step = result.diverged_at
            summary = f"diverged at epoch {epoch}, step {step:,}: try a smaller lr, e.g. {result.config.lr / 10:g}"
        elif result.status == "cancelled":
            summary = result.message  # "cancelled in epoch 2 after 1,234 steps"
        elif result.status == "failed":
            summary = "failed: see the log"
        self.status_bar.ended(summary)
        self.last_result = result
        if self.history.live is not None:
            self.history.live.finish(result)
            self._sync_history_screen()
        self.running = self.sweeping  # a sweep's next run follows

    @on(messages.RunRefused)
    def run_refused(self, message: messages.RunRefused) -> None:
        self.running = False
        self.params_panel.show_errors(message.error.errors)
        self.log_pane.say(f"not started: {message.error}", "error")
        self.status_bar.ended("not started: see the form")

    @on(messages.RunSetupFailed)
    def setup_failed(self, message: messages.RunSetupFailed) -> None:
        self.running = False
        if message.cancelled:
            self.log_pane.say(message.reason, "warning")
            self.status_bar.ended(message.reason)
        else:
            self.log_pane.say(f"failed: {message.reason}", "error")
            self.status_bar.ended("failed: see the log")

    # Share and keep runs -------------------------------------------------------------------------

    def _show_chosen_runs(self) -> None:
        """The earlier runs chosen in the history (the newest few by default) onto the charts."""
        earlier = self.history.overlaid()
        self.loss_panel.show_earlier([record.loss for record in earlier])
        self.landscape_panel.show_earlier([record.path for record in earlier if record.path is not None])
        self._sync_history_screen()

    def _sync_history_screen(self) -> None:
        if isinstance(self.app.screen, HistoryScreen):
            self.app.screen.sync()

    def action_show_history(self) -> None:
        if not self.history.records:
            self.log_pane.say("no runs yet: ctrl+r trains; f10 then lists every run of the session", "note")
        elif not isinstance(self.app.screen, HistoryScreen):
            self.app.push_screen(HistoryScreen(self.history, self._history_toggled))

    def _history_toggled(self, said: str) -> None:
        self._show_chosen_runs()
        self.log_pane.say(said, "note")

    def action_copy_command(self) -> None:
        """The last run's command line, to the clipboard (OSC 52: over SSH too, where the terminal allows it)."""
        if self.last_result is None:
            self.log_pane.say("no run yet: ctrl+r trains; ctrl+y then copies the command that repeats it", "note")
            return
        command = run_command(self.last_result)
        self.app.copy_to_clipboard(command)
        self.log_pane.say(f"copied to the clipboard: {command}", "book")
        self.status_bar.say("copied the last run's command")

    def action_save_config(self) -> None:
        try:
            config = self.params_panel.read_config()
        except ConfigError as error:
            self.log_pane.say(f"config not saved: {error}", "warning")
            return
        self._save_with_prompt("Save the form as a TOML config", "linreg-run.toml", config_toml(config), "the form")

    def action_save_run(self) -> None:
        live = self.history.live
        if self.running:
            self.log_pane.say("the run is still training: ctrl+e saves it once it ends (esc stops it)", "note")
        elif self.last_result is None or live is None:
            self.log_pane.say("no run to save yet: ctrl+r trains", "note")
        else:
            text = run_json(self.last_result, self.trace, live.run_id)
            default = free_name("linreg-run", ".json")
            self._save_with_prompt(f"Save run #{live.number} as JSON", default, text, "the run")

    def action_save_screenshot(self) -> None:
        svg = self.app.export_screenshot()  # now, before the prompt covers the screen
        self._save_with_prompt("Save a screenshot (SVG)", free_name("linreg-tui", ".svg"), svg, "the screenshot")

    def _save_with_prompt(self, title: str, default: str, text: str, what: str) -> None:
        def save(choice: FileChoice | None) -> None:
            if choice is None:
                return
            try:
                replaced = write_file(choice.path, text, overwrite=choice.overwrite)
            except FileExists as refused:
                self.log_pane.say(f"{what} not saved: {refused}", "warning")
            except OSError as error:
                reason = error.strerror or type(error).__name__
                self.log_pane.say(f"{what} not saved: {choice.path} cannot be written ({reason})", "error")
            else:
                said = f"saved {what} to {choice.path}" + (" (overwrote it)" if replaced else "")
                self.log_pane.say(said, "note")
                self.status_bar.say(said)

        self.app.push_screen(FilePrompt(title, default, saving=True), save)

    def action_open_config(self) -> None:
        if self.running:
            self.log_pane.say("not while a run trains (the form is locked); esc stops it", "note")
            return
        prompt = FilePrompt("Open a TOML config into the form", "linreg-run.toml", saving=False)
        self.app.push_screen(prompt, self._open)

    def _open(self, choice: FileChoice | None) -> None:
        """The file's fields into the form (missing keys: the defaults); a bad file changes nothing."""
        if choice is None:
            return
        try:
            config = parse_config(read_config_file(choice.path))
        except ConfigFileError as error:
            self.log_pane.say(f"not opened: {error}", "error")
            return
        except ConfigError as error:
            self.log_pane.say(f"not opened: {choice.path}: {error}", "error")
            return
        texts = config.as_texts()
        known = {choice.value for choice in self.devices or []} | {"auto", self.params_panel.initial.device}
        if config.device not in known:
            said = f"{choice.path}: device {config.device} is not on this machine; the form keeps its own"
            self.log_pane.say(said, "warning")
            del texts["device"]
        self.params_panel.set_texts(texts)
        self.log_pane.say(f"opened {choice.path}: the form holds its values (keys it lacks: the defaults)", "note")

    # The devices ---------------------------------------------------------------------------------

    @work(thread=True, group="devices", exit_on_error=False)
    def probe_devices(self) -> None:
        """Off the UI thread: on a GPU server the first CUDA call starts the driver, seconds at times."""
        self.post_message(messages.DevicesFound(available_devices(), cuda_status()))

    @on(messages.DevicesFound)
    def devices_found(self, message: messages.DevicesFound) -> None:
        found = message.devices
        gpus = [choice.value for choice in found if choice.value != "cpu"]
        options = [(choice.label, choice.value) for choice in found]
        options.insert(1, (f"auto ({gpus[0] if gpus else 'cpu'})", "auto"))
        self.params_panel.set_devices(options, f"CUDA: {message.cuda_status}")
        self.log_pane.say(f"devices: {', '.join(c.value for c in found)} · CUDA: {message.cuda_status}", "note")
        self.devices = found

    # The data preview ----------------------------------------------------------------------------

    @on(ParamsPanel.Changed)
    def form_changed(self, message: ParamsPanel.Changed) -> None:
        self._schedule_preview(message.config, delay=0.3)
        self._warn_of_lr_above_bound(message.config)
        if estimate_key(message.config) != self._estimated:
            self._estimated = estimate_key(message.config)
            self.estimate_in_thread(message.config)

    @work(thread=True, exclusive=True, group="estimate", exit_on_error=False)
    def estimate_in_thread(self, config: RunConfig) -> None:
        """The conditioning the form's values will have (an eigendecomposition of up to 1,001×1,001:
        off the UI thread), said in the log before any run: "largest stable lr ≈ 0.125"."""
        estimate = conditioning_for(config)
        self.app.call_from_thread(self._show_estimate, estimate_key(config), config, estimate)

    def _show_estimate(self, key: tuple[object, ...], config: RunConfig, estimate: Conditioning) -> None:
        if key != self._estimated or self.running:  # typed on since, or a run says the data's own values
            return
        for line in conditioning_lines(estimate.condition_number, estimate.max_stable_lr, config.lr):
            self.log_pane.say(f"estimate before the run (from scales and corr): {line}", "note")

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
            self.post_message(messages.PreviewRefused(key, error))
            return
        self.post_message(messages.PreviewReady(key, preview_for(config)))

    @on(messages.PreviewReady)
    def show_preview(self, message: messages.PreviewReady) -> None:
        # A thread cannot be interrupted: an older, slower preview may arrive after a newer one.
        if self.running or message.key != self._previewed:
            return
        if message.preview is None:
            self.data_plot.wait_for_run("the data is drawn when the run makes it (too large to make twice)")
        else:
            self.data_plot.show(message.preview)

    @on(messages.PreviewRefused)
    def preview_refused(self, message: messages.PreviewRefused) -> None:
        # Typing "1e999" passes through "1e9", which is valid and previewed: by the time its refusal
        # comes, the form may hold other values, whose own message must stay.
        if message.key == self._previewed and message.key == self._form_data_key():
            self.params_panel.show_errors(message.error.errors, focus=False)

    def _form_data_key(self) -> tuple[object, ...] | None:
        try:
            return data_key(parse_config(self.params_panel.texts()))
        except ConfigError:
            return None

    # Layout and the live parts -------------------------------------------------------------------

    @on(Tabs.TabActivated)
    def tab_activated(self, event: Tabs.TabActivated) -> None:
        name = (event.tab.id or "tab-data").removeprefix("tab-")
        for panel in PANELS:
            self.query_one(f"#panels > #{panel}").set_class(panel == name, "-current")

    def _redraw_if_due(self) -> None:
        if self.pacer.due(time.monotonic()):
            self.redraw_tick()

    def redraw_tick(self) -> None:
        """The live parts of the screen, updated together (one frame) at most REDRAW_HZ times a second,
        less often when frames cost more (see FramePacer)."""
        started = time.thread_time()
        self.loss_panel.redraw_if_dirty()
        self.data_plot.redraw_if_dirty()
        self.landscape_panel.redraw_if_dirty()
        self.weights_panel.redraw_if_dirty()
        self.status_bar.show_progress()
        self._show_epochs()
        self.call_after_refresh(lambda: self.pacer.frame_cost(time.thread_time() - started))

    def _show_epochs(self, now: bool = False) -> None:
        """The book's `epoch N, loss X` lines and the parameters after the latest epoch, at most once a
        second while training: each write to the log scrolls it, a layout pass of the whole screen."""
        if not self._pending_epochs or (not now and time.monotonic() - self._epochs_shown_at < 1.0):
            return
        self._epochs_shown_at = time.monotonic()
        for event in self._pending_epochs:
            self.log_pane.say(epoch_line(event), "book")
        latest = self._pending_epochs[-1]
        self.results_panel.show_parameters(latest.w, latest.b)
        self._pending_epochs = []


def estimate_key(config: RunConfig) -> tuple[object, ...]:
    """What decides the estimated conditioning and bound (conditioning_for): not the data's draw."""
    scales, impl = config.feature_scales, config.impl
    return (scales, config.corr, impl, config.loss, config.wd, config.reduction, config.batch_size)


def data_key(config: RunConfig) -> tuple[object, ...]:
    """What decides the data (and so the scatter): not the learning rate, batch size or engine."""
    return (config.true_w, config.true_b, config.num_examples, config.noise, config.scales, config.corr, config.seed)
