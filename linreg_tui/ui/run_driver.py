"""A run's life from the keys: start one (or the form's sweep), stop it, step it, pause it, hand it a
new learning rate. The run itself trains on the screen's training worker; its control is the core's
RunControl, which the training loop reads between chunks of steps."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.ui.loss_plot import KEEP_RUNS
from linreg_tui.ui.thread_start import ThreadStart

if TYPE_CHECKING:
    from linreg_tui.ui.main_screen import MainScreen


def freeze_app_objects(training: bool) -> None:
    """While a run trains, leave the app's own objects (about a quarter of a million: widgets, styles,
    caches) out of Python's cyclic garbage collector. A full collection walks them all, 0.3 s measured,
    holding the GIL that the training thread needs; the training loop's allocations trigger one every
    few seconds. Put back when the run ends, so that the app's cyclic garbage is still collected.
    (Reference counting frees everything else as usual: a frozen object is only never *scanned*.)"""
    if training:
        gc.freeze()
    else:
        gc.unfreeze()


class RunDriver:
    """The live run's config, worker and control, for the screen whose keys drive it."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        #: The config of the run now (a sweep's first point's, in a sweep), or of the last one.
        self.config: RunConfig | None = None
        self.worker: Worker[None] | None = None
        #: The run's pause, single steps and live learning rate (a new one per run; None in a sweep).
        self.control: RunControl | None = None
        #: Whether the run's thread has begun (see ThreadStart).
        self.begun = ThreadStart()
        #: The learning rate the run uses now, and the run's full-batch stability bound, once known.
        self.live_lr = 0.0
        self.max_stable_lr: float | None = None

    @property
    def stopping(self) -> bool:
        """Whether the run's worker was told to stop (esc, a quit): its last messages say nothing new."""
        return self.worker is not None and self.worker.is_cancelled

    def start(self, paused: bool = False) -> None:
        """Train with the form's values; `paused`: stop before step 1 (step mode). A sweep in the form
        runs each of its points."""
        screen = self.screen
        if screen.running:
            return
        try:
            points = screen.params_panel.read_points()
        except ConfigError as error:
            screen.log_pane.say(f"not started: {error}", "warning")
            screen.status_bar.say("not started: see the form")
            return
        screen.form_watch.run_starts()
        self.config = config = points[0].config
        screen.run_view.starting()
        screen.running = True
        screen.status_bar.starting(config)
        loader = screen.torch_loader
        if loader is not None and loader.state in (WorkerState.PENDING, WorkerState.RUNNING):
            # The form came before torch: the run's thread waits for the import the loader is doing.
            screen.status_bar.say(f"starting {config.impl} on {config.device}: torch is still loading…")
        self.begun = ThreadStart()
        if len(points) > 1:
            self.control = None  # no pause, steps or live lr in a sweep: each point is its own run
            self.worker = screen.sweeper.start(points, paused, self.begun)
            return
        screen.history.default_overlaid = KEEP_RUNS
        # Held before step 1 until the panels show the run (RunView.started): laying them out is tenths of
        # a second of Python that would otherwise compete with the first steps for the GIL.
        self.control = RunControl(paused=paused, hold_start=True)
        self.live_lr, self.max_stable_lr = config.lr, None
        self.worker = screen.train_in_thread(config, self.control, self.begun)

    def stop(self) -> None:
        if self.screen.running and self.worker is not None and not self.worker.is_cancelled:
            self.worker.cancel()  # sets the worker's cancelled_event, which the training loop watches
            if self.control is not None:
                self.control.stop()  # wakes a paused run now, not at its next look at the event
            self.screen.status_bar.stopping()
            if self.begun.give_up():  # its thread never began: nothing else will end the run
                if self.screen.sweeper.running:
                    self.screen.sweeper.ended()
                else:
                    self.screen.run_view.setup_failed("stopped before training started", cancelled=True)

    def step(self) -> None:
        """One explained step: from idle a run starts paused before step 1; a running run pauses."""
        if not self.screen.running:
            self.start(paused=True)
        if self.screen.running and self.control is not None:
            self.control.step()

    def pause(self) -> None:
        if not self.screen.running or self.control is None:
            return
        if self.control.paused:
            self.control.resume()
            self.screen.data_plot.highlight(())
            self.screen.status_bar.say("going on…")
        else:
            self.control.pause()  # the loop pauses after its chunk in progress and says so (Paused)

    def lr_chosen(self, lr: float) -> None:
        """A rate typed into the form while the run trains: the run takes it at its next chunk."""
        screen = self.screen
        if screen.sweeper.running:
            screen.log_pane.say("a sweep's runs keep their own learning rates: the rate typed is not used", "note")
            return
        if not screen.running or self.control is None or lr == self.live_lr:
            return
        self.control.set_lr(lr)
        if self.control.paused:
            screen.log_pane.say(f"lr {lr:g} from the next step (the run is paused)", "note")
