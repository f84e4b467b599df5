"""Text that fits: the status line, the border titles and subtitles and the legends are shortened to
the width they get, never cut inside a word or a number (issue 18: "…appears when th", "the rest at
optim…", "2,078 ste…", "step" with its number cut, at 120×36 and 80×24)."""

from __future__ import annotations

import re

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets._header import HeaderTitle

from linreg_tui.run.config import RunConfig, parse_config
from linreg_tui.run.presets import apply_preset
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.plots.landscape import IDLE_NOTE
from linreg_tui.ui.widgets.fitting import ELLIPSIS, fit, leading_words, wordings
from linreg_tui.ui.widgets.legend import Legend, rows_of
from tests.apptools import run_to_end, set_field, wait_ready, wait_until

PROGRESS = [" 63%", "step 2,078/3,000", "ETA 0:04", "lr 0.1", "epoch 21/30"]


def drawn_lines(widget: Widget) -> list[str]:
    """The widget's lines as the screen shows them, its border (and so its titles) included."""
    return [strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]


def words(text: str) -> set[str]:
    return set(text.removesuffix(ELLIPSIS).replace(" · ", " ").split())


@pytest.mark.parametrize("width", range(0, 60))
def test_a_fitted_text_keeps_whole_parts_and_never_cuts_a_number(width: int) -> None:
    shown = fit(PROGRESS, width)
    assert cell_len(shown) <= width
    # Whole parts from the first on: "63% · step 2,078/3,000", never "63% · step 2,0".
    kept = shown.split(" · ") if shown else []
    assert kept == PROGRESS[: len(kept)]
    assert len(kept) >= 1 or width < cell_len(PROGRESS[0])


def test_a_part_too_long_for_the_width_keeps_its_leading_words_with_an_ellipsis() -> None:
    said = "opened good.toml: the form holds its values (keys it lacks: the defaults)"
    assert fit([said], 40) == "opened good.toml: the form holds its…"
    assert fit([("diverged at epoch 1, step 57", "diverged")], 20) == "diverged"
    assert leading_words("step 1,234,567", 9) == "step…"  # not "step 1,2…"
    assert leading_words("1,234,567", 5) == ""


def test_a_legend_breaks_between_keys_never_inside_one() -> None:
    keys = ["━ w1 (true 2)", "━ w2 (true -3.4)", "━ w3 (true 0.01)", "━ b (true 4.2)"]
    rows = rows_of([keys, ["(dim lines: the true values)"]], 34)
    assert rows == [
        "━ w1 (true 2)  ━ w2 (true -3.4)",
        "━ w3 (true 0.01)  ━ b (true 4.2)",
        "(dim lines: the true values)",
    ]


def problems_on_screen(app: LinregApp) -> list[str]:
    """Every border label and the status line as drawn: each must fit its room and be drawn whole."""
    found = []
    for widget in app.screen.query("*"):
        if not (widget.display and widget.region.area):
            continue
        border = widget.outer_size.width - 6  # the corners, an edge cell and a space beside each
        for label in (widget.border_title, widget.border_subtitle):
            if not label:
                continue
            plain = Text.from_markup(label).plain
            width, height = widget.outer_size
            top, bottom = (widget.render_lines(Region(0, y, width, 1))[0].text for y in (0, height - 1))
            if cell_len(plain) > border or plain not in top + bottom:
                found.append(f"{widget.id}: {plain!r} ({cell_len(plain)} cells for {border})")
    for header in app.screen.query(HeaderTitle):  # under 24 rows the header makes room for the form
        title = f"{app.title} — {app.screen.sub_title}"
        if header.region.area and title not in drawn_lines(header)[0]:
            found.append(f"header: {drawn_lines(header)[0].strip()!r} of {title!r}")
    bar = app.main_screen.status_bar
    drawn = drawn_lines(bar.line)[0].rstrip()
    said = set().union(*(words(wording) for part in bar.line.parts for wording in wordings(part)))
    if drawn != bar.shown or not words(drawn) <= said:  # a cut word ("ste", "2,0") is none of them
        found.append(f"status line: {drawn!r} of {bar.text!r}")
    return found


