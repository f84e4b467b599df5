"""`linreg-tui bench`: one table, every engine against the book's loop, measured in one run."""

from __future__ import annotations

import pytest

from linreg_tui.bench import APP_SECTION, ENGINES_SECTION, HEADER, QUICK_SIZES, main
from linreg_tui.cli import main as cli_main


def test_quick_bench_prints_one_row_per_engine_and_size(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["bench", "--quick", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].startswith("Machine: ") and "torch " in lines[0]
    assert lines[1].startswith("Command: `linreg-tui bench --quick --device cpu`")
    assert f"{ENGINES_SECTION}:" in lines and f"{APP_SECTION}:" in lines
    app_at = lines.index(f"{APP_SECTION}:")
    table = [line for line in lines[:app_at] if line.startswith("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table]
    assert tuple(rows[0]) == HEADER and set(rows[1][0]) <= {"-", ":"}
    body = rows[2:]
    engines = ["book scratch", "scratch", "fast", "book concise", "concise"]
    assert len(body) == len(QUICK_SIZES) * len(engines)
    for (n, batch), group in zip(QUICK_SIZES, [body[i : i + 5] for i in range(0, len(body), 5)], strict=True):
        assert [r[3] for r in group] == engines
        for device, examples, size, name, us, timed_over, baseline, speedup in group:
            assert (device, examples, size) == ("cpu", f"{n:,}", str(batch))
            assert float(us.replace(",", "")) > 0 and timed_over.endswith(" steps")
            assert ("epoch" in timed_over) == (name == "fast")  # fast: whole epochs; loops: a window
            if name.startswith("book"):
                assert baseline == speedup == ""
            else:
                assert baseline == ("book concise" if name == "concise" else "book scratch")
                assert speedup.endswith("×") and float(speedup[:-1].replace(",", "")) > 0
    app_rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[app_at:] if line[:1] == "|"]
    names = [r[3] for r in app_rows[2:]]
    assert names == ["scratch headless", "scratch in the app", "fast headless", "fast in the app"]
    for row in app_rows[3::2]:
        assert row[6].endswith("headless") and float(row[7][:-1]) > 0
    progress = captured.err.splitlines()
    assert progress[0].startswith("linreg-tui bench on ")
    cases = len(body) + len(names)
    assert any(line.startswith(f"[{cases}/{cases}] cpu · n=") for line in progress)


def test_unavailable_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["--quick", "--device", "cuda"]) == 2
    assert "device: 'cuda' is not available" in capsys.readouterr().err
