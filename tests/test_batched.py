"""Many sweep points as one program: each column takes its own run's steps, and the sweep says which ran batched."""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.batching import check_group_memory, estimate_group_memory, group_points
from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.result import RunResult
from linreg_tui.run.sweep import SweepPoint, expand
from linreg_tui.training.batched import train_group
from linreg_tui.training.loop import train
from linreg_tui.training.sweep import run_sweep


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
        {"optimizer": "momentum", "momentum": "0.5, 0.9", "lr": "0.01, 0.02"},  # the constants sweep too
        {"optimizer": "adam", "lr": "0.01, 0.1", "beta1": "0.5, 0.9", "eps": "1e-6, 1e-3", "epochs": "2"},
        {"loss": "huber", "huber_delta": "0.5", "lr": "0.03, 0.3"},
        {"data": "airfoil", "lr": "0.01, 0.2", "batch_size": "100"},
        {"schedule": "factor", "decay_factor": "0.5", "decay_every": "50", "lr_min": "0.004", "lr": "0.01, 0.3"},
        {"schedule": "cosine", "warmup": "20", "lr_min": "0.001", "lr": "0.01, 0.1", "optimizer": "momentum"},
        {"schedule": "multistep", "milestones": "100, 200", "decay_factor": "0.1", "lr": "0.03, 0.1"},
        {"schedule": "sqrt", "optimizer": "adam", "lr": "0.01, 0.1", "epochs": "2"},
    ],
)
def test_weight_decay_spread_optimizers_losses_and_real_data_take_the_same_steps(texts: dict[str, str]) -> None:
    points = expand(texts)
    assert len(group_points(points)) == 1
    for point, result in zip(points, train_group(points), strict=True):
        assert_same_run(result, train(point.config), rel=1e-5)


def test_a_scheduled_column_that_diverges_names_its_step_s_rate() -> None:
    points = expand({"schedule": "factor", "decay_factor": "0.9", "decay_every": "1", "lr": "0.01, 40"})
    batched, single = train_group(points)[1], train(points[1].config)
    assert_same_run(batched, single)
    assert batched.status == "diverged" and batched.message == single.message
    assert "e.g. 0.92." in single.message  # a tenth of 40 · 0.9¹⁴, the rate of step 15, the last finite one


def test_each_epoch_s_losses_are_heard_in_the_points_order() -> None:
    points = expand({"lr": "0.01, 0.03, 5"}, repeats=2)
    heard: list[tuple[int, list[float | None]]] = []
    results = train_group(points, on_epoch=lambda listed, epoch, losses: heard.append((epoch, losses)))
    assert [epoch for epoch, _ in heard] == [1, 2, 3]
    for index, result in enumerate(results):
        expected = list(result.epoch_losses) if result.status == "finished" else []
        assert [losses[index] for _, losses in heard if losses[index] is not None] == expected
    diverging = [index for index, point in enumerate(points) if point.config.lr == 5]
    assert len(diverging) == 2 and all(losses[i] is None for _, losses in heard for i in diverging)  # in epoch 1


def test_only_points_that_can_share_a_program_are_grouped() -> None:
    points = expand({"lr": "0.01, 0.03", "batch_size": "10, 20"}) + expand({"impl": "concise", "lr": "0.01, 0.03"})
    points += expand({"schedule": "sqrt", "lr": "0.01, 0.03"})
    programs = group_points(points)
    assert [len(program) for program in programs] == [2, 2, 1, 1, 2]  # two batch sizes; concise runs alone
    assert {point.config.batch_size for point in programs[0]} == {10}
    assert [len(program) for program in group_points(points, batch=False)] == [1] * 8


def test_a_program_too_big_for_the_memory_is_refused_with_its_figure() -> None:
    with pytest.raises(ConfigError, match=r"as one program needs about .* of RAM, but 1\.0 MiB is free"):
        check_group_memory(RunConfig(), seeds=1, columns=100_000, free_bytes=1 << 20)


def test_on_a_gpu_the_program_is_checked_against_the_device_s_free_memory() -> None:
    estimate = estimate_group_memory(RunConfig(), seeds=1, columns=100_000, on_cuda=True)
    assert estimate.device_bytes > estimate.host_bytes > 0  # the host holds the data it was made in
    with pytest.raises(ConfigError, match=r"and .* on the device, but .* is free \(1\.0 MiB on the device\)"):
        check_group_memory(RunConfig(), seeds=1, columns=100_000, free_bytes=1 << 40, device_free=1 << 20)
    check_group_memory(RunConfig(), seeds=1, columns=100_000, free_bytes=1 << 40, device_free=1 << 40)


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


def test_the_sweep_hands_each_program_s_epochs_to_on_progress() -> None:
    points = expand({"lr": "0.01, 0.03"}) + expand({"impl": "concise", "lr": "0.01"})
    heard: list[tuple[int, int]] = []
    run_sweep(points, on_progress=lambda program, epoch, losses: heard.append((len(program), epoch)))
    assert heard == [(2, 1), (2, 2), (2, 3)]  # the concise run is a run of its own: its events, not these


@pytest.mark.cuda
def test_on_cuda_each_column_takes_its_single_cpu_run_s_steps() -> None:
    """The program on the GPU (float32 there too): the same steps as each point's run on the CPU, and
    the same divergence; rows of a 1,000-point grid all finish below the bound."""
    points = expand({"lr": "0.01, 0.1, 3", "device": "cuda", "schedule": "cosine", "optimizer": "momentum"})
    for point, result in zip(points, train_group(points), strict=True):
        assert result.device.startswith("cuda")
        cpu = dataclasses.replace(point.config, device="cpu")
        assert_same_run(result, train(cpu), rel=1e-4)
    grid = expand({"lr": "0.001..0.5", "device": "cuda"}, points=1_000, log=True)
    assert {result.status for result in train_group(grid)} == {"finished"}


def test_the_sweep_refuses_a_program_past_the_free_memory_before_any_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import linreg_tui.training.batched as batched

    monkeypatch.setattr(batched, "host_free_bytes", lambda: 1 << 20)
    assert main(["sweep", "--lr", "1e-3..1", "--points", "500"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no table: nothing ran
    assert "500 points" in captured.err and "as one program needs about" in captured.err
    assert "but 1.0 MiB is free; sweep fewer points, or run them one after another (--no-batch)" in captured.err
