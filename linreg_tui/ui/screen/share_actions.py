"""Share and keep runs: the run history on the charts (f10, ctrl+o), the command line to the clipboard
(ctrl+y), the form as TOML (ctrl+s, ctrl+f), the run as JSON (ctrl+e) and a screenshot (f12).

Where files go is the app's FilePlaces: in a terminal, names typed into the prompt inside the working
directory; in a browser (`linreg-tui serve`), saves are downloads and nothing is written on the server,
and ctrl+f opens only from the directory `serve --files` named."""

from __future__ import annotations

import io

from textual.screen import Screen

from linreg_tui.run.config import ConfigError, parse_config
from linreg_tui.run.config_file import ConfigFileError, config_toml, read_config
from linreg_tui.run.data_record import data_change
from linreg_tui.run.report import run_command
from linreg_tui.ui.panels.file_prompt import FileChoice, FileExists, FilePrompt, free_name, write_file
from linreg_tui.ui.panels.history import HistoryScreen, run_json
from linreg_tui.ui.screen.file_places import FilePlaces
from linreg_tui.ui.screen.session import RunSession
from linreg_tui.ui.screen.views import Views


class ShareActions:
    """What the share keys do: the session's runs onto the charts, its last run and the form into files
    or the clipboard. Prompts and the history open over `screen`."""

    def __init__(self, screen: Screen[None], views: Views, session: RunSession) -> None:
        self.screen, self.views, self.session = screen, views, session

    @property
    def places(self) -> FilePlaces:
        return FilePlaces.for_app(self.screen.app.is_web)

    def show_chosen_runs(self) -> None:
        """The earlier runs chosen in the history (the newest few by default) onto the charts."""
        earlier = self.session.history.overlaid()
        self.views.loss.show_earlier([record.loss for record in earlier])
        self.views.landscape.show_earlier([record.path for record in earlier if record.path is not None])
        self.sync_history_screen()

    def sync_history_screen(self) -> None:
        if isinstance(self.screen.app.screen, HistoryScreen):
            self.screen.app.screen.sync()

    def clear_runs(self) -> None:
        self.session.history.hide_all()
        self.show_chosen_runs()
        said = "earlier runs hidden from the loss chart and the landscape (f10: the run history draws them again)"
        self.views.log.say(said, "note")

    def show_history(self) -> None:
        if not self.session.history.records:
            self.views.log.say("no runs yet: ctrl+r trains; f10 then lists every run of the session", "note")
        elif not isinstance(self.screen.app.screen, HistoryScreen):
            self.screen.app.push_screen(HistoryScreen(self.session.history, self._history_toggled))

    def _history_toggled(self, said: str) -> None:
        self.show_chosen_runs()
        self.views.log.say(said, "note")

    def copy_command(self) -> None:
        """The last run's command line, to the clipboard (OSC 52: over SSH too, where the terminal allows it)."""
        if self.session.last_result is None:
            self.views.log.say("no run yet: ctrl+r trains; ctrl+y then copies the command that repeats it", "note")
            return
        command = run_command(self.session.last_result)
        self.screen.app.copy_to_clipboard(command)
        self.views.log.say(f"copied to the clipboard: {command}", "book")
        self.views.status.say("copied the last run's command")

    def save_config(self) -> None:
        try:
            config = self.views.form.read_config()
        except ConfigError as error:
            self._said(f"config not saved: {error}", "warning")
            return
        self._save("Save the form as a TOML config", ("linreg-run", ".toml"), config_toml(config), "the form")

    def save_run(self) -> None:
        live = self.session.history.live
        if self.session.running:
            self.views.log.say("the run is still training: ctrl+e saves it once it ends (esc stops it)", "note")
        elif self.session.last_result is None or live is None:
            self.views.log.say("no run to save yet: ctrl+r trains", "note")
        else:
            text = run_json(self.session.last_result, self.session.trace, live.run_id)
            self._save(f"Save run #{live.number} as JSON", ("linreg-run", ".json"), text, "the run", numbered=True)

    def save_screenshot(self) -> None:
        svg = self.screen.app.export_screenshot()  # now, before the prompt covers the screen
        self._save("Save a screenshot (SVG)", ("linreg-tui", ".svg"), svg, "the screenshot", numbered=True)

    def _said(self, text: str, kind: str) -> None:
        """A file key's outcome, in the log and in the status line (the log is often not on screen)."""
        self.views.log.say(text, kind)
        self.views.status.say(text)

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
        if self.session.running:
            self.views.log.say("not while a run trains (the form is locked); esc stops it", "note")
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

    def open_data(self) -> None:
        """The data select's "file…": a CSV or TSV file from where ctrl+f opens files, into the form."""
        root = self.places.open_root
        if root is None:
            self._said(
                "opening files is off in the browser: the server was started without `--files DIR` "
                "(linreg-tui serve --files DIR lets the data select open CSV and TSV files from DIR)",
                "warning",
            )
            return
        prompt = FilePrompt("Open a data file (CSV or TSV)", "", root=root, saving=False, what="CSV or TSV file")

        def chosen(choice: FileChoice | None) -> None:
            if choice is not None:
                self.views.form.choose_file(str(choice.path))
                self._said(f"data from {choice.name}", "note")

        self.screen.app.push_screen(prompt, chosen)

    def _open(self, choice: FileChoice | None) -> None:
        """The file's fields into the form (missing keys: the defaults); a bad file changes nothing."""
        if choice is None:
            return
        try:
            texts, record = read_config(str(choice.path), shown_as=choice.name)
            config = parse_config(texts)
        except ConfigFileError as error:
            self._said(f"not opened: {error}", "error")
            return
        except ConfigError as error:
            self._said(f"not opened: {choice.name}: {error}", "error")
            return
        texts = config.as_texts()
        known = {device.value for device in self.session.devices or []} | {"auto", self.views.form.initial.device}
        if config.device not in known:
            said = f"{choice.name}: device {config.device} is not on this machine; the form keeps its own"
            self.views.log.say(said, "warning")
            del texts["device"]
        self.views.form.set_texts(texts)
        self._said(f"opened {choice.name}: the form holds its values (keys it lacks: the defaults)", "note")
        if change := data_change(config, record):
            self._said(change, "warning")


MIME_TYPES = {".toml": "application/toml", ".json": "application/json", ".svg": "image/svg+xml"}
