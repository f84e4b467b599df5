"""A bad data file in the app: the form says why on its error line and marks the data field, no run
starts, and what the person typed stays. (The command line's refusals: test_data_input.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select, Static

from linreg_tui.run.config import parse_config
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.file_prompt import FilePrompt
from linreg_tui.ui.panels.form import CHOOSE_FILE
from tests.apptools import answer_prompt, log_text, run_to_end, type_into, wait_ready, wait_until

GOOD = "x1,x2,y\n" + "".join(f"{i},{i * i % 7},{2 * i + 1}\n" for i in range(20))


async def test_a_bad_file_is_refused_on_the_form_and_nothing_typed_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(GOOD)
    app = LinregApp(parse_config({"data": str(path), "batch_size": "5", "epochs": "1"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        form = app.main_screen.params_panel
        message = form.query_one("#form-message", Static)
        await type_into(pilot, "lr", "0.005")
        # Line 16 of 21 goes bad after the file was chosen: the run finds it when it loads the numbers.
        path.write_text(GOOD.replace("14,0,29\n", "14,oops,29\n"))
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "'oops' is not a number" in str(message.render()) and not app.running)
        assert "rows.csv: line 16, column 2 ('x2'): 'oops' is not a number" in str(message.render())
        assert form.query_one("#data").has_class("-refused") and app.last_result is None
        # Two rows, fewer than a batch: the cell is said when the form is read, not the batch size.
        path.write_text("x1,x2,y\n1,2,3\n4,bad,6\n")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "'bad' is not a number" in str(message.render()))
        assert "batch size" not in str(message.render()) and not app.running and app.last_result is None
        assert form.texts()["lr"] == "0.005" and form.texts()["data"] == str(path)
        assert form.texts()["batch_size"] == "5"


async def test_the_data_selects_file_option_opens_a_confined_prompt_and_trains_on_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "file…" asks for a file inside the working directory; the form then holds it, with its row count as
    the examples and its columns' fields shown; the scatter is drawn with its names before the run."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rows.csv").write_text(GOOD)
    app = LinregApp(parse_config({"data": "airfoil"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        form = app.main_screen.params_panel
        form.query_one("#data", Select).value = CHOOSE_FILE
        prompt = await answer_prompt(pilot, "../etc/passwd")  # out of the directory: refused in the prompt
        assert app.screen is prompt and "leads out with '..'" in str(prompt.query_one("#file-message").render())
        await answer_prompt(pilot, "rows.csv")
        await wait_until(pilot, lambda: form.texts().get("data") == str(tmp_path / "rows.csv"))
        texts = form.texts()
        assert texts["num_examples"] == "20" and "target" in texts and "true_w" not in texts
        await wait_until(pilot, lambda: app.main_screen.data_plot.names == (("x1", "x2"), "y"))
        await type_into(pilot, "batch_size", "5")
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"
        assert app.last_result.data is not None and app.last_result.data.feature_names == ("x1", "x2")


async def test_the_file_option_is_off_in_a_browser_without_a_files_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = LinregApp(parse_config({}))
    monkeypatch.setattr(type(app), "is_web", property(lambda _: True))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        app.main_screen.params_panel.query_one("#data", Select).value = CHOOSE_FILE
        await wait_until(pilot, lambda: "opening files is off in the browser" in log_text(app))
        assert not isinstance(app.screen, FilePrompt)
        assert app.main_screen.params_panel.texts()["data"] == "synthetic"


async def test_the_data_panel_never_shows_the_last_sources_data_or_fit_under_a_new_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A five-row file chosen while the batch is 10: the form refuses the batch, and the Data panel says
    it waits instead of drawing poly's points as the file's. Valid again, it draws the file; after a run,
    another target is other data, drawn without the last run's model line."""
    monkeypatch.chdir(tmp_path)
    Path("five.csv").write_text("a,b,y\n1,2,3\n2,1,5\n3,3,6\n4,1,9\n5,2,11\n")
    app = LinregApp(parse_config({"data": "poly"}))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        form, plot = app.main_screen.params_panel, app.main_screen.data_plot
        form.choose_file(str(tmp_path / "five.csv"))
        await wait_until(pilot, lambda: plot.preview is None)
        assert form.query_one("#batch_size").has_class("-refused")
        await type_into(pilot, "batch_size", "5")
        await wait_until(pilot, lambda: plot.preview is not None and plot.preview.total == 5)
        assert plot.names == (("a", "b"), "y")
        await run_to_end(pilot)
        assert plot.model_w is not None  # the run's fit is drawn
        await type_into(pilot, "target", "a")
        await wait_until(pilot, lambda: plot.names == (("b", "y"), "a"))
        assert plot.model_w is None and plot.truth is None
