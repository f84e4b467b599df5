"""Hostile input, in the form and on the command line: a one-line reason, and nothing breaks."""

from __future__ import annotations

import pytest
from textual.events import Paste
from textual.widgets import Input, Static

from linreg_tui.commands.main import main
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.form import ParamsPanel
from linreg_tui.ui.panels.log import LogPane
from tests.apptools import run_to_end, set_field, type_into, wait_ready, wait_until

#: (field, text typed, what the message must say). Every one must be refused with the field's name.
HOSTILE: list[tuple[str, str, str]] = [
    ("true_w", "", "true w: '' is empty"),
    ("true_w", "abc", "entry 1 ('abc') is not a number"),
    ("true_w", "2;-3.4", "is not a number; enter numbers separated by commas"),
    ("true_w", "2 -3.4", "is not a number; enter numbers separated by commas"),
    ("true_w", "2,,3", "has an empty entry at position 2"),
    ("true_w", "2, nan", "entry 2 ('nan') is not a number (nan)"),
    ("true_w", "1e999, 1", "entry 1 ('1e999') is infinite or overflows"),
    ("true_w", "1e-50, 1", "entry 1 ('1e-50') is 0 in float32"),
    ("true_w", "__import__('os').system('echo pwned')", "is not a number"),
    ("true_w", ",".join(["1"] * 1001), "has 1,001 numbers; at most 1,000 features are allowed"),
    ("true_b", "", "true b: '' is empty"),
    ("true_b", "inf", "true b: 'inf' is infinite or overflows"),
    ("true_b", "-1e999", "is infinite or overflows"),
    ("true_b", "1e7", "is out of range (allowed: from -1e6 to 1e6)"),
    ("num_examples", "0", "examples: '0' is out of range"),
    ("num_examples", "-5", "is out of range; enter a whole number from 1 to 1,000,000,000"),
    ("num_examples", "10.5", "examples: '10.5' is a fraction"),
    ("num_examples", "1e999", "examples: '1e999' is out of range"),
    ("num_examples", "ten", "is not a whole number"),
    ("num_examples", "2e9", "is out of range"),
    ("noise", "-0.1", "noise: '-0.1' is out of range (allowed: from 0 to 1e6)"),
    ("noise", "nan", "noise: 'nan' is not a number (nan)"),
    ("noise", "1e-400", "noise: '1e-400' is too small to hold as a number (it would become 0)"),
    ("batch_size", "0", "batch size: '0' is out of range"),
    ("batch_size", "2.5", "batch size: '2.5' is a fraction"),
    ("batch_size", "5000", "batch size: '5000' is larger than the number of examples; allowed 1 to 1,000"),
    ("lr", "0", "learning rate: '0' is out of range (allowed: greater than 0 to 1e6)"),
    ("lr", "-0.03", "learning rate: '-0.03' is out of range"),
    ("lr", "1e999", "learning rate: '1e999' is infinite or overflows"),
    ("lr", "0x10", "learning rate: '0x10' is not a number"),
    ("lr", "1e-50", "learning rate: '1e-50' is 0 in float32, the type the data and the model are computed in"),
    ("lr", "1e-400", "learning rate: '1e-400' is too small to hold as a number (it would become 0, and 0 is not"),
    ("epochs", "0", "epochs: '0' is out of range"),
    ("epochs", "3.5", "epochs: '3.5' is a fraction"),
    ("epochs", "1e6", "epochs: '1e6' is out of range; enter a whole number from 1 to 100,000"),
    ("seed", "-1", "seed: '-1' is out of range"),
    ("seed", "1.5", "seed: '1.5' is a fraction"),
    ("seed", "99999999999999999999999", "seed: '99999999999999999999999' is out of range"),
    ("seed", "1e-400", "seed: '1e-400' is a fraction"),
    ("seed", "9" * 5000, "is out of range; enter a whole number from 0 to 9,223,372,036,854,775,807"),
]
CLI_ONLY: list[tuple[str, str, str]] = [
    ("impl", "keras", "implementation: 'keras' is not an implementation; allowed: scratch, concise, fast"),
    ("device", "gpu", "device: 'gpu' is not a device; allowed: cpu, cuda, cuda:N"),
    ("device", "cuda:99", "device: 'cuda:99'"),
]
FLAG = {
    "true_w": "--w",
    "true_b": "--b",
    "num_examples": "--num-examples",
    "noise": "--noise",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "epochs": "--epochs",
    "seed": "--seed",
    "impl": "--impl",
    "device": "--device",
}


@pytest.mark.parametrize(("field", "text", "message"), HOSTILE + CLI_ONLY)
def test_cli_refuses_with_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], field: str, text: str, message: str
) -> None:
    assert main(["--headless", f"{FLAG[field]}={text}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err


def test_cli_refuses_a_run_that_cannot_fit_with_the_estimate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--num-examples", "1e9", "--w", ",".join(["1"] * 100)]) == 2
    err = capsys.readouterr().err
    assert "examples: '1000000000' with 100 features needs about" in err and "more than fits" in err


@pytest.mark.timeout(300)  # about 40 values typed key by key: two minutes on a busy 2-core machine
async def test_the_form_refuses_every_hostile_value_and_keeps_working() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        message = app.query_one("#form-message", Static)
        log = app.query_one(LogPane)
        defaults = app.query_one(ParamsPanel).texts()
        for field, text, expected in HOSTILE:
            await type_into(pilot, field, text)
            assert expected in str(message.render()), (field, text, str(message.render()))  # as it is typed
            assert app.query_one(f"#{field}").has_class("-refused")
            logged = len(log.lines_written)
            await pilot.press("ctrl+r")
            await pilot.pause()
            assert not app.running, (field, text)
            new_lines = log.lines_written[logged:]  # this case's own line, not an earlier case's
            assert any(line.startswith("not started: ") and expected in line for line in new_lines), new_lines
            await set_field(pilot, field, defaults[field])  # setting up the next case: no need to type it
            assert not app.query_one(f"#{field}").has_class("-refused")
        assert app.last_result is None  # nothing was trained on bad input
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_pasting_several_lines_is_said() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        message = app.query_one("#form-message", Static)
        await type_into(pilot, "true_w", "")
        app.query_one("#true_w", Input).post_message(Paste("1.5\n-2\n\n3\n"))
        await wait_until(pilot, lambda: "pasted" in str(message.render()))
        assert app.query_one("#true_w", Input).value == "1.5, -2, 3"  # a column of weights: one per line
        assert "true w: pasted 3 lines as 3 comma-separated entries" in str(message.render())
        await type_into(pilot, "lr", "")
        app.query_one("#lr", Input).post_message(Paste("0.1\n0.2"))
        await wait_until(pilot, lambda: "learning rate: pasted" in str(message.render()))
        assert app.query_one("#lr", Input).value == "0.1"
        assert "learning rate: pasted 2 lines; kept the first" in str(message.render())


async def test_the_form_refuses_a_run_that_cannot_fit() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await type_into(pilot, "true_w", ", ".join(["1"] * 100))
        await type_into(pilot, "num_examples", "1e9")
        await pilot.press("ctrl+r")
        message = app.query_one("#form-message", Static)
        await wait_until(pilot, lambda: "needs about" in str(message.render()))
        await app.workers.wait_for_complete()
        assert not app.running and app.last_result is None
