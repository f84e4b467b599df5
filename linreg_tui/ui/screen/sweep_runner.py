"""A sweep from the app: the form's points run on a training worker, one after another with each run's
events shown as a single run's are (as many as the loss chart draws), or batched (more than that), their
rows into the sweep's table and curve (f9)."""

from __future__ import annotations

from functools import partial

from textual.screen import Screen
from textual.worker import Worker, get_current_worker

from linreg_tui.run.sweep import SweepPoint, SweepRow
from linreg_tui.ui import messages
from linreg_tui.ui.panels.sweep import Sweep, SweepScreen
from linreg_tui.ui.plots.loss import MAX_OVERLAID
from linreg_tui.ui.screen.session import RunSession
from linreg_tui.ui.screen.thread_start import ThreadStart
from linreg_tui.ui.screen.views import Views

#: What the log says of a sweep too big to draw on the loss chart (which holds MAX_OVERLAID runs).
BATCHED_IN_APP = (
    "{count:,} runs: more than the loss chart draws, so the points that can share a tensor program train "
    "batched, each taking its own run's steps; their final losses fill the sweep's table and curve (f9)"
)


class SweepRunner:
    """The sweep running now, or the last one. Its worker runs on `screen`, whose message handlers hand
    each run's events to the run view and the sweep's rows and end back here."""

    def __init__(self, screen: Screen[None], views: Views, session: RunSession) -> None:
        self.screen, self.views, self.session = screen, views, session
        self.sweep: Sweep | None = None

    @property
    def running(self) -> bool:
        return self.sweep is not None and self.sweep.state == "running"

    def start(self, points: list[SweepPoint], paused: bool, begun: ThreadStart) -> Worker[None]:
        """The form holds a sweep: its runs one after another, overlaid on the loss chart."""
        if paused:
            self.views.log.say("step mode takes one run: the form holds a sweep (comma-separated values)", "warning")
        self.sweep = Sweep(points)
        self.session.history.default_overlaid = len(points) - 1  # the sweep's runs, overlaid as they end
        self.views.log.say(f"{self.sweep.describe()} (f9 shows the table)", "note")
        batch = len(points) > MAX_OVERLAID
        if batch:
            self.views.log.say(BATCHED_IN_APP.format(count=len(points)), "note")
        return self.screen.run_worker(
            partial(self._run, points, begun, batch),
            name="sweep_in_thread",
            group="training",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _run(self, points: list[SweepPoint], begun: ThreadStart, batch: bool) -> None:
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
            batch=batch,
        )
        post(messages.SweepEnded())

    def row_ended(self, row: SweepRow) -> None:
        if self.sweep is None:
            return
        self.sweep.rows.append(row)
        if row.result is None:  # its set-up failed: no RunEnded said so
            self.views.log.say(f"{row.status}: {row.message}", "error")
        if isinstance(self.screen.app.screen, SweepScreen):
            self.screen.app.screen.add_row(row)

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
            said = "no sweep yet: comma-separated values in lr, batch, examples, wd or init std make one"
            self.views.log.say(said, "note")
        elif not isinstance(self.screen.app.screen, SweepScreen):
            self.screen.app.push_screen(SweepScreen(self.sweep))
