"""Share and keep runs: the run history on the charts (f10, ctrl+o), the command line to the clipboard
(ctrl+y), the form as TOML (ctrl+s, ctrl+f), the run as JSON (ctrl+e) and a screenshot (f12).

Where files go is the app's FilePlaces: in a terminal, names typed into the prompt inside the working
directory; in a browser (`linreg-tui serve`), saves are downloads and nothing is written on the server,
and ctrl+f opens only from the directory `serve --files` named."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from linreg_tui.run.config import ConfigError, parse_config
from linreg_tui.run.config_file import ConfigFileError, config_toml, read_config_file
from linreg_tui.run.report import run_command
from linreg_tui.ui.file_places import FilePlaces
from linreg_tui.ui.file_prompt import FileChoice, FileExists, FilePrompt, free_name, write_file
from linreg_tui.ui.history import HistoryScreen, run_json

if TYPE_CHECKING:
    from linreg_tui.ui.main_screen import MainScreen


class ShareActions:
    """What the share keys do, on the screen that owns the panels, the history and the last result."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    @property
    def places(self) -> FilePlaces:
        return FilePlaces.for_app(self.screen.app.is_web)

    def show_chosen_runs(self) -> None:
        """The earlier runs chosen in the history (the newest few by default) onto the charts."""
        screen = self.screen
        earlier = screen.history.overlaid()
        screen.loss_panel.show_earlier([record.loss for record in earlier])
        screen.landscape_panel.show_earlier([record.path for record in earlier if record.path is not None])
        self.sync_history_screen()

    def sync_history_screen(self) -> None:
        if isinstance(self.screen.app.screen, HistoryScreen):
            self.screen.app.screen.sync()

    def clear_runs(self) -> None:
        self.screen.history.hide_all()
        self.show_chosen_runs()
        said = "earlier runs hidden from the loss chart and the landscape (f10: the run history draws them again)"
        self.screen.log_pane.say(said, "note")

    def show_history(self) -> None:
        screen = self.screen
        if not screen.history.records:
            screen.log_pane.say("no runs yet: ctrl+r trains; f10 then lists every run of the session", "note")
        elif not isinstance(screen.app.screen, HistoryScreen):
            screen.app.push_screen(HistoryScreen(screen.history, self._history_toggled))

    def _history_toggled(self, said: str) -> None:
        self.show_chosen_runs()
        self.screen.log_pane.say(said, "note")

    def copy_command(self) -> None:
        """The last run's command line, to the clipboard (OSC 52: over SSH too, where the terminal allows it)."""
        screen = self.screen
        if screen.last_result is None:
            screen.log_pane.say("no run yet: ctrl+r trains; ctrl+y then copies the command that repeats it", "note")
            return
        command = run_command(screen.last_result)
        screen.app.copy_to_clipboard(command)
        screen.log_pane.say(f"copied to the clipboard: {command}", "book")
        screen.status_bar.say("copied the last run's command")

    def save_config(self) -> None:
        try:
            config = self.screen.params_panel.read_config()
        except ConfigError as error:
            self._said(f"config not saved: {error}", "warning")
            return
        self._save("Save the form as a TOML config", ("linreg-run", ".toml"), config_toml(config), "the form")

    def save_run(self) -> None:
        screen = self.screen
        live = screen.history.live
        if screen.running:
            screen.log_pane.say("the run is still training: ctrl+e saves it once it ends (esc stops it)", "note")
        elif screen.last_result is None or live is None:
            screen.log_pane.say("no run to save yet: ctrl+r trains", "note")
        else:
            text = run_json(screen.last_result, screen.trace, live.run_id)
            self._save(f"Save run #{live.number} as JSON", ("linreg-run", ".json"), text, "the run", numbered=True)

    def save_screenshot(self) -> None:
        svg = self.screen.app.export_screenshot()  # now, before the prompt covers the screen
        self._save("Save a screenshot (SVG)", ("linreg-tui", ".svg"), svg, "the screenshot", numbered=True)

    def _said(self, text: str, kind: str) -> None:
        """A file key's outcome, in the log and in the status line (the log is often not on screen)."""
        self.screen.log_pane.say(text, kind)
        self.screen.status_bar.say(text)

    def _save(self, title: str, name: tuple[str, str], text: str, what: str, *, numbered: bool = False) -> None:
        """Save `text` as a file named `name` (stem, suffix; `numbered`: the first free stem-N): in a
        browser as a download, in a terminal where the prompt says."""
        stem, suffix = name
        root = self.places.save_root
        if root is None:
            filename = stem + suffix
            self.screen.app.deliver_text(io.StringIO(text), save_filename=filename, mime_type=MIME_TYPES[suffix])
            self._said(f"sent {what} to the browser as a download: {filename}", "note")
            return
        default = free_name(root, stem, suffix) if numbered else stem + suffix

        def save(choice: FileChoice | None) -> None:
            if choice is None:
                return
            try:
                replaced = write_file(choice.path, text, overwrite=choice.overwrite)
            except FileExists as refused:
                self._said(f"{what} not saved: {refused}", "warning")
            except OSError as error:
                reason = error.strerror or type(error).__name__
                self._said(f"{what} not saved: {choice.name} cannot be written ({reason})", "error")
            else:
                self._said(f"saved {what} to {choice.name}" + (" (overwrote it)" if replaced else ""), "note")

        self.screen.app.push_screen(FilePrompt(title, default, root=root, saving=True), save)

    def open_config(self) -> None:
        if self.screen.running:
            self.screen.log_pane.say("not while a run trains (the form is locked); esc stops it", "note")
            return
        root = self.places.open_root
        if root is None:
            self._said(
                "opening files is off in the browser: the server was started without `--files DIR` "
                "(linreg-tui serve --files DIR lets ctrl+f open TOML configs from DIR)",
                "warning",
            )
            return
        prompt = FilePrompt("Open a TOML config into the form", "linreg-run.toml", root=root, saving=False)
        self.screen.app.push_screen(prompt, self._open)

    def _open(self, choice: FileChoice | None) -> None:
        """The file's fields into the form (missing keys: the defaults); a bad file changes nothing."""
        if choice is None:
            return
        screen = self.screen
        try:
            config = parse_config(read_config_file(str(choice.path), shown_as=choice.name))
        except ConfigFileError as error:
            self._said(f"not opened: {error}", "error")
            return
        except ConfigError as error:
            self._said(f"not opened: {choice.name}: {error}", "error")
            return
        texts = config.as_texts()
        known = {device.value for device in screen.devices or []} | {"auto", screen.params_panel.initial.device}
        if config.device not in known:
            said = f"{choice.name}: device {config.device} is not on this machine; the form keeps its own"
            screen.log_pane.say(said, "warning")
            del texts["device"]
        screen.params_panel.set_texts(texts)
        self._said(f"opened {choice.name}: the form holds its values (keys it lacks: the defaults)", "note")


MIME_TYPES = {".toml": "application/toml", ".json": "application/json", ".svg": "image/svg+xml"}
