"""`linreg-tui bench`: one table, every engine against the book's loop, measured in one run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from linreg_tui.commands.bench.cases import APP_SECTION, BATCHED_SECTION, ENGINES_SECTION, time_in_app
from linreg_tui.commands.bench.harness import QUICK_SIZES, Case, Timing, run_cases
from linreg_tui.commands.bench.main import main
from linreg_tui.commands.bench.report import HEADER, format_table
from linreg_tui.commands.main import main as cli_main
from linreg_tui.run.config import RunConfig


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
    batched_at = lines.index(f"{BATCHED_SECTION}:")
    app_rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in lines[app_at:batched_at] if line[:1] == "|"
    ]
    names = [r[3] for r in app_rows[2:]]
    assert names == ["scratch headless", "scratch in the app", "fast headless", "fast in the app"]
    for row in app_rows[3::2]:
        assert row[6].endswith("headless") and float(row[7][:-1]) > 0
    batched_rows = [
        [cell.strip() for cell in line.strip("|").split("|")] for line in lines[batched_at:] if line[:1] == "|"
    ]
    batched = [(r[3], r[6]) for r in batched_rows[2:]]
    assert batched == [
        ("1 run", ""),
        ("10 one after another", "1 run"),
        ("10 batched", "10 one after another"),
        ("100 one after another", "1 run"),
        ("100 batched", "100 one after another"),
    ]
    assert any(
        line.startswith("cpu: 100 points batched took ") and "× the wall time of one run" in line for line in lines
    )
    assert lines[-1].startswith("All lines measured in this one run (")
    progress = captured.err.splitlines()
    cases = len(body) + len(names) + len(batched)
    assert progress[0].startswith(f"{cases} cases, ")
    assert any(line.startswith(f"[{cases}/{cases}] cpu · n=") for line in progress)


def test_a_section_asked_for_is_the_only_one_timed(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["bench", "--quick", "--device", "cpu", "--section", "batched"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"{BATCHED_SECTION}:" in lines
    assert f"{ENGINES_SECTION}:" not in lines and f"{APP_SECTION}:" not in lines
    assert any(line.startswith("| cpu") and "100 batched" in line for line in lines)


def test_unavailable_device_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["--quick", "--device", "cuda"]) == 2
    assert "device: 'cuda' is not available" in capsys.readouterr().err


def scripted(*us_per_step: float) -> Callable[[], Timing]:
    """A case's stopwatch that gives these timings, one per round."""
    timings: Iterator[float] = iter(us_per_step)
    return lambda: Timing(next(timings), steps=1_000)


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_line_shows_its_median_round_and_its_speedup_is_the_median_of_the_rounds_own_ratios() -> None:
    section, at = "a section", ("cpu", 1_000, 10)
    cases = [
        # A machine with slow spells: round 2 slow for both, round 3 for "book" alone.
        Case(section, *at, "book", None, scripted(1_000.0, 3_000.0, 2_000.0)),
        Case(section, *at, "ours", "book", scripted(500.0, 1_500.0, 250.0)),
        Case(section, "cpu", 2_000, 10, "book", None, scripted(10.0, 10.0, 10.0)),  # same name, other size
        Case(section, "cpu", 2_000, 10, "ours", "book", scripted(40.0, 50.0, 60.0)),
    ]
    rows = run_cases(cases, rounds=3, progress=lambda text: None)
    assert [row.timing.us_per_step for row in rows if row.timing] == [2_000.0, 500.0, 10.0, 50.0]
    assert rows[0].speedup is None and rows[2].speedup is None
    # Per round 2.0, 2.0 and 8.0: the median 2.0, where the medians' ratio would say 4.0 and the fastest 4.0.
    assert rows[1].speedup == pytest.approx(2.0) and rows[3].speedup == pytest.approx(0.2)
    table = [cells(line) for line in format_table(rows)]
    assert table[2] == ["cpu", "1,000", "10", "book", "2,000.0", "1,000 steps", "", ""]
    # The rounds' lowest and highest ratio in brackets: how much the machine moved.
    assert table[3] == ["cpu", "1,000", "10", "ours", "500.0", "1,000 steps", "book", "2.00× (2.00–8.00)"]
    assert table[4][4] == "10.0" and table[5][4] == "50.0"
    assert table[5][-2:] == ["book", "0.20× (0.17–0.25)"]


def test_steps_under_ten_microseconds_show_two_decimals_and_equal_ratios_no_range() -> None:
    at = ("s", "cpu", 100, 10)
    cases = [Case(*at, "headless", None, scripted(1.0, 2.0)), Case(*at, "fast", "headless", scripted(1.13, 2.26))]
    table = [cells(line) for line in format_table(run_cases(cases, rounds=2, progress=lambda text: None))]
    assert table[2][4] == "1.00" and table[3][4] == "1.13"
    assert table[3][-1] == "0.88×"  # both rounds 0.885: no range to show


