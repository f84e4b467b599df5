"""The training core: the book's math, reproducibility, events, cancellation, divergence and faults."""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_leaves

from linreg_tui.run.config import RunConfig
from linreg_tui.run.events import EpochEnded, RunEnded, RunStarted, StepLosses, TrainingEvent
from linreg_tui.training.data import Dataset, make_dataset, make_generator, make_validation_set
from linreg_tui.training.engines import ConciseEngine, Engine, ScratchEngine
from linreg_tui.training.engines import make_engine as make_engine_for
from linreg_tui.training.loop import SetupCancelled, train


def run_with_events(config: RunConfig, cancel: threading.Event | None = None) -> tuple[list[TrainingEvent], object]:
    events: list[TrainingEvent] = []
    result = train(config, events.append, cancel)
    return events, result


def step_losses(events: list[TrainingEvent]) -> list[float]:
    return [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]


def make_engine(config: RunConfig) -> Engine:
    """An engine on its run's data and generator, as train() makes it, for stepping by hand."""
    generator = make_generator(config.seed)
    return make_engine_for(config, make_dataset(config, generator), generator)


def residuals(data: Dataset, config: RunConfig) -> torch.Tensor:
    """y − (Xw + b) with the true w and b: what the data adds to the true line."""
    true_w = torch.tensor(config.true_w, dtype=torch.float64)
    return data.labels[:, 0].double() - (data.features.double() @ true_w + config.true_b)


@pytest.mark.parametrize(
    ("noise", "scales", "corr"), [(0.01, (1.0,), 0.0), (0.5, (1.0,), 0.0), (3.0, (1.0, 10.0), 0.6), (0.0, (1.0,), 0.0)]
)
def test_the_labels_scatter_about_the_true_line_with_the_noise_asked_for(
    noise: float, scales: tuple[float, ...], corr: float
) -> None:
    """ε ~ N(0, noise²), for the training and the validation examples alike, whatever the features' shape."""
    config = RunConfig(num_examples=20_000, val=20_000, noise=noise, scales=scales, corr=corr)
    generator = make_generator(config.seed)
    for data in (make_dataset(config, generator), make_validation_set(config, generator)):
        assert data is not None
        residual = residuals(data, config)
        # The sample std of 20,000 draws is within 3% of σ (0.5% is one standard error); float32 labels
        # of size ~10 round to about 1e-6, far below the smallest noise here.
        assert float(residual.std()) == pytest.approx(noise, rel=0.03, abs=1e-5)
        assert abs(float(residual.mean())) <= 5 * noise / math.sqrt(len(residual)) + 1e-5


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_book_defaults_learn_the_true_parameters(impl: str) -> None:
    result = train(RunConfig(impl=impl))
    assert result.status == "finished"
    assert result.steps == 300
    assert max(abs(e) for e in result.w_error) < 0.01
    assert abs(result.b_error) < 0.01
    assert result.gap_to_optimum < 0.01
    assert len(result.epoch_losses) == 3 and result.epoch_losses[-1] < 1e-3


def test_concise_at_lr_equals_scratch_at_twice_lr_step_for_step() -> None:
    """MSELoss has no ½, so its gradient is twice scratch's: concise(η) takes scratch(2η)'s steps."""
    concise_events, concise = run_with_events(RunConfig(impl="concise", lr=0.01, epochs=2))
    scratch_events, scratch = run_with_events(RunConfig(impl="scratch", lr=0.02, epochs=2))
    concise_steps, scratch_steps = step_losses(concise_events), step_losses(scratch_events)
    assert len(concise_steps) == len(scratch_steps) == 200
    for c, s in zip(concise_steps, scratch_steps, strict=True):
        assert c == pytest.approx(2 * s, rel=1e-4, abs=1e-9)  # MSE = 2 × mean ½(ŷ−y)²
    assert concise.w == pytest.approx(scratch.w, abs=1e-6)
    assert concise.b == pytest.approx(scratch.b, abs=1e-6)
    for c, s in zip(concise.epoch_losses, scratch.epoch_losses, strict=True):
        assert c == pytest.approx(2 * s, rel=1e-4)


def test_same_seed_same_run_and_other_seed_other_data() -> None:
    first, second = train(RunConfig(seed=3, epochs=1)), train(RunConfig(seed=3, epochs=1))
    assert (first.w, first.b, first.epoch_losses) == (second.w, second.b, second.epoch_losses)
    assert train(RunConfig(seed=4, epochs=1)).optimum != first.optimum


