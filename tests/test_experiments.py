"""The rest of the chapter (issue 10): a validation set, weight decay, initialisation, other losses,
concise's reduction, the outlier, and what each refuses."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
import torch

from linreg_tui.commands.main import main
from linreg_tui.run.config import ConfigError, RunConfig, parse_config
from linreg_tui.run.events import EpochEnded, RunStarted, StepLosses, TrainingEvent
from linreg_tui.run.memory import estimate_memory
from linreg_tui.run.result import RunResult
from linreg_tui.training.data import make_dataset, make_generator
from linreg_tui.training.engines import make_engine
from linreg_tui.training.loop import train

#: The book's weight-decay section: d = 200, 20 training and 100 validation examples, batch 5.
BOOK_WEIGHT_DECAY = RunConfig(
    true_w=(0.01,) * 200,
    true_b=0.05,
    noise=0.01,
    num_examples=20,
    val=100,
    batch_size=5,
    init_std=1.0,
    lr=0.003,
    epochs=100,
)


def run_with_events(config: RunConfig) -> tuple[list[TrainingEvent], RunResult]:
    events: list[TrainingEvent] = []
    return events, train(config, events.append)


def step_losses(events: list[TrainingEvent]) -> list[float]:
    return [loss for event in events if isinstance(event, StepLosses) for loss in event.losses]


def test_weight_decay_cures_the_books_overfitting() -> None:
    """λ = 0: the 20 training examples are fitted (the book: ~1e-5) while the validation loss stays
    large (the book: ~1e2). λ = 3: both small, and the weights much shorter."""
    events, overfit = run_with_events(BOOK_WEIGHT_DECAY)
    cured = train(RunConfig(**{**BOOK_WEIGHT_DECAY.__dict__, "wd": 3.0}))
    assert overfit.status == cured.status == "finished"
    assert overfit.epoch_losses[-1] < 1e-3 and overfit.val_losses[-1] > 1
    assert cured.epoch_losses[-1] < 1e-1 and cured.val_losses[-1] < 1
    assert cured.w_norm < overfit.w_norm / 10
    assert len(overfit.val_losses) == 100
    epoch_ends = [event.val_loss for event in events if isinstance(event, EpochEnded)]
    assert epoch_ends == overfit.val_losses


@pytest.mark.parametrize("num_features", [3, 40])  # the scan, and one step at a time beyond 32 features
def test_fast_weight_decay_takes_scratchs_steps(num_features: int) -> None:
    """The penalty in fast's affine maps, A = I − (lr/B)(ZᵀZ + mλP), also for a short last minibatch."""
    config = RunConfig(true_w=(0.5,) * num_features, num_examples=23, batch_size=5, wd=0.7, lr=0.05, epochs=4)
    scratch_events, scratch = run_with_events(config)
    fast_events, fast = run_with_events(RunConfig(**{**config.__dict__, "impl": "fast"}))
    assert step_losses(fast_events) == pytest.approx(step_losses(scratch_events), rel=1e-5, abs=1e-7)
    assert fast.w == pytest.approx(scratch.w, abs=1e-5)
    assert fast.b == pytest.approx(scratch.b, abs=1e-5)


def test_concise_weight_decay_is_scratchs_at_twice_the_lr_and_half_the_lambda() -> None:
    """The book's two implementations: MSELoss has no ½, so concise(η, λ) takes scratch(2η, λ/2)'s steps
    (torch's weight_decay adds λw to a gradient that is twice scratch's)."""
    shared = {"true_w": (1.0, -2.0, 0.5), "num_examples": 100, "epochs": 2}
    concise_events, concise = run_with_events(RunConfig(**shared, impl="concise", lr=0.02, wd=0.4))
    scratch_events, scratch = run_with_events(RunConfig(**shared, impl="scratch", lr=0.04, wd=0.2))
    for c, s in zip(step_losses(concise_events), step_losses(scratch_events), strict=True):
        assert c == pytest.approx(2 * s, rel=1e-4, abs=1e-9)
    assert concise.w == pytest.approx(scratch.w, abs=1e-6)
    assert concise.b == pytest.approx(scratch.b, abs=1e-6)


