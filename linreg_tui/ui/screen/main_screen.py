"""The main screen: the form, the six panels and the status bar, and the routing of keys and messages.

It owns the panels (typed accessors, no ids to remember), the bindings, the workers and the message
handlers, each of which hands its work to one of the small parts it makes: a run's start and stop
(run_driver), its events (run_view), the panels' arrangement (layout), the form's preview and estimate
(form_watch), sweeps (sweep_runner) and the share keys (share_actions). The parts get the panels (Views)
and the session's state (RunSession), never the screen. The app keeps what works on every screen (help,
quit)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Container, Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Header, Static, Tab, Tabs
from textual.worker import Worker, WorkerState, get_current_worker

from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.run.presets import PRESETS, Preset
from linreg_tui.ui import messages
from linreg_tui.ui.panels.footer import QuietFooter
from linreg_tui.ui.panels.form import ParamsPanel
from linreg_tui.ui.panels.log import LogPane
from linreg_tui.ui.panels.presets_picker import PresetPicker
from linreg_tui.ui.panels.results import ResultsPanel
from linreg_tui.ui.panels.status_bar import StatusBar
from linreg_tui.ui.panels.sweep import Sweep
from linreg_tui.ui.plots.data import DataPlot
from linreg_tui.ui.plots.landscape import LandscapePanel
from linreg_tui.ui.plots.loss import REDRAW_HZ, LossPanel
from linreg_tui.ui.plots.parameters import ParamsOverTime
from linreg_tui.ui.screen.form_watch import FormWatch
from linreg_tui.ui.screen.keys import MAIN_SCREEN_KEYS
from linreg_tui.ui.screen.layout import LOW_HEIGHT, MIN_HEIGHT, MIN_WIDTH, PANELS, PanelLayout
from linreg_tui.ui.screen.pacing import PROGRESS_HZ, FramePacer
from linreg_tui.ui.screen.run_driver import RunDriver, freeze_app_objects
from linreg_tui.ui.screen.run_view import RunView
from linreg_tui.ui.screen.session import RunSession
from linreg_tui.ui.screen.share_actions import ShareActions
from linreg_tui.ui.screen.sweep_runner import SweepRunner
from linreg_tui.ui.screen.thread_start import ThreadStart
from linreg_tui.ui.screen.views import Views


class MainScreen(Screen[None]):
    """d2l's linear regression, trained live: form → RunConfig → worker → messages → panels."""

    # Below 110 columns the four panels become tabs beside the form; below the minimum, a notice.
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-tiny"), (MIN_WIDTH, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [
        (0, "-short"),
        (MIN_HEIGHT, "-low"),
        (LOW_HEIGHT, "-tall"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = MAIN_SCREEN_KEYS

    running: reactive[bool] = reactive(False, init=False)

    def __init__(self, config: RunConfig, preset: str | None = None, sweep: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.initial_config = config
        self.initial_preset = preset
        self.initial_sweep = dict(sweep or {})
        #: What the screen's parts share about the session's runs; `running` is mirrored in the reactive.
        self.session = RunSession(on_running=self._running_changed)
        self.redraw_timer: Timer | None = None
        self.pacer = FramePacer(shortest=1 / REDRAW_HZ, tick=1 / (2 * REDRAW_HZ))
        self.progress_pacer = FramePacer(shortest=1 / PROGRESS_HZ, tick=self.pacer.tick)
        self.panel_layout = PanelLayout(self)

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

    def _make_parts(self) -> None:
        """The screen's jobs, each in its own module, given the panels and the session (not the screen):
        the screen routes keys and messages to them."""
        views = Views(
            form=self.params_panel,
            data=self.data_plot,
            loss=self.loss_panel,
            landscape=self.landscape_panel,
            weights=self.weights_panel,
            results=self.results_panel,
            log=self.log_pane,
            status=self.status_bar,
        )
        session = self.session
        self.form_watch = FormWatch(self, views.form, views.data, views.log, running=lambda: session.running)
        self.share = ShareActions(self, views, session)
        self.sweeper = SweepRunner(self, views, session, show_runs=self.share.show_chosen_runs)
        self.run_view = RunView(
            self,
            views,
            session,
            form_watch=self.form_watch,
            sweeper=self.sweeper,
            share=self.share,
            redraw_now=lambda: self.redraw_tick(now=True),
        )
        self.run_driver = RunDriver(
            views,
            session,
            run_view=self.run_view,
            form_watch=self.form_watch,
            sweeper=self.sweeper,
            train=self.train_in_thread,
        )

    def _running_changed(self, running: bool) -> None:
        self.running = running

    def on_mount(self) -> None:
        self._make_parts()
        self.sub_title = "d2l 3.2 / 3.3"
        self.panel_layout.mounted()
        defaults = self.initial_config == RunConfig() and not self.initial_sweep
        start = " (the book's defaults to start)" if defaults else ""
        self.log_pane.say(f"ctrl+r trains with the form's values{start}; f1 explains.", "note")
        self.params_panel.query_one("#true_w").focus()
        if self.initial_sweep:
            self.params_panel.set_texts(self.initial_sweep)
        if self.initial_preset is not None:
            self.params_panel.query_one(PresetPicker).show_chosen(self.initial_preset)
            self._tell_preset(PRESETS[self.initial_preset])
        # After the first paint: both import torch (a second or two of a thread that holds the GIL most
        # of the time), which would otherwise hold the form back.
        self.call_after_refresh(self._load_torch_behind_the_form)
        self.redraw_timer = self.set_interval(self.pacer.tick, self._redraw_if_due)

    def _load_torch_behind_the_form(self) -> None:
        self.session.torch_loader = self.probe_devices()
        self.form_watch.schedule_preview(self.initial_config, delay=None)

    # Running, stopping, stepping -----------------------------------------------------------------

    @property
    def sweep(self) -> Sweep | None:
        """The sweep running now, or the last one (f9 shows it)."""
        return self.sweeper.sweep

    def action_run(self, paused: bool = False) -> None:
        self.run_driver.start(paused)

    def action_stop(self) -> None:
        self.run_driver.stop()

    def action_step(self) -> None:
        self.run_driver.step()

    def action_step_unlisted(self) -> None:
        self.run_driver.step()

    def action_pause(self) -> None:
        self.run_driver.pause()

    def action_pause_unlisted(self) -> None:
        self.run_driver.pause()

    @on(ParamsPanel.LearningRateChosen)
    def lr_chosen(self, message: ParamsPanel.LearningRateChosen) -> None:
        self.run_driver.lr_chosen(message.lr)

    @on(Button.Pressed, "#run")
    def run_pressed(self) -> None:
        self.action_run()

    @on(Button.Pressed, "#stop")
    def stop_pressed(self) -> None:
        self.action_stop()

    def watch_running(self, running: bool) -> None:
        self.params_panel.set_running(running)
        self.refresh_bindings()
        freeze_app_objects(running)

    def on_unmount(self) -> None:
        freeze_app_objects(False)  # quit while a run trains

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Run and Stop show as unavailable in the footer when they would do nothing. Below
        FOOTER_ROOM_FOR_STEP columns Step and Pause leave the footer (their keys still work, through the
        unlisted bindings; f1 lists them), so that f1 Help and ^q Quit stay in sight."""
        if action in ("step", "pause") and not self.panel_layout.footer_has_room_for_step():
            return False
        if action == "run":
            return None if self.running else True
        if action in ("stop", "pause"):
            return True if self.running else None
        return True

    # The other keys ------------------------------------------------------------------------------

    def action_toggle_log_y(self) -> None:
        self.loss_panel.log_y = not self.loss_panel.log_y

    def action_next_feature(self) -> None:
        self.data_plot.next_column()

    def action_next_pair(self) -> None:
        self.landscape_panel.next_pair()

    def action_show_panel(self, name: str) -> None:
        self.panel_layout.show(name)

    def action_pick_preset(self) -> None:
        picker = self.params_panel.query_one(PresetPicker)
        if not picker.disabled:
            picker.focus()
            picker.action_show_overlay()

    @on(PresetPicker.Chosen)
    def preset_chosen(self, message: PresetPicker.Chosen) -> None:
        self.params_panel.set_texts(message.texts)
        self._tell_preset(message.preset)

    def _tell_preset(self, preset: Preset) -> None:
        """The preset's summary, its question and what to look for, in the log."""
        self.session.preset = preset.name
        self.log_pane.say(f"preset {preset.name}: {preset.summary}", "book")
        self.log_pane.say(preset.question, "info")
        self.log_pane.say(f"look for: {preset.look_for}", "note")
        if preset.sweep:
            self.log_pane.say("the form holds a sweep: ctrl+r runs each of its points, f9 shows the table", "note")

    def action_show_sweep(self) -> None:
        self.sweeper.show()

    def action_clear_runs(self) -> None:
        self.share.clear_runs()

    def action_show_history(self) -> None:
        self.share.show_history()

    def action_copy_command(self) -> None:
        self.share.copy_command()

    def action_save_config(self) -> None:
        self.share.save_config()

    def action_open_config(self) -> None:
        self.share.open_config()

    @on(ParamsPanel.FileWanted)
    def data_file_wanted(self) -> None:
        self.share.open_data()

    def action_save_run(self) -> None:
        self.share.save_run()

    def action_save_screenshot(self) -> None:
        self.share.save_screenshot()

    # The workers ---------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="training", exit_on_error=False)
    def train_in_thread(self, config: RunConfig, control: RunControl, begun: ThreadStart) -> None:
        """Runs in a thread: the core posts its events here as messages; widgets never see torch.

        The loop watches this worker's own cancelled_event: esc, quitting, a newer exclusive run or
        `workers.cancel_all()` all stop it, without a flag of our own to remember to set."""
        if not begun.begin():
            return  # stopped before this thread began: the screen has ended the run already
        # Here, not at the top: the form is shown before torch has loaded (probe_devices loads it behind
        # the form); a run asked for sooner waits here, in its thread, until torch is there.
        from linreg_tui.training.loop import SetupCancelled, TrainingSetupFailed, train

        cancelled = get_current_worker().cancelled_event
        try:
            train(config, lambda event: self.post_message(messages.for_event(event)), cancelled, control)
        except ConfigError as error:
            self.post_message(messages.RunRefused(error))
        except TrainingSetupFailed as error:
            self.post_message(messages.RunSetupFailed(str(error)))
        except SetupCancelled as error:
            self.post_message(messages.RunSetupFailed(str(error), cancelled=True))

    @work(thread=True, group="devices", exit_on_error=False)
    def probe_devices(self) -> None:
        """Off the UI thread, after the first paint: loads torch (a second or two) and finds the devices
        (on a GPU server the first CUDA call starts the driver, seconds at times)."""
        from linreg_tui.training.devices import available_devices, cuda_status

        self.post_message(messages.DevicesFound(available_devices(), cuda_status()))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place unexpected worker errors land: say so, and leave the app usable."""
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        where = {
            "training": "training",
            "preview": "preparing the data preview",
            "estimate": "estimating the conditioning",
        }.get(event.worker.group, "looking for devices")
        self.log_pane.say(f"error while {where}: {type(error).__name__}: {error}", "error")
        if event.worker.group == "training":
            self.sweeper.failed()
            self.session.running = False
            self.status_bar.ended("failed: see the log")

    # The messages: each to the part of the screen it concerns ------------------------------------

    @on(messages.DataLoading)
    def data_loading(self, message: messages.DataLoading) -> None:
        self.run_view.loading(message.event)

    @on(messages.RunStarted)
    def run_started(self, message: messages.RunStarted) -> None:
        self.run_view.started(message.event)

    @on(messages.StepLosses)
    def steps_trained(self, message: messages.StepLosses) -> None:
        self.run_view.steps(message.event)

    @on(messages.Paused)
    def run_paused(self, message: messages.Paused) -> None:
        self.run_view.paused(message.event)

    @on(messages.StepExplained)
    def step_explained(self, message: messages.StepExplained) -> None:
        self.run_view.explained(message.event)

    @on(messages.LearningRateChanged)
    def lr_changed(self, message: messages.LearningRateChanged) -> None:
        self.run_view.lr_changed(message.event)

    @on(messages.EpochEnded)
    def epoch_ended(self, message: messages.EpochEnded) -> None:
        self.run_view.epoch_ended(message.event)

    @on(messages.RunEnded)
    def run_ended(self, message: messages.RunEnded) -> None:
        self.run_view.ended(message.event)

    @on(messages.RunRefused)
    def run_refused(self, message: messages.RunRefused) -> None:
        self.run_view.refused(message.error)

    @on(messages.RunSetupFailed)
    def setup_failed(self, message: messages.RunSetupFailed) -> None:
        self.run_view.setup_failed(message.reason, message.cancelled)

    @on(messages.SweepRowEnded)
    def sweep_row_ended(self, message: messages.SweepRowEnded) -> None:
        self.sweeper.row_ended(message.row)

    @on(messages.SweepProgress)
    def sweep_progress(self, message: messages.SweepProgress) -> None:
        self.sweeper.progress(message.points, message.epoch, message.losses)

    @on(messages.SweepEnded)
    def sweep_ended(self) -> None:
        self.sweeper.ended()

    @on(ParamsPanel.Changed)
    def form_changed(self, message: ParamsPanel.Changed) -> None:
        self.form_watch.changed(message.config)

    @on(ParamsPanel.Refused)
    def form_refused(self, message: ParamsPanel.Refused) -> None:
        self.form_watch.invalid(message.source)

    @on(messages.PreviewReady)
    def show_preview(self, message: messages.PreviewReady) -> None:
        self.form_watch.show_preview(message)

    @on(messages.PreviewRefused)
    def preview_refused(self, message: messages.PreviewRefused) -> None:
        self.form_watch.preview_refused(message)

    @on(messages.DevicesFound)
    def devices_found(self, message: messages.DevicesFound) -> None:
        found = message.devices
        gpus = [choice.value for choice in found if choice.value != "cpu"]
        options = [(choice.label, choice.value) for choice in found]
        options.insert(1, (f"auto ({gpus[0] if gpus else 'cpu'})", "auto"))
        self.params_panel.set_devices(options, f"CUDA: {message.cuda_status}")
        self.log_pane.say(f"devices: {', '.join(c.value for c in found)} · CUDA: {message.cuda_status}", "note")
        self.session.devices = found

    @on(Tabs.TabActivated)
    def tab_activated(self, event: Tabs.TabActivated) -> None:
        self.panel_layout.tab_chosen(event.tab.id)

    def on_resize(self) -> None:
        self.panel_layout.resized()

    # The live parts ------------------------------------------------------------------------------

    def _redraw_if_due(self) -> None:
        now = time.monotonic()
        if self.pacer.due(now):
            # The progress line rides along, updated first: each widget tells the screen of its change
            # in a message of its own, and the charts' come after it (updated the other way round, the
            # line was drawn in a second frame of its own, 30 ms after the charts').
            self.progress_pacer.drawn(now)
            self.status_bar.show_progress()
            self.redraw_tick()
        elif self.progress_pacer.due(now):
            self.status_bar.show_progress()

    def redraw_tick(self, now: bool = False) -> None:
        """The live charts, the results and the log's epoch lines, updated together (one frame) at most
        REDRAW_HZ times a second, less often when frames cost more (see FramePacer); `now`: whatever
        the pace (a paused run, whose training thread waits for nothing meanwhile)."""
        started = time.thread_time()
        self.loss_panel.redraw_if_dirty(now)
        self.data_plot.redraw_if_dirty(now)
        self.landscape_panel.redraw_if_dirty(now)
        self.weights_panel.redraw_if_dirty(now)
        self.run_view.show_epochs(now)
        self.sweeper.show_progress()
        self.call_after_refresh(lambda: self.pacer.frame_cost(time.thread_time() - started))
