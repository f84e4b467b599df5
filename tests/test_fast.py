"""The fast engine: scratch's SGD computed by a parallel scan, equal to scratch step for step."""

from __future__ import annotations

import math
import threading

import pytest
import torch

from linreg_tui.cli import main
from linreg_tui.config import FAST_SCAN_MAX_FEATURES, RunConfig, estimate_memory, fast_pass_steps, fast_step_bytes
from linreg_tui.data import make_dataset, make_generator
from linreg_tui.engines import ENGINES, FastEngine, ScratchEngine
from linreg_tui.engines.fast import compose, prefix_scan
from linreg_tui.results import RunResult
from linreg_tui.training import EpochEnded, SetupCancelled, StepLosses, TrainingEvent, train


def run(config: RunConfig, cancel: threading.Event | None = None) -> tuple[RunResult, list[float]]:
    events: list[TrainingEvent] = []
    result = train(config, events.append, cancel)
    return result, [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]


def assert_same_run(fast: RunResult, fast_steps: list[float], scratch: RunResult, scratch_steps: list[float]) -> None:
    assert fast.status == scratch.status
    assert fast.steps == scratch.steps == len(fast_steps) == len(scratch_steps)
    assert fast.w == pytest.approx(scratch.w, abs=1e-5)
    assert fast.b == pytest.approx(scratch.b, abs=1e-5)
    for f, s in zip(fast_steps, scratch_steps, strict=True):
        assert f == pytest.approx(s, rel=1e-4, abs=1e-7)
    assert fast.epoch_losses == pytest.approx(scratch.epoch_losses, rel=1e-4, abs=1e-8)


def test_fast_is_registered() -> None:
    assert ENGINES["fast"] is FastEngine


def test_prefix_scan_equals_composing_one_map_after_another() -> None:
    generator = torch.Generator().manual_seed(1)
    for count in (1, 2, 3, 7, 8, 33):
        maps = torch.randn(count, 3, 4, dtype=torch.float64, generator=generator) * 0.5
        expected = [maps[0]]
        for k in range(1, count):
            expected.append(compose(maps[k], expected[-1]))
        assert torch.allclose(prefix_scan(maps), torch.stack(expected), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("true_w", "num_examples", "batch_size", "epochs"),
    [
        ((3.0,), 203, 1, 2),  # d = 1, batch 1
        ((2.0, -3.4), 1005, 10, 3),  # the book's setting with a short last batch of 5
        ((1.0, -2.0, 0.5, 4.0, -1.5), 1000, 64, 4),  # d = 5, last batch 40 of 64
        ((1.0, -2.0, 0.5, 4.0, -1.5), 300, 10, 2),
        ((0.5,) * (FAST_SCAN_MAX_FEATURES + 3), 205, 10, 2),  # many features: one step at a time
    ],
)
def test_fast_equals_scratch(true_w: tuple[float, ...], num_examples: int, batch_size: int, epochs: int) -> None:
    config = RunConfig(true_w=true_w, num_examples=num_examples, batch_size=batch_size, epochs=epochs, lr=0.03)
    fast, fast_steps = run(RunConfig(**{**config.as_dict(), "true_w": true_w, "impl": "fast"}))
    scratch, scratch_steps = run(config)
    assert fast.status == "finished"
    assert_same_run(fast, fast_steps, scratch, scratch_steps)


def test_book_defaults_learn_the_true_parameters() -> None:
    result = train(RunConfig(impl="fast"))
    assert result.status == "finished" and result.steps == 300
    assert max(abs(e) for e in result.w_error) < 0.01 and abs(result.b_error) < 0.01
    assert result.gap_to_optimum < 0.01


def make(config: RunConfig, engine: type) -> FastEngine | ScratchEngine:
    generator = make_generator(config.seed)
    return engine(make_dataset(config, generator), config, generator)


