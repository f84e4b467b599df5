"""Bad data input end to end, through the real command line and a TOML config: one line on stderr that
names the problem, exit code 2, and no output file (metrics, JSON) written. A UTF-8 BOM, CRLF line ends
and quoted numbers give the same run as a plain file. (The table reader's own refusals: test_tables.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from linreg_tui.commands.main import main

ROOT = Path(__file__).resolve().parents[1]

#: (id, the file's bytes or None for no file, flags after --data FILE, what the one line must say). Every
#: file is shorter than the default batch of 10: a file's own problem must be said before the batch's.
CASES: list[tuple[str, bytes | None, list[str], str]] = [
    ("missing", None, [], "data.csv: no such file"),
    ("empty", b"", [], "data.csv is empty; a table needs rows of numbers"),
    ("header only", b"a,b,c\n", [], "data.csv has a header row but no rows of data"),
    ("not a number", b"a,b,c\n1,2,3\n4,xyz,6\n", [], "data.csv: line 3, column 2 ('b'): 'xyz' is not a number"),
    ("long cell", b"a,b\n1,2\n3," + b"9" * 5 + b"q" * 40 + b"\n", [], "column 2 ('b'): '99999qqqqqqqqqqqqqq…' is"),
    ("empty cell", b"a,b,c\n1,,3\n", [], "data.csv: line 2, column 2 ('b') is empty; every cell needs a number"),
    ("nan", b"a,b,c\n1,2,3\n4,nan,6\n", [], "line 3, column 2 ('b'): 'nan' is NaN; every cell needs a finite"),
    ("inf", b"a,b,c\n1,2,3\n4,5,-inf\n", [], "line 3, column 3 ('c'): '-inf' is infinite"),
    ("ragged", b"a,b,c\n1,2,3\n4,5\n", [], "data.csv: line 3 has 2 fields, the header has 3"),
    ("unknown target", b"a,b,c\n1,2,3\n", ["--target", "zz"], "unknown target column 'zz': the columns are a, b, c"),
    ("unknown feature", b"a,b,c\n1,2,3\n", ["--features", "a,q"], "unknown feature column 'q'"),
    ("target a feature", b"a,b,c\n1,2,3\n", ["--features", "a,c"], "the target column 3 ('c') is among the features"),
    ("duplicate names", b"a,b,a\n1,2,3\n", [], "the header names 'a' twice (columns 1 and 3)"),
    ("not utf-8", b"a,b,c\n1,2,3\n4,\xff,6\n", [], "data.csv: line 3 is not UTF-8 text (byte 0xff"),
    ("utf-16", "a,b\n1,2\n".encode("utf-16"), [], "data.csv is UTF-16 text; save it as UTF-8"),
    (
        "constant column",
        b"a,k,y\n1,0.1,5\n2,0.1,6\n3,0.1,8\n",
        ["--standardize", "features", "--batch-size", "1"],
        "feature 'k' is constant (0.1 in every training row): its std is 0",
    ),
    ("more examples than rows", b"a,b\n1,2\n3,4\n", ["--num-examples", "5"], "examples: '5' is more than the 2 rows"),
    ("no training rows", b"a,b\n1,2\n3,4\n", ["--val", "2"], "validation examples: '2' would leave no training rows"),
    ("true w", b"a,b\n1,2\n3,4\n", ["--w", "1,2"], "true w: '1,2' does not apply to data from a file"),
    ("noise", b"a,b\n1,2\n3,4\n", ["--noise", "0.1"], "noise: '0.1' does not apply to data from a file"),
    ("true b", b"a,b\n1,2\n3,4\n", ["--b", "1"], "true b: '1' does not apply to data from a file"),
    ("scales", b"a,b\n1,2\n3,4\n", ["--scales", "2"], "feature scales: '2' does not apply to data from a file"),
    ("outlier", b"a,b\n1,2\n3,4\n", ["--outlier", "9"], "outlier label: '9' does not apply to data from a file"),
]

#: Where the run's output would go: the standard output, a JSON object, or a metrics file (CSV, JSON lines).
OUTPUTS = {"plain": [], "json": ["--json"], "csv": ["--metrics", "OUT.csv"], "jsonl": ["--metrics", "OUT.jsonl"]}


def refused_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Runs the command line; it must exit 2 with nothing on stdout and one line on stderr."""
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("linreg-tui: ")
    return line