def test_every_other_round_times_the_cases_in_reverse_order() -> None:
    timed: list[str] = []

    def stopwatch(name: str) -> Callable[[], Timing]:
        return lambda: timed.append(name) or Timing(1.0, steps=10)

    cases = [Case("s", "cpu", 10, 1, name, None, stopwatch(name)) for name in ("a", "b", "c")]
    run_cases(cases, rounds=3, progress=lambda text: None)
    assert timed == ["a", "b", "c", "c", "b", "a", "a", "b", "c"]


def test_a_round_in_which_either_side_failed_is_left_out_of_the_ratio() -> None:
    def flaky(*us_per_step: float | None) -> Callable[[], Timing]:
        timings = iter(us_per_step)

        def measure() -> Timing:
            value = next(timings)
            if value is None:
                raise RuntimeError("the app gave no result")
            return Timing(value, steps=100)

        return measure

    at = ("s", "cpu", 100, 10)
    cases = [
        Case(*at, "headless", None, flaky(100.0, 100.0, 100.0)),
        Case(*at, "app", "headless", flaky(None, 200.0, 125.0)),
    ]
    rows = run_cases(cases, rounds=3, progress=lambda text: None)
    assert rows[1].timing is not None and rows[1].timing.us_per_step == 125.0  # the lower of the two rounds
    assert rows[1].speedup == pytest.approx((0.5 + 0.8) / 2) and rows[1].error == ""


@pytest.mark.parametrize(
    ("argument", "refusal"),
    [
        ("--rounds=0", "argument --rounds: '0': give a whole number above 0"),
        ("--rounds=two", "argument --rounds: 'two' is not a whole number; give a whole number above 0"),
        ("--budget=-1", "argument --budget: '-1': give a number above 0"),
        ("--budget=inf", "argument --budget: 'inf': give a number above 0"),
    ],
)
def test_a_bad_number_of_rounds_or_budget_is_refused_naming_the_option(
    argument: str, refusal: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--quick", argument])
    assert exit_.value.code == 2 and refusal in capsys.readouterr().err


def test_a_case_that_fails_is_a_line_of_the_table_and_the_exit_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused() -> Timing:
        raise RuntimeError("the app ended the run without a result (refused, or failed in set-up)")

    def cases(options: object) -> list[Case]:
        at = ("a section", "cpu", 100, 10)
        return [Case(*at, "headless", None, scripted(5.0)), Case(*at, "in the app", "headless", refused)]

    monkeypatch.setattr("linreg_tui.commands.bench.main.SECTIONS", {"a section": cases})
    assert main(["--quick", "--device", "cpu"]) == 1
    captured = capsys.readouterr()
    table = [cells(line) for line in captured.out.splitlines() if line.startswith("|")]
    assert table[2][3:5] == ["headless", "5.00"]
    assert table[3][3:] == [
        "in the app",
        "failed",
        "the app ended the run without a result (refused, or failed in set-up)",
        "headless",
        "",
    ]
    assert "1 of 2 lines could not be timed" in captured.err


SMALL_RUN = RunConfig(num_examples=100, epochs=1)


def test_a_run_the_app_cannot_make_is_an_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise RuntimeError("out of memory")

    monkeypatch.setattr("linreg_tui.training.run_data.make_dataset", out_of_memory)  # the app's set-up fails
    monkeypatch.setattr("linreg_tui.commands.bench.cases.APP_SETTLE_S", 1.0)
    with pytest.raises(RuntimeError, match="the app ended the run without a result"):
        time_in_app(SMALL_RUN, deadline_s=60)


def test_a_run_in_the_app_that_never_ends_meets_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()

    def stuck(*args: object, **kwargs: object) -> None:
        released.wait(120)
        raise RuntimeError("released")

    monkeypatch.setattr("linreg_tui.training.run_data.make_dataset", stuck)
    try:
        with pytest.raises(RuntimeError, match="the app gave no result within 1 s"):
            time_in_app(SMALL_RUN, deadline_s=1)
    finally:
        released.set()


def test_rounds_are_asked_for_and_the_table_says_how_it_was_made(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def cases(options: object) -> list[Case]:
        at = ("a section", "cpu", 100, 10)
        return [Case(*at, "headless", None, scripted(5.0, 6.0)), Case(*at, "app", "headless", scripted(6.0, 6.0))]

    monkeypatch.setattr("linreg_tui.commands.bench.main.SECTIONS", {"a section": cases})
    assert main(["--quick", "--device", "cpu", "--rounds", "2"]) == 0
    captured = capsys.readouterr()
    assert "2 cases, loops timed for about 0.05 s each, the median of 2 rounds" in captured.err
    assert sum(line.startswith("round 2/2 ") for line in captured.err.splitlines()) == 2
    table = [cells(line) for line in captured.out.splitlines() if line.startswith("|")]
    assert table[3][-1] == "0.92× (0.83–1.00)"
    assert "µs/step: each line's median of 2 rounds. Speed-up: the median of the rounds' own ratios" in captured.out
