"""Where the app's file keys may read and write (issue: the prompts read and wrote anywhere).

In a terminal: names inside the working directory only, each outcome said in the log and the status
line. In a browser (`linreg-tui serve`): saves are downloads and nothing is written on the server;
ctrl+f opens only from `serve --files DIR`, and is off without it."""

from __future__ import annotations

import io
import json
import tomllib
from pathlib import Path

import pytest

from linreg_tui.run.config import RunConfig
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.file_prompt import FilePrompt
from linreg_tui.ui.screen.file_places import FILES_VARIABLE
from tests.apptools import answer_prompt, log_text, run_to_end, set_field, wait_ready, wait_until

TINY = RunConfig(num_examples=100, epochs=1)
SIZE = (120, 36)


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory, with a sibling directory outside it that holds a secret."""
    (tmp_path / "work").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.toml").write_text('secret_token = "hunter2"\n')
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "work"


def status(app: LinregApp) -> str:
    return app.main_screen.status_bar.text


def prompt_message(app: LinregApp) -> str:
    return str(app.screen.query_one("#file-message").render())


async def test_a_save_outside_the_working_directory_is_refused(work: Path) -> None:
    """Each save key (one app: their prompt is the same), with a `..` name and an absolute one."""
    target = work.parent / "x.toml"
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)  # ctrl+e saves the last run
        for key in ("ctrl+s", "ctrl+e", "f12"):
            for name in ("../x.toml", str(target)):
                await pilot.press(key)
                await answer_prompt(pilot, name)
                assert isinstance(app.screen, FilePrompt), f"{key} {name}: the prompt stays open for another name"
                assert f"give a name inside {work}" in prompt_message(app), (key, name)
                await pilot.press("escape")
                await wait_until(pilot, lambda: app.screen is app.main_screen)
    assert not target.exists()


async def test_a_link_out_of_the_working_directory_is_not_overwritten(work: Path) -> None:
    outside = work.parent / "outside" / "secret.toml"
    (work / "linreg-run.toml").symlink_to(outside)
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+s")
        await answer_prompt(pilot, "linreg-run.toml")
        assert "symbolic link" in prompt_message(app)
        await pilot.press("enter")  # the second enter that would confirm an overwrite
        assert isinstance(app.screen, FilePrompt)
    assert outside.read_text() == 'secret_token = "hunter2"\n'


async def test_opening_reads_only_inside_and_never_shows_what_a_file_holds(work: Path) -> None:
    (work / "notes.toml").write_text('secret_token = "hunter2"\n')
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f")
        await answer_prompt(pilot, "../outside/secret.toml")
        assert isinstance(app.screen, FilePrompt) and "leads out with '..'" in prompt_message(app)
        await pilot.press("escape")
        await pilot.press("ctrl+f")
        await answer_prompt(pilot, "notes.toml")
        await wait_until(pilot, lambda: app.screen is app.main_screen)
        said = "not opened: notes.toml: unknown key 'secret_token'"
        assert said in log_text(app) and status(app).startswith(said)
        assert "hunter2" not in log_text(app) + status(app)


async def test_each_file_keys_outcome_is_said_in_the_status_line(work: Path) -> None:
    (work / "good.toml").write_text("lr = 0.07\n")
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f")
        await answer_prompt(pilot, "good.toml")
        assert status(app) == "opened good.toml: the form holds its values (keys it lacks: the defaults)"
        await run_to_end(pilot)
        await pilot.press("ctrl+e")
        await answer_prompt(pilot, "run.json")
        assert status(app) == "saved the run to run.json"
        await set_field(pilot, "lr", "-1")
        await pilot.press("ctrl+s")
        assert status(app).startswith("config not saved: learning rate: '-1' is out of range")


@pytest.fixture
def in_a_browser(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str | None]]:
    """The app as `linreg-tui serve` runs it (Textual's web driver), its deliveries recorded instead of
    sent: (file name, text, MIME type) each."""
    monkeypatch.setattr(LinregApp, "is_web", property(lambda app: True))
    delivered: list[tuple[str, str, str | None]] = []

    def deliver_text(app: LinregApp, file: io.StringIO, *, save_filename: str, mime_type: str | None = None) -> None:
        delivered.append((save_filename, file.getvalue(), mime_type))

    monkeypatch.setattr(LinregApp, "deliver_text", deliver_text)
    monkeypatch.delenv(FILES_VARIABLE, raising=False)
    return delivered


async def test_in_a_browser_saves_are_downloads_and_nothing_is_written(
    work: Path, in_a_browser: list[tuple[str, str, str | None]]
) -> None:
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        for key in ("ctrl+s", "ctrl+e", "f12"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is app.main_screen, f"{key}: no prompt in a browser"
        assert "sent the screenshot to the browser as a download: linreg-tui.svg" in log_text(app)
        assert status(app) == "sent the screenshot to the browser as a download: linreg-tui.svg"
    names = [name for name, _, _ in in_a_browser]
    assert names == ["linreg-run.toml", "linreg-run.json", "linreg-tui.svg"]
    toml, run, svg = (text for _, text, _ in in_a_browser)
    assert tomllib.loads(toml)["num_examples"] == 100
    assert json.loads(run)["config"]["num_examples"] == 100 and svg.startswith("<svg")
    assert [mime for _, _, mime in in_a_browser] == ["application/toml", "application/json", "image/svg+xml"]
    assert list(work.iterdir()) == []


async def test_in_a_browser_opening_is_off_without_serve_files(
    work: Path, in_a_browser: list[tuple[str, str, str | None]]
) -> None:
    (work / "good.toml").write_text("lr = 0.07\n")
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f")
        await pilot.pause()
        assert app.screen is app.main_screen
        assert status(app).startswith("opening files is off in the browser")


async def test_in_a_browser_opening_reads_only_from_serve_files(
    work: Path, tmp_path: Path, in_a_browser: list[tuple[str, str, str | None]], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "good.toml").write_text("lr = 0.07\n")
    (work / "here.toml").write_text("lr = 0.5\n")  # the server's working directory: not the browser's
    monkeypatch.setenv(FILES_VARIABLE, str(shared))
    app = LinregApp(TINY)
    async with app.run_test(size=SIZE) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+f")
        await answer_prompt(pilot, "here.toml")
        assert isinstance(app.screen, FilePrompt) and f"no file here.toml in {shared}" in prompt_message(app)
        await answer_prompt(pilot, "../work/here.toml")
        assert isinstance(app.screen, FilePrompt) and "leads out" in prompt_message(app)
        await answer_prompt(pilot, "good.toml")
        await wait_until(pilot, lambda: app.screen is app.main_screen)
        assert app.main_screen.params_panel.read_config().lr == 0.07
