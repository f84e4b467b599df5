"""The fast engine: scratch's SGD computed by a parallel scan, equal to scratch step for step."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
import torch

from linreg_tui.commands.main import main
from linreg_tui.run import fast_memory
from linreg_tui.run.config import RunConfig
from linreg_tui.run.events import EpochEnded, StepLosses, TrainingEvent
from linreg_tui.run.memory import estimate_memory
from linreg_tui.run.result import RunResult
from linreg_tui.training.data import initial_weights, make_dataset, make_generator
from linreg_tui.training.engines import FastEngine, ScratchEngine
from linreg_tui.training.engines.fast import prefix_scan
from linreg_tui.training.loop import SetupCancelled, train


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


def test_prefix_scan_gives_the_state_after_every_map_applied_one_after_another() -> None:
    """Checked against applying θ ← Aθ + c to a vector map by map, not against `compose` itself."""
    generator = torch.Generator().manual_seed(1)
    for count in (1, 2, 3, 7, 8, 33):
        maps = torch.randn(count, 3, 4, dtype=torch.float64, generator=generator) * 0.5
        theta0 = torch.randn(3, dtype=torch.float64, generator=generator)
        prefixes = prefix_scan(maps)
        theta = theta0
        for k in range(count):
            theta = maps[k, :, :3] @ theta + maps[k, :, 3]
            after = prefixes[k, :, :3] @ theta0 + prefixes[k, :, 3]
            assert torch.allclose(after, theta, rtol=1e-12, atol=1e-14), (count, k)


@pytest.mark.parametrize(
    ("true_w", "num_examples", "batch_size", "epochs"),
    [
        ((3.0,), 203, 1, 2),  # d = 1, batch 1
        ((2.0, -3.4), 1005, 10, 3),  # the book's setting with a short last batch of 5
        ((1.0, -2.0, 0.5, 4.0, -1.5), 1000, 64, 4),  # d = 5, last batch 40 of 64
        ((1.0, -2.0, 0.5, 4.0, -1.5), 300, 10, 2),
        ((0.5,) * (fast_memory.SCAN_MAX_FEATURES + 3), 205, 10, 2),  # many features: one step at a time
    ],
)
def test_fast_equals_scratch(true_w: tuple[float, ...], num_examples: int, batch_size: int, epochs: int) -> None:
    config = RunConfig(true_w=true_w, num_examples=num_examples, batch_size=batch_size, epochs=epochs, lr=0.03)
    fast, fast_steps = run(replace(config, impl="fast"))
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


# Near the stability limit the parameters grow by a few percent a step, so where a run stops depends on
# float32's range: scratch squares each residual in float32. Per case, learning rates found by bisection
# on this data (400 examples, 1 epoch): just below the limit (scratch finishes), just above it (the
# full-data loss, a sum over all 400 examples, overflows at the end of the epoch), and 1-3% above (a
# step's loss overflows first; fast summing ½r² in float64, as it did, stopped 7 to 17 steps later).
TRUE_W = {1: (3.0,), 2: (2.0, -3.4), 5: (1.0, -2.0, 0.5, 4.0, -1.5)}
NEAR_THE_LIMIT = [
    # features, batch size, seed, learning rates
    (1, 1, 0, (1.2327, 1.2377, 1.2475)),
    (1, 2, 0, (1.9264, 1.9341, 1.9495)),
    (2, 1, 2, (0.8312, 0.8346, 0.8495)),
    (2, 2, 0, (1.3125, 1.3178, 1.3546)),
    (5, 1, 2, (0.4114, 0.4131, 0.4205)),
    (5, 2, 1, (0.8023, 0.8055, 0.8119)),
]


@pytest.mark.parametrize(("num_features", "batch_size", "seed", "lrs"), NEAR_THE_LIMIT)
def test_fast_stops_where_scratch_stops_near_the_stability_limit(
    num_features: int, batch_size: int, seed: int, lrs: tuple[float, float, float]
) -> None:
    for lr, ends in zip(lrs, ("finished", "at the end of the epoch", "at step"), strict=True):
        config = RunConfig(
            true_w=TRUE_W[num_features], num_examples=400, epochs=1, batch_size=batch_size, seed=seed, lr=lr
        )
        scratch, fast = train(config), train(replace(config, impl="fast"))
        assert ends in f"{scratch.status} {scratch.message}", (lr, scratch.message)  # still near the limit
        assert (fast.status, fast.diverged_at, fast.steps) == (scratch.status, scratch.diverged_at, scratch.steps)
        # The last finite parameters are large (about 1e18) and agree to float32's rounding, amplified.
        assert fast.w == pytest.approx(scratch.w, rel=1e-3) and fast.b == pytest.approx(scratch.b, rel=1e-3)


def test_fast_stops_at_scratchs_step_in_the_issues_example() -> None:
    """`--lr 0.7 --seed 0 --batch-size 1`: float64 ½r² made fast stop 9 steps later (972 against 963)."""
    config = RunConfig(lr=0.7, seed=0, batch_size=1)
    scratch, fast = train(config), train(replace(config, impl="fast"))
    assert scratch.diverged_at == fast.diverged_at == (1, 963)
    assert fast.w == pytest.approx(scratch.w, rel=1e-3) and fast.b == pytest.approx(scratch.b, rel=1e-3)


@pytest.mark.parametrize(
    ("index", "value", "finite"),
    [(0, 3e38, True), (0, 1e39, False), (-1, -1e39, False)],
    ids=["w1-3e38-holds", "w1-1e39-overflows", "b-minus-1e39-overflows"],
)
def test_a_parameter_beyond_float32s_range_is_not_finite(index: int, value: float, finite: bool) -> None:
    """scratch's parameters are float32: there 1e39 is inf, and its run would have stopped (w or b)."""
    engine = make(RunConfig(impl="fast"), FastEngine)
    engine.theta[index] = value
    assert bool(engine.parameters().all_finite()) is finite


