"""Every JSON the app writes is strict JSON: json.dumps writes inf as `Infinity` and nan as `NaN`, which
Python reads back and other readers (jq, JavaScript, a database) refuse. Each output is parsed with
Infinity and NaN refused, for runs whose numbers are not all finite: a singular ZᵀZ/n (condition number
inf), the absolute loss (no stable-lr bound: inf), a validation loss that overflows while the run goes
on, and finished, diverged and cancelled runs. Those values must arrive as null."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, NoReturn

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.config import RunConfig
from linreg_tui.run.events import EpochEnded, StepLosses, TrainingEvent
from linreg_tui.run.report import MetricsWriter, result_json
from linreg_tui.training.loop import train
from linreg_tui.ui.panels.history import RunTrace, run_json
from linreg_tui.ui.plots.loss import STEP_LOSSES_KEPT
from linreg_tui.ui.plots.series import DecimatedSeries


def strict_loads(text: str) -> Any:
    def refuse(constant: str) -> NoReturn:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


#: Full-batch steps too large for the data: the training loss grows but stays finite for 20-odd epochs
#: while the mean ½(ŷ−y)² over 100,000 held-out examples overflows float32 first.
VAL_OVERFLOWS = ["--num-examples", "10", "--batch-size", "10", "--lr", "4", "--epochs", "200", "--val", "100000"]
#: Fewer examples than unknowns: ZᵀZ/n is singular, its condition number inf.
SINGULAR = ["--w", "1,2,3", "--num-examples", "3", "--batch-size", "1", "--epochs", "1"]
#: The absolute loss has no curvature: no learning rate overshoots it, the bound is inf.
ABSOLUTE = ["--loss", "absolute", "--epochs", "1"]


@pytest.mark.parametrize(
    ("flags", "exit_code", "null_key"),
    [(SINGULAR, 0, "condition_number"), (ABSOLUTE, 0, "max_stable_lr"), (VAL_OVERFLOWS, 3, "val_losses")],
    ids=["singular", "absolute", "val-overflows"],
)
def test_headless_json_and_metrics_lines_are_strict_json_with_null_for_what_is_not_finite(
    flags: list[str], exit_code: int, null_key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = tmp_path / "runs.jsonl"
    assert main(["--headless", "--json", "--metrics", str(metrics), *flags]) == exit_code
    data = strict_loads(capsys.readouterr().out)
    records = [strict_loads(line) for line in metrics.read_text().splitlines()]
    assert records[0]["type"] == "run" and records[-1]["type"] == "result"
    if null_key == "val_losses":
        assert data["status"] == "diverged" and None in data["val_losses"]
        assert data["val_losses"][0] is not None and data["epoch_losses"][-1] is not None  # only the overflow is null
        epochs = [r for r in records if r["type"] == "epoch"]
        assert [r["val_loss"] is None for r in epochs] == [v is None for v in data["val_losses"]]
        assert all(r["loss"] is not None for r in epochs)  # the training loss stayed finite
    else:
        assert data["status"] == "finished" and data[null_key] is None and records[-1][null_key] is None


def run_outputs(config: RunConfig, metrics: Path, cancel_after_epoch: int | None) -> tuple[str, list[str], str]:
    """One run's --json text, its --metrics lines and the app's ctrl+e JSON (fed the events as the app feeds
    its trace), each made by the function that makes it for the user."""
    cancel = threading.Event()
    trace = RunTrace(config.num_features, DecimatedSeries(max_points=STEP_LOSSES_KEPT))
    writer = MetricsWriter(str(metrics), "run-1")

    def on_event(event: TrainingEvent) -> None:
        writer(event)
        if isinstance(event, StepLosses):
            trace.losses.extend(event.first_step, event.losses)
        elif isinstance(event, EpochEnded):
            trace.add_epoch(event)
            if event.epoch == cancel_after_epoch:
                cancel.set()

    result = train(config, on_event, cancel)
    writer.close()
    return result_json(result, "run-1"), metrics.read_text().splitlines(), run_json(result, trace, "run-1")


@pytest.mark.parametrize(
    ("config", "cancel_after_epoch", "status"),
    [
        (RunConfig(true_w=(1.0, 2.0, 3.0), num_examples=3, batch_size=1, epochs=2), None, "finished"),
        (RunConfig(num_examples=10, batch_size=10, lr=4.0, epochs=200, val=100_000), None, "diverged"),
        (RunConfig(loss="absolute", epochs=1000), 2, "cancelled"),
    ],
    ids=["finished", "diverged", "cancelled"],
)
def test_every_json_of_a_finished_diverged_or_cancelled_run_is_strict_json(
    config: RunConfig, cancel_after_epoch: int | None, status: str, tmp_path: Path
) -> None:
    as_json, metrics_lines, app_json = run_outputs(config, tmp_path / "runs.jsonl", cancel_after_epoch)
    for text in (as_json, *metrics_lines, app_json):
        strict_loads(text)
    saved = strict_loads(app_json)
    assert saved["status"] == status and saved["step_losses"] and saved["epochs"]
    assert saved["condition_number"] is not None or status == "finished"  # the singular one is null
    assert saved["max_stable_lr"] is not None or status == "cancelled"  # the absolute loss has no bound


def test_a_sweeps_json_is_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    """A singular ZᵀZ/n (n = 3 of 4 unknowns) and a diverged run (lr 100) among the rows."""
    flags = ["--w", "1,2,3", "--num-examples", "3,50", "--lr", "0.03,100", "--batch-size", "1", "--epochs", "10"]
    assert main(["sweep", "--json", *flags]) == 0
    document = strict_loads(capsys.readouterr().out)
    runs = document["runs"]
    assert [run["status"] for run in runs] == ["finished", "diverged", "finished", "diverged"]
    assert runs[0]["condition_number"] is None and runs[2]["condition_number"] is not None
