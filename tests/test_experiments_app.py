"""Issue 10 in the app, driven with Pilot: the preset picker, the validation loss, a sweep from the form
and the data-size plot."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input

from linreg_tui.commands.main import main as cli_main
from linreg_tui.run.config import parse_config
from linreg_tui.run.presets import PRESETS, apply_preset
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.presets_picker import PresetPicker, experiments_help
from linreg_tui.ui.panels.sweep import SweepScreen
from linreg_tui.ui.plots.error import LAW, ErrorPlot
from tests.apptools import log_text, set_field, wait_ready, wait_until

SIZE = (120, 36)


async def run_sweep_to_end(pilot: object, app: LinregApp) -> None:
    await pilot.press("ctrl+r")  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await wait_until(pilot, lambda: not app.running)  # type: ignore[arg-type]


async def test_a_preset_fills_the_form_and_logs_its_question() -> None:
    app = LinregApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert "ctrl+r trains with the form's values (the book's defaults to start)" in log_text(app)
        preset = PRESETS["zero-init"]
        await set_field(pilot, "lr", "0.5")  # not the preset's: back to the default
        await pilot.press("f8")  # the picker opens; its first option is "(none)"
        await pilot.press(*["down"] * (list(PRESETS).index(preset.name) + 1), "enter")
        await wait_until(pilot, lambda: preset.question in log_text(app))
        texts = app.main_screen.params_panel.texts()
        assert {name: texts[name] for name in preset.values} == preset.values
        if "lr" not in preset.values:
            assert texts["lr"] == "0.03"
        assert f"look for: {preset.look_for}" in log_text(app)


async def test_the_validation_loss_is_drawn_beside_the_training_loss() -> None:
    app = LinregApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "val", "50")
        await set_field(pilot, "num_examples", "100")
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await wait_until(pilot, lambda: not app.running)
        loss_panel = app.main_screen.loss_panel
        assert loss_panel.current is not None and len(loss_panel.current.val_losses) == 3
        legend = loss_panel.legend
        await wait_until(pilot, lambda: "validation (held out)" in str(legend.render()).replace("\xa0", " "))


async def test_a_sweep_of_two_learning_rates_makes_two_rows_and_two_curves() -> None:
    app = LinregApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "num_examples", "100")
        await set_field(pilot, "epochs", "1")
        await set_field(pilot, "lr", "0.01, 0.03")
        assert app.main_screen.params_panel.border_subtitle == "sweep: 2 runs"
        await run_sweep_to_end(pilot, app)
        sweep = app.main_screen.sweep
        assert sweep is not None and sweep.state == "finished"
        assert [row.point.swept["lr"] for row in sweep.rows] == ["0.01", "0.03"]
        loss_panel = app.main_screen.loss_panel
        curves = [history for history in [*loss_panel.previous, loss_panel.current] if history is not None]
        assert sorted(history.config.lr for history in curves) == [0.01, 0.03]
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen))
        assert app.screen.query_one(DataTable).row_count == 2


async def test_a_bad_value_in_a_swept_list_is_refused_naming_the_field() -> None:
    app = LinregApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "lr", "0.01, 0.0x")
        message = str(app.main_screen.params_panel.query_one("#form-message").render())
        assert message.startswith("learning rate: '0.0x'")
        assert app.query_one("#lr", Input).has_class("-refused")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert not app.running and app.main_screen.sweep is None


async def test_a_sweep_over_n_plots_the_error_against_n_with_its_slope() -> None:
    app = LinregApp()
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "epochs", "2")
        await set_field(pilot, "num_examples", "20, 500")
        await run_sweep_to_end(pilot, app)
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen))
        plot = app.screen.query_one(ErrorPlot)
        assert plot.slope is not None and plot.slope < 0
        assert LAW in str(plot.law.render())


def test_the_help_gives_each_presets_question_and_what_to_look_for() -> None:
    text = experiments_help()
    for preset in PRESETS.values():
        assert f"**{preset.name}**: {preset.question}" in text and preset.look_for in text


async def test_the_app_started_from_a_preset_names_it_and_logs_its_question() -> None:
    """`linreg-tui --preset weight-decay --lr 0.01`: the form holds the preset with the flag over it, the
    picker names the preset (choosing it again would undo the flag), and the log tells its question."""
    preset = PRESETS["weight-decay"]
    texts = {**apply_preset(preset.name), "lr": "0.01"}
    app = LinregApp(parse_config(texts), preset.name)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert app.main_screen.params_panel.query_one(PresetPicker).value == preset.name
        assert preset.question in log_text(app) and f"look for: {preset.look_for}" in log_text(app)
        assert "the book's defaults" not in log_text(app)
        form = app.main_screen.params_panel.texts()
        assert form["lr"] == "0.01" and form["wd"] == preset.values["wd"]


def test_a_sweep_preset_opens_the_app_with_the_sweep_in_its_form(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's form holds a sweep, so `linreg-tui --preset data-size` opens it (headless, it is
    `linreg-tui sweep`'s); a bad point is still refused before the app starts."""
    opened: list[LinregApp] = []
    monkeypatch.setattr(LinregApp, "run", lambda self: opened.append(self))
    monkeypatch.setenv("TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver")  # no terminal needed
    assert cli_main(["--preset", "data-size"]) == 0
    [app] = opened
    screen = app.main_screen
    assert screen.initial_preset == "data-size"
    assert screen.initial_sweep == {"num_examples": PRESETS["data-size"].sweep["num_examples"]}
    assert cli_main(["--preset", "data-size", "--lr", "0.1,-1"]) == 2 and len(opened) == 1


async def test_the_form_holds_the_sweep_it_was_started_with() -> None:
    sweep = PRESETS["data-size"].sweep
    app = LinregApp(parse_config(apply_preset("data-size") | {"num_examples": "5"}), "data-size", sweep)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        assert app.main_screen.params_panel.texts()["num_examples"] == sweep["num_examples"]
        assert len(app.main_screen.params_panel.read_points()) == len(sweep["num_examples"].split(","))
