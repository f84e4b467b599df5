"""$LINREG_TUI_IDLE_MINUTES (set by `linreg-tui serve` for its tabs): the app ends after that long without a
key or the mouse while no run trains, which frees the tab's slot on the server.

Driven with Pilot at fractions of a second. The tests wait for the app's end (an event); where they
must check that it did NOT end, they keep it busy (input, a run) for a few limits and look.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from linreg_tui.run.config import RunConfig
from linreg_tui.ui.app import LinregApp, idle_limit_seconds
from tests.apptools import wait_ready, wait_until

#: A safety net only, for an app that never ends.
HANG = 30


async def ended(app: LinregApp) -> float:
    """Wait (at most HANG) for the app to exit; the time.monotonic() at which it did."""
    async with asyncio.timeout(HANG):
        while not app._exit:
            await asyncio.sleep(0.01)
    return time.monotonic()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [(None, None), ("30", 1800.0), ("0.5", 30.0), ("0", None), ("-1", None), ("inf", None), ("soon", None)],
)
def test_the_variable_is_read_as_minutes_and_anything_else_is_no_limit(text: str | None, seconds: float | None) -> None:
    assert idle_limit_seconds({} if text is None else {"LINREG_TUI_IDLE_MINUTES": text}) == seconds


async def test_without_the_variable_the_app_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LINREG_TUI_IDLE_MINUTES", raising=False)
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        assert app.idle_limit is None


async def test_an_app_left_alone_ends_and_says_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINREG_TUI_IDLE_MINUTES", "0.01")  # 0.6 s
    app = LinregApp()
    async with app.run_test(size=(120, 36)):
        started = time.monotonic()
        end = await ended(app)
    assert end - started < HANG and app.return_code == 0
    assert "ended after 0.01 minutes without input" in capsys.readouterr().err


async def test_input_keeps_it_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINREG_TUI_IDLE_MINUTES", "0.03")  # 1.8 s
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        busy_until = time.monotonic() + 2.5 * 1.8
        while time.monotonic() < busy_until:  # the mouse moves: a person is there
            last_input = time.monotonic()
            await pilot.hover("#params", offset=(1 + int(last_input * 10) % 5, 1))
            await asyncio.sleep(0.2)
            assert not app._exit, "ended while the mouse moved"
        end = await ended(app)
    assert end - last_input >= 1.8 * 0.9


async def test_a_training_run_keeps_it_open_and_its_end_restarts_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINREG_TUI_IDLE_MINUTES", "0.02")  # 1.2 s
    app = LinregApp(RunConfig(epochs=100_000))  # minutes of training: stopped below
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        app.main_screen.action_run()  # not an input event: only the training keeps the app open
        await wait_until(pilot, lambda: app.running)
        await asyncio.sleep(2.5 * 1.2)
        assert not app._exit and app.running, "ended while a run trained"
        app.main_screen.action_stop()
        await wait_until(pilot, lambda: not app.running)
        run_ended = time.monotonic()
        end = await ended(app)
    assert end - run_ended >= 1.2 * 0.9  # the whole limit from the run's end


async def test_a_paused_run_is_not_training(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINREG_TUI_IDLE_MINUTES", "0.01")
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        app.main_screen.action_run(paused=True)  # step mode, waiting before step 1
        await wait_until(pilot, lambda: app.running)
        await ended(app)
        assert app.running  # it ended with the run still open (the exit stops it)
