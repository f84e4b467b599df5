"""Step mode: each engine takes one step as it always does and explains it in its own rule; the
explanation is checked against the parameters' actual change and against autograd run independently
on the minibatch the explanation names."""

from __future__ import annotations

import math
import threading
from dataclasses import replace

import pytest
import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.run.events import EXPLAINED_INDICES, EpochEnded, Paused, StepExplained, StepLosses, TrainingEvent
from linreg_tui.training.data import initial_weights, make_dataset, make_generator
from linreg_tui.training.engines import Engine, make_engine
from linreg_tui.training.loop import train

IMPLS = ["scratch", "concise", "fast"]


def engine_for(config: RunConfig) -> Engine:
    generator = make_generator(config.seed)
    return make_engine(config, make_dataset(config, generator), generator)


def independent_gradient(config: RunConfig, indices: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """The gradient of the engine's minibatch loss at θ = (w, b), by autograd in float64 on rows taken
    from a fresh copy of the run's data: scratch and fast differentiate the summed ½(ŷ−y)², concise
    nn.MSELoss's mean of (ŷ−y)²."""
    data = make_dataset(config, make_generator(config.seed))
    X, y = data.features[indices].double(), data.labels[indices, 0].double()
    theta = theta.double().clone().requires_grad_(True)
    residual = X @ theta[:-1] + theta[-1] - y
    loss = (residual**2).mean() if config.impl == "concise" else (residual**2 / 2).sum()
    loss.backward()
    assert theta.grad is not None
    return theta.grad


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("true_w", "num_examples"), [((2.0, -3.4), 1000), ((1.0, -2.0, 0.5, 3.0, -1.0, 2.5), 205)])
def test_the_explained_step_is_the_step_taken_and_its_gradient_is_autograds(
    impl: str, true_w: tuple[float, ...], num_examples: int
) -> None:
    """Three steps into the epoch, then the short last one (205 = 20 × 10 + 5)."""
    config = RunConfig(impl=impl, true_w=true_w, num_examples=num_examples, lr=0.05, noise=1.0)
    engine = engine_for(config)
    batches = engine.epoch_batches()
    steps = [0, 1, 2] if num_examples == 1000 else [0, 1, 20]
    data = make_dataset(config, make_generator(config.seed))
    for position, batch in enumerate(batches):
        if position not in steps:
            engine.run_steps([batch])
            continue
        before = engine.snapshot()
        theta = torch.cat([before.w, before.b])
        explained = engine.explain_step(batch)
        after = engine.parameters()
        size = 5 if position == 20 else 10
        assert explained.indices.numel() == size
        if impl != "fast":  # the minibatch the book's iterator handed out holds the rows the indices name
            X, y = batch
            assert torch.equal(X.cpu(), data.features[explained.indices])
            assert torch.equal(y.cpu(), data.labels[explained.indices])
        grad = torch.cat([explained.grad.w, explained.grad.b]).double()
        assert torch.allclose(grad, independent_gradient(config, explained.indices.cpu(), theta), rtol=1e-4, atol=1e-5)
        update = torch.cat([explained.update.w, explained.update.b]).double()
        change = torch.cat([after.w - before.w, after.b - before.b]).double()
        assert change.abs().max() > 1e-3  # far above float32 rounding of the parameters
        assert torch.allclose(update, change, rtol=1e-4, atol=1e-6)
        # The rule in numbers: scratch and fast divide by the nominal batch size (also for the short
        # batch), concise's gradient is already a mean.
        expected = -config.lr * grad if impl == "concise" else -config.lr * grad / config.batch_size
        assert torch.allclose(update, expected, rtol=1e-6, atol=1e-9)
        if position == steps[-1]:
            break


def run_stepping(config: RunConfig, steps: int) -> tuple[list[TrainingEvent], object]:
    """Start paused, then take `steps` single steps, each asked for when the run says it is paused."""
    control = RunControl(paused=True)
    events: list[TrainingEvent] = []

    def on_event(event: TrainingEvent) -> None:
        events.append(event)
        if isinstance(event, Paused):
            if sum(isinstance(e, Paused) for e in events) <= steps:
                control.step()
            else:
                control.stop()

    return events, train(config, on_event, threading.Event(), control)


