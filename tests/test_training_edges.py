"""The training loop's rarer paths: a set-up that fails or is stopped, divergence seen only by the
end-of-epoch loss, a device that can no longer be read, a stop at an epoch boundary, and the chunk of
steps shrinking when steps get slow."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

import pytest
import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.run.events import EpochEnded, StepLosses, TrainingEvent
from linreg_tui.run.result import RunResult
from linreg_tui.training import loop, run_data
from linreg_tui.training.engines import ScratchEngine
from linreg_tui.training.loop import SetupCancelled, TrainingSetupFailed, train


def step_losses(events: list[TrainingEvent]) -> list[float]:
    return [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]


# --- the set-up -------------------------------------------------------------------------------------


#: Where the set-up calls each phase: the data's in run_data, the engine in the loop.
PHASE_MODULES = {"make_dataset": run_data, "least_squares": run_data, "make_engine": loop}


@pytest.mark.parametrize(
    ("phase", "error", "reason"),
    [
        ("make_dataset", MemoryError("cannot allocate 8,000,000,000 bytes"), "MemoryError: cannot allocate"),
        # Only the first line of a long driver message reaches the user.
        ("make_engine", RuntimeError("CUDA error: out of memory\nCUDA kernel errors might be..."), None),
    ],
)
def test_a_set_up_that_cannot_be_made_fails_naming_the_device_and_the_reason(
    monkeypatch: pytest.MonkeyPatch, phase: str, error: BaseException, reason: str | None
) -> None:
    def broken(*args: object) -> object:
        raise error

    monkeypatch.setattr(PHASE_MODULES[phase], phase, broken)
    events: list[TrainingEvent] = []
    with pytest.raises(TrainingSetupFailed) as caught:
        train(RunConfig(), events.append)
    expected = reason or "RuntimeError: CUDA error: out of memory"
    assert str(caught.value).startswith(f"could not prepare the run on cpu: {expected}")
    assert "\n" not in str(caught.value)
    assert caught.value.__cause__ is error
    assert events == []  # nothing was announced, nothing trained


SET_UP_PHASES = ["make_dataset", "least_squares", "make_engine"]


@pytest.mark.parametrize("stopped_after", SET_UP_PHASES)
def test_a_stop_during_a_set_up_phase_skips_the_phases_after_it(
    monkeypatch: pytest.MonkeyPatch, stopped_after: str
) -> None:
    """Each phase can take seconds at n = 10⁸; a stop must not wait for the ones still to come."""
    cancel = threading.Event()
    called: list[str] = []

    def recorded(name: str, original: Callable[..., object]) -> Callable[..., object]:
        def wrapper(*args: object) -> object:
            called.append(name)
            value = original(*args)
            if name == stopped_after:
                cancel.set()
            return value

        return wrapper

    for name in SET_UP_PHASES:
        module = PHASE_MODULES[name]
        monkeypatch.setattr(module, name, recorded(name, getattr(module, name)))
    monkeypatch.setattr(ScratchEngine, "run_steps", recorded("run_steps", ScratchEngine.run_steps))
    events: list[TrainingEvent] = []
    with pytest.raises(SetupCancelled, match="stopped before training started"):
        train(RunConfig(), events.append, cancel)
    assert called == SET_UP_PHASES[: SET_UP_PHASES.index(stopped_after) + 1]  # and no run_steps
    assert events == []


# --- divergence only the full-data loss sees --------------------------------------------------------


def test_divergence_seen_only_by_the_end_of_epoch_loss() -> None:
    """Full-batch gradient descent (batch = n) with too large a step: each step's loss is taken before
    its update, so the loss at the parameters of an epoch's last step is first seen by the full-data
    loss; there it overflows float32 while every step loss and parameter is still finite."""
    events: list[TrainingEvent] = []
    result = train(RunConfig(num_examples=10, batch_size=10, lr=5.0, epochs=100), events.append)
    assert result.status == "diverged"
    assert result.diverged_at == (result.steps, result.steps)  # one step per epoch, the last one's end
    assert "at the end of the epoch (full-data loss inf)" in result.message
    assert 1 < result.steps < 100
    assert len(step_losses(events)) == result.steps and all(map(math.isfinite, step_losses(events)))
    ended = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in ended] == list(range(1, result.steps))  # the bad epoch is not reported
    assert result.epoch_losses == tuple(e.loss for e in ended) and all(map(math.isfinite, result.epoch_losses))
    assert all(map(math.isfinite, (*result.w, result.b)))


# --- a device that cannot be read any more ----------------------------------------------------------


def test_a_fault_that_leaves_the_device_unreadable_returns_the_last_host_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an illegal memory access a CUDA device refuses every later call, also reading back the
    parameters: the run still reports what it learned, from the copy taken at the last epoch's end."""
    device_lost = False
    epochs_ended: list[EpochEnded] = []
    original_run_steps, original_parameters = ScratchEngine.run_steps, ScratchEngine.parameters

    def lose_the_device() -> None:
        raise RuntimeError("CUDA error: an illegal memory access was encountered")

    def run_steps(self: ScratchEngine, batches: Sequence[object], lrs: Sequence[float] | None = None) -> torch.Tensor:
        nonlocal device_lost
        if device_lost or epochs_ended:  # the first chunk of epoch 2
            device_lost = True
            lose_the_device()
        return original_run_steps(self, batches, lrs)

    def parameters(self: ScratchEngine) -> object:
        if device_lost:
            lose_the_device()
        return original_parameters(self)

    monkeypatch.setattr(ScratchEngine, "run_steps", run_steps)
    monkeypatch.setattr(ScratchEngine, "parameters", parameters)  # restore() reads through it too

    def on_event(event: TrainingEvent) -> None:
        if isinstance(event, EpochEnded):
            epochs_ended.append(event)

    result = train(RunConfig(), on_event)
    assert result.status == "failed" and device_lost
    assert result.message == "failed at step 101: RuntimeError: CUDA error: an illegal memory access was encountered"
    [epoch_1] = epochs_ended
    assert (result.w, result.b) == (epoch_1.w, epoch_1.b)
    assert result.steps == 100


