"""The file-name prompt behind the save and open keys, and the atomic, never-silent file write.

The prompt takes names inside one directory only (linreg_tui.ui.panels.confine: no absolute path, no `..`, no
link that leads out). A save that names an existing file is not done: the prompt says the file exists
and asks again (Enter a second time, or Overwrite, replaces it; another name is saved as usual). Files
are written to a temporary file in the same directory and renamed over the target, so no reader sees
half a file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from linreg_tui.ui.panels.confine import PathRefused, confined_path


@dataclass(frozen=True)
class FileChoice:
    #: The file, inside the prompt's directory.
    path: Path
    #: The name as typed, relative to that directory: what messages show.
    name: str
    #: The prompt said the file exists and the person chose to replace it.
    overwrite: bool = False


class FileExists(FileExistsError):
    """The target appeared after the prompt checked it; nothing was written."""


def write_file(target: Path, text: str, *, overwrite: bool) -> bool:
    """Write `text` to `target` through a temporary file renamed over it; True when a file was replaced.

    Raises FileExists when `target` exists and not `overwrite`, OSError when it cannot be written."""
    existed = target.exists()
    if existed and not overwrite:
        raise FileExists(f"{target.name} exists; nothing was written")
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; these files are for sharing
        os.replace(temporary, target)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
        raise
    return existed


def free_name(root: Path, stem: str, suffix: str) -> str:
    """`stem-1.suffix`, or the first of -2, -3, … that no file in `root` has."""
    number = 1
    while (root / f"{stem}-{number}{suffix}").exists():
        number += 1
    return f"{stem}-{number}{suffix}"


class FilePrompt(ModalScreen[FileChoice | None]):
    """Asks for a file name inside `root` (dismissed with it, None when cancelled). Saving: an existing
    file is named and needs a second Enter (or Overwrite). Opening: the file must exist."""

    DEFAULT_CSS = """
    FilePrompt {
        align: center middle;
    }
    FilePrompt #file-prompt {
        width: 70;
        max-width: 100%;
        height: auto;
        border: round $accent;
        background: $surface;
        padding: 0 1;
    }
    FilePrompt #file-message {
        height: auto;
        margin-bottom: 1;
    }
    FilePrompt #file-buttons {
        height: 1;
    }
    FilePrompt #file-buttons Button {
        margin-right: 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss(None)", "Cancel", tooltip="close; nothing is saved or opened")
    ]

    def __init__(self, title: str, default: str, *, root: Path, saving: bool, what: str = "TOML file") -> None:
        super().__init__()
        self.root = root
        self.what = what  #: what an opened file must be, for the line that says none is there
        self.title_text = title
        self.default = default
        self.saving = saving
        #: The name the prompt said exists: Enter with the same name again replaces it.
        self._confirming: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="file-prompt"):
            yield Static(self.title_text, id="file-title")
            yield Input(self.default, placeholder="file name", id="file-name")
            yield Static(self._where, id="file-message")
            with Horizontal(id="file-buttons"):
                yield Button("Save" if self.saving else "Open", id="file-ok", variant="primary", compact=True)
                yield Button("Overwrite", id="file-overwrite", variant="warning", compact=True)
                yield Button("Cancel", id="file-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#file-overwrite").display = False
        self.query_one("#file-name", Input).focus()

    @property
    def _where(self) -> str:
        return f"in {self.root} (names inside it only)"

    def _say(self, text: str) -> None:
        self.query_one("#file-message", Static).update(text)

    @on(Input.Changed, "#file-name")
    def name_changed(self) -> None:
        if self._confirming is not None:
            self._confirming = None
            self.query_one("#file-overwrite").display = False
            self._say(self._where)

    @on(Input.Submitted, "#file-name")
    @on(Button.Pressed, "#file-ok")
    def submitted(self) -> None:
        self._choose(overwrite=False)

    @on(Button.Pressed, "#file-overwrite")
    def overwrite_pressed(self) -> None:
        self._choose(overwrite=True)

    @on(Button.Pressed, "#file-cancel")
    def cancel_pressed(self) -> None:
        self.dismiss(None)

    def _choose(self, overwrite: bool) -> None:
        name = self.query_one("#file-name", Input).value.strip()
        try:
            path = confined_path(name, self.root)
        except PathRefused as refused:
            self._say(f"file name: {refused}")
            return
        if path.is_dir():
            self._say(f"file name: {name} is a directory; give a file name")
        elif not self.saving:
            if path.is_file():
                self.dismiss(FileChoice(path, name))
            else:
                self._say(f"file name: no file {name} in {self.root}; give an existing {self.what}")
        elif not path.parent.is_dir():
            self._say(f"file name: no directory {Path(name).parent} in {self.root}; give a file in an existing one")
        elif path.exists() and not overwrite and self._confirming != name:
            self._confirming = name
            self.query_one("#file-overwrite").display = True
            self._say(f"{name} exists: Enter again (or Overwrite) replaces it; or give another name")
        else:
            self.dismiss(FileChoice(path, name, overwrite=path.exists()))