def test_concise_sum_reduction_at_lr_over_batch_size_takes_the_means_steps() -> None:
    shared = {"impl": "concise", "num_examples": 200, "batch_size": 10, "epochs": 2}
    mean_events, mean = run_with_events(RunConfig(**shared, lr=0.03))
    sum_events, summed = run_with_events(RunConfig(**shared, lr=0.003, reduction="sum"))
    assert step_losses(sum_events) == pytest.approx(step_losses(mean_events), rel=1e-4, abs=1e-9)
    assert summed.w == pytest.approx(mean.w, abs=1e-6)
    assert summed.b == pytest.approx(mean.b, abs=1e-6)
    # Summing a minibatch of 10 makes the loss 10 times as curved: the stability bound is a tenth.
    assert summed.max_stable_lr == pytest.approx(mean.max_stable_lr / 10)


def test_zero_initialisation_learns_and_keeps_the_minibatch_order() -> None:
    events, result = run_with_events(RunConfig(init_std=0.0))
    [started] = [event for event in events if isinstance(event, RunStarted)]
    assert started.initial == (0.0, 0.0, 0.0)
    assert result.status == "finished" and max(map(abs, result.w_error)) < 0.01
    # Zero init draws like any init, so the data and the order are the book's: the same end, nearly.
    assert result.w == pytest.approx(train(RunConfig()).w, abs=1e-4)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_one_outlier_drags_the_squared_loss_not_huber_or_absolute(impl: str) -> None:
    """The book's y₅ = 10000: the squared loss's fit moves by whole units, Huber's and |ŷ−y|'s barely."""
    events, squared = run_with_events(RunConfig(impl=impl, outlier=10000.0))
    [started] = [event for event in events if isinstance(event, RunStarted)]
    assert started.surface_is_exact
    assert abs(squared.b_error) > 1
    for loss in ("huber", "absolute"):
        robust_events, robust = run_with_events(RunConfig(impl=impl, outlier=10000.0, loss=loss))
        assert abs(robust.b_error) < 0.1 and max(map(abs, robust.w_error)) < 0.1
        [robust_start] = [event for event in robust_events if isinstance(event, RunStarted)]
        assert not robust_start.surface_is_exact  # the landscape shows the squared loss


def test_outlier_replaces_training_label_y5_only() -> None:
    config = RunConfig(num_examples=50)
    plain = make_dataset(config, make_generator(0))
    dragged = make_dataset(RunConfig(num_examples=50, outlier=10000.0), make_generator(0))
    assert dragged.labels[4, 0] == 10000.0
    changed = (dragged.labels != plain.labels).nonzero()[:, 0].tolist()
    assert changed == [4] and torch.equal(dragged.features, plain.features)


def test_the_outlier_needs_a_fifth_example_n_4_is_refused_by_form_flags_and_file_n_5_trains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """y[4] is the fifth label: 4 examples have none to replace, 5 have it as their last."""
    why = "outlier label: '1e4' replaces training label y[4], which 4 examples do not have; use at least 5 examples"
    with pytest.raises(ConfigError) as caught:  # what the form calls on every change
        parse_config({"num_examples": "4", "batch_size": "1", "outlier": "1e4"})
    assert [error.field for error in caught.value.errors] == ["outlier"] and why in str(caught.value)
    assert main(["--headless", "--num-examples", "4", "--batch-size", "1", "--outlier", "1e4"]) == 2
    assert why in capsys.readouterr().err
    toml = tmp_path / "run.toml"
    toml.write_text('num_examples = 4\nbatch_size = 1\noutlier = "1e4"\n')
    assert main(["--headless", "--config", str(toml)]) == 2
    assert why in capsys.readouterr().err

    config = parse_config({"num_examples": "5", "batch_size": "1", "outlier": "1e4"})
    assert make_dataset(config, make_generator(0)).labels[:, 0].tolist()[-1] == 10000.0
    assert train(config).status == "finished"