def sequential_float64(config: RunConfig) -> torch.Tensor:
    """The book's SGD written plainly, one step after another in float64, on the same data, initial
    weights and minibatch order (one seeded generator: the data, then w, then one permutation per epoch)."""
    generator = make_generator(config.seed)
    data = make_dataset(config, generator)
    n, size = config.num_examples, config.batch_size
    Z = torch.cat([data.features.double(), torch.ones(n, 1, dtype=torch.float64)], dim=1)
    y = data.labels.double().reshape(-1)
    theta = torch.cat([initial_weights(config.num_features, generator).double().reshape(-1), torch.zeros(1)])
    theta = theta.double()
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator)
        for begin in range(0, n, size):
            rows = order[begin : begin + size]
            theta -= config.lr / size * (Z[rows].T @ (Z[rows] @ theta - y[rows]))
    return theta


def learned(result: RunResult) -> torch.Tensor:
    return torch.tensor([*result.w, result.b], dtype=torch.float64)


def test_a_long_scan_equals_a_sequential_float64_loop() -> None:
    """8,192 steps in one pass of the scan (one epoch at batch 1, handed over as one chunk)."""
    config = RunConfig(num_examples=8192, batch_size=1, epochs=1, impl="fast")
    engine = make(config, FastEngine)
    batches = list(engine.epoch_batches())
    assert len(batches) == 8192 <= engine.pass_steps
    engine.run_steps(batches)
    theta = torch.cat([engine.parameters().w, engine.parameters().b])
    assert torch.allclose(theta, sequential_float64(config), rtol=0, atol=1e-12)


@pytest.mark.parametrize("num_features", [fast_memory.SCAN_MAX_FEATURES, fast_memory.SCAN_MAX_FEATURES + 1])
def test_on_both_sides_of_the_switch_from_scan_to_one_by_one(num_features: int) -> None:
    config = RunConfig(true_w=(0.5, -1.0) * 16 + (2.0,) * (num_features - 32), num_examples=400, batch_size=8)
    assert make(replace(config, impl="fast"), FastEngine).scan == (num_features <= fast_memory.SCAN_MAX_FEATURES)
    fast, fast_steps = run(replace(config, impl="fast", lr=0.01))
    scratch, scratch_steps = run(replace(config, lr=0.01))
    assert fast.status == "finished"
    assert_same_run(fast, fast_steps, scratch, scratch_steps)
    assert torch.allclose(learned(fast), sequential_float64(replace(config, lr=0.01)), rtol=0, atol=1e-12)