# --- a stop at an epoch boundary --------------------------------------------------------------------


def test_a_stop_at_an_epoch_boundary_takes_no_step_of_the_next_epoch() -> None:
    cancel = threading.Event()
    events: list[TrainingEvent] = []

    def on_event(event: TrainingEvent) -> None:
        events.append(event)
        if isinstance(event, EpochEnded):
            cancel.set()

    result = train(RunConfig(epochs=3), on_event, cancel)
    assert result.status == "cancelled"
    assert result.message == "cancelled in epoch 2 after 100 steps"
    assert result.steps == 100 and len(step_losses(events)) == 100
    assert not any(isinstance(e, StepLosses) and e.epoch == 2 for e in events)
    [epoch_1] = [e for e in events if isinstance(e, EpochEnded)]  # the epoch's line was emitted
    assert result.epoch_losses == (epoch_1.loss,)
    assert (result.w, result.b) == (epoch_1.w, epoch_1.b)  # what it learned is kept


# --- the chunk of steps follows the time a step takes ------------------------------------------------


class StepClock:
    """A perf_counter for the loop that moves only when the engine takes steps (see run_timed)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def run_timed(
    monkeypatch: pytest.MonkeyPatch, seconds_per_step: Callable[[int], float], config: RunConfig
) -> tuple[RunResult, list[tuple[int, float]]]:
    """Train with a fake clock; returns the chunks handed to the engine as (steps, seconds)."""
    clock = StepClock()
    chunks: list[tuple[int, float]] = []
    steps_done = 0
    original = ScratchEngine.run_steps

    def timed(self: ScratchEngine, batches: Sequence[object], lrs: Sequence[float] | None = None) -> torch.Tensor:
        nonlocal steps_done
        seconds = sum(seconds_per_step(steps_done + k) for k in range(len(batches)))
        clock.now += seconds
        steps_done += len(batches)
        chunks.append((len(batches), seconds))
        return original(self, batches, lrs)

    monkeypatch.setattr(loop, "perf_counter", clock)
    monkeypatch.setattr(ScratchEngine, "run_steps", timed)
    return train(config), chunks


@pytest.mark.parametrize("slow_step_seconds", [0.03, 0.5])
def test_the_chunk_shrinks_when_steps_get_slow(monkeypatch: pytest.MonkeyPatch, slow_step_seconds: float) -> None:
    """Losses are reported (and a stop is seen) once per chunk: when steps slow down (another process
    takes the GPU, the machine swaps), the chunk must shrink until a chunk takes about FLUSH_SECONDS
    again, or to single steps when one step alone takes longer."""
    fast_steps = 120
    config = RunConfig(num_examples=5000, batch_size=10, epochs=1)
    result, chunks = run_timed(monkeypatch, lambda step: 1e-4 if step < fast_steps else slow_step_seconds, config)
    assert result.status == "finished" and sum(size for size, _ in chunks) == 500
    first_slow = next(i for i, (size, seconds) in enumerate(chunks) if seconds >= size * slow_step_seconds)
    slow = chunks[first_slow:]
    assert slow[0][0] >= 64  # quick steps had grown the chunk: a slow chunk of them takes seconds
    sizes = [size for size, _ in slow]
    assert sizes == sorted(sizes, reverse=True)  # never grows while steps are slow
    # Within log₂(chunk) chunks every chunk (but a short last one) takes at most 2 × FLUSH_SECONDS, or is
    # a single step when one step alone takes longer.
    settle_by = math.ceil(math.log2(sizes[0]))
    settled = slow[settle_by:-1]
    assert settled and all(seconds <= 2 * loop.FLUSH_SECONDS or size == 1 for size, seconds in settled)
    if slow_step_seconds > 2 * loop.FLUSH_SECONDS:
        assert {size for size, _ in settled} == {1}
    else:
        assert all(seconds >= loop.FLUSH_SECONDS / 2 for _, seconds in settled)  # not needlessly small
