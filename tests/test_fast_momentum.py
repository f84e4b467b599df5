"""The fast engine's momentum: the book's sgd_momentum scanned as affine maps of (θ, v), equal to
scratch's momentum step for step."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from linreg_tui.run import fast_memory
from linreg_tui.run.config import RunConfig
from linreg_tui.run.optimizers import scheduled_lrs
from linreg_tui.training.data import initial_weights, make_dataset, make_generator
from linreg_tui.training.engines import FastEngine, ScratchEngine
from linreg_tui.training.loop import train
from tests.test_fast import assert_same_run, learned, make, run


def sequential_momentum(config: RunConfig) -> torch.Tensor:
    """The book's sgd_momentum written plainly in float64, one step after another, on the same data,
    initial weights and minibatch order, with the schedule's learning rate for each step."""
    generator = make_generator(config.seed)
    data = make_dataset(config, generator)
    n, size, d = config.num_examples, config.batch_size, config.num_features
    Z = torch.cat([data.features.double(), torch.ones(n, 1, dtype=torch.float64)], dim=1)
    y = data.labels.double().reshape(-1)
    theta = torch.cat([initial_weights(d, generator).double().reshape(-1), torch.zeros(1, dtype=torch.float64)])
    v = torch.zeros_like(theta)
    lrs = scheduled_lrs(config, 1, config.total_steps) if config.schedule != "constant" else None
    step = 0
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=generator)
        for begin in range(0, n, size):
            rows = order[begin : begin + size]
            grad = Z[rows].T @ (Z[rows] @ theta - y[rows])
            grad[:d] += len(rows) * config.wd * theta[:d]
            v = config.momentum * v + grad / size
            theta = theta - (config.lr if lrs is None else lrs[step]) * v
            step += 1
    return theta


CASES = {
    "book, short last batch": RunConfig(num_examples=1005, epochs=3, lr=0.03),
    "d=1, batch 1": RunConfig(true_w=(3.0,), num_examples=203, batch_size=1, epochs=2, lr=0.01),
    "d=5, weight decay, cosine": RunConfig(
        true_w=(1.0, -2.0, 0.5, 4.0, -1.5), num_examples=1000, batch_size=64, epochs=4, lr=0.05, wd=0.1,
        schedule="cosine", lr_min=0.001, warmup=5,
    ),
    "one by one, weight decay, factor": RunConfig(
        true_w=(0.5,) * (fast_memory.SCAN_MAX_FEATURES + 3), num_examples=205, batch_size=10, epochs=2,
        lr=0.01, wd=0.05, schedule="factor", decay_factor=0.9, decay_every=3,
    ),
}  # fmt: skip


@pytest.mark.parametrize("config", CASES.values(), ids=CASES.keys())
def test_fast_momentum_takes_scratchs_steps(config: RunConfig) -> None:
    config = replace(config, optimizer="momentum", momentum=0.8)
    fast, fast_steps = run(replace(config, impl="fast"))
    scratch, scratch_steps = run(config)
    assert fast.status == "finished"
    assert_same_run(fast, fast_steps, scratch, scratch_steps)
    assert torch.allclose(learned(fast), sequential_momentum(config), rtol=0, atol=1e-12)
    # Not sgd's steps: the velocity changed them.
    sgd, _ = run(replace(config, impl="fast", optimizer="sgd"))
    assert max(abs(a - b) for a, b in zip(fast.w, sgd.w, strict=True)) > 1e-6


def test_one_chunk_equals_step_by_step_and_passes_with_per_step_rates(monkeypatch: pytest.MonkeyPatch) -> None:
    config = RunConfig(
        true_w=(1.0, 2.0, 3.0), num_examples=107, batch_size=10, impl="fast", optimizer="momentum", wd=0.2
    )
    whole, single, split = (make(config, FastEngine) for _ in range(3))
    monkeypatch.setattr(split, "pass_steps", 3)
    lrs = [0.03 * (1 - k / 20) for k in range(11)]
    batches = [list(engine.epoch_batches()) for engine in (whole, single, split)]
    assert len(batches[0]) == 11  # the last of 7 examples
    at_once = whole.run_steps(batches[0], lrs)
    one_by_one = torch.cat([single.run_steps([batch], [lr]) for batch, lr in zip(batches[1], lrs, strict=True)])
    in_passes = split.run_steps(batches[2], lrs)
    for other, engine in ((one_by_one, single), (in_passes, split)):
        assert torch.allclose(other, at_once, rtol=1e-6)
        assert torch.allclose(engine.theta, whole.theta, rtol=1e-12, atol=1e-12)
        assert torch.allclose(engine.velocity, whole.velocity, rtol=1e-12, atol=1e-12)
    assert torch.allclose(split.last_path(), whole.last_path(), rtol=1e-12, atol=1e-12)  # across its passes


