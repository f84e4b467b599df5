"""What a run's events do to the panels: the log's lines, the charts' data, the results, the status.
The screen's message handlers route each event here; the redraw tick draws what they marked dirty."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from linreg_tui.run.config import ConfigError
from linreg_tui.run.events import (
    EpochEnded,
    LearningRateChanged,
    Paused,
    RunEnded,
    RunStarted,
    StepExplained,
    StepLosses,
)
from linreg_tui.run.report import count, end_lines, epoch_line, lr_above_bound, start_lines
from linreg_tui.ui.fitting import Wording
from linreg_tui.ui.history import RunTrace
from linreg_tui.ui.log import explained_lines, lr_change_line

if TYPE_CHECKING:
    from linreg_tui.ui.main_screen import MainScreen


class RunView:
    """The live run as the screen's panels show it."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._rule_said = False  # the engine's update rule is logged once per run, at its first explained step
        self._pending_epochs: list[EpochEnded] = []
        self._epochs_shown_at = 0.0

    def starting(self) -> None:
        self._pending_epochs = []

    def started(self, event: RunStarted) -> None:
        screen, config = self.screen, event.config
        for line in start_lines(event):
            screen.log_pane.say(line, "note" if line.startswith("loss:") else "info")
        screen.loss_panel.start_run(config)
        screen.data_plot.show(event.preview)
        screen.data_plot.start_fit(config.true_w, config.true_b, event.initial)
        screen.landscape_panel.start_run(event.surface, event.initial, event.surface_is_exact)
        if screen.loss_panel.current is not None:
            screen.history.start(config, screen.loss_panel.current, screen.landscape_panel.current)
            screen.trace = RunTrace(config.num_features, screen.loss_panel.current.steps)
            screen.share.show_chosen_runs()
        screen.weights_panel.start_run(event.surface.names, event.surface.truth, event.initial, config.num_features)
        screen.results_panel.start(config.true_w, config.true_b, event.optimum)
        self._show_conditioning(event)
        if not screen.run_driver.stopping:
            screen.status_bar.training(config)
        screen.sub_title = f"{config.impl} · {event.device} · training"
        if (control := screen.run_driver.control) is not None:
            screen.call_after_refresh(control.start_shown)  # drawn: the run's first step may come

    def _show_conditioning(self, event: RunStarted) -> None:
        """The condition number and the stability bound beside the results; a warning under the form
        when the run's lr is above the bound (the log's start lines say it too)."""
        screen, conditions, config = self.screen, event.conditioning, event.config
        screen.run_driver.max_stable_lr = conditions.max_stable_lr
        screen.form_watch.bound_seen(config, conditions.max_stable_lr)
        self._rule_said = False
        screen.data_plot.highlight(())
        screen.results_panel.show_conditioning(conditions.condition_number, conditions.max_stable_lr, config.lr)
        if config.lr > conditions.max_stable_lr:
            screen.params_panel.note(lr_above_bound(config.lr, conditions.max_stable_lr))

    def steps(self, event: StepLosses) -> None:
        screen = self.screen
        screen.loss_panel.add_steps(event.first_step, event.losses)  # the trace's losses too: one series
        if event.tracked:
            screen.landscape_panel.add_steps(event.first_step, event.tracked)
            screen.weights_panel.add_steps(event.first_step, event.tracked)
            screen.data_plot.follow(event.tracked[-1])
        screen.status_bar.note_progress(event.epoch, event.first_step + len(event.losses) - 1)

    def paused(self, event: Paused) -> None:
        screen = self.screen
        if screen.running and not screen.run_driver.stopping:
            screen.status_bar.paused(event.epoch, event.step, screen.run_driver.live_lr)
            # The run waits: its steps so far are drawn now, not at the next frame (up to a second later,
            # after a person's ctrl+t).
            screen.redraw_tick(now=True)

    def explained(self, event: StepExplained) -> None:
        screen, config = self.screen, self.screen.run_driver.config
        if config is None:
            return
        if not self._rule_said:
            screen.log_pane.say(f"{config.impl}'s update: {event.rule}", "note")
            self._rule_said = True
        for line in explained_lines(event, config.impl, config.batch_size, config.num_features):
            screen.log_pane.say(line)
        screen.data_plot.highlight(event.indices)

    def lr_changed(self, event: LearningRateChanged) -> None:
        screen, driver = self.screen, self.screen.run_driver
        screen.log_pane.say(lr_change_line(driver.live_lr, event.lr, event.step), "book")
        if driver.max_stable_lr is not None and event.lr > driver.max_stable_lr:
            screen.log_pane.say(lr_above_bound(event.lr, driver.max_stable_lr), "warning")
        driver.live_lr = event.lr
        screen.loss_panel.mark_lr_change(event.step, event.lr)
        screen.status_bar.lr_changed(event.lr)

    def epoch_ended(self, event: EpochEnded) -> None:
        # The log line is written on the next redraw tick: short epochs would otherwise cost a layout pass each.
        screen = self.screen
        self._pending_epochs.append(event)
        if screen.trace is not None:
            screen.trace.add_epoch(event)
        screen.loss_panel.add_epoch(event.steps, event.loss, event.val_loss)
        screen.data_plot.set_model(event.w, event.b)

    def show_epochs(self, now: bool = False) -> None:
        """The book's `epoch N, loss X` lines and the parameters after the latest epoch, at most once a
        second while training: each write to the log scrolls it, a layout pass of the whole screen."""
        if not self._pending_epochs or (not now and time.monotonic() - self._epochs_shown_at < 1.0):
            return
        self._epochs_shown_at = time.monotonic()
        for event in self._pending_epochs:
            self.screen.log_pane.say(epoch_line(event), "book")
        latest = self._pending_epochs[-1]
        self.screen.results_panel.show_parameters(latest.w, latest.b)
        self._pending_epochs = []

    def ended(self, event: RunEnded) -> None:
        self.show_epochs(now=True)
        screen, result = self.screen, event.result
        log = screen.log_pane
        kind = {"finished": "book", "cancelled": "warning", "diverged": "warning"}.get(result.status, "error")
        *report, status_line = end_lines(result)
        for line in report:
            log.say(line, kind if line == result.message else "book")
        log.say(status_line, kind)
        screen.results_panel.finish(result)
        # The views show the run's end now, not at the next tick (a short run may end before one).
        screen.data_plot.set_model(result.w, result.b, now=True)
        screen.loss_panel.redraw_if_dirty(now=True)
        screen.landscape_panel.redraw_if_dirty(now=True)
        screen.weights_panel.replot()
        if result.status == "diverged" and not screen.loss_panel.log_y:
            screen.loss_panel.log_y = True
            log.say("the loss chart now has a log y axis, to show the blow-up (ctrl+l toggles)", "note")
        # The header says what ran and how it ended, short enough for 60 columns (Textual's header cuts
        # its title, mid-number at times: "2,078 ste…"); the counts are the status line's and the results'.
        screen.sub_title = f"{result.config.impl} · {result.device} · {result.status}"
        # The status line's parts, the most important first (a narrow line drops the last ones).
        summary: list[Wording] = [result.status, f"{result.steps:,} steps", f"{result.steps_per_second:,.0f} steps/s"]
        if result.diverged_at is not None:
            epoch, step = result.diverged_at
            smaller = f"{result.config.lr / 10:g}"
            summary = [
                f"diverged at epoch {epoch}, step {step:,}",
                (f"try a smaller lr, e.g. {smaller}", f"try lr {smaller}"),
            ]
        elif result.status == "cancelled":  # "cancelled in epoch 2 after 1,234 steps", or briefly
            summary = [(result.message, f"cancelled after {count(result.steps, 'step')}", "cancelled")]
        elif result.status == "failed":
            summary = ["failed: see the log"]
        screen.status_bar.ended(*summary)
        screen.last_result = result
        if screen.history.live is not None:
            screen.history.live.finish(result)
            screen.share.sync_history_screen()
        screen.running = screen.sweeper.running  # a sweep's next run follows

    def refused(self, error: ConfigError) -> None:
        screen = self.screen
        screen.running = False
        screen.params_panel.show_errors(error.errors)
        screen.log_pane.say(f"not started: {error}", "error")
        screen.status_bar.ended("not started: see the form")

    def setup_failed(self, reason: str, cancelled: bool) -> None:
        screen = self.screen
        screen.running = False
        if cancelled:
            screen.log_pane.say(reason, "warning")
            screen.status_bar.ended(reason)
        else:
            screen.log_pane.say(f"failed: {reason}", "error")
            screen.status_bar.ended("failed: see the log")