async def look(pilot: Pilot, seen: dict[str, list[str]], state: str, every_panel: bool = True) -> None:
    """What is on screen now, and with `every_panel` each panel in turn (at 80×24 one at a time, as
    tabs; at 120×36 two share a cell), recording what does not fit."""
    app = pilot.app
    assert isinstance(app, LinregApp)
    for key in ("f2", "f3", "f7", "f6", "f4", "f5") if every_panel else ("",):
        if key:
            await pilot.press(key)
        for problem in problems_on_screen(app):
            seen.setdefault(problem, []).append(state)


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_every_title_and_the_status_line_fit_whole_in_every_state(size: tuple[int, int]) -> None:
    """The weight-decay preset (200 weights: "the rest at optimum"; not the run's loss: the landscape's
    long subtitle) idle, paused, finished, diverged (lr 30), training and stopped."""
    app = LinregApp(parse_config(apply_preset("weight-decay")), preset="weight-decay")
    seen: dict[str, list[str]] = {}
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        await look(pilot, seen, "idle")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: app.main_screen.status_bar.text.startswith("paused · step 1/"))
        await look(pilot, seen, "paused", every_panel=False)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        await run_to_end(pilot)
        await look(pilot, seen, "finished")
        await set_field(pilot, "lr", "30")
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "diverged"
        await look(pilot, seen, "diverged")
        await set_field(pilot, "lr", "0.003")
        await set_field(pilot, "epochs", "100000")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: (app.main_screen.status_bar.shown_step or 0) > 2000)
        await look(pilot, seen, "training", every_panel=False)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        await look(pilot, seen, "stopped", every_panel=False)
    assert not seen, seen


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_a_narrow_status_line_drops_whole_parts_and_keeps_its_numbers(size: tuple[int, int]) -> None:
    """The issue's cases: a diverged run's step and advice, and a paused run's step, at 80×24."""
    app = LinregApp(RunConfig(lr=3.0, epochs=300))
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        bar = app.main_screen.status_bar
        assert re.fullmatch(r"diverged at epoch 1, step \d+ · try (a smaller lr, e\.g\. |lr )0\.3", bar.shown)
        await set_field(pilot, "lr", "0.03")
        for _ in range(3):
            await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: bar.text.startswith("paused · step 3/30,000"))
        assert bar.shown.startswith("paused · step 3/30,000")
        assert cell_len(bar.shown) <= bar.line.content_size.width


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
async def test_before_a_run_the_landscape_and_parameters_say_whole_what_comes(size: tuple[int, int]) -> None:
    app = LinregApp()
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        for key, legend_id, note in (
            ("f6", "#landscape-legend", IDLE_NOTE),
            ("f7", "#weights-legend", "no run yet: ctrl+r trains; each weight and b are drawn against the step"),
        ):
            await pilot.press(key)
            await pilot.pause(0.1)
            legend = app.query_one(legend_id, Legend)
            assert " ".join(line.strip() for line in drawn_lines(legend)).strip() == note


async def test_at_80x24_each_legend_key_is_on_one_row() -> None:
    """Textual wraps at any space, the no-break space too: "━ w3 (true" over "0.01)" at 80×24."""
    app = LinregApp(RunConfig(true_w=(2.0, -3.4, 0.01, 1.5), num_examples=100, epochs=1))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        await pilot.press("f7")
        await pilot.pause(0.2)
        legend = app.main_screen.weights_panel.legend
        rows = [line.strip().replace("\u00a0", " ") for line in drawn_lines(legend)]
        for name, true in (("w1", "2"), ("w2", "-3.4"), ("w3", "0.01"), ("w4", "1.5"), ("b", "4.2")):
            assert any(f"{name} (true {true})" in row for row in rows), (name, rows)
