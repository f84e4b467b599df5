"""Reproduce and share a run: its command line, TOML config files, CSV metrics."""

from __future__ import annotations

import csv
import json
import shlex
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.command import command_line, parse_lr_changes
from linreg_tui.run.config import ConfigError, RunConfig, parse_config
from linreg_tui.run.config_file import ConfigFileError, config_toml, read_config_file

#: A float that needs all 17 significant digits to read back, and weights that are not short in binary.
LONG_LR = 0.1 + 0.2
RUN = ["--lr", "0.30000000000000004", "--w", "0.1,0.7", "--b=-1.5", "--num-examples", "200", "--epochs", "2"]


def run_cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linreg_tui", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def run_printed_command(command: str) -> dict[str, object]:
    """Run a printed `linreg-tui --headless ...` as a shell would split it, adding --json."""
    program, *args = shlex.split(command)
    assert program == "linreg-tui"
    done = run_cli([*args, "--json"])
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def same_run(first: dict[str, object], second: dict[str, object]) -> None:
    for key in ("w", "b", "epoch_losses", "config", "steps", "lr_changes", "command"):
        assert first[key] == second[key], key


def test_command_writes_changed_fields_with_all_their_digits_and_always_device_impl_seed() -> None:
    config = RunConfig(lr=LONG_LR, true_w=(-0.1, 0.7))
    assert command_line(config) == (  # a value that starts with '-' is attached, or argparse takes it for a flag
        "linreg-tui --headless '--w=-0.1, 0.7' --lr 0.30000000000000004 --impl scratch --device cpu --seed 0"
    )
    assert command_line(RunConfig()) == "linreg-tui --headless --impl scratch --device cpu --seed 0"
    assert parse_config({"lr": "0.30000000000000004"}).lr == LONG_LR


def test_printed_command_reproduces_the_run_bit_for_bit() -> None:
    done = run_cli(["--headless", "--json", *RUN, "--seed", "7"])
    assert done.returncode == 0, done.stderr
    original = json.loads(done.stdout)
    assert original["config"]["lr"] == LONG_LR and original["config"]["true_w"] == [0.1, 0.7]
    assert "--lr 0.30000000000000004" in original["command"]
    same_run(original, run_printed_command(original["command"]))


def test_text_report_ends_with_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", *RUN]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("reproduce: linreg-tui --headless ")
    assert "--lr 0.30000000000000004" in last and "--seed 0" in last


def test_a_run_with_live_lr_changes_is_reproduced_by_its_command() -> None:
    from linreg_tui.run.control import RunControl
    from linreg_tui.run.events import StepLosses, TrainingEvent
    from linreg_tui.run.report import result_record
    from linreg_tui.training.loop import train

    config = parse_config({"true_w": "0.1, 0.7", "num_examples": "200", "epochs": "2", "lr": "0.03"})
    control = RunControl()
    changed = threading.Event()

    def on_event(event: TrainingEvent) -> None:
        # A person changing the rate while it trains: applied at the next chunk of steps, wherever that is.
        if isinstance(event, StepLosses) and not changed.is_set():
            control.set_lr(LONG_LR)
            changed.set()

    result = train(config, on_event, control=control)
    assert result.status == "finished" and result.lr_changes and result.lr_changes[0][1] == LONG_LR
    original = json.loads(json.dumps(result_record(result)))
    assert "--lr-changes " in original["command"]
    same_run(original, run_printed_command(original["command"]))


def test_bad_lr_changes_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match=r"entry 2: step 3 does not come after step 5"):
        parse_lr_changes("5:0.1,3:0.2")
    done = run_cli(["--headless", "--lr-changes", "10:fast"])
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "linreg-tui: invalid input: --lr-changes: '10:fast' entry 1: learning rate: 'fast' is not a number "
        "(allowed: greater than 0 to 1e6); allowed: STEP:LR pairs separated by commas, e.g. 101:0.01,201:0.003 "
        "(step a whole number from 1)"
    ]


# --- config files ----------------------------------------------------------------------------------


