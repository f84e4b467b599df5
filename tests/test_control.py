"""RunControl: pausing and resuming from another thread, stopping a paused run (by the control and by a
cancel event nobody tells the control about), and the learning rate changed while a run goes on,
recorded so that a replay changes it at the same steps and ends with the same parameters."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest

from linreg_tui.run import control as control_module
from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.run.events import LearningRateChanged, Paused, StepLosses, TrainingEvent
from linreg_tui.run.report import end_lines
from linreg_tui.run.result import RunResult
from linreg_tui.training import loop
from linreg_tui.training.engines.scratch import ScratchEngine
from linreg_tui.training.loop import train
from tests.apptools import fake_clock

#: A safety net so that a broken control fails the test instead of hanging it; nothing is timed.
HANG_SECONDS = 60


class RunInThread:
    """train() on a thread, as the app runs it; `seen(kind)` is an Event set when such an event came."""

    def __init__(
        self,
        config: RunConfig,
        control: RunControl,
        cancel: threading.Event | None = None,
        on_event: Callable[[TrainingEvent], None] | None = None,
    ) -> None:
        self.events: list[TrainingEvent] = []
        self.result: RunResult | None = None
        self._seen: dict[type, threading.Event] = {Paused: threading.Event(), StepLosses: threading.Event()}
        self._on_event = on_event

        def work() -> None:
            self.result = train(config, self._record, cancel, control)

        self.thread = threading.Thread(target=work, daemon=True)
        self.thread.start()

    def _record(self, event: TrainingEvent) -> None:
        self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)
        if type(event) in self._seen:
            self._seen[type(event)].set()

    def wait_for(self, kind: type) -> None:
        assert self._seen[kind].wait(HANG_SECONDS), f"no {kind.__name__} came"
        self._seen[kind].clear()

    def finish(self) -> RunResult:
        self.thread.join(HANG_SECONDS)
        assert not self.thread.is_alive(), "the run did not end"
        assert self.result is not None
        return self.result

    def steps_reported(self) -> int:
        return sum(len(e.losses) for e in self.events if isinstance(e, StepLosses))


def test_pause_and_resume_from_another_thread_ends_where_an_uncontrolled_run_ends() -> None:
    config = RunConfig(num_examples=5000, epochs=2)
    control = RunControl()
    pausing = threading.Event()
    pausing.set()

    def pause_after_each_chunk(event: TrainingEvent) -> None:
        if isinstance(event, StepLosses) and pausing.is_set():
            control.pause()

    run = RunInThread(config, control, on_event=pause_after_each_chunk)
    at = []
    for _ in range(2):
        run.wait_for(Paused)
        paused = [e for e in run.events if isinstance(e, Paused)][-1]
        assert paused.step == run.steps_reported()  # nothing more is taken while paused
        at.append(paused.step)
        if len(at) == 2:
            pausing.clear()
        control.resume()
    assert 0 < at[0] < at[1] < config.total_steps
    result = run.finish()
    plain = train(config)
    assert result.status == "finished" and result.steps == plain.steps
    assert (result.w, result.b) == (plain.w, plain.b)  # pausing does not change the steps


def test_stop_wakes_a_paused_run_without_waiting_for_the_poll(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control_module, "POLL_SECONDS", 3600.0)  # only a notification can wake it now
    control = RunControl(paused=True)
    run = RunInThread(RunConfig(), control)
    run.wait_for(Paused)
    control.stop()
    result = run.finish()
    assert result.status == "cancelled" and result.steps == 0
    assert result.message == "cancelled in epoch 1 after 0 steps"


def test_a_paused_run_sleeps_on_the_condition_and_sees_a_worker_cancel_it_was_not_told_of() -> None:
    """The app hands train its worker's cancelled_event; Worker.cancel() sets it without notifying us.
    The paused loop sleeps in Condition.wait with a timeout (no spinning) and sees the event after one."""
    cancel = threading.Event()
    control = RunControl(paused=True)
    timeouts: list[float | None] = []
    real_wait = control._changed.wait

    def counted_wait(timeout: float | None = None) -> bool:
        timeouts.append(timeout)
        assert len(timeouts) < 50, "the cancel event was not seen"  # ends the run as failed, not a hang
        if len(timeouts) == 3:
            cancel.set()  # as Worker.cancel() does: the event only, no notify
        return real_wait(timeout)

    control._changed.wait = counted_wait  # type: ignore[method-assign]
    result = train(RunConfig(), None, cancel, control)
    assert result.status == "cancelled" and result.steps == 0
    assert len(timeouts) == 3 and set(timeouts) == {control_module.POLL_SECONDS}


def test_a_stop_before_the_control_is_bound_still_stops_the_run() -> None:
    control = RunControl(paused=True)
    control.stop()  # e.g. esc during the set-up, before train() bound the control to the worker's event
    worker_event = threading.Event()
    with pytest.raises(Exception, match="stopped before training started"):
        train(RunConfig(), None, worker_event, control)
    assert worker_event.is_set()


# --- the learning rate while a run goes on ----------------------------------------------------------


def changes_at(steps_and_rates: list[tuple[int, float]]) -> Callable[[TrainingEvent], None]:
    """An on_event that sets each rate once the run has reported at least that many steps."""
    pending = list(steps_and_rates)
    control_box: list[RunControl] = []

    def on_event(event: TrainingEvent) -> None:
        if isinstance(event, StepLosses) and pending:
            done = event.first_step + len(event.losses) - 1
            if done >= pending[0][0]:
                control_box[0].set_lr(pending.pop(0)[1])

    on_event.control_box = control_box  # type: ignore[attr-defined]
    return on_event


def step_losses(events: list[TrainingEvent]) -> list[float]:
    return [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]


def run_changing(config: RunConfig, steps_and_rates: list[tuple[int, float]]) -> tuple[RunResult, list[TrainingEvent]]:
    control = RunControl()
    on_event = changes_at(steps_and_rates)
    on_event.control_box.append(control)  # type: ignore[attr-defined]
    events: list[TrainingEvent] = []

    def record(event: TrainingEvent) -> None:
        events.append(event)
        on_event(event)

    return train(config, record, control=control), events


def test_a_new_rate_applies_from_the_next_chunk_and_is_recorded_and_reported() -> None:
    config = RunConfig(num_examples=5000, epochs=2)
    result, events = run_changing(config, [(1, 0.1)])
    first_chunk = next(e for e in events if isinstance(e, StepLosses))
    [changed] = [e for e in events if isinstance(e, LearningRateChanged)]
    assert changed == LearningRateChanged(step=len(first_chunk.losses) + 1, lr=0.1)  # the very next chunk
    assert events.index(changed) == events.index(first_chunk) + 1
    assert result.lr_changes == ((changed.step, 0.1),)
    assert result.as_dict()["lr_changes"] == [{"step": changed.step, "lr": 0.1}]
    assert f"learning rate changed while training: 0.1 from step {changed.step:,}" in end_lines(result)
    assert (result.w, result.b) != (train(config).w, train(config).b)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_a_replay_with_the_recorded_changes_ends_with_the_same_parameters_bit_for_bit(
    impl: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = RunConfig(impl=impl, num_examples=3000, epochs=5, lr=0.01)
    # Each epoch ends a chunk, so each of these is applied within 300 steps of its request.
    live, live_events = run_changing(config, [(37, 0.05), (250, 0.002), (450, 0.02)])
    assert len(live.lr_changes) == 3
    replay_events: list[TrainingEvent] = []
    replay = train(config, replay_events.append, control=RunControl(lr_changes=live.lr_changes))
    assert replay.lr_changes == live.lr_changes
    assert (replay.w, replay.b) == (live.w, live.b)
    assert step_losses(replay_events) == step_losses(live_events)
    later = [(step + 1, lr) for step, lr in live.lr_changes]  # one step later: not the same run
    later_events: list[TrainingEvent] = []
    train(config, later_events.append, control=RunControl(lr_changes=later))
    assert step_losses(later_events) != step_losses(live_events)
    # Changes at steps where no chunk would end, and runs chunked differently: a chunk ends where a
    # change falls, so both change at exactly these steps and end alike.
    schedule = ((37, 0.05), (250, 0.002), (501, 0.02))
    first = train(config, control=RunControl(lr_changes=schedule))
    monkeypatch.setattr(loop, "FLUSH_SECONDS", 0.0)  # every chunk is "slow": chunks shrink to single steps
    second = train(config, control=RunControl(lr_changes=schedule))
    assert first.lr_changes == second.lr_changes == schedule
    assert (first.w, first.b) == (second.w, second.b)


def test_fast_changes_the_rate_at_the_scheduled_steps_as_scratch_does() -> None:
    """fast's scan builds each chunk's maps with one rate; with the same schedule it takes scratch's steps."""
    config = RunConfig(num_examples=3000, epochs=2, lr=0.01)
    schedule = ((37, 0.05), (250, 0.002))
    runs = {}
    for impl in ("fast", "scratch"):
        events: list[TrainingEvent] = []
        result = train(replace(config, impl=impl), events.append, control=RunControl(lr_changes=schedule))
        runs[impl] = (result, step_losses(events))
    (fast, fast_losses), (scratch, scratch_losses) = runs["fast"], runs["scratch"]
    assert fast.lr_changes == scratch.lr_changes == schedule
    assert fast_losses == pytest.approx(scratch_losses, rel=1e-4, abs=1e-7)
    assert fast.w == pytest.approx(scratch.w, abs=1e-5) and fast.b == pytest.approx(scratch.b, abs=1e-5)
    unchanged: list[TrainingEvent] = []
    train(replace(config, impl="fast"), unchanged.append)
    assert step_losses(unchanged)[37] != pytest.approx(fast_losses[37], rel=1e-3)  # the change shows at once


