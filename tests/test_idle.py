"""$LINREG_TUI_IDLE_MINUTES (set by `linreg-tui serve` for its tabs): the app ends after that long without a
key or the mouse while no run trains, which frees the tab's slot on the server.

Driven with Pilot and a fake clock that the tests move: they ask the app to look (as its timer does)
after each move, instead of waiting for the limit to pass. One test keeps the real timer, at a fraction
of a second, and waits for the app's end.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from linreg_tui.run.config import RunConfig
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.web.served import idle_limit_seconds
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


class FakeClock:
    """The app's idle clock (ui.app.monotonic), moved by the test: no test waits for the limit to pass."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr("linreg_tui.ui.app.monotonic", fake)
    monkeypatch.setenv("LINREG_TUI_IDLE_MINUTES", "1")  # 60 s of the fake clock; the real timer never fires
    return fake


def exits_of(app: LinregApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The messages the app would have exited with (recorded, so that the test can go on)."""
    said: list[str] = []
    monkeypatch.setattr(app, "exit", lambda *args, message="", **kwargs: said.append(str(message)))
    return said


async def test_input_keeps_it_open(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        exits = exits_of(app, monkeypatch)
        clock.now += 50
        await pilot.hover("#params", offset=(2, 2))  # the mouse moves: a person is there
        clock.now += 50  # 100 s since the start, 50 since the mouse
        app._end_if_idle()
        assert exits == []
        clock.now += 11  # 61 s since the mouse
        app._end_if_idle()
        assert exits == ["linreg-tui: ended after 1 minutes without input and without a run training"]


async def test_a_training_run_keeps_it_open_and_its_end_restarts_the_wait(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = LinregApp(RunConfig(epochs=100_000))  # minutes of training: stopped below
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        exits = exits_of(app, monkeypatch)
        app.main_screen.action_run()  # not an input event: only the training keeps the app open
        await wait_until(pilot, lambda: app.training)
        clock.now += 1000
        app._end_if_idle()
        assert exits == [], "ended while a run trained"
        clock.now += 500  # it trains on, unseen by the idle check until its end
        app.main_screen.action_stop()
        await wait_until(pilot, lambda: not app.running)
        clock.now += 59  # the whole limit counts from the run's end
        app._end_if_idle()
        assert exits == []
        clock.now += 2
        app._end_if_idle()
        assert len(exits) == 1


async def test_a_paused_run_is_not_training(clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        exits = exits_of(app, monkeypatch)
        app.main_screen.action_run(paused=True)  # step mode, waiting before step 1
        await wait_until(pilot, lambda: app.running)
        clock.now += 61
        app._end_if_idle()
        assert len(exits) == 1 and app.running  # it ends with the run still open (the exit stops it)
        app.main_screen.action_stop()
        await wait_until(pilot, lambda: not app.running)