def test_saved_config_reads_back_to_the_same_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.toml"
    assert main(["--headless", "--json", *RUN, "--impl", "concise", "--save-config", str(path)]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert "lr = 0.30000000000000004" in path.read_text()
    assert main(["--headless", "--json", "--config", str(path)]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["config"] == saved["config"] and again["w"] == saved["w"]
    assert [p.name for p in tmp_path.iterdir()] == ["run.toml"]  # no temporary file left behind


def test_flags_override_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.toml"
    path.write_text('true_w = "1, 2, 3"\nlr = 0.1\nepochs = 1\nnum_examples = 100\n')
    assert main(["--headless", "--json", "--lr", "0.05", "--config", str(path)]) == 0
    config = json.loads(capsys.readouterr().out)["config"]
    assert config["true_w"] == [1.0, 2.0, 3.0] and config["epochs"] == 1 and config["lr"] == 0.05


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "learning_rate = 0.1\n",
            "unknown key 'learning_rate'; allowed keys: data, degree, standardize, target, features, header, "
            "true_w, true_b, num_examples, noise, scales, corr, val, outlier, batch_size, lr, optimizer, momentum, "
            "gamma, rho, beta1, beta2, eps, schedule, decay_factor, decay_every, milestones, lr_min, warmup, "
            "epochs, impl, loss, huber_delta, reduction, wd, init_std, device, seed",
        ),
        ('lr = "fast"\n', "lr (learning rate) is not a number (allowed: greater than 0 to 1e6)"),
        ("lr = -1\n", "lr (learning rate) is out of range (allowed: greater than 0 to 1e6)"),
        ("lr = nan\n", "lr (learning rate) is not a number (nan) (allowed: greater than 0 to 1e6)"),
        ("epochs = 2.5\n", "epochs (epochs) is a fraction; enter a whole number from 1 to 100,000"),
        ("seed = true\n", "seed (seed) is not a whole number; enter a whole number from 0 to"),
        ("true_w = [1, true]\n", "true_w is not a number, a string or an array of numbers; allowed: 1 to"),
        ('true_w = "1, 2, x9"\n', "true_w (true w) entry 3 is not a number; enter numbers separated by commas"),
        ("impl = [1]\n", "impl (implementation) is not an implementation; allowed: scratch, concise, fast"),
        ("lr = \n", "not valid TOML"),
    ],
)
def test_bad_config_file_is_refused_with_file_key_and_allowed(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    done = run_cli(["--headless", "--config", str(path)])
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith(f"linreg-tui: invalid input: {path}: ")
    assert message in line


@pytest.mark.parametrize(
    "toml",
    [
        'secret_token = "hunter2"\n',  # a key no config has
        'lr = "hunter2"\n',  # a key it has, with a value no field takes
        'true_w = "1, hunter2"\n',  # inside a list, where the form's message quotes the entry
        "true_w = [1, 'hunter2']\n",  # of a type no field holds
        'true_w = "1, hunter2*3"\n',  # a repeat that is not one
        "hunter2\n",  # not TOML at all
    ],
)
def test_a_file_that_is_not_a_config_is_refused_without_showing_what_it_holds(tmp_path: Path, toml: str) -> None:
    """The file named may be anything (a secret named by mistake, or by a visitor of `serve`): the error
    names the file, the key and what is allowed, never a value read from it."""
    path = tmp_path / "secrets.toml"
    path.write_text(toml)
    with pytest.raises(ConfigFileError) as refused:
        read_config_file(str(path))
    assert "hunter2" not in str(refused.value) and str(path) in str(refused.value)


def test_save_config_refuses_to_overwrite_unless_forced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.toml"
    path.write_text("kept = 1\n")
    args = ["--headless", "--num-examples", "100", "--epochs", "1", "--save-config", str(path)]
    assert main(args) == 2
    assert "exists; give another name, or --force to overwrite it" in capsys.readouterr().err
    assert path.read_text() == "kept = 1\n"
    assert main([*args, "--force"]) == 0
    assert f"linreg-tui: overwrote {path}" in capsys.readouterr().err
    assert path.read_text() == config_toml(parse_config({"num_examples": "100", "epochs": "1"}))


# --- CSV metrics -----------------------------------------------------------------------------------


def test_csv_metrics_have_a_row_per_step_and_per_epoch_and_one_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "runs.csv"
    results = []
    for w in ("1,2", "1,2,3"):
        assert (
            main(["--headless", "--json", "--w", w, "--num-examples", "50", "--epochs", "2", "--metrics", str(path)])
            == 0
        )
        results.append(json.loads(capsys.readouterr().out))
    lines = path.read_text().splitlines()
    assert lines[0] == "run_id,kind,epoch,step,loss,val_loss,lr,w,b"
    assert lines.count(lines[0]) == 1
    rows = list(csv.DictReader(lines))
    for result in results:
        mine = [row for row in rows if row["run_id"] == result["run_id"]]
        steps = [row for row in mine if row["kind"] == "step"]
        epochs = [row for row in mine if row["kind"] == "epoch"]
        assert [int(row["step"]) for row in steps] == list(range(1, 11))
        assert [int(row["epoch"]) for row in steps] == [1] * 5 + [2] * 5
        assert [float(row["loss"]) for row in epochs] == result["epoch_losses"]
        assert json.loads(epochs[-1]["w"]) == result["w"] and float(epochs[-1]["b"]) == result["b"]
        assert all(row["val_loss"] == "" for row in mine)
    assert len(rows) == 2 * (10 + 2)


def test_csv_metrics_refuse_a_file_with_other_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    assert main(["--headless", "--metrics", str(path)]) == 2
    said = capsys.readouterr().err
    assert "has other columns" in said and "a,b" not in said  # what the file holds is not printed
    assert path.read_text() == "a,b\n1,2\n"


def test_other_metrics_paths_stay_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "runs.log"
    assert main(["--headless", "--num-examples", "50", "--epochs", "1", "--metrics", str(path)]) == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["type"] for r in records] == ["run", "epoch", "result"]
    assert records[-1]["command"].startswith("linreg-tui --headless ")
