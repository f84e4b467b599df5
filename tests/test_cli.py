"""The command line: the book's text, JSON, metrics, exit codes, and an instant --help."""

from __future__ import annotations

import json
import math
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch

from linreg_tui.commands.main import main
from linreg_tui.commands.output import LineOutput, reader_watch
from linreg_tui.run.config import RunConfig
from linreg_tui.training.data import make_dataset, make_generator


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


#: The keys of `--headless --json` (README "Run it"; run.result.RunResult.as_dict and run.report.result_record).
JSON_KEYS = {
    "run_id", "status", "message", "impl", "device", "seed", "true_w", "true_b", "w", "b", "w_error", "b_error",
    "ols_w", "ols_b", "gap_to_optimum", "ols_unique", "epoch_losses", "val_losses", "w_norm", "steps",
    "train_seconds", "diverged_at", "condition_number", "max_stable_lr", "lr_changes", "config", "command",
    "data", "feature_names", "target_name", "w_original", "b_original", "ols_w_original", "ols_b_original",
    "r2", "rmse", "val_r2", "val_rmse", "hessian_min", "hessian_max", "gd_optimal_lr", "gd_optimal_rate",
    "momentum_optimal_lr", "momentum_optimal_beta", "momentum_optimal_rate", "predicted_rate", "observed_rate",
    "predicted_steps", "observed_steps",
}  # fmt: skip


def test_json_has_every_documented_key_with_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    """Each value checked for its type and, where it can be worked out without the code under test, its
    value: the optimum and the conditioning from the data, the errors from the weights, the last epoch's
    loss as MSELoss at the learned weights, and the command by running it again."""
    flags = ["--impl", "concise", "--w", "1,2,3", "--seed", "5", "--epochs", "4"]
    assert main(["--headless", "--json", *flags]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == JSON_KEYS
    config = RunConfig(impl="concise", true_w=(1.0, 2.0, 3.0), seed=5, epochs=4)
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}", data["run_id"])
    assert (data["status"], data["message"], data["impl"], data["device"], data["seed"]) == (
        "finished", "", "concise", "cpu", 5
    )  # fmt: skip
    assert data["config"] == config.as_dict() and (data["true_w"], data["true_b"]) == ([1.0, 2.0, 3.0], 4.2)
    w, b = data["w"], data["b"]
    assert len(w) == 3 and all(isinstance(v, float) for v in (*w, b))
    assert data["w_error"] == [t - v for t, v in zip(config.true_w, w, strict=True)] and data["b_error"] == 4.2 - b
    assert data["w_norm"] == pytest.approx(math.sqrt(sum(v * v for v in w)), rel=1e-12)

    dataset = make_dataset(config, make_generator(5))
    X, y = dataset.features.double(), dataset.labels[:, 0].double()
    Z = torch.cat([X, torch.ones(len(X), 1, dtype=torch.float64)], dim=1)
    ols = torch.linalg.lstsq(Z, y.unsqueeze(1)).solution.reshape(-1).tolist()
    assert data["ols_w"] == pytest.approx(ols[:3], abs=1e-9) and data["ols_b"] == pytest.approx(ols[3], abs=1e-9)
    assert data["ols_unique"] is True
    gap = max(abs(a - o) for a, o in zip([*w, b], ols, strict=True))
    assert data["gap_to_optimum"] == pytest.approx(gap, rel=1e-6)
    singular = torch.linalg.svdvals(Z / math.sqrt(len(Z)))  # σ² are the eigenvalues of ZᵀZ/n
    assert data["condition_number"] == pytest.approx(float(singular[0] ** 2 / singular[-1] ** 2), rel=1e-6)
    assert data["max_stable_lr"] == pytest.approx(2 / (2 * float(singular[0] ** 2)), rel=1e-6)  # MSELoss: 2ZᵀZ/n
    # The data: synthetic, its features x1…, in its own units (not standardized), and the fit's R² and RMSE.
    assert data["data"] == {"source": "synthetic", "path": None, "rows": None, "sha256": None}
    assert (data["feature_names"], data["target_name"]) == (["x1", "x2", "x3"], "y")
    assert (data["w_original"], data["b_original"]) == (w, b)
    assert (data["ols_w_original"], data["ols_b_original"]) == (data["ols_w"], data["ols_b"])
    residual = Z @ torch.tensor([*w, b], dtype=torch.float64) - y
    assert data["rmse"] == pytest.approx(float(residual.square().mean().sqrt()), rel=1e-6)
    assert data["r2"] == pytest.approx(1 - float(residual.square().sum() / (y - y.mean()).square().sum()), rel=1e-9)
    assert data["val_r2"] is None and data["val_rmse"] is None

    losses = data["epoch_losses"]
    assert len(losses) == 4 and all(isinstance(v, float) and v > 0 for v in losses)
    at_learned = float(((X @ torch.tensor(w, dtype=torch.float64) + b - y) ** 2).mean())  # MSELoss, no ½
    assert losses[-1] == pytest.approx(at_learned, rel=1e-3)
    assert data["steps"] == 4 * 100 and data["val_losses"] == [] and data["lr_changes"] == []
    assert data["diverged_at"] is None and isinstance(data["train_seconds"], float) and data["train_seconds"] > 0

    program, *again = shlex.split(data["command"])
    assert program == "linreg-tui" and main([*again, "--json"]) == 0
    rerun = json.loads(capsys.readouterr().out)
    assert (rerun["w"], rerun["b"], rerun["epoch_losses"]) == (w, b, losses)  # the same run, bit for bit


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
        "from linreg_tui.commands.main import main\n"
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


