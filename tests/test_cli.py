"""The command line: the book's text, JSON, metrics, exit codes, and an instant --help."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from linreg_tui.cli import main


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linreg_tui", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_headless_prints_the_books_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless"]) == 0
    out = capsys.readouterr().out
    assert "features: [" in out and "label:" in out
    for epoch in (1, 2, 3):
        assert f"epoch {epoch}, loss 0.0" in out
    assert "error in estimating w: [" in out and "error in estimating b:" in out
    assert "closed-form optimum: w = [" in out
    assert "finished: 300 steps" in out


def test_json_has_every_documented_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--json", "--impl", "concise", "--w", "1,2,3", "--seed", "5", "--epochs", "4"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in (
        "status",
        "impl",
        "device",
        "seed",
        "true_w",
        "true_b",
        "w",
        "b",
        "w_error",
        "b_error",
        "ols_w",
        "ols_b",
        "epoch_losses",
        "steps",
        "train_seconds",
    ):
        assert key in data
    assert data["status"] == "finished" and data["impl"] == "concise" and data["seed"] == 5
    assert data["true_w"] == [1.0, 2.0, 3.0] and len(data["w"]) == 3 and len(data["epoch_losses"]) == 4
    assert data["w_error"][0] == pytest.approx(1.0 - data["w"][0])


def test_invalid_input_exits_2_with_one_line_naming_the_field() -> None:
    done = run_cli("--headless", "--lr", "fast")
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "linreg-tui: invalid input: learning rate: 'fast' is not a number (allowed: greater than 0 to 1e6)"
    ]


def test_divergence_exits_3_after_printing_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--lr", "5"]) == 3
    out = capsys.readouterr().out
    assert "diverged in epoch 1" in out and "error in estimating w:" in out


def test_absent_cuda_is_an_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["--headless", "--device", "cuda"]) == 2
    assert "device: 'cuda' is not available" in capsys.readouterr().err


def test_metrics_are_appended_as_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    for _ in range(2):
        assert main(["--headless", "--json", "--metrics", str(path), "--epochs", "2"]) == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["run", "epoch", "epoch", "result"] * 2
    assert records[0]["config"]["epochs"] == 2 and records[1]["epoch"] == 1
    assert records[3]["status"] == "finished"


def test_unwritable_metrics_path_is_refused_before_training(tmp_path: Path) -> None:
    done = run_cli("--headless", "--metrics", str(tmp_path / "missing" / "runs.jsonl"))
    assert done.returncode == 2
    assert "metrics:" in done.stderr and "cannot be written (No such file or directory)" in done.stderr
    assert "epoch" not in done.stdout


def test_help_and_bad_flags_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "from linreg_tui.cli import main\n"
        "for argv in (['--help'], ['--bogus'], ['--headless', '--epochs', 'x']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage: linreg-tui" in done.stdout


def test_the_app_refuses_to_start_without_a_terminal() -> None:
    done = run_cli()
    assert done.returncode == 2
    assert "use `linreg-tui --headless`" in done.stderr


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery is POSIX")
def test_ctrl_c_prints_the_partial_report_and_exits_130(tmp_path: Path) -> None:
    metrics = tmp_path / "interrupted.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "linreg_tui", "--headless", "--epochs", "100000", "--metrics", str(metrics)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("epoch 1,"):
            break
    process.send_signal(signal.SIGINT)
    rest, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "cancelled in epoch" in rest and "error in estimating w:" in rest
    assert "Traceback" not in err
    records = [json.loads(line) for line in metrics.read_text().splitlines()]  # every line whole
    assert records[0]["type"] == "run" and records[1]["type"] == "epoch"
    assert records[-1]["type"] == "result" and records[-1]["status"] == "cancelled"


def test_negative_values_can_follow_their_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--json", "--w", "-3.4,2", "--b", "-1", "--epochs", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["true_w"] == [-3.4, 2.0] and data["true_b"] == -1.0


def test_ctrl_c_before_training_starts_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(config: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("linreg_tui.cli.run_headless", interrupted)
    assert main(["--headless"]) == 130
    assert capsys.readouterr().err == "linreg-tui: cancelled\n"