@pytest.mark.parametrize("true_w", [(3.0,), (1.0, -2.0, 0.5, 4.0, -1.5)])
@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_one_and_five_features(true_w: tuple[float, ...], impl: str) -> None:
    result = train(RunConfig(true_w=true_w, impl=impl, epochs=5))
    assert result.status == "finished"
    assert len(result.w) == len(true_w)
    assert max(abs(e) for e in result.w_error) < 0.01 and abs(result.b_error) < 0.01


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_short_last_batch(impl: str) -> None:
    events, result = run_with_events(RunConfig(num_examples=1005, batch_size=10, epochs=3, impl=impl))
    assert result.status == "finished"
    assert result.steps == 3 * 101
    assert len(step_losses(events)) == 303
    assert result.gap_to_optimum < 0.01


def test_events_arrive_in_order_with_consecutive_steps() -> None:
    events, result = run_with_events(RunConfig(num_examples=2000, epochs=2))
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunEnded)
    assert events[-1].result is result
    started = events[0]
    assert len(started.first_features) == 2 and math.isfinite(started.first_label)
    assert started.preview.total == 2000 and len(started.preview.labels) == 2000
    next_step = 1
    for event in events:
        if isinstance(event, StepLosses):
            assert event.first_step == next_step
            next_step += len(event.losses)
    epochs = [e for e in events if isinstance(e, EpochEnded)]
    assert [e.epoch for e in epochs] == [1, 2] and [e.steps for e in epochs] == [200, 400]
    assert tuple(e.loss for e in epochs) == result.epoch_losses


@pytest.mark.parametrize("impl", ["scratch", "fast"])
def test_a_chunks_losses_come_as_float64_values_not_a_python_float_each(impl: str) -> None:
    """The fast engine's chunks hold 65,536 steps: making a Python float of each on the training thread
    (tolist()) cost 28 ns of its 0.7 µs step. Listeners get the float64 values, read as floats where read."""
    events, _ = run_with_events(RunConfig(num_examples=1000, epochs=1, impl=impl))
    chunks = [e.losses for e in events if isinstance(e, StepLosses)]
    assert chunks and all(isinstance(losses, array) and losses.typecode == "d" for losses in chunks)
    assert sum(len(losses) for losses in chunks) == 100 and all(isinstance(losses[0], float) for losses in chunks)


def test_cancel_from_another_thread_stops_between_steps() -> None:
    cancel = threading.Event()
    seen: list[TrainingEvent] = []

    def on_event(event: TrainingEvent) -> None:
        seen.append(event)
        if isinstance(event, StepLosses):
            threading.Thread(target=cancel.set).start()

    result = train(RunConfig(epochs=50, num_examples=5000), on_event, cancel)
    assert result.status == "cancelled"
    assert 0 < result.steps < 50 * 500
    assert "cancelled in epoch 1" in result.message
    assert all(math.isfinite(v) for v in result.w)


def test_a_stop_during_the_set_up_ends_it_before_any_step() -> None:
    cancel = threading.Event()
    cancel.set()
    events: list[TrainingEvent] = []
    with pytest.raises(SetupCancelled, match="stopped before training started"):
        train(RunConfig(), events.append, cancel)
    assert events == []