def test_too_large_a_new_rate_diverges_and_the_advice_follows_the_rate_in_use() -> None:
    result, _ = run_changing(RunConfig(), [(1, 5.0)])
    assert result.status == "diverged" and "smaller learning rate, e.g. 0.5" in result.message
    assert any("warning: lr 5 is above the largest stable lr" in line for line in end_lines(result))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (0.0, "learning rate: '0.0' is out of range (allowed: greater than 0 to 1e6)"),
        (math.nan, "learning rate: 'nan' is not a number"),
        (1e-50, "is 0 in float32"),
        ("fast", "learning rate: 'fast' is not a number"),
    ],
)
def test_a_bad_rate_is_refused_with_the_forms_one_line_reason(value: float | str, reason: str) -> None:
    control = RunControl()
    with pytest.raises(ConfigError) as caught:
        control.set_lr(value)  # type: ignore[arg-type]
    assert reason in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ConfigError):
        RunControl(lr_changes=[(10, value)])  # type: ignore[list-item]
    control.set_lr("0.5")  # text, as typed, is read like the form reads it
    assert control.lr_from(1) == 0.5


# --- the watcher's hold before step 1 ---------------------------------------------------------------


def test_a_held_start_waits_for_the_watcher_then_goes_on() -> None:
    control = RunControl(hold_start=True)
    waited = threading.Thread(target=control.wait_until_start_shown, daemon=True)
    waited.start()
    assert control.start_held
    control.start_shown()
    assert not control.start_held
    waited.join(HANG_SECONDS)
    assert not waited.is_alive()