def epochs_of_steps(engine: FastEngine | ScratchEngine, epochs: int) -> list[float]:
    """Each epoch handed to the engine as one chunk; the minibatch losses."""
    return [loss for _ in range(epochs) for loss in engine.run_steps(list(engine.epoch_batches())).tolist()]


def test_a_thousand_features() -> None:
    """The most the form allows: one step at a time, each a 1,001-vector update. (The engines directly:
    train()'s closed-form optimum takes seconds at d = 1,000.)"""
    config = RunConfig(true_w=(0.5, -0.25) * 500, num_examples=1200, batch_size=100, lr=0.05, epochs=2)
    fast, scratch = make(replace(config, impl="fast"), FastEngine), make(config, ScratchEngine)
    assert not fast.scan
    fast_steps, scratch_steps = epochs_of_steps(fast, 2), epochs_of_steps(scratch, 2)
    assert len(fast_steps) == 24 and fast_steps == pytest.approx(scratch_steps, rel=1e-4)
    assert fast_steps[-1] < fast_steps[0] / 2  # it learns
    theta = torch.cat([fast.parameters().w, fast.parameters().b])
    assert torch.allclose(theta.float(), torch.cat([scratch.parameters().w, scratch.parameters().b]), atol=1e-5)
    assert torch.allclose(theta, sequential_float64(config), rtol=0, atol=1e-12)


def test_batch_size_n_takes_one_full_batch_step_per_epoch() -> None:
    config = RunConfig(num_examples=50, batch_size=50, epochs=20, lr=0.3)
    fast, fast_steps = run(replace(config, impl="fast"))
    scratch, scratch_steps = run(config)
    assert fast.status == "finished" and fast.steps == 20
    assert_same_run(fast, fast_steps, scratch, scratch_steps)
    assert torch.allclose(learned(fast), sequential_float64(config), rtol=0, atol=1e-12)
    # Each step sees all the data at the parameters the last epoch ended with: its loss is that epoch's.
    assert fast_steps[1:] == pytest.approx(list(fast.epoch_losses[:-1]), rel=1e-5)


def peak_bytes_allocated(action: Callable[[], object]) -> int:
    """The most bytes `action` holds at once in CPU allocations made while it runs: torch's profiler
    records every allocation and free of the CPU allocator, with its time (tracemalloc sees none).
    (torch.autograd's profiler: torch.profiler's wrapper of it takes seconds to start.)"""
    with torch.autograd.profiler.profile(profile_memory=True) as recorded:
        action()
    events = [e for e in recorded.kineto_results.events() if e.name() == "[memory]"]
    live = peak = 0
    for event in sorted(events, key=lambda e: e.start_ns()):
        if event.device_type() == torch.autograd.DeviceType.CPU:
            live += event.nbytes()
            peak = max(peak, live)
    return peak


@pytest.mark.parametrize(
    ("num_features", "batch_size", "steps", "optimizer"),
    [
        (1, 1, 2048, "sgd"),  # the scan's maps make the peak
        (32, 1, 256, "sgd"),  # the largest maps that are scanned
        (5, 64, 256, "sgd"),  # the float32 gather of X beside Zy
        (2, 64, 256, "sgd"),  # the residuals with their float32 squares
        (33, 4, 256, "sgd"),  # one by one: [θ; −1] with the residuals
        (1000, 10, 8, "sgd"),  # one by one: the gather
        (1, 1, 2048, "momentum"),  # momentum's maps of [θ; v], 2D×(2D+1)
        (32, 1, 128, "momentum"),  # the largest of them
        (5, 64, 256, "momentum"),  # maps four times sgd's outgrow the gather
        (33, 4, 256, "momentum"),  # one by one: v is one vector
    ],
)
def test_a_pass_allocates_what_the_memory_model_says(
    num_features: int, batch_size: int, steps: int, optimizer: str
) -> None:
    """Measured, not recomputed: a buffer added to the pass (or dropped) without the model moves the peak."""
    config = RunConfig(
        true_w=(1.0,) * num_features, num_examples=steps * batch_size, batch_size=batch_size, optimizer=optimizer
    )
    engine = make(replace(config, impl="fast"), FastEngine)
    batches = list(engine.epoch_batches())
    assert len(batches) == steps <= engine.pass_steps  # one pass
    measured = peak_bytes_allocated(lambda: engine.run_steps(batches))
    # The chunk's path (the tracked parameters after each step) is held beside the pass, like its losses.
    model = steps * fast_memory.step_bytes(num_features, batch_size, optimizer) + engine.last_path().nbytes
    assert 0.97 * model <= measured <= model + 1024, (measured, model)  # 1 KiB: a few 0-d tensors