def test_negative_values_can_follow_their_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--json", "--w", "-3.4,2", "--b", "-1", "--epochs", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["true_w"] == [-3.4, 2.0] and data["true_b"] == -1.0


def test_ctrl_c_before_training_starts_exits_130_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(config: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("linreg_tui.commands.train.run_headless", interrupted)
    assert main(["--headless"]) == 130
    assert capsys.readouterr().err == "linreg-tui: cancelled\n"


# --- signals, output errors and pipes (issue 8) --------------------------------------------------------


def start_cli(*args: str, **popen: object) -> subprocess.Popen[str]:
    """The CLI in a subprocess, unbuffered, reading no terminal; stdout and stderr piped unless given."""
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "stdin": subprocess.DEVNULL, **popen}
    return subprocess.Popen([sys.executable, "-u", "-m", "linreg_tui", *args], text=True, **popen)  # type: ignore[call-overload]


def read_until(stream: object, prefix: str) -> list[str]:
    """The lines read up to and including the first that starts with `prefix` (the test's sync point)."""
    lines = []
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line)
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"the output ended before a line starting with {prefix!r}: {lines}")


@pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_prints_the_partial_report_and_exits_128_plus_its_number(
    tmp_path: Path, signum: int, code: int
) -> None:
    metrics = tmp_path / "interrupted.jsonl"
    process = start_cli("--headless", "--epochs", "100000", "--num-examples", "100", "--metrics", str(metrics))
    read_until(process.stdout, "epoch 1,")
    process.send_signal(signum)
    rest, err = process.communicate(timeout=60)
    assert process.returncode == code, err
    assert "cancelled in epoch" in rest and "error in estimating w:" in rest
    assert "Traceback" not in err
    records = [json.loads(line) for line in metrics.read_text().splitlines()]  # every line whole
    assert records[0]["type"] == "run" and records[1]["type"] == "epoch"
    assert records[-1]["type"] == "result" and records[-1]["status"] == "cancelled"


#: The CLI as its own process, with an exit hook that sends the process a second Ctrl+C while Python
#: cleans up (as one pressed twice can arrive), then says whether the clean-up went on.
LATE_SIGNAL = """
import atexit, os, signal, sys, time
def late_ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.2)
    print("exit hooks done", file=sys.stderr)
atexit.register(late_ctrl_c)
from linreg_tui.commands.main import main
from linreg_tui.commands.output import LineOutput, reader_watch
sys.exit(main())
"""


@pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
def test_a_signal_after_a_signalled_run_ends_does_not_break_the_exit() -> None:
    args = ["--headless", "--epochs", "100000", "--num-examples", "100"]
    popen = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "stdin": subprocess.DEVNULL, "text": True}
    process = subprocess.Popen([sys.executable, "-u", "-c", LATE_SIGNAL, *args], **popen)  # type: ignore[call-overload]
    read_until(process.stdout, "epoch 1,")
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)
    err = process.stderr.read()  # type: ignore[union-attr]
    assert process.returncode == 130, err
    assert "exit hooks done" in err and "Traceback" not in err and "KeyboardInterrupt" not in err


@pytest.mark.skipif(not Path("/dev/stderr").exists(), reason="needs /dev/stderr")
def test_sigterm_with_json_still_prints_the_json_object() -> None:
    # The metrics go to stderr as they are written: the line to wait for before the signal.
    process = start_cli(
        "--headless", "--json", "--epochs", "100000", "--num-examples", "100", "--metrics", "/dev/stderr"
    )
    read_until(process.stderr, '{"run_id"')  # the run's header record
    read_until(process.stderr, '{"run_id"')  # its first epoch
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 143, err
    data = json.loads(out)
    assert data["status"] == "cancelled" and data["steps"] > 0 and data["run_id"]