def test_a_stop_ends_the_hold_and_a_silent_watcher_only_delays_the_run() -> None:
    stopped = RunControl(hold_start=True)
    stopped.stop()
    stopped.wait_until_start_shown()  # returns at once: nothing to wait for
    silent = RunControl(hold_start=True)
    silent.wait_until_start_shown(clock=fake_clock(control_module.START_HOLD_SECONDS / 3))
    assert not silent.start_held  # given up after START_HOLD_SECONDS of its (fake) clock
    assert not RunControl().start_held  # no hold unless asked for


def test_step_1_comes_after_the_watcher_has_shown_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """train() waits for the watcher between RunStarted and step 1; a watcher that never answers (as
    here) delays the run by START_HOLD_SECONDS at most."""
    monkeypatch.setattr(control_module, "START_HOLD_SECONDS", 0.05)
    control = RunControl(hold_start=True)
    held_at_first_step: list[bool] = []
    run_steps = ScratchEngine.run_steps

    def recorded(self: ScratchEngine, batches: list[object], lrs: Sequence[float] | None = None) -> object:
        held_at_first_step.append(control.start_held)
        return run_steps(self, batches, lrs)

    monkeypatch.setattr(ScratchEngine, "run_steps", recorded)
    result = train(RunConfig(epochs=1), control=control)
    assert result.status == "finished"
    assert held_at_first_step[0] is False