class TensorsMade(TorchFunctionMode):
    """Counts the tensors torch hands back while it is active (factories, views, indexing, moves)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_function__(
        self, func: Callable[..., object], types: object, args: tuple[object, ...] = (), kwargs: object = None
    ) -> object:
        out = func(*args, **(kwargs or {}))  # type: ignore[arg-type]
        self.count += sum(isinstance(leaf, torch.Tensor) for leaf in tree_leaves(out))
        return out


def tensors_made_to_start_an_epoch(num_examples: int) -> int:
    config = RunConfig(impl="concise", num_examples=num_examples, batch_size=1)
    generator = make_generator(config.seed)
    engine = ConciseEngine(make_dataset(config, generator), config, generator)
    with TensorsMade() as made:
        X, y = next(engine.epoch_batches())
    assert X.shape == (1, 2) and y.shape == (1, 1)
    return made.count


def test_concise_hands_out_minibatches_one_at_a_time() -> None:
    """Starting an epoch and taking its first minibatch costs the same at 100 and 10,000 minibatches:
    nothing per minibatch is made ahead (n/B index views at ~600 bytes each are 2 GB at n = 3M, batch 1,
    and seconds before a stop could be seen)."""
    assert tensors_made_to_start_an_epoch(100) == tensors_made_to_start_an_epoch(10_000) < 20


@pytest.mark.parametrize(("num_examples", "last_batch"), [(1005, 5), (1003, 3)])
def test_concise_and_scratch_part_at_a_short_last_batch(num_examples: int, last_batch: int) -> None:
    """Batch 10: 100 full minibatches, then a short one of m. Concise(η) takes scratch(2η)'s steps
    through the full ones. On the short one nn.MSELoss averages over its m examples, while the book's
    sgd divides their summed gradient by the nominal 10: concise's update is 10/m × scratch's (2× at
    n = 1005), so the runs part from there on."""
    config = RunConfig(num_examples=num_examples, batch_size=10, noise=1.0)  # noise: updates far above rounding
    concise = make_engine(replace(config, impl="concise", lr=0.01))
    scratch = make_engine(replace(config, impl="scratch", lr=0.02))
    concise_batches, scratch_batches = list(concise.epoch_batches()), list(scratch.epoch_batches())
    expected_sizes = [10] * 100 + [last_batch]
    assert [len(X) for X, _ in scratch_batches] == [len(X) for X, _ in concise_batches] == expected_sizes
    for c_batch, s_batch in zip(concise_batches[:100], scratch_batches[:100], strict=True):
        c_loss, s_loss = concise.run_steps([c_batch]), scratch.run_steps([s_batch])
        assert float(c_loss) == pytest.approx(2 * float(s_loss), rel=1e-5)  # MSE = 2 × mean ½(ŷ−y)²
    c_before, s_before = concise.snapshot(), scratch.snapshot()
    assert torch.allclose(c_before.w, s_before.w, atol=1e-6) and torch.allclose(c_before.b, s_before.b, atol=1e-6)
    c_loss, s_loss = concise.run_steps(concise_batches[100:]), scratch.run_steps(scratch_batches[100:])
    assert float(c_loss) == pytest.approx(2 * float(s_loss), rel=1e-5)  # the loss is taken before the update
    c_update = torch.cat([concise.parameters().w - c_before.w, concise.parameters().b - c_before.b])
    s_update = torch.cat([scratch.parameters().w - s_before.w, scratch.parameters().b - s_before.b])
    assert s_update.abs().min() > 1e-4  # far above float32 rounding of parameters near 2
    assert torch.allclose(c_update, 10 / last_batch * s_update, rtol=1e-3, atol=1e-6)


def test_divergence_stops_at_the_first_non_finite_step_and_keeps_finite_parameters() -> None:
    events, result = run_with_events(RunConfig(lr=5.0))
    assert result.status == "diverged"
    assert result.diverged_at is not None
    epoch, step = result.diverged_at
    assert epoch == 1 and step == result.steps + 1
    assert all(math.isfinite(v) for v in (*result.w, result.b))
    assert "smaller learning rate, e.g. 0.5" in result.message
    assert all(math.isfinite(v) for v in step_losses(events))
    assert len(step_losses(events)) == result.steps


def test_a_fault_in_the_engine_ends_the_run_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ScratchEngine.run_steps
    calls = {"n": 0}

    def flaky(self: ScratchEngine, batches: list[object], lrs: Sequence[float] | None = None) -> torch.Tensor:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
        return original(self, batches, lrs)

    monkeypatch.setattr(ScratchEngine, "run_steps", flaky)
    result = train(RunConfig())
    assert result.status == "failed"
    assert "RuntimeError: CUDA out of memory" in result.message
    assert all(math.isfinite(v) for v in result.w)
    monkeypatch.undo()
    assert train(RunConfig()).status == "finished"


def test_optimum_is_the_least_squares_solution() -> None:
    result = train(RunConfig(num_examples=500, epochs=1))
    from linreg_tui.training.data import make_dataset, make_generator

    data = make_dataset(result.config, make_generator(result.config.seed))
    Z = torch.cat([data.features.double(), torch.ones(500, 1, dtype=torch.float64)], dim=1)
    direct = torch.linalg.lstsq(Z, data.labels.double()).solution.reshape(-1)
    assert result.optimum.w == pytest.approx(direct[:2].tolist(), abs=1e-9)
    assert result.optimum.b == pytest.approx(float(direct[2]), abs=1e-9)


def test_errors_are_true_minus_learned_the_books_sign() -> None:
    learned = replace(train(RunConfig(epochs=1)), w=(1.5, -3.0), b=5.0)  # true: w = [2, -3.4], b = 4.2
    assert learned.w_error == pytest.approx((0.5, -0.4))
    assert learned.b_error == pytest.approx(-0.8)


@pytest.mark.cuda
@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_cuda_matches_cpu(impl: str) -> None:
    cpu = train(RunConfig(impl=impl))
    gpu = train(RunConfig(impl=impl, device="cuda"))
    assert gpu.status == "finished" and gpu.device.startswith("cuda:")
    assert gpu.optimum == cpu.optimum  # the same data: drawn on the CPU, moved once
    assert gpu.w == pytest.approx(cpu.w, abs=1e-4)
    assert gpu.b == pytest.approx(cpu.b, abs=1e-4)


@pytest.mark.cuda
def test_cuda_divergence_and_cancel() -> None:
    assert train(RunConfig(device="cuda", lr=5.0)).status == "diverged"
    cancel = threading.Event()

    def stop_at_first_losses(event: TrainingEvent) -> None:
        if isinstance(event, StepLosses):
            cancel.set()

    result = train(RunConfig(device="cuda", epochs=50), stop_at_first_losses, cancel)
    assert result.status == "cancelled" and 0 < result.steps < 50 * 100