def test_the_one_by_one_path_agrees_with_the_scan() -> None:
    config = RunConfig(true_w=(1.0, -2.0, 0.5), num_examples=95, batch_size=10, impl="fast", optimizer="momentum")
    scanned, stepped = make(config, FastEngine), make(config, FastEngine)
    stepped.scan = False
    lrs = [0.02 + 0.001 * k for k in range(10)]
    for _ in range(2):
        losses = [engine.run_steps(list(engine.epoch_batches()), lrs) for engine in (scanned, stepped)]
        assert torch.allclose(losses[0], losses[1], rtol=1e-6)
    assert torch.allclose(scanned.theta, stepped.theta, rtol=0, atol=1e-12)
    assert torch.allclose(scanned.velocity, stepped.velocity, rtol=0, atol=1e-12)


def test_a_rewind_replays_the_same_steps() -> None:
    """The loop rewinds to a checkpoint on divergence: v goes back with the parameters."""
    engine = make(RunConfig(impl="fast", optimizer="momentum"), FastEngine)
    batches = list(engine.epoch_batches())
    engine.run_steps(batches[:5])
    saved = engine.checkpoint()
    first = engine.run_steps(batches[5:10])
    theta, velocity = engine.theta.clone(), engine.velocity.clone()
    engine.run_steps(batches[10:12])  # the saved state is a copy: later steps leave it alone
    engine.rewind(saved)
    again = engine.run_steps(batches[5:10])
    assert torch.equal(again, first)
    assert torch.equal(engine.theta, theta) and torch.equal(engine.velocity, velocity)


def test_explain_step_gives_the_step_taken_and_the_velocity() -> None:
    config = RunConfig(optimizer="momentum", momentum=0.7, wd=0.1)
    fast, scratch = make(replace(config, impl="fast"), FastEngine), make(config, ScratchEngine)
    batches, scratch_batches = list(fast.epoch_batches()), list(scratch.epoch_batches())
    for step in range(3):
        before = fast.theta.clone()
        explained = fast.explain_step(batches[step], 0.02)
        scratch.run_steps([scratch_batches[step]], [0.02])
        moved = fast.theta - before
        update = torch.cat([explained.update.w, explained.update.b])
        assert torch.allclose(update, moved, rtol=1e-12, atol=1e-15)
        [(name, v)] = explained.state
        assert name == "v" and torch.equal(torch.cat([v.w, v.b]), fast.velocity)
        scratch_v = torch.cat([state[0].reshape(-1) for state in scratch.states]).double()
        assert torch.allclose(fast.velocity, scratch_v, rtol=1e-5)
    assert "0.7 * v + param.grad / batch_size" in explained.rule


def test_a_velocity_beyond_float32s_range_is_not_finite() -> None:
    """scratch's float32 v overflowing makes its parameters inf at that step."""
    engine = make(RunConfig(impl="fast", optimizer="momentum"), FastEngine)
    assert bool(engine.parameters().all_finite())
    engine.velocity[0] = 1e39
    assert not bool(engine.parameters().all_finite())


def test_the_log_says_momentum_runs_in_the_scan() -> None:
    words = make(RunConfig(impl="fast", optimizer="momentum", momentum=0.8), FastEngine).describe_loss()
    assert "momentum" in words and "0.8·v" in words and "scanned" in words
    assert "scanned" not in make(RunConfig(impl="fast"), FastEngine).describe_loss()


# Full-batch gradient descent with heavy-ball momentum is stable for lr·λmax < 2 + 2β, i.e. below
# (1 + β) times plain GD's bound (RunResult.max_stable_lr = 2/λmax).
@pytest.mark.parametrize(
    ("beta", "factor", "ends"), [(0.5, 0.995, "finished"), (0.5, 1.01, "diverged"), (0.9, 1.02, "diverged")]
)
def test_full_batch_momentum_stops_where_scratch_stops_near_its_edge(beta: float, factor: float, ends: str) -> None:
    config = RunConfig(num_examples=200, batch_size=200, epochs=3000, optimizer="momentum", momentum=beta)
    edge = (1 + beta) * train(replace(config, epochs=1)).max_stable_lr
    config = replace(config, lr=factor * edge)
    scratch, fast = train(config), train(replace(config, impl="fast"))
    assert scratch.status == ends, scratch.message  # still near the edge
    assert (fast.status, fast.diverged_at, fast.steps) == (scratch.status, scratch.diverged_at, scratch.steps)
    assert fast.w == pytest.approx(scratch.w, rel=1e-3) and fast.b == pytest.approx(scratch.b, rel=1e-3)


def test_minibatch_momentum_diverges_at_scratchs_step() -> None:
    config = RunConfig(optimizer="momentum", lr=1.0, batch_size=2)
    fast, fast_steps = run(replace(config, impl="fast"))
    scratch, scratch_steps = run(config)
    assert fast.status == scratch.status == "diverged"
    assert fast.diverged_at == scratch.diverged_at and fast.steps == scratch.steps
    assert all(math.isfinite(value) for value in (*fast.w, fast.b, *fast_steps))
    assert fast_steps == pytest.approx(scratch_steps, rel=1e-3)
