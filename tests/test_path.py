"""What a run tells about its own landscape: the path of the tracked parameters after every step, the
initial point, the loss surface and the conditioning of the run's data, and the report's lines on them.
Each is checked against a computation written here: a plain SGD loop in float64, singular values."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.run.events import EpochEnded, RunStarted, StepLosses, TrainingEvent
from linreg_tui.run.path import TrackedPath
from linreg_tui.run.report import start_lines
from linreg_tui.training.data import initial_weights, make_dataset, make_generator
from linreg_tui.training.loop import train


def plain_sgd_path(config: RunConfig, steps: int) -> list[list[float]]:
    """θ = (w, b) before step 1 and after each of the first `steps` steps: the book's SGD written plainly
    in float64, drawing from the run's generator in the run's order (data, w, the epoch's permutation).
    concise's MSELoss has no ½, so its step is scratch's at twice the rate."""
    generator = make_generator(config.seed)
    data = make_dataset(config, generator)
    w = initial_weights(config.num_features, generator).reshape(-1).double()
    b = torch.zeros(1, dtype=torch.float64)
    order = torch.randperm(config.num_examples, generator=generator)
    lr = config.lr * (2 if config.impl == "concise" else 1)
    points = [[*w.tolist(), float(b)]]
    for start in range(0, steps * config.batch_size, config.batch_size):
        rows = order[start : start + config.batch_size]
        X, y = data.features[rows].double(), data.labels[rows, 0].double()
        residual = X @ w + b - y
        w = w - lr * (X.T @ residual) / config.batch_size
        b = b - lr * residual.sum() / config.batch_size
        points.append([*w.tolist(), float(b)])
    return points


def tracked_of(point: list[float], count: int) -> list[float]:
    return [*point[:count], point[-1]]


@pytest.mark.parametrize("impl", ["scratch", "concise", "fast"])
@pytest.mark.parametrize("true_w", [(2.0, -3.4), (1.0, -2.0, 0.5, 3.0, -1.0, 2.5)])
def test_the_path_holds_the_tracked_parameters_after_every_step(impl: str, true_w: tuple[float, ...]) -> None:
    config = RunConfig(impl=impl, true_w=true_w, num_examples=1000, epochs=2, lr=0.02)
    events: list[TrainingEvent] = []
    train(config, events.append)
    started = events[0]
    assert isinstance(started, RunStarted)
    count = min(4, len(true_w))
    path = [point for e in events if isinstance(e, StepLosses) for point in e.tracked]
    losses = [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]
    assert len(path) == len(losses) == 200 and {len(point) for point in path} == {count + 1}
    assert started.surface.names == (*(f"w{i + 1}" for i in range(count)), "b")
    plain = plain_sgd_path(config, 30)
    assert list(started.initial) == pytest.approx(tracked_of(plain[0], count), abs=1e-7)
    for step in range(30):
        assert list(path[step]) == pytest.approx(tracked_of(plain[step + 1], count), rel=1e-4, abs=1e-6)
    for ended in (e for e in events if isinstance(e, EpochEnded)):
        assert path[ended.steps - 1] == (*ended.w[:count], ended.b)  # the same numbers, not just close


def test_a_diverged_run_keeps_a_finite_path_up_to_its_last_finite_step() -> None:
    events: list[TrainingEvent] = []
    result = train(RunConfig(lr=5.0), events.append)
    path = [point for e in events if isinstance(e, StepLosses) for point in e.tracked]
    assert result.status == "diverged" and len(path) == result.steps
    assert all(math.isfinite(v) for point in path for v in point)
    assert path[-1] == (*result.w, result.b)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_the_run_reports_the_conditioning_of_its_own_data_and_loss(impl: str) -> None:
    config = RunConfig(impl=impl, num_examples=2000, scales=(1.0, 5.0), corr=0.3, epochs=1, lr=0.01)
    events: list[TrainingEvent] = []
    result = train(config, events.append)
    data = make_dataset(config, make_generator(config.seed))
    Z = torch.cat([data.features.double(), torch.ones(2000, 1, dtype=torch.float64)], dim=1) / math.sqrt(2000)
    singular = torch.linalg.svdvals(Z)  # σ² are the eigenvalues of ZᵀZ/n
    high, low = float(singular[0]) ** 2, float(singular[-1]) ** 2
    hessian_max = high * (2 if impl == "concise" else 1)  # MSELoss: 2ZᵀZ/n; ½-scaled: ZᵀZ/n
    assert result.condition_number == pytest.approx(high / low, rel=1e-6)
    assert result.max_stable_lr == pytest.approx(2 / hessian_max, rel=1e-6)
    as_json = result.as_dict()
    assert as_json["condition_number"] == result.condition_number and as_json["lr_changes"] == []
    assert as_json["max_stable_lr"] == result.max_stable_lr
    started = events[0]
    assert isinstance(started, RunStarted)
    assert started.conditioning.max_stable_lr == result.max_stable_lr
    assert started.surface.optimum == (*result.optimum.w, result.optimum.b)
    assert started.surface.truth == (*config.true_w, config.true_b)
    # The surface is the full-data loss on the engine's own scale (½·mean for scratch, mean for MSELoss),
    # here at w = (1, −2) with b held at the optimum.
    X, y = data.features.double(), data.labels[:, 0].double()
    mean_square = float((X @ torch.tensor([1.0, -2.0], dtype=torch.float64) + result.optimum.b - y).square().mean())
    scale = 1.0 if impl == "concise" else 0.5
    assert started.surface.loss(0, 1, 1.0, -2.0) == pytest.approx(scale * mean_square, rel=1e-6)


def test_the_report_states_the_bound_and_warns_only_above_it() -> None:
    def first_lines(config: RunConfig) -> list[str]:
        events: list[TrainingEvent] = []
        train(config, events.append)
        assert isinstance(events[0], RunStarted)
        return start_lines(events[0])

    config = RunConfig(num_examples=100, batch_size=100, epochs=1, scales=(1.0, 3.0))
    bound = train(config).max_stable_lr
    under, over = first_lines(replace(config, lr=0.9 * bound)), first_lines(replace(config, lr=1.1 * bound))
    line = f"largest stable lr (full-batch GD on this loss): {bound:.3g}; minibatch SGD can diverge below it"
    assert any(line in text and text.startswith("condition number of ZᵀZ/n: ") for text in under)
    assert not any("warning" in text for text in under)
    assert f"warning: lr {1.1 * bound:g} is above the largest stable lr {bound:.3g}" in "\n".join(over)


def test_a_tracked_path_reads_as_a_tuple_per_step_or_a_column_per_parameter() -> None:
    path = TrackedPath([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], width=3)
    assert len(path) == 3 and path.width == 3
    assert path[0] == (1.0, 2.0, 3.0) and path[-1] == (7.0, 8.0, 9.0)
    assert path[1:] == ((4.0, 5.0, 6.0), (7.0, 8.0, 9.0))
    assert list(path) == [(1.0, 2.0, 3.0), (4.0, 5.0, 6.0), (7.0, 8.0, 9.0)]
    assert path.column(0) == (1.0, 4.0, 7.0) and path.column(2) == (3.0, 6.0, 9.0)
    same = TrackedPath([float(v) for v in range(1, 10)], width=3)
    assert path == same and hash(path) == hash(same) and path != TrackedPath(list(range(9)), width=3)
    with pytest.raises(IndexError):
        path[3]
    with pytest.raises(ValueError, match="cannot have rows of 2"):
        TrackedPath([1.0, 2.0, 3.0], width=2)


@pytest.mark.cuda
@pytest.mark.parametrize("impl", ["scratch", "concise", "fast"])
def test_on_cuda_the_path_and_the_explained_steps_are_the_cpus(impl: str) -> None:
    from tests.test_step_mode import run_stepping

    config = RunConfig(impl=impl, epochs=1)
    paths = []
    for device in ("cpu", "cuda"):
        events: list[TrainingEvent] = []
        train(replace(config, device=device), events.append)
        paths.append([point for e in events if isinstance(e, StepLosses) for point in e.tracked])
    assert len(paths[0]) == len(paths[1]) == 100
    for cpu_point, gpu_point in zip(*paths, strict=True):
        assert gpu_point == pytest.approx(cpu_point, abs=1e-4)
    explained = []
    for device in ("cpu", "cuda"):
        events, _ = run_stepping(replace(config, device=device), steps=3)
        explained.append([e for e in events if type(e).__name__ == "StepExplained"])
    for cpu_step, gpu_step in zip(*explained, strict=True):
        assert gpu_step.indices == cpu_step.indices and gpu_step.batch_size == cpu_step.batch_size
        assert gpu_step.grad_w == pytest.approx(cpu_step.grad_w, rel=1e-4, abs=1e-5)
