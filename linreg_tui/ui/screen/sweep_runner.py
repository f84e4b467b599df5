"""A sweep from the app: the form's points run on a training worker. Points that can share a tensor
program train batched (run.batching): their rows and the learning-rate curve (f9) fill in at each of the
program's epochs, and in a sweep the loss chart can hold (MAX_OVERLAID runs) each is drawn there and kept
in the history by its epochs' losses. The others run one after another, each run's events shown as a
single run's are."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from linreg_tui.run.batching import group_points
from linreg_tui.run.sweep import SweepPoint, SweepRow
from linreg_tui.ui import messages
from linreg_tui.ui.panels.sweep import Sweep, SweepScreen
from linreg_tui.ui.plots.loss import MAX_OVERLAID
from linreg_tui.ui.screen.session import RunSession
from linreg_tui.ui.screen.thread_start import ThreadStart
from linreg_tui.ui.screen.views import Views

#: What the log says of a sweep's batched points.
BATCHED_IN_APP = (
    "{count:,} of the {total:,} runs train batched, as {programs:,} tensor program{s} (each run takes its own "
    "steps): their rows and curve (f9) fill in at each epoch's end"
)
#: ... and of their curves on the loss chart.
BATCHED_DRAWN = "the loss chart draws each by its epochs' losses (one value in the form trains a run step by step)"
BATCHED_NOT_DRAWN = f"more than the loss chart draws ({MAX_OVERLAID}): the table and curve hold them"


class SweepRunner:
    """The sweep running now, or the last one. Its worker runs on `screen`, whose message handlers hand
    each run's events to the run view and the sweep's rows and end back here."""

    def __init__(self, screen: Screen[None], views: Views, session: RunSession, show_runs: Callable[[], None]) -> None:
        """`show_runs` draws the history's chosen runs on the charts (after a batched run joins it)."""
        self.screen, self.views, self.session, self.show_runs = screen, views, session, show_runs
        self.sweep: Sweep | None = None
        self._program: list[SweepPoint] | None = None  # the batched program whose epochs the status line shows
        self._progressed = False  # a batched program ended an epoch since the sweep's table last showed one

    @property
    def running(self) -> bool:
        return self.sweep is not None and self.sweep.state == "running"

    def start(self, points: list[SweepPoint], paused: bool, begun: ThreadStart) -> Worker[None]:
        """The form holds a sweep: its runs batched where they can be, the others one after another,
        overlaid on the loss chart."""
        if paused:
            self.views.log.say("step mode takes one run: the form holds a sweep (comma-separated values)", "warning")
        self.sweep = Sweep(points)
        self.session.history.default_overlaid = len(points) - 1  # the sweep's runs, overlaid as they end
        self.views.log.say(f"{self.sweep.describe()} (f9 shows the table)", "note")
        programs = [program for program in group_points(points) if len(program) > 1]
        if programs:
            count = sum(len(program) for program in programs)
            plural = "s" if len(programs) > 1 else ""
            said = BATCHED_IN_APP.format(count=count, total=len(points), programs=len(programs), s=plural)
            drawn = BATCHED_DRAWN if len(points) <= MAX_OVERLAID else BATCHED_NOT_DRAWN
            self.views.log.say(f"{said}; {drawn}", "note")
        return self.screen.run_worker(
            partial(self._run, points, begun),
            name="sweep_in_thread",
            group="training",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _run(self, points: list[SweepPoint], begun: ThreadStart) -> None:
        """In the worker's thread: each point's run posts its events as a single run does. esc sets this
        worker's cancelled_event, which stops the current run at its next chunk and the sweep with it."""
        if not begun.begin():
            return  # stopped before this thread began: the screen has ended the sweep already
        from linreg_tui.training.sweep import run_sweep  # torch: loaded behind the form

        cancelled = get_current_worker().cancelled_event
        post = self.screen.post_message
        run_sweep(
            points,
            on_event=lambda _point, event: post(messages.for_event(event)),
            on_row=lambda row: post(messages.SweepRowEnded(row)),
            run_cancel=cancelled,
            on_progress=lambda program, epoch, losses: post(messages.SweepProgress(program, epoch, losses)),
        )
        post(messages.SweepEnded())

    def row_ended(self, row: SweepRow) -> None:
        sweep = self.sweep
        if sweep is None:
            return
        sweep.end_row(row)
        if row.result is None:  # its set-up failed: no RunEnded said so
            self.views.log.say(f"{row.status}: {row.message}", "error")
        elif row.batched > 1 and len(sweep.points) <= MAX_OVERLAID:  # no RunEnded either: drawn from here
            loss = self.views.loss.add_batched_run(row.result)
            self.session.history.start(row.result.config, loss, None).finish(row.result)
            self.show_runs()
        if isinstance(self.screen.app.screen, SweepScreen):
            self.screen.app.screen.add_row(row)

    def progress(self, points: list[SweepPoint], epoch: int, losses: list[float | None]) -> None:
        """A batched program ended an epoch: its rows so far, in the table and the curve."""
        if self.sweep is None or self.sweep.state != "running":
            return
        rows = self.sweep.epoch_ended(points, epoch, losses)
        if points is not self._program:  # its first epoch shown: the status line's bar follows it as a run's
            self._program = points
            self.views.status.training(points[0].config)
        self.views.status.note_progress(epoch, rows[0].steps)
        self._progressed = True  # shown by the redraw tick, at the charts' rate: drawing holds the GIL it trains with

    def show_progress(self) -> None:
        """The redraw tick: the rows of batched runs still training, and the rows that ended since the
        last tick, into the sweep's table and curve."""
        if isinstance(screen := self.screen.app.screen, SweepScreen):
            if self._progressed:
                screen.show_progress()
            screen.refresh_if_stale()
        self._progressed = False

    def ended(self) -> None:
        sweep, app = self.sweep, self.screen.app
        if sweep is None:
            return
        sweep.state = "finished" if len(sweep.rows) == len(sweep.points) else "stopped"
        self.session.running = False
        self.views.log.say(f"{sweep.describe()} (f9 shows the table)", "book")
        self.views.status.ended((sweep.describe(), sweep.describe_briefly()), "f9 shows the table")
        if isinstance(app.screen, SweepScreen):
            app.screen.refresh_sweep()

    def failed(self) -> None:
        """Its worker raised: the sweep stops there."""
        if self.running and self.sweep is not None:
            self.sweep.state = "stopped"

    def show(self) -> None:
        if self.sweep is None:
            said = (
                "no sweep yet: comma-separated values or a range (1e-4..10:100 log) in lr, batch, examples, wd, "
                "init std or the optimizer's constants make one"
            )
            self.views.log.say(said, "note")
        elif not isinstance(self.screen.app.screen, SweepScreen):
            self.screen.app.push_screen(SweepScreen(self.sweep))
