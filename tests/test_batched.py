"""Many sweep points as one program: each column takes its own run's steps, and the sweep says which ran batched."""

from __future__ import annotations

import json
import threading

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.batching import check_group_memory, group_points
from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.result import RunResult
from linreg_tui.run.sweep import SweepPoint, expand
from linreg_tui.training.batched import train_group
from linreg_tui.training.loop import train


def assert_same_run(batched: RunResult, single: RunResult, rel: float = 1e-6) -> None:
    assert batched.status == single.status and batched.steps == single.steps
    assert batched.diverged_at == single.diverged_at
    # A diverged run's last finite parameters are huge (1e18): the same to a few float32 roundings a step.
    near = rel if single.status == "finished" else 1e-3
    assert batched.w == pytest.approx(single.w, rel=near, abs=1e-6)
    assert batched.b == pytest.approx(single.b, rel=near, abs=1e-6)
    assert batched.epoch_losses == pytest.approx(single.epoch_losses, rel=1e-4, abs=1e-9)
    assert batched.val_losses == pytest.approx(single.val_losses, rel=1e-4, abs=1e-9)


def test_each_column_takes_its_single_run_s_steps_and_diverges_at_its_step() -> None:
    points = expand({"lr": "0.01, 0.03, 0.1, 1, 3"}, repeats=2)
    results = train_group(points)
    for point, result in zip(points, results, strict=True):
        assert_same_run(result, train(point.config))
    diverged = [result for result in results if result.status == "diverged"]
    assert [result.config.lr for result in diverged] == [3, 3]
    assert all("diverged in epoch 1 at step" in result.message for result in diverged)


@pytest.mark.parametrize(
    "texts",
    [
        {"wd": "0, 0.5", "init_std": "0.01, 1", "val": "50", "lr": "0.01, 0.05"},
        {"optimizer": "momentum", "momentum": "0.5", "lr": "0.01, 0.02"},
        {"optimizer": "adam", "lr": "0.01, 0.1", "epochs": "2"},
        {"loss": "huber", "huber_delta": "0.5", "lr": "0.03, 0.3"},
        {"data": "airfoil", "lr": "0.01, 0.2", "batch_size": "100"},
    ],
)
def test_weight_decay_spread_optimizers_losses_and_real_data_take_the_same_steps(texts: dict[str, str]) -> None:
    points = expand(texts)
    assert len(group_points(points)) == 1
    for point, result in zip(points, train_group(points), strict=True):
        assert_same_run(result, train(point.config), rel=1e-5)


def test_only_points_that_can_share_a_program_are_grouped() -> None:
    points = expand({"lr": "0.01, 0.03", "batch_size": "10, 20"}) + expand({"impl": "concise", "lr": "0.01, 0.03"})
    programs = group_points(points)
    assert [len(program) for program in programs] == [2, 2, 1, 1]  # two batch sizes; concise runs alone
    assert {point.config.batch_size for point in programs[0]} == {10}
    assert [len(program) for program in group_points(points, batch=False)] == [1] * 6


def test_a_program_too_big_for_the_memory_is_refused_with_its_figure() -> None:
    with pytest.raises(ConfigError, match=r"as one program needs about .* of RAM, but 1\.0 MiB is free"):
        check_group_memory(RunConfig(), seeds=1, columns=100_000, free_bytes=1 << 20)


def test_a_stopped_program_ends_every_column_cancelled() -> None:
    stop = threading.Event()
    stop.set()
    results = train_group(expand({"lr": "0.01, 0.03"}), stop)
    assert [result.status for result in results] == ["cancelled", "cancelled"]


def test_the_sweep_marks_batched_rows_and_divides_their_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "--lr", "0.01,0.03,3", "--epochs", "1"]) == 0
    out = capsys.readouterr().out
    assert out.count("*\n") == 3 and "* ran batched: 3 runs as 1 tensor program" in out
    assert main(["sweep", "--lr", "0.01,0.03", "--epochs", "1", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [run["batched"] for run in runs] == [2, 2]
    assert main(["sweep", "--lr", "0.01,0.03", "--epochs", "1", "--csv", "--no-batch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(",batched") and all(line.endswith(",1") for line in lines[1:])


def test_batched_points_may_number_100_000_others_1_000(capsys: pytest.CaptureFixture[str]) -> None:
    points: list[SweepPoint] = expand({"lr": "0.001..1:2000", "epochs": "1"})
    assert len(points) == 2000
    assert main(["sweep", "--lr", "0.001..1", "--points", "2000", "--no-batch"]) == 2
    assert "at most 1,000 runs" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="at most 100,000 runs"):
        expand({"lr": "0.001..1:100000"}, repeats=2)
