"""A file's run carries the file as it read it (rows and sha256) in its reproduce command and its saved
TOML, and running it again on a file that has changed since says so."""

from __future__ import annotations

import hashlib
import shlex
from pathlib import Path

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.config import parse_config
from linreg_tui.run.config_file import ConfigFileError, config_toml, read_config
from linreg_tui.run.data_record import DataRecord, data_change
from linreg_tui.ui.app import LinregApp
from tests.apptools import answer_prompt, log_text, wait_ready, wait_until

ROWS = "x,y\n" + "".join(f"{i},{3 * i + 1}\n" for i in range(12))


@pytest.fixture
def data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "rows.csv"
    path.write_text(ROWS)
    return path


def reproduce(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["--headless", *argv]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith("reproduce: linreg-tui ")
    return shlex.split(line.removeprefix("reproduce: linreg-tui "))


def test_a_files_reproduce_command_carries_its_rows_and_sha256(
    capsys: pytest.CaptureFixture[str], data_file: Path
) -> None:
    args = reproduce(capsys, "--data", "rows.csv", "--batch-size", "4", "--epochs", "1")
    sha256 = hashlib.sha256(data_file.read_bytes()).hexdigest()
    assert args[-4:] == ["--data-rows", "12", "--data-sha256", sha256]
    assert "--data-rows" not in reproduce(capsys, "--data", "airfoil", "--epochs", "1")  # a built-in: no record
    # The same file: the command runs again without a word about the data.
    assert main(args) == 0
    assert "changed" not in capsys.readouterr().err
    # One more row: the run still trains, on the file as it is now, and says it changed.
    data_file.write_text(ROWS + "12,37\n")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "linreg-tui: note: data file rows.csv has changed since the run was recorded" in err
    assert f"it had 12 rows (now 13) and sha256 {sha256[:12]}…" in err


def test_a_saved_toml_carries_the_record_and_its_run_names_a_changed_file(
    capsys: pytest.CaptureFixture[str], data_file: Path
) -> None:
    assert (
        main(["--headless", "--data", "rows.csv", "--batch-size", "4", "--epochs", "1", "--save-config", "r.toml"]) == 0
    )
    texts, record = read_config("r.toml")
    assert record == DataRecord(12, hashlib.sha256(data_file.read_bytes()).hexdigest())
    assert parse_config(texts).data == "rows.csv"
    capsys.readouterr()
    data_file.write_text(ROWS.replace("7,22", "7,23"))  # the same rows, another number
    assert main(["--headless", "--config", "r.toml"]) == 0
    assert "data file rows.csv has changed since the run was recorded: it had 12 rows and sha256" in (
        capsys.readouterr().err
    )
    assert "data_rows" not in config_toml(parse_config({"data": "longley"}))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--data-rows", "12"], "--data-rows needs --data-sha256 with it"),
        (["--data-rows", "x", "--data-sha256", "ab" * 32], "--data-rows is not a whole number of rows"),
        (["--data-rows", "0", "--data-sha256", "ab" * 32], "--data-rows is not a whole number of rows"),
        (["--data-rows", "3", "--data-sha256", "abc"], "--data-sha256 is not a sha256; allowed: 64 hexadecimal"),
    ],
)
def test_a_bad_record_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], data_file: Path, argv: list[str], message: str
) -> None:
    assert main(["--headless", "--data", "rows.csv", "--batch-size", "4", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_bad_record_in_toml_is_refused_without_echoing_it(data_file: Path) -> None:
    Path("bad.toml").write_text('data = "rows.csv"\ndata_rows = 12\ndata_sha256 = "SECRET-not-a-hash"\n')
    with pytest.raises(ConfigFileError, match=r"^bad.toml: data_sha256 is not a sha256") as refused:
        read_config("bad.toml")
    assert "SECRET" not in str(refused.value)


def test_no_record_or_other_data_says_nothing(data_file: Path) -> None:
    config = parse_config({"data": "rows.csv"})
    assert data_change(config, None) is None
    record = DataRecord(12, "0" * 64)
    Path("synthetic").write_text(ROWS)  # a file that happens to have a source's name is not the data
    assert data_change(parse_config({}), record) is None
    assert data_change(config, record) is not None


async def test_the_app_opens_a_toml_and_warns_of_a_changed_file(data_file: Path) -> None:
    Path("r.toml").write_text(config_toml(parse_config({"data": "rows.csv", "batch_size": "4"})))
    data_file.write_text(ROWS + "12,37\n")
    app = LinregApp(parse_config({}))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f")
        await answer_prompt(pilot, "r.toml")
        await wait_until(pilot, lambda: "opened r.toml" in log_text(app))
        assert "data file rows.csv has changed since the run was recorded: it had 12 rows (now 13)" in log_text(app)
