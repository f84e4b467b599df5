"""Hostile input, in the form and on the command line: a one-line reason, and nothing breaks."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from linreg_tui.cli import main
from linreg_tui.ui.app import LinregApp
from tests.apptools import log_text, run_to_end, set_field, wait_ready

#: (field, text typed, what the message must say). Every one must be refused with the field's name.
HOSTILE: list[tuple[str, str, str]] = [
    ("true_w", "", "true w: '' is empty"),
    ("true_w", "abc", "entry 1 ('abc') is not a number"),
    ("true_w", "2;-3.4", "is not a number; enter numbers separated by commas"),
    ("true_w", "2 -3.4", "is not a number; enter numbers separated by commas"),
    ("true_w", "2,,3", "has an empty entry at position 2"),
    ("true_w", "2, nan", "entry 2 is not finite"),
    ("true_w", "1e999, 1", "entry 1 is not finite"),
    ("true_w", "__import__('os').system('echo pwned')", "is not a number"),
    ("true_w", ",".join(["1"] * 1001), "has 1001 numbers; at most 1,000 features are allowed"),
    ("true_b", "", "true b: '' is empty"),
    ("true_b", "inf", "true b: 'inf' is infinite or overflows"),
    ("true_b", "-1e999", "is infinite or overflows"),
    ("true_b", "1e7", "is out of range (allowed: from -1e6 to 1e6)"),
    ("num_examples", "0", "examples: '0' is out of range"),
    ("num_examples", "-5", "is out of range; enter a whole number from 1 to 1,000,000,000"),
    ("num_examples", "10.5", "examples: '10.5' is a fraction"),
    ("num_examples", "1e999", "is not finite"),
    ("num_examples", "ten", "is not a whole number"),
    ("num_examples", "2e9", "is out of range"),
    ("noise", "-0.1", "noise: '-0.1' is out of range (allowed: from 0 to 1e6)"),
    ("noise", "nan", "noise: 'nan' is not a number (nan)"),
    ("batch_size", "0", "batch size: '0' is out of range"),
    ("batch_size", "2.5", "batch size: '2.5' is a fraction"),
    ("batch_size", "5000", "batch size: '5000' is larger than the number of examples; allowed 1 to 1,000"),
    ("lr", "0", "learning rate: '0' is out of range (allowed: greater than 0 to 1e6)"),
    ("lr", "-0.03", "learning rate: '-0.03' is out of range"),
    ("lr", "1e999", "learning rate: '1e999' is infinite or overflows"),
    ("lr", "0x10", "learning rate: '0x10' is not a number"),
    ("epochs", "0", "epochs: '0' is out of range"),
    ("epochs", "3.5", "epochs: '3.5' is a fraction"),
    ("epochs", "1e6", "epochs: '1e6' is out of range; enter a whole number from 1 to 100,000"),
    ("seed", "-1", "seed: '-1' is out of range"),
    ("seed", "1.5", "seed: '1.5' is a fraction"),
    ("seed", "99999999999999999999999", "seed: '99999999999999999999999' is out of range"),
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


async def test_the_form_refuses_every_hostile_value_and_keeps_working() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        message = app.query_one("#form-message", Static)
        defaults = app.query_one("#params").texts()
        for field, text, expected in HOSTILE:
            await set_field(pilot, field, text)
            await pilot.press("ctrl+r")
            await pilot.pause(0.05)
            assert not app.running, (field, text)
            assert expected in str(message.render()), (field, text, str(message.render()))
            assert f"not started: {expected}" in log_text(app) or expected in log_text(app)
            await set_field(pilot, field, defaults[field])
        assert app.last_result is None  # nothing was trained on bad input
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_the_form_refuses_a_run_that_cannot_fit() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "true_w", ", ".join(["1"] * 100))
        await set_field(pilot, "num_examples", "1e9")
        await pilot.press("ctrl+r")
        await pilot.pause(0.5)
        assert not app.running and app.last_result is None
        assert "needs about" in str(app.query_one("#form-message", Static).render())