@pytest.mark.skipif(os.name != "posix", reason="signals are POSIX")
def test_a_second_ctrl_c_stops_at_once() -> None:
    # A set-up phase that does not end by itself (making 10⁸ examples takes seconds): only the second
    # Ctrl+C can end it. It prints a line first, and the first Ctrl+C says it is stopping: the sync points.
    script = (
        "import sys, threading\n"
        "import linreg_tui.training.run_data as training\n"
        "def endless_set_up(*args, **kwargs):\n"
        "    print('making the data', flush=True)\n"
        "    threading.Event().wait(120)\n"
        "training.make_dataset = endless_set_up\n"
        "from linreg_tui.commands.main import main\n"
        "sys.exit(main(['--headless']))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-u", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    read_until(process.stdout, "making the data")
    process.send_signal(signal.SIGINT)
    read_until(process.stderr, "linreg-tui: stopping after the current steps")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert err.splitlines()[-1] == "linreg-tui: cancelled" and "Traceback" not in err


def test_a_failed_set_up_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise RuntimeError("CUDA error: out of memory\nmore details")

    monkeypatch.setattr("linreg_tui.training.run_data.make_dataset", out_of_memory)
    assert main(["--headless"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "linreg-tui: could not prepare the run on cpu: RuntimeError: CUDA error: out of memory\n"
    assert captured.out == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    ("args", "stdout_to_dev_full", "message"),
    [
        (
            ["--metrics", "/dev/full"],
            False,
            "linreg-tui: cannot write the metrics to /dev/full (No space left on device); the run was stopped",
        ),
        (["--json"], True, "linreg-tui: cannot write to the standard output (No space left on device)"),
        ([], True, "linreg-tui: cannot write to the standard output (No space left on device); the run was stopped"),
    ],
)
def test_an_output_that_cannot_be_written_is_one_line_and_exit_1(
    args: list[str], stdout_to_dev_full: bool, message: str
) -> None:
    with open("/dev/full", "w") as full:
        stdout = full if stdout_to_dev_full else subprocess.PIPE
        process = start_cli("--headless", "--num-examples", "100", *args, stdout=stdout)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert err.splitlines() == [message]


def test_an_ascii_only_stdout_gets_ascii_spellings() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "linreg_tui", "--headless", "--num-examples", "100", "--epochs", "1"],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    lines = done.stdout.decode("ascii").splitlines()
    assert lines[0] == "linreg-tui - scratch - cpu - seed 0 - 100 examples x 2 features"
    assert "1/2(y_hat-y)^2" in lines[1]


@pytest.mark.skipif(os.name != "posix", reason="pipes and SIGPIPE are POSIX")
def test_a_reader_that_leaves_ends_the_run_quietly_with_141(tmp_path: Path) -> None:
    metrics = tmp_path / "runs.jsonl"
    process = start_cli("--headless", "--epochs", "100000", "--num-examples", "100", "--metrics", str(metrics))
    read_until(process.stdout, "linreg-tui ")  # `| head -1`: one line, then the reader leaves
    assert process.stdout is not None
    process.stdout.close()
    assert process.wait(timeout=60) == 141  # 100,000 epochs would take minutes
    assert process.stderr is not None and process.stderr.read() == ""
    assert json.loads(metrics.read_text().splitlines()[-1])["status"] == "cancelled"


@pytest.mark.skipif(os.name != "posix", reason="pipes are POSIX")
def test_a_reader_that_leaves_after_the_last_line_had_everything() -> None:
    """The reader leaves once it has every line (`| head -12` of 12 lines): nothing was lost, so the
    output is not reported as cut short; a line meant for it after it left is."""
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stream:
        out = LineOutput(stream, "the pipe", on_failure=lambda: None)
        left = threading.Event()

        def on_gone() -> None:
            out.lost_reader()
            left.set()

        with reader_watch(stream, on_gone):
            out.write(["epoch 1, loss 0.039329", "reproduce: linreg-tui --headless"])
            assert os.read(read_end, 1000).count(b"\n") == 2
            os.close(read_end)
            assert left.wait(timeout=30), "the watch did not see the reader leave"
        assert out.reader_gone and not out.lost_output
        out.write(["one line too many"])
        assert out.lost_output


@pytest.mark.skipif(os.name != "posix", reason="pipes are POSIX")
@pytest.mark.parametrize(
    ("command", "last"),
    [
        (["--headless", "--num-examples", "100", "--epochs", "1"], "reproduce: "),
        (["sweep", "--lr", "0.01,0.1", "--num-examples", "100", "--epochs", "1", "--csv"], "0.1,"),
    ],
    ids=["headless", "sweep-csv"],
)
def test_a_reader_that_reads_every_line_and_leaves_gets_exit_0(command: list[str], last: str) -> None:
    process = start_cli(*command)
    read_until(process.stdout, last)  # the last line
    assert process.stdout is not None
    process.stdout.close()
    assert process.wait(timeout=60) == 0


@pytest.mark.skipif(not Path("/dev/stderr").exists(), reason="needs /dev/stderr")
def test_a_reader_that_leaves_is_noticed_between_writes() -> None:
    # --json writes nothing until the run ends: the leaving reader is noticed without a write.
    process = start_cli(
        "--headless", "--json", "--epochs", "100000", "--num-examples", "100", "--metrics", "/dev/stderr"
    )
    read_until(process.stderr, '{"run_id"')
    read_until(process.stderr, '{"run_id"')  # an epoch: training is under way
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 141
    assert json.loads(err.splitlines()[-1])["status"] == "cancelled"


@pytest.mark.skipif(os.name != "posix", reason="pipes are POSIX")
def test_the_bench_stops_when_its_reader_leaves() -> None:
    process = start_cli("bench", "--quick", "--device", "cpu")
    read_until(process.stdout, "Command: ")  # then nothing more until the table: only a watch sees it go
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=100)
    assert process.returncode == 141
    assert not re.search(r"^\[(\d+)/\1\]", err, re.MULTILINE)  # it did not go on to the last case