@pytest.mark.parametrize("optimizer", ["sgd", "momentum"])
@pytest.mark.parametrize(
    ("num_examples", "pass_bytes"),
    [(100, fast_memory.PASS_BYTES), (20_000, fast_memory.PASS_BYTES), (20_000, 64 << 10)],
)
def test_the_memory_estimate_covers_what_a_fast_epoch_allocates(
    num_examples: int, pass_bytes: int, optimizer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An epoch of 10, then 2,000 steps in one pass, then 2,000 steps in passes of 64 KiB."""
    monkeypatch.setattr(fast_memory, "PASS_BYTES", pass_bytes)
    config = RunConfig(num_examples=num_examples, impl="fast", optimizer=optimizer)
    engine = make(config, FastEngine)
    batches = list(engine.epoch_batches())
    measured = peak_bytes_allocated(lambda: engine.run_steps(batches))
    extra = (
        estimate_memory(config, False).host_bytes - estimate_memory(replace(config, impl="scratch"), False).host_bytes
    )
    # Beyond one pass, a chunk keeps each pass's float32 losses until it concatenates them, and its path
    # (the tracked parameters after each step); 1 KiB: 0-d tensors.
    assert measured <= extra + 4 * len(batches) + engine.last_path().nbytes + 1024, (measured, extra)
    assert extra <= 1.1 * measured, (measured, extra)
    assert fast_memory.pass_steps(2, 10**8) == 1  # a pass takes at least one step, however large


def test_the_memory_model_keeps_the_estimate_free_of_torch() -> None:
    """run.memory's estimate uses the engine's model; neither may import torch (--help stays instant)."""
    code = (
        "import sys\n"
        "from linreg_tui.run.config import RunConfig\n"
        "from linreg_tui.run.memory import estimate_memory\n"
        "estimate_memory(RunConfig(impl='fast'), on_cuda=False)\n"
        "assert 'torch' not in sys.modules and 'linreg_tui.run.fast_memory' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.cuda
def test_cuda_fast_equals_cpu_scratch_and_fits_its_estimate() -> None:
    cpu, cpu_steps = run(RunConfig(num_examples=1005, epochs=3))
    gpu, gpu_steps = run(RunConfig(num_examples=1005, epochs=3, impl="fast", device="cuda"))
    assert gpu.device.startswith("cuda:")
    assert_same_run(gpu, gpu_steps, cpu, cpu_steps)
    # After a first run: cuBLAS's workspace, allocated once and kept, belongs to no run.
    big = RunConfig(num_examples=2_000_000, impl="fast", device="cuda", epochs=1)
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    result = train(big)
    assert result.status == "finished" and result.gap_to_optimum < 0.01
    assert torch.cuda.max_memory_allocated() - before <= estimate_memory(big, on_cuda=True).device_bytes
    # One pass on the device, against the memory model (measured on the CPU by the tests above).
    config = RunConfig(num_examples=512 * 64, batch_size=64, true_w=(1.0,) * 5, impl="fast", device="cuda")
    generator = make_generator(config.seed)
    engine = FastEngine(make_dataset(config, generator).to(torch.device("cuda")), config, generator)
    batches = list(engine.epoch_batches())
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    engine.run_steps(batches)
    torch.cuda.synchronize()
    assert torch.cuda.max_memory_allocated() - before <= 512 * fast_memory.step_bytes(5, 64) + (64 << 10)
    assert train(RunConfig(impl="fast", device="cuda", lr=5.0)).diverged_at == train(RunConfig(lr=5.0)).diverged_at