def test_one_step_at_a_time_and_in_several_passes_equal_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loop replays a chunk step by step after a non-finite value; passes bound the memory."""
    config = RunConfig(true_w=(1.0, 2.0, 3.0), num_examples=107, batch_size=10, impl="fast")
    whole, single = make(config, FastEngine), make(config, FastEngine)
    split = make(config, FastEngine)
    monkeypatch.setattr(split, "pass_steps", 3)
    batches = {name: list(engine.epoch_batches()) for name, engine in (("w", whole), ("s", single), ("p", split))}
    assert len(batches["w"]) == 11
    at_once = whole.run_steps(batches["w"])
    one_by_one = torch.cat([single.run_steps([batch]) for batch in batches["s"]])
    in_passes = split.run_steps(batches["p"])
    for other, engine in ((one_by_one, single), (in_passes, split)):
        assert torch.allclose(other, at_once, rtol=1e-6)
        assert torch.allclose(engine.parameters().w, whole.parameters().w, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="consecutive"):
        whole.run_steps([batches["w"][0], batches["w"][2]])


def test_parameters_are_live_views_that_snapshot_and_restore() -> None:
    engine = make(RunConfig(impl="fast"), FastEngine)
    start = engine.snapshot()
    engine.run_steps(list(engine.epoch_batches())[:5])
    assert not torch.equal(engine.parameters().w, start.w)
    engine.restore(start)
    assert torch.equal(engine.parameters().w, start.w) and torch.equal(engine.parameters().b, start.b)
    assert engine.parameters().w.shape == (2,) and engine.parameters().b.shape == (1,)


def test_divergence_is_found_at_scratchs_step_with_finite_parameters_kept() -> None:
    fast, fast_steps = run(RunConfig(impl="fast", lr=5.0))
    scratch, scratch_steps = run(RunConfig(lr=5.0))
    assert fast.status == scratch.status == "diverged"
    assert fast.diverged_at == scratch.diverged_at and fast.steps == scratch.steps
    assert all(math.isfinite(v) for v in (*fast.w, fast.b, *fast_steps))
    assert fast_steps == pytest.approx(scratch_steps, rel=1e-4)
    assert fast.w == pytest.approx(scratch.w, rel=1e-4)


def test_cancel_stops_between_chunks() -> None:
    cancel = threading.Event()
    seen: list[TrainingEvent] = []

    def on_event(event: TrainingEvent) -> None:
        seen.append(event)
        if isinstance(event, StepLosses):
            cancel.set()

    config = RunConfig(impl="fast", num_examples=20_000, epochs=20)
    result = train(config, on_event, cancel)
    assert result.status == "cancelled" and "cancelled in epoch 1" in result.message
    assert 0 < result.steps < config.total_steps
    assert not any(isinstance(e, EpochEnded) for e in seen)
    assert all(math.isfinite(v) for v in result.w)
    cancel = threading.Event()
    cancel.set()  # set before the first step: the set-up stops, and nothing is trained
    with pytest.raises(SetupCancelled):
        train(RunConfig(impl="fast"), cancel=cancel)


def test_headless_cli_runs_fast(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--impl", "fast", "--num-examples", "1005"]) == 0
    out = capsys.readouterr().out
    assert "linreg-tui · fast · cpu" in out and "epoch 3, loss 0.0" in out and "finished: 303 steps" in out


def test_memory_estimate_counts_one_pass_of_the_scan() -> None:
    big = RunConfig(num_examples=10**7)
    fast, scratch = estimate_memory(_as(big, "fast"), on_cuda=True), estimate_memory(big, on_cuda=True)
    extra = fast.device_bytes - scratch.device_bytes
    assert extra == fast_pass_steps(2, 10) * fast_step_bytes(2, 10) <= 64 << 20
    # A pass never spans epochs, and always takes at least one step, however large.
    small = RunConfig(num_examples=100, batch_size=10)
    assert estimate_memory(_as(small, "fast"), False).host_bytes - estimate_memory(small, False).host_bytes == (
        10 * fast_step_bytes(2, 10)
    )
    assert fast_pass_steps(2, 10**8) == 1


def _as(config: RunConfig, impl: str) -> RunConfig:
    return RunConfig(**{**config.as_dict(), "true_w": config.true_w, "impl": impl})


@pytest.mark.cuda
def test_cuda_fast_equals_cpu_scratch_and_fits_its_estimate() -> None:
    cpu, cpu_steps = run(RunConfig(num_examples=1005, epochs=3))
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    gpu, gpu_steps = run(RunConfig(num_examples=1005, epochs=3, impl="fast", device="cuda"))
    assert gpu.device.startswith("cuda:")
    assert_same_run(gpu, gpu_steps, cpu, cpu_steps)
    big = RunConfig(num_examples=2_000_000, impl="fast", device="cuda", epochs=1)
    torch.cuda.reset_peak_memory_stats()
    result = train(big)
    assert result.status == "finished" and result.gap_to_optimum < 0.01
    assert torch.cuda.max_memory_allocated() - before <= estimate_memory(big, on_cuda=True).device_bytes
    assert train(RunConfig(impl="fast", device="cuda", lr=5.0)).diverged_at == train(RunConfig(lr=5.0)).diverged_at