@pytest.mark.parametrize("impl", ["scratch", "concise", "fast"])
def test_an_explained_step_with_weight_decay_is_the_step_taken(impl: str) -> None:
    config = RunConfig(impl=impl, wd=5.0, lr=0.1, init_std=1.0, num_examples=30)
    generator = make_generator(config.seed)
    engine = make_engine(config, make_dataset(config, generator), generator)
    batch = next(iter(engine.epoch_batches()))
    before = engine.snapshot()
    explained = engine.explain_step(batch)
    after = engine.snapshot()
    assert (after.w - before.w).double() == pytest.approx(explained.update.w.double(), abs=1e-6)
    assert (after.b - before.b).double() == pytest.approx(explained.update.b.double(), abs=1e-6)
    assert "weight_decay" in explained.rule or "lambd" in explained.rule


def test_validation_loss_and_w_norm_reach_the_json_the_lines_and_the_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--headless", "--num-examples", "100", "--val", "40", "--epochs", "2", "--wd", "0.5"]
    assert main([*common, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert len(record["val_losses"]) == 2 and all(0 < loss < math.inf for loss in record["val_losses"])
    assert record["w_norm"] == pytest.approx(math.hypot(*record["w"]))
    metrics = tmp_path / "runs.csv"
    assert main([*common, "--metrics", str(metrics)]) == 0
    lines = capsys.readouterr().out.splitlines()
    [epoch_2] = [line for line in lines if line.startswith("epoch 2, loss ")]
    assert f", val loss {record['val_losses'][1]:f}" in epoch_2
    assert any(line.startswith("L2 norm of w: ") for line in lines)
    epoch_rows = [row for row in csv.DictReader(metrics.open()) if row["kind"] == "epoch"]
    assert [float(row["val_loss"]) for row in epoch_rows] == pytest.approx(record["val_losses"])


def test_the_memory_estimate_counts_the_validation_set() -> None:
    training_only = estimate_memory(RunConfig(num_examples=10**6), on_cuda=True)
    with_validation = estimate_memory(RunConfig(num_examples=10**6, val=10**6), on_cuda=True)
    assert with_validation.host_bytes - training_only.host_bytes >= 4 * 10**6 * 3  # X and y of 10⁶ more
    assert with_validation.device_bytes - training_only.device_bytes >= 4 * 10**6 * 3


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--reduction", "sum"], "reduction: 'sum' is concise's nn.MSELoss option"),
        (["--impl", "fast", "--loss", "huber"], "loss: 'huber' is not available with impl fast"),
        (["--num-examples", "3", "--outlier", "1e4"], "outlier label: '1e4' replaces training label y[4]"),
        (["--num-examples", "1e9", "--val", "1"], "validation examples: '1' makes 1,000,000,001 examples"),
        (["--val", "-1"], "validation examples: '-1' is out of range"),
        (["--wd", "-0.1"], "weight decay: '-0.1' is out of range (allowed: from 0 to 1e6)"),
        (["--init-std", "-1"], "initial weight std: '-1' is out of range (allowed: from 0 to 1e6)"),
        (["--huber-delta", "0"], "Huber delta: '0' is out of range (allowed: greater than 0"),
        (["--loss", "l2"], "loss: 'l2' is not a loss; allowed: squared, huber, absolute"),
        (["--impl", "concise", "--reduction", "avg"], "reduction: 'avg' is not a reduction; allowed: mean, sum"),
    ],
)
def test_refusals_exit_2_with_one_line_naming_the_field(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--headless", *flags]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.splitlines()
    assert captured.out == "" and message in line