@pytest.mark.parametrize("output", list(OUTPUTS))
@pytest.mark.parametrize(("data", "flags", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: bytes | None,
    flags: list[str],
    message: str,
    output: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if data is not None:
        Path("data.csv").write_bytes(data)
    before = sorted(tmp_path.iterdir())
    line = refused_line(capsys, ["--headless", "--data", "data.csv", *flags, *OUTPUTS[output]])
    assert message in line
    assert sorted(tmp_path.iterdir()) == before  # no metrics file, not even its header


def test_a_directory_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = refused_line(capsys, ["--headless", "--data", str(tmp_path), "--metrics", str(tmp_path / "m.csv")])
    assert f"{tmp_path} is a directory; name a CSV or TSV file" in line
    assert list(tmp_path.iterdir()) == []


def test_a_file_too_large_is_refused_before_it_is_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1.25,2.5\n" * 100_000)
    monkeypatch.setattr("linreg_tui.training.tables.current_host_free_bytes", lambda: 8 << 20)
    line = refused_line(capsys, ["--headless", "--data", str(path), "--metrics", str(tmp_path / "m.csv")])
    assert "big.csv (878.9 KiB) needs about 9.7 MiB of RAM to load, more than fits (8.0 MiB free)" in line
    assert [p.name for p in tmp_path.iterdir()] == ["big.csv"]


def test_an_existing_metrics_file_is_left_as_it_was(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "k.csv"
    data.write_bytes(b"a,k,y\n1,0.1,5\n2,0.1,6\n")
    metrics = tmp_path / "m.csv"
    metrics.write_text("run_id,kind,epoch,step,loss,val_loss,lr,w,b\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    for target in (metrics, empty):
        before = target.read_bytes()
        argv = ["--headless", "--data", str(data), "--standardize", "features", "--batch-size", "1"]
        assert "feature 'k' is constant" in refused_line(capsys, [*argv, "--metrics", str(target)])
        assert target.read_bytes() == before


def test_save_config_writes_nothing_for_a_run_refused_once_its_data_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A constant column to standardize is found when the file is read: the config is written only when
    the run starts, so neither a new file nor one given with --force is touched; a good run saves it."""
    data = tmp_path / "k.csv"
    data.write_bytes(b"a,k,y\n1,0.1,5\n2,0.1,6\n")
    argv = ["--headless", "--data", str(data), "--standardize", "features", "--batch-size", "1"]
    saved = tmp_path / "run.toml"
    line = refused_line(capsys, [*argv, "--save-config", str(saved)])
    assert "standardize: 'features' cannot be used: feature 'k' is constant" in line and not saved.exists()
    saved.write_text("# mine\n")
    refused_line(capsys, [*argv, "--save-config", str(saved), "--force"])
    assert saved.read_text() == "# mine\n"
    assert main([*argv[:3], "--batch-size", "1", "--epochs", "1", "--save-config", str(saved), "--force"]) == 0
    assert f"overwrote {saved}" in capsys.readouterr().err and 'data = "' in saved.read_text()


def test_a_bad_cell_in_a_short_file_is_said_before_the_batch_size_in_a_real_process(tmp_path: Path) -> None:
    """The command as typed: two rows, the second bad, and the default batch of 10."""
    (tmp_path / "bad.csv").write_bytes(b"a,b,c\n1,2,3\n4,xyz,6\n")
    done = subprocess.run(
        [sys.executable, "-m", "linreg_tui", "--headless", "--data", "bad.csv"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        "linreg-tui: invalid input: data: 'bad.csv' cannot be used: bad.csv: line 3, column 2 ('b'): 'xyz' is "
        "not a number"
    ]


TOML_CASES = [
    ("true_w = [1, 2]\n", "true w: '1, 2' does not apply to data from a file"),
    ("noise = 0.5\n", "noise: '0.5' does not apply to data from a file"),
    ('target = "zz"\n', "target column: 'zz' cannot be used: unknown target column 'zz'"),
    ("", "data: 'bad.csv' cannot be used: bad.csv: line 3, column 2 ('b'): 'xyz' is not a number"),
]


@pytest.mark.parametrize(("toml", "message"), TOML_CASES)
def test_the_same_refusals_through_a_config_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, toml: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_bytes(b"a,b,c\n1,2,3\n4,xyz,6\n" if not toml else b"a,b,c\n1,2,3\n4,5,7\n")
    Path("run.toml").write_text(f'data = "bad.csv"\n{toml}')
    before = sorted(tmp_path.iterdir())
    line = refused_line(capsys, ["--headless", "--config", "run.toml", "--metrics", "OUT.csv"])
    assert message in line
    assert sorted(tmp_path.iterdir()) == before


PLAIN = b"x1,x2,y\n" + b"".join(f"{i},{i * i % 7},{2 * i - (i % 3) + 1}\n".encode() for i in range(12))


def dressed(plain: bytes) -> bytes:
    """The same table with a UTF-8 BOM, CRLF line ends and every cell quoted."""
    lines = plain.decode().splitlines()
    quoted = [",".join(f'"{cell}"' for cell in line.split(",")) for line in lines]
    return b"\xef\xbb\xbf" + "\r\n".join(quoted).encode() + b"\r\n"


def test_a_bom_crlf_and_quoted_numbers_train_as_a_plain_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = []
    for name, data in (("plain.csv", PLAIN), ("dressed.csv", dressed(PLAIN))):
        path = tmp_path / name
        path.write_bytes(data)
        argv = ["--headless", "--json", "--data", str(path), "--batch-size", "4", "--lr", "0.001", "--epochs", "2"]
        assert main(argv) == 0
        results.append(json.loads(capsys.readouterr().out))
    plain, dressed_run = results
    assert dressed_run["data"]["rows"] == plain["data"]["rows"] == 12
    assert dressed_run["data"]["sha256"] != plain["data"]["sha256"]  # two files, one table
    assert (dressed_run["feature_names"], dressed_run["target_name"]) == (["x1", "x2"], "y")
    for key in ("w", "b", "epoch_losses", "ols_w", "ols_b", "r2", "rmse"):
        assert dressed_run[key] == plain[key], key
