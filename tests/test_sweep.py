"""Sweeps: expansion and validation, the table, JSON and CSV against single headless runs, Ctrl+C."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import signal
import subprocess
import sys
import threading

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.sweep import SweepPoint, SweepRow, error_slope, expand, split_sweep

#: A small run: 5 steps an epoch, 2 epochs.
SMALL = ["--num-examples", "50", "--batch-size", "10", "--epochs", "2"]


def test_expand_is_the_product_of_the_swept_values_times_the_repeats() -> None:
    points = expand({"lr": "0.01, 0.03", "batch_size": "5,10", "num_examples": "20", "seed": "7"}, repeats=2)
    combos = [(p.swept["batch_size"], p.swept["lr"], p.config.seed) for p in points]
    assert combos == [
        (b, lr, seed) for b in ("5", "10") for lr in ("0.01", "0.03") for seed in (7, 8)
    ]  # the form's order (batch before lr), the first varying slowest; seeds seed, seed + 1
    assert {p.config.num_examples for p in points} == {20}
    assert points[-1].config.lr == 0.03 and points[-1].config.batch_size == 10 and points[-1].repeat == 1


def test_commas_sweep_only_the_sweepable_fields() -> None:
    fixed, swept = split_sweep({"true_w": "1, 2", "scales": "1,2", "wd": "0,3"})
    assert fixed == {"true_w": "1, 2", "scales": "1,2"} and swept == {"wd": ["0", "3"]}  # lists keep their commas
    with pytest.raises(ConfigError, match=r"seed: '1,2' takes one value; .* --lr, .* \(use --repeats"):
        split_sweep({"seed": "1,2"})
    with pytest.raises(ConfigError, match=r"learning rate: '0\.1,,0\.2' has an empty value"):
        split_sweep({"lr": "0.1,,0.2"})


def test_every_point_is_checked_before_any_run(capsys: pytest.CaptureFixture[str]) -> None:
    # The bad points come last: nothing may train (or print) before they are refused.
    assert main(["sweep", "--num-examples", "100,5", "--lr", "0.03,-1", "--batch-size", "10"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("linreg-tui: invalid input: ")
    assert "learning rate: '-1' is out of range" in err
    assert "batch size: '10' is larger than the number of examples" in err and "(in the sweep's point examples 5" in err


def test_json_csv_and_table_hold_the_single_runs_results(capsys: pytest.CaptureFixture[str]) -> None:
    # lr 100 diverges; the sweep goes on to lr 0.03.
    assert main(["sweep", "--lr", "100,0.03", *SMALL, "--json", "--no-batch"]) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert main(["--headless", "--json", "--lr", "0.03", *SMALL]) == 0
    single = json.loads(capsys.readouterr().out)
    assert [run["status"] for run in runs] == ["diverged", "finished"]
    assert [run["swept"] for run in runs] == [{"lr": "100"}, {"lr": "0.03"}]
    assert set(runs[1]) == set(single) | {"swept", "repeat", "batched"}  # --headless --json's, and how it ran
    assert runs[1]["epoch_losses"] == single["epoch_losses"] and runs[1]["w"] == single["w"]  # bit for bit

    assert main(["sweep", "--lr", "100,0.03", *SMALL, "--csv", "--no-batch"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["lr"] for row in rows] == ["100", "0.03"] and rows[0]["status"] == "diverged"
    assert float(rows[1]["final_loss"]) == single["epoch_losses"][-1]
    assert float(rows[1]["max_w_error"]) == max(abs(e) for e in single["w_error"])
    assert float(rows[1]["b_error"]) == abs(single["b_error"]) and rows[1]["steps"] == "10"
    assert rows[1]["final_val_loss"] == ""  # no validation set

    assert main(["sweep", "--lr", "100,0.03", *SMALL, "--no-batch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("sweep: 2 runs over lr · seed 0 · scratch · cpu")
    header, diverged, finished = lines[1:4]
    assert header.split() == [
        "lr",
        "status",
        "train",
        "loss",
        "val",
        "loss",
        "max|w",
        "err|",
        "|b",
        "err|",
        "steps",
        "time",
        "(s)",
    ]
    assert diverged.split()[:2] == ["100", "diverged"]
    cells = finished.split()
    assert cells[:2] == ["0.03", "finished"] and cells[2] == f"{single['epoch_losses'][-1]:.3g}" and cells[6] == "10"
    assert len({len(line) for line in (header, finished)}) == 1  # aligned: the time column ends at the header's end


def least_squares_slope(points: list[tuple[float, float]]) -> float:
    """The slope of log y against log x, by the textbook formula (not statistics.linear_regression)."""
    xs, ys = [math.log(x) for x, _ in points], [math.log(y) for _, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)


def row(num_examples: int, status: str, max_w_error: float | None) -> SweepRow:
    point = SweepPoint(RunConfig(num_examples=num_examples), {"num_examples": str(num_examples)}, 0)
    return SweepRow(point, status, None, None, max_w_error, None, 0, 0.0, None)


def test_the_error_slope_is_fitted_over_the_finished_runs_only() -> None:
    """Errors of exactly 1/√n where runs finished (slope −0.5); a diverged run's last finite weights are
    far off (1e18), a cancelled run stopped early, a failed one has no error: none of them is fitted."""
    rows = [
        row(100, "finished", 100**-0.5),
        row(400, "diverged", 1e18),
        row(800, "cancelled", 3.0),
        row(1600, "finished", 1600**-0.5),
        row(3200, "failed", None),
        row(6400, "finished", 6400**-0.5),
    ]
    assert error_slope(rows) == pytest.approx(-0.5, abs=1e-12)
    assert error_slope(rows[:3]) is None  # one finished size: nothing to fit


def test_a_sweep_over_n_fits_its_slope_over_the_runs_that_finished(capsys: pytest.CaptureFixture[str]) -> None:
    flags = ["--num-examples", "100,400,1600", "--lr", "0.03,5"]  # lr 5 diverges at every n
    assert main(["sweep", *flags, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    runs = document["runs"]
    assert [run["status"] for run in runs] == ["finished", "diverged"] * 3
    finished = [(run["config"]["num_examples"], max(map(abs, run["w_error"]))) for run in runs[::2]]
    assert document["error_slope"] == pytest.approx(least_squares_slope(finished), rel=1e-9)
    assert main(["sweep", *flags, "--no-batch"]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    assert f"at a slope of {least_squares_slope(finished):.2f} (least squares over 3 finished runs)" in summary


def start_sweep(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-u", "-m", "linreg_tui", "sweep", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def read_rows(stream: object, count: int) -> list[str]:
    """The header lines and then `count` rows (the test's sync point: a run has ended)."""
    lines = [stream.readline() for _ in range(2 + count)]  # type: ignore[attr-defined]
    assert all(lines), lines
    return lines


@pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
def test_ctrl_c_stops_after_the_current_run_with_the_table_so_far() -> None:
    lrs = ",".join(f"0.0{i}" for i in range(1, 10))  # nine short runs
    process = start_sweep("--lr", lrs, *SMALL, "--no-batch")  # batched, the nine would end together
    first = read_rows(process.stdout, 1)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    # Through the streams read_rows used: communicate() reads their descriptors and would miss a row
    # that readline() already buffered (the summary then counted one run more than the rows read).
    rest, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    assert process.returncode == 130, err
    rows = [first[2], *(line for line in rest.splitlines() if not line.startswith("learning-rate curve:"))]
    assert first[2].split()[:2] == ["0.01", "finished"]
    assert 1 <= len(rows) < 9 and all(row.split()[1] == "finished" for row in rows)  # the current run ended
    assert f"the sweep stopped after {len(rows)} of 9 runs" in err and "Traceback" not in err


@pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
def test_a_second_ctrl_c_stops_the_current_run_at_once() -> None:
    # The second run (10⁵ examples × 1,000 epochs) would take many minutes: only the second Ctrl+C ends it.
    process = start_sweep("--num-examples", "10,100000", "--epochs", "1000", "--batch-size", "10")
    read_rows(process.stdout, 1)
    process.send_signal(signal.SIGINT)
    assert "stopping after the current run" in process.stderr.readline()  # type: ignore[union-attr]
    process.send_signal(signal.SIGINT)  # at times after the sweep has ended, as the process exits
    process.wait(timeout=60)
    # Read through the streams readline() used (communicate() reads their descriptors and would miss
    # what readline() already buffered: the summary, when the sweep ended before the parent read).
    rest, err = process.stdout.read(), process.stderr.read()  # type: ignore[union-attr]
    assert process.returncode == 130, err
    assert rest == "" and "the sweep stopped after 1 of 2 runs" in err and "Traceback" not in err


def test_a_second_signal_once_the_runs_are_over_still_gets_the_summary() -> None:
    """Ctrl+C pressed twice as the last run ends: the second has nothing left to stop, and the table's
    end and the summary line are written all the same."""
    from linreg_tui.commands.sweep import _SweepSignalStop

    cancel = threading.Event()
    with _SweepSignalStop(cancel) as signals:
        signals._handle(signal.SIGINT, None)  # the first: stop after the current run
        signals.runs_over = True
        try:
            signals._handle(signal.SIGINT, None)  # the second, as the table is written: ignored
        except KeyboardInterrupt:
            pytest.fail("a second signal after the runs cut the table and the summary short")
    assert cancel.is_set() and signals.exit_code == 130
