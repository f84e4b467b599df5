"""The app's share and keep keys (copy the command, save/open a TOML config, save the run as JSON, an
SVG screenshot) and the run history (f10) that chooses which earlier runs the charts draw."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.widgets import DataTable
from textual.widgets._markdown import MarkdownTableCellContents

from linreg_tui.run.config import RunConfig, parse_config
from linreg_tui.run.config_file import read_config_file
from linreg_tui.run.report import run_command
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.help import HelpScreen
from linreg_tui.ui.panels.history import HistoryScreen
from linreg_tui.ui.plots.loss import CHART_POINTS, KEEP_RUNS, MAX_OVERLAID, LossHistory
from linreg_tui.ui.screen.keys import HIDE_EARLIER_RUNS
from tests.apptools import answer_prompt, log_text, run_to_end, set_field, wait_ready, wait_until

TINY = RunConfig(num_examples=100, epochs=2)
SIZE = (120, 36)


@pytest.fixture(autouse=True)
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


async def test_copy_puts_the_last_runs_command_in_the_clipboard_and_the_log() -> None:
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        await pilot.press("ctrl+y")
        assert app.last_result is not None
        command = run_command(app.last_result)
        assert app.clipboard == command
        assert f"copied to the clipboard: {command}" in log_text(app)


async def test_ctrl_s_saves_the_form_as_toml_and_asks_before_overwriting(in_tmp_dir: Path) -> None:
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "lr", "0.1")
        await pilot.press("ctrl+s")
        await answer_prompt(pilot)
        saved = in_tmp_dir / "linreg-run.toml"
        assert parse_config(read_config_file(str(saved))) == replace(TINY, lr=0.1)
        assert "saved the form to linreg-run.toml" in log_text(app)

        await set_field(pilot, "lr", "0.2")
        await pilot.press("ctrl+s")
        prompt = await answer_prompt(pilot)
        assert app.screen is prompt and "exists" in str(prompt.query_one("#file-message").render())
        assert parse_config(read_config_file(str(saved))).lr == 0.1  # not yet
        await pilot.press("enter")  # the second enter replaces it
        await wait_until(pilot, lambda: app.screen is app.main_screen)
        assert parse_config(read_config_file(str(saved))).lr == 0.2
        assert "saved the form to linreg-run.toml (overwrote it)" in log_text(app)


async def test_open_config_fills_the_form_and_a_bad_file_changes_nothing(in_tmp_dir: Path) -> None:
    (in_tmp_dir / "good.toml").write_text('lr = 0.07\nimpl = "concise"\n')
    (in_tmp_dir / "bad.toml").write_text("lr = -1\nepochs = 9\n")
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f")
        await answer_prompt(pilot, "good.toml")
        form = app.main_screen.params_panel
        assert form.read_config() == replace(RunConfig(), lr=0.07, impl="concise")  # missing keys: defaults
        await pilot.press("ctrl+f")
        await answer_prompt(pilot, "bad.toml")
        assert "not opened: bad.toml: lr (learning rate) is out of range" in log_text(app)
        assert form.read_config() == replace(RunConfig(), lr=0.07, impl="concise")


async def test_ctrl_e_saves_the_run_as_json_and_f12_a_screenshot_under_a_free_name(in_tmp_dir: Path) -> None:
    (in_tmp_dir / "linreg-tui-1.svg").write_text("keep")
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        result = app.last_result
        assert result is not None
        await pilot.press("ctrl+e")
        await answer_prompt(pilot)
        saved = json.loads((in_tmp_dir / "linreg-run-1.json").read_text())
        assert saved["epoch_losses"] == list(result.epoch_losses)
        assert len(saved["step_losses"]) == result.steps and saved["step_losses_every"] == 1
        assert [epoch["w"] for epoch in saved["epochs"]][-1] == list(result.w)
        assert saved["config"]["num_examples"] == 100 and saved["command"] == run_command(result)
        assert "saved the run to linreg-run-1.json" in log_text(app)

        await pilot.press("f12")
        await answer_prompt(pilot)
        assert (in_tmp_dir / "linreg-tui-1.svg").read_text() == "keep"
        assert (in_tmp_dir / "linreg-tui-2.svg").read_text().startswith("<svg")
        assert "saved the screenshot to linreg-tui-2.svg" in log_text(app)


async def test_history_lists_the_runs_and_a_row_chooses_what_the_loss_chart_draws() -> None:
    app = LinregApp(replace(TINY, epochs=1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        await set_field(pilot, "lr", "0.1")
        await run_to_end(pilot)
        loss = app.main_screen.loss_panel
        assert [history.number for history in loss.previous] == [1]
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        assert table.get_row_at(1)[3] == "lr=0.1"  # what changed from run #1
        assert [table.get_row_at(row)[0] for row in (0, 1)] == ["yes", "live"]
        table.move_cursor(row=0)
        await pilot.press("enter")
        assert loss.previous == [] and "#1" not in str(loss.legend.render())
        assert table.get_row_at(0)[0] == "no"
        assert app.main_screen.landscape_panel.previous == []
        await pilot.press("space")
        assert [history.number for history in loss.previous] == [1]


async def test_sixty_runs_keep_bounded_curves_and_the_charts_only_what_they_draw() -> None:
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        screen = app.main_screen
        result = screen.session.last_result
        assert result is not None
        for number in range(2, 62):  # RunResults fed to the history directly, not trained 60 times
            loss = LossHistory(result.config, number)
            loss.steps.extend(1, [1.0 / step for step in range(1, 5001)])
            loss.epoch_steps, loss.epoch_losses = list(range(100)), [1.0] * 100
            screen.session.history.start(result.config, loss, None).finish(result)
        screen.share.show_chosen_runs()
        records = screen.session.history.records
        assert len(records) == 61
        # Earlier runs keep what the chart draws; the live run all 5,000 steps (up to STEP_LOSSES_KEPT, for its JSON).
        assert all(len(record.loss.steps) <= CHART_POINTS + 1 for record in records[:-1])
        assert len(records[-1].loss.steps) == 5_000
        assert all(record.loss.epoch_losses == [] for record in records[:-1])
        assert [h.number for h in screen.loss_panel.previous] == [60, 59, 58][:KEEP_RUNS]
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        table = app.screen.query_one(DataTable)
        assert table.row_count == 61
        for row in range(MAX_OVERLAID + 2):  # pick more than the charts draw: the extra ones are refused
            table.move_cursor(row=row)
            await pilot.press("space")
        assert len(screen.loss_panel.previous) == MAX_OVERLAID
        assert f"at most {MAX_OVERLAID} earlier runs" in log_text(app)


async def test_ctrl_o_hides_the_earlier_runs_that_f10_draws_again_as_the_help_and_readme_say() -> None:
    """One true thing: ctrl+o hides the earlier runs from the loss chart and the landscape; they stay in
    the history, where f10 draws any of them again (the help said "forget", the README "hides"): the help,
    the README and docs/app.md say so."""
    app = LinregApp(replace(TINY, epochs=1))
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        for lr in ("0.01", "0.1", "0.03"):
            await set_field(pilot, "lr", lr)
            await run_to_end(pilot)
        screen = app.main_screen
        loss, landscape = screen.loss_panel, screen.landscape_panel
        assert [h.number for h in loss.previous] == [2, 1] and len(landscape.previous) == 2
        await pilot.press("ctrl+o")
        assert loss.previous == [] and landscape.previous == []  # hidden from both
        assert [record.number for record in screen.session.history.records] == [1, 2, 3]  # not forgotten
        await pilot.press("f10")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        app.screen.query_one(DataTable).move_cursor(row=0)
        await pilot.press("enter")
        assert [h.number for h in loss.previous] == [1] and len(landscape.previous) == 1
        await pilot.press("escape")
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = [str(cell.render()).strip() for cell in app.screen.query(MarkdownTableCellContents)]
        said = rows[rows.index("^o") + 1]  # the key as the footer shows it
    assert said == HIDE_EARLIER_RUNS
    assert "hide" in said and "loss chart and the landscape" in said and "f10 draws" in said
    root = Path(__file__).parent.parent
    readme, app_doc = (" ".join((root / name).read_text().split()) for name in ("README.md", "docs/app.md"))
    assert "| `ctrl+o` | hide the earlier runs (f10 draws them again) |" in readme
    assert "`ctrl+o` hides them from the loss chart and the landscape (they stay in the history, and `f10`" in app_doc
    for text in (readme, app_doc):
        assert not any(word in text for word in ("`ctrl+o` forgets", "`ctrl+o` clears", "ctrl+o` | clear"))
