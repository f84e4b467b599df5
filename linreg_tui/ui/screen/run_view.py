"""What a run's events do to the panels: the log's lines, the charts' data, the results, the status.
The screen's message handlers route each event here; the redraw tick draws what they marked dirty."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.screen import Screen

from linreg_tui.run.config import ConfigError
from linreg_tui.run.events import (
    DataLoading,
    EpochEnded,
    LearningRateChanged,
    Paused,
    RunEnded,
    RunStarted,
    StepExplained,
    StepLosses,
)
from linreg_tui.run.report import book_lines, count, end_lines, epoch_lines, lr_warning, start_lines
from linreg_tui.run.stability import smaller_lr
from linreg_tui.ui.panels.history import RunTrace
from linreg_tui.ui.panels.log import explained_lines, lr_change_line
from linreg_tui.ui.plots.loss import run_label
from linreg_tui.ui.screen.form_watch import FormWatch
from linreg_tui.ui.screen.session import RunSession
from linreg_tui.ui.screen.share_actions import ShareActions
from linreg_tui.ui.screen.sweep_runner import SweepRunner
from linreg_tui.ui.screen.views import Views
from linreg_tui.ui.widgets.fitting import Wording


class RunView:
    """The live run as the panels show it: each event into the views and the session; `redraw_now`
    draws the charts at once (a paused run), and the header is `screen`'s."""

    def __init__(
        self,
        screen: Screen[None],
        views: Views,
        session: RunSession,
        *,
        form_watch: FormWatch,
        sweeper: SweepRunner,
        share: ShareActions,
        redraw_now: Callable[[], None],
    ) -> None:
        self.screen, self.views, self.session = screen, views, session
        self.form_watch, self.sweeper, self.share = form_watch, sweeper, share
        self.redraw_now = redraw_now
        self._rule_said = False  # the engine's update rule is logged once per run, at its first explained step
        self._pending_epochs: list[EpochEnded] = []
        self._epochs_shown_at = 0.0

    def starting(self) -> None:
        self._pending_epochs = []

    def loading(self, event: DataLoading) -> None:
        """A data file is being read: how far, in the status line (a large file takes seconds)."""
        if not self.session.stopping:
            self.views.status.loading(event.name, event.done, event.total)

    def started(self, event: RunStarted) -> None:
        config = event.config
        for line in start_lines(event):
            self.views.log.say(line, "note" if line.startswith("loss:") else "info")
        self.views.loss.start_run(config)
        self.views.data.show(event.preview)
        self.form_watch.run_drew(config)
        named = config.kind in ("table", "file")  # names of their own; synthetic's and poly's are x₁, x₂, …
        self.views.data.start_fit(config.truth, config.num_features, event.initial)
        self.views.landscape.start_run(event.surface, event.initial, event.surface_is_exact, run_label(config))
        if self.views.loss.current is not None:
            self.session.history.start(config, self.views.loss.current, self.views.landscape.current)
            self.session.trace = RunTrace(config.num_features, self.views.loss.current.steps)
            self.share.show_chosen_runs()
        surface = event.surface
        self.views.weights.start_run(surface.names, surface.truth, event.initial, config.num_features, config)
        raw = config.kind != "synthetic" and config.standardize != "none"
        self.views.results.start(config.truth, event.optimum, config.feature_names if named else None, raw)
        self._show_conditioning(event)
        if not self.session.stopping:
            self.views.status.training(config)
        self.screen.sub_title = f"{config.impl} · {event.device} · training"
        if (control := self.session.control) is not None:
            self.screen.call_after_refresh(control.start_shown)  # drawn: the run's first step may come

    def _show_conditioning(self, event: RunStarted) -> None:
        """The condition number and the stability bound beside the results; a warning under the form
        when the run's lr is above the bound (the log's start lines say it too)."""
        conditions, config = event.conditioning, event.config
        self.session.max_stable_lr = conditions.max_stable_lr
        self.form_watch.bound_seen(config, conditions.max_stable_lr)
        self._rule_said = False
        self.views.data.highlight(())
        self.views.results.show_conditioning(
            conditions.condition_number, conditions.max_stable_lr, config.lr, config.optimizer, config.momentum
        )
        if (warning := lr_warning(config.lr, conditions.max_stable_lr, config.optimizer, config.momentum)) is not None:
            self.views.form.note(warning)  # momentum's bound for momentum, 2/λmax for the others

    def steps(self, event: StepLosses) -> None:
        self.views.loss.add_steps(event.first_step, event.losses)  # the trace's losses too: one series
        if event.tracked:
            self.views.landscape.add_steps(event.first_step, event.tracked)
            self.views.weights.add_steps(event.first_step, event.tracked)
            self.views.data.follow(event.tracked[-1])
        self.views.status.note_progress(event.epoch, event.first_step + len(event.losses) - 1)

    def paused(self, event: Paused) -> None:
        if self.session.running and not self.session.stopping:
            self.views.status.paused(event.epoch, event.step, self.session.live_lr)
            # The run waits: its steps so far are drawn now, not at the next frame (up to a second later,
            # after a person's ctrl+t).
            self.redraw_now()

    def explained(self, event: StepExplained) -> None:
        config = self.session.config
        if config is None:
            return
        if not self._rule_said:
            self.views.log.say(f"{config.impl}'s update: {event.rule}", "note")
            self._rule_said = True
        for line in explained_lines(event, config.impl, config.batch_size, config.num_features, config.optimizer):
            self.views.log.say(line)
        self.views.data.highlight(event.indices)

    def lr_changed(self, event: LearningRateChanged) -> None:
        session = self.session
        self.views.log.say(lr_change_line(session.live_lr, event.lr, event.step), "book")
        if session.max_stable_lr is not None and session.config is not None:
            optimizer, beta = session.config.optimizer, session.config.momentum
            if (warning := lr_warning(event.lr, session.max_stable_lr, optimizer, beta)) is not None:
                self.views.log.say(warning, "warning")
        session.live_lr = event.lr
        self.views.loss.mark_lr_change(event.step, event.lr)
        self.views.weights.mark_lr_change(event.step, event.lr)
        self.views.status.lr_changed(event.lr)

    def epoch_ended(self, event: EpochEnded) -> None:
        # The log line is written on the next redraw tick: short epochs would otherwise cost a layout pass each.
        self._pending_epochs.append(event)
        if self.session.trace is not None:
            self.session.trace.add_epoch(event)
        self.views.loss.add_epoch(event.steps, event.loss, event.val_loss)
        self.views.data.set_model(event.w, event.b)

    def show_epochs(self, now: bool = False) -> None:
        """The book's `epoch N, loss X` lines and the parameters after the latest epoch, at most once a
        second while training: each write to the log scrolls it, a layout pass of the whole screen."""
        if not self._pending_epochs or (not now and time.monotonic() - self._epochs_shown_at < 1.0):
            return
        self._epochs_shown_at = time.monotonic()
        for event in self._pending_epochs:
            book_line, *warning = epoch_lines(event)
            self.views.log.say(book_line, "book")
            for line in warning:
                self.views.log.say(line, "warning")
        latest = self._pending_epochs[-1]
        self.views.results.show_parameters(latest.w, latest.b)
        self._pending_epochs = []

    def ended(self, event: RunEnded) -> None:
        self.show_epochs(now=True)
        result = event.result
        log = self.views.log
        kind = {"finished": "book", "cancelled": "warning", "diverged": "warning"}.get(result.status, "error")
        *report, status_line = end_lines(result)
        for line in report:
            log.say(line, kind if line == result.message else "book")
        log.say(status_line, kind)
        for line in book_lines(self.session.preset, result):
            log.say(line, "book")
        self.views.results.finish(result)
        # The views show the run's end now, not at the next tick (a short run may end before one).
        self.views.data.set_model(result.w, result.b, now=True)
        self.views.loss.redraw_if_dirty(now=True)
        self.views.landscape.redraw_if_dirty(now=True)
        self.views.weights.replot()
        if result.status == "diverged" and not self.views.loss.log_y:
            self.views.loss.log_y = True
            log.say("the loss chart now has a log y axis, to show the blow-up (ctrl+l toggles)", "note")
        # The header says what ran and how it ended, short enough for 60 columns (Textual's header cuts
        # its title, mid-number at times: "2,078 ste…"); the counts are the status line's and the results'.
        self.screen.sub_title = f"{result.config.impl} · {result.device} · {result.status}"
        # The status line's parts, the most important first (a narrow line drops the last ones).
        summary: list[Wording] = [result.status, f"{result.steps:,} steps", f"{result.steps_per_second:,.0f} steps/s"]
        if result.diverged_at is not None:
            epoch, step = result.diverged_at
            last_lr = result.lr_changes[-1][1] if result.lr_changes else result.config.lr
            smaller = f"{smaller_lr(last_lr, result.max_stable_lr):g}"
            summary = [
                f"diverged at epoch {epoch}, step {step:,}",
                (f"try a smaller lr, e.g. {smaller}", f"try lr {smaller}"),
            ]
        elif result.status == "cancelled":  # "cancelled in epoch 2 after 1,234 steps", or briefly
            summary = [(result.message, f"cancelled after {count(result.steps, 'step')}", "cancelled")]
        elif result.status == "failed":
            summary = ["failed: see the log"]
        self.views.status.ended(*summary)
        self.session.last_result = result
        if self.session.history.live is not None:
            self.session.history.live.finish(result)
            self.share.sync_history_screen()
        self.session.running = self.sweeper.running  # a sweep's next run follows

    def refused(self, error: ConfigError) -> None:
        self.session.running = False
        self.views.form.show_errors(error.errors)
        self.views.log.say(f"not started: {error}", "error")
        self.views.status.ended("not started: see the form")

    def setup_failed(self, reason: str, cancelled: bool) -> None:
        self.session.running = False
        if cancelled:
            self.views.log.say(reason, "warning")
            self.views.status.ended(reason)
        else:
            self.views.log.say(f"failed: {reason}", "error")
            self.views.status.ended("failed: see the log")