@pytest.mark.parametrize("impl", IMPLS)
def test_stepping_from_idle_takes_one_explained_step_per_request_across_an_epoch(impl: str) -> None:
    """25 examples, batch 10: steps 1-3 are epoch 1 (the third holds 5 examples), step 4 starts epoch 2."""
    config = RunConfig(impl=impl, num_examples=25, lr=0.05)
    events, result = run_stepping(config, steps=4)
    assert result.status == "cancelled" and result.steps == 4
    kinds = [type(e).__name__ for e in events]
    assert kinds[:2] == ["RunStarted", "Paused"]  # nothing is trained before the first request
    paused = [e for e in events if isinstance(e, Paused)]
    assert [(e.epoch, e.step) for e in paused] == [(1, 0), (1, 1), (1, 2), (2, 3), (2, 4)]
    losses = [e for e in events if isinstance(e, StepLosses)]
    assert [(e.first_step, len(e.losses)) for e in losses] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    explained = [e for e in events if isinstance(e, StepExplained)]
    assert [(e.epoch, e.step, e.batch_size) for e in explained] == [(1, 1, 10), (1, 2, 10), (1, 3, 5), (2, 4, 10)]
    [epoch_1] = [e for e in events if isinstance(e, EpochEnded)]
    # The epoch ends at its last step, before the run pauses: the book's line does not wait for a request.
    assert events.index(explained[2]) < events.index(epoch_1) < events.index(paused[3])
    # Each explained update is the move of the path, from the parameters before the first step.
    start = events[0].initial  # type: ignore[union-attr]
    points = [start, *(p for e in losses for p in e.tracked)]
    for event, before, after in zip(explained, points[:-1], points[1:], strict=True):
        change = [a - b for a, b in zip(after, before, strict=True)]
        assert change == pytest.approx([*event.update_w, event.update_b], rel=1e-4, abs=1e-7)
        assert len(event.indices) == min(EXPLAINED_INDICES, event.batch_size) and len(set(event.indices)) == len(
            event.indices
        )
        assert event.lr == config.lr
    assert [e.loss for e in explained] == [e.losses[0] for e in losses]
    if impl == "concise":
        assert "net[0].weight.grad" in explained[0].rule and "trainer.step()" in explained[0].rule
    else:
        assert "param -= lr * param.grad / batch_size" in explained[0].rule


def test_step_mode_with_many_features_explains_the_tracked_ones() -> None:
    """Batch 8: the event names the whole minibatch, so autograd can check its numbers from scratch."""
    config = RunConfig(true_w=tuple(float(i) for i in range(7)), num_examples=100, batch_size=8)
    events, _ = run_stepping(config, steps=1)
    [explained] = [e for e in events if isinstance(e, StepExplained)]
    generator = make_generator(config.seed)
    make_dataset(config, generator)
    theta = torch.cat([initial_weights(7, generator).reshape(-1), torch.zeros(1)])  # w ~ N(0, 0.01²), b = 0
    grad = independent_gradient(config, torch.tensor(explained.indices), theta)
    assert explained.batch_size == len(explained.indices) == 8
    assert explained.grad_w == pytest.approx(grad[:4].tolist(), rel=1e-5)  # w1..w4; b on its own
    assert explained.grad_b == pytest.approx(float(grad[-1]), rel=1e-5)
    assert explained.update_w == pytest.approx((-config.lr / 8 * grad[:4]).tolist(), rel=1e-5)


def test_an_explained_step_that_diverges_stops_the_run_before_it_with_finite_parameters() -> None:
    config = RunConfig(lr=5.0)  # the book's data: a step's loss overflows within epoch 1
    events, result = run_stepping(config, steps=300)
    assert result.status == "diverged"  # type: ignore[attr-defined]
    assert result.diverged_at[1] == result.steps + 1 and "at step" in result.message  # type: ignore[attr-defined]
    explained = [e for e in events if isinstance(e, StepExplained)]
    assert len(explained) == result.steps and all(math.isfinite(e.loss) for e in explained)  # type: ignore[attr-defined]
    assert all(map(math.isfinite, (*result.w, result.b)))  # type: ignore[attr-defined]


def test_replaying_a_stepped_run_without_steps_gives_the_same_parameters() -> None:
    """Step mode takes the book's step (run_steps) and only explains it: three stepped steps and then
    a resume end where an uncontrolled run ends, bit for bit."""
    config = RunConfig(epochs=2)
    control = RunControl(paused=True)
    stepped = 0

    def on_event(event: TrainingEvent) -> None:
        nonlocal stepped
        if isinstance(event, Paused):
            stepped += 1
            control.step() if stepped <= 3 else control.resume()

    result = train(config, on_event, control=control)
    plain = train(replace(config))
    assert result.steps == plain.steps == 200
    assert (result.w, result.b) == (plain.w, plain.b)
