"""Helpers for driving the real app under Pilot."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import textual.app as textual_app
from textual.events import Paste
from textual.pilot import Pilot
from textual.widgets import Input

from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.file_prompt import FilePrompt
from linreg_tui.ui.panels.log import LogPane
from linreg_tui.ui.plots.plotting import CachedPlot


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {condition}")
        await pilot.pause(0.05)


async def wait_ready(pilot: Pilot) -> None:
    """Started, with the data preview drawn and the devices found."""
    app = pilot.app
    assert isinstance(app, LinregApp)
    await pilot.pause()  # an auto-pilot (the snapshots') starts before the main screen is composed
    await wait_until(pilot, lambda: app.main_screen.data_plot.preview is not None)
    await wait_until(pilot, lambda: app.main_screen.session.devices is not None)


async def run_to_end(pilot: Pilot, timeout: float = 60.0) -> None:
    app = pilot.app
    assert isinstance(app, LinregApp)
    before = app.last_result
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: not app.running and app.last_result is not before, timeout)
    await pilot.pause(0.15)  # let the last redraw happen


async def set_field(pilot: Pilot, field: str, value: str) -> None:
    """Sets a field at once, to prepare a run (`type_into` types it as a person does)."""
    widget = pilot.app.query_one(f"#{field}", Input)
    widget.value = value
    await pilot.pause()


@contextmanager
def keys_without_idle_waits() -> Iterator[None]:
    """Pilot's key presses without its wait for an idle process after each key. The same key events go
    through the driver and Pilot still waits for the screen to handle each; but an idle process never
    comes while a run trains (its thread keeps a core busy), so each key waited up to 2 s: typing a
    learning rate mid-run took 17 s, and the form's hostile values most of a minute."""
    original = textual_app.wait_for_idle

    async def one_turn(*args: object, **kwargs: object) -> None:
        await asyncio.sleep(0)

    textual_app.wait_for_idle = one_turn  # type: ignore[assignment]
    try:
        yield
    finally:
        textual_app.wait_for_idle = original


async def type_into(pilot: Pilot, field: str, text: str) -> None:
    """Clicks the field, clears it with ctrl+u (delete to the start) and types the text key by key (a
    text longer than a person would type, such as 1,001 weights, is pasted), then waits for the app to
    settle (pilot.pause)."""
    await pilot.click(f"#{field}")
    await pilot.press("end", "ctrl+u")  # with Pilot's waits: the field has focus, and is cleared, first
    if len(text) > 60:
        pilot.app.query_one(f"#{field}").post_message(Paste(text))
    else:
        with keys_without_idle_waits():
            await pilot.press(*text)  # Pilot names the key of each character itself
    await pilot.pause()


def log_text(app: LinregApp) -> str:
    return "\n".join(app.query_one(LogPane).lines_written)


def fake_clock(step: float = 0.001) -> Callable[[], float]:
    """A perf_counter that advances a fixed step per call: run times and chunking become repeatable."""
    ticks = itertools.count()
    return lambda: next(ticks) * step


def drawn_series(chart: CachedPlot) -> dict[tuple[int, int, int], tuple[list[float], list[float]]]:
    """What the chart's last replot handed plotext, by colour: the x and y values of each scatter, as
    plotext holds them to draw (its figure's data, read back rather than recomputed)."""
    monitor = chart.plt._active.monitor
    return {colors[0]: (list(xs), list(ys)) for xs, ys, colors in zip(monitor.x, monitor.y, monitor.color, strict=True)}


async def answer_prompt(pilot: Pilot, name: str | None = None) -> FilePrompt:
    """Waits for the file prompt; types `name` over the default (None keeps it) and presses enter."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, FilePrompt))
    prompt = pilot.app.screen
    assert isinstance(prompt, FilePrompt)
    if name is not None:
        prompt.query_one("#file-name", Input).value = name
    await pilot.press("enter")
    await pilot.pause()
    return prompt