def test_two_runs_appending_to_one_file_can_be_told_apart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "runs.jsonl"
    ids = []
    for seed in ("1", "2"):
        assert main(["--headless", "--json", "--metrics", str(path), "--epochs", "2", "--seed", seed]) == 0
        ids.append(json.loads(capsys.readouterr().out)["run_id"])
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["run_id"] for r in records] == [ids[0]] * 4 + [ids[1]] * 4
    assert ids[0] < ids[1]  # sorting the ids sorts the runs by start time
    assert [r["config"]["seed"] for r in records if r["type"] == "run"] == [1, 2]


def test_counts_are_singular_or_plural(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--w", "2", "--num-examples", "1", "--batch-size", "1", "--epochs", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(" · 1 example × 1 feature")
    assert lines[-2].startswith("finished: 1 step in ")  # the last line is the command that reproduces it


def test_fewer_examples_than_unknowns_say_the_optimum_is_one_of_many(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--w", "1,2,3", "--num-examples", "3", "--batch-size", "1", "--epochs", "2"]) == 0
    out = capsys.readouterr().out
    assert "the closed-form optimum is one of many exact fits: 3 examples cannot pin down 4 unknowns" in out
    assert main(["--headless", "--json", "--w", "1,2,3", "--num-examples", "3", "--batch-size", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["ols_unique"] is False
    assert main(["--headless", "--w", "1,2,3", "--num-examples", "4", "--batch-size", "1", "--epochs", "1"]) == 0
    assert "one of many" not in capsys.readouterr().out  # 4 examples pin down 4 unknowns


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")
def test_the_app_refuses_when_stderr_is_not_the_terminal(tmp_path: Path) -> None:
    import pty

    controller, terminal = pty.openpty()
    err_log = tmp_path / "err.log"
    with err_log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "linreg_tui"], stdin=terminal, stdout=terminal, stderr=err, text=True
        )
    os.close(terminal)
    shown = b""
    # Until the child closes the terminal (EIO); an app that started instead would never close it.
    while select.select([controller], [], [], 60)[0]:
        try:
            chunk = os.read(controller, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    if process.poll() is None:
        process.kill()
    assert process.wait(timeout=60) == 2
    assert "the app needs a terminal, and stderr is not one" in shown.decode()
    assert err_log.read_text() == ""  # nothing drawn into the file


def test_the_app_starts_without_a_terminal_under_a_textual_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """textual-serve runs the app over pipes with TEXTUAL_DRIVER set: no terminal is needed there."""
    from linreg_tui.ui.app import LinregApp

    started = []
    monkeypatch.setattr(LinregApp, "run", lambda self: started.append(self))
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")
    assert main([]) == 0 and len(started) == 1
    monkeypatch.delenv("TEXTUAL_DRIVER")
    assert main([]) == 2 and len(started) == 1  # pytest's stdin is no terminal
