"""A run's life from the keys: start one (or the form's sweep), stop it, step it, pause it, hand it a
new learning rate. The run itself trains on the screen's training worker; its control is the core's
RunControl, which the training loop reads between chunks of steps."""

from __future__ import annotations

import gc
from collections.abc import Callable

from textual.worker import Worker

from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.ui.plots.loss import KEEP_RUNS
from linreg_tui.ui.screen.form_watch import FormWatch
from linreg_tui.ui.screen.run_view import RunView
from linreg_tui.ui.screen.session import RunSession
from linreg_tui.ui.screen.sweep_runner import SweepRunner
from linreg_tui.ui.screen.thread_start import ThreadStart
from linreg_tui.ui.screen.views import Views


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
    """A run's start, stop, steps, pause and live learning rate, from the keys. The live run's state is
    the session's (the run view reads it); the run trains on `train`'s worker, a sweep on the sweeper's."""

    def __init__(
        self,
        views: Views,
        session: RunSession,
        *,
        run_view: RunView,
        form_watch: FormWatch,
        sweeper: SweepRunner,
        train: Callable[[RunConfig, RunControl, ThreadStart], Worker[None]],
    ) -> None:
        self.views, self.session = views, session
        self.run_view, self.form_watch, self.sweeper = run_view, form_watch, sweeper
        self.train = train

    def start(self, paused: bool = False) -> None:
        """Train with the form's values; `paused`: stop before step 1 (step mode). A sweep in the form
        runs each of its points."""
        if self.session.running:
            return
        try:
            points = self.views.form.read_points()
        except ConfigError as error:
            self.views.log.say(f"not started: {error}", "warning")
            self.views.status.say("not started: see the form")
            return
        self.form_watch.run_starts()
        self.session.config = config = points[0].config
        self.run_view.starting()
        self.session.running = True
        self.views.status.starting(config)
        if self.session.torch_loading:
            # The form came before torch: the run's thread waits for the import the loader is doing.
            self.views.status.say(f"starting {config.impl} on {config.device}: torch is still loading…")
        self.session.begun = ThreadStart()
        if len(points) > 1:
            self.session.control = None  # no pause, steps or live lr in a sweep: each point is its own run
            self.session.worker = self.sweeper.start(points, paused, self.session.begun)
            return
        self.session.history.default_overlaid = KEEP_RUNS
        # Held before step 1 until the panels show the run (RunView.started): laying them out is tenths of
        # a second of Python that would otherwise compete with the first steps for the GIL.
        self.session.control = RunControl(paused=paused, hold_start=True)
        self.session.live_lr, self.session.max_stable_lr = config.lr, None
        self.session.worker = self.train(config, self.session.control, self.session.begun)

    def stop(self) -> None:
        if self.session.running and self.session.worker is not None and not self.session.worker.is_cancelled:
            self.session.worker.cancel()  # sets the worker's cancelled_event, which the training loop watches
            if self.session.control is not None:
                self.session.control.stop()  # wakes a paused run now, not at its next look at the event
            self.views.status.stopping()
            if self.session.begun.give_up():  # its thread never began: nothing else will end the run
                if self.sweeper.running:
                    self.sweeper.ended()
                else:
                    self.run_view.setup_failed("stopped before training started", cancelled=True)

    def step(self) -> None:
        """One explained step: from idle a run starts paused before step 1; a running run pauses."""
        if not self.session.running:
            self.start(paused=True)
        if self.session.running and self.session.control is not None:
            self.session.control.step()

    def pause(self) -> None:
        if not self.session.running or self.session.control is None:
            return
        if self.session.control.paused:
            self.session.control.resume()
            self.views.data.highlight(())
            self.views.status.say("going on…")
        else:
            self.session.control.pause()  # the loop pauses after its chunk in progress and says so (Paused)

    def lr_chosen(self, lr: float) -> None:
        """A rate typed into the form while the run trains: the run takes it at its next chunk."""
        if self.sweeper.running:
            self.views.log.say("a sweep's runs keep their own learning rates: the rate typed is not used", "note")
            return
        if not self.session.running or self.session.control is None or lr == self.session.live_lr:
            return
        self.session.control.set_lr(lr)
        if self.session.control.paused:
            self.views.log.say(f"lr {lr:g} from the next step (the run is paused)", "note")
