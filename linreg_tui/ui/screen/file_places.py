"""Where the app's file keys read and write: a terminal's working directory, or a browser's downloads.

In a terminal the person at the keyboard is the machine's user: the prompts take names inside the
working directory. In a browser (`linreg-tui serve`) the person may be anyone the server lets in: saves
go to the browser as downloads, so nothing is written on the server, and ctrl+f opens files only from
the directory that `serve --files DIR` named (passed to each tab's app as LINREG_TUI_FILES), or none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from linreg_tui.ui.web.served import FILES_VARIABLE


@dataclass(frozen=True)
class FilePlaces:
    #: Where the save prompts write; None: saves are delivered to the browser as downloads.
    save_root: Path | None
    #: Where ctrl+f may open files from; None: opening is off.
    open_root: Path | None

    @classmethod
    def for_app(cls, is_web: bool, environ: Mapping[str, str] = os.environ) -> FilePlaces:
        if not is_web:
            working = Path.cwd()
            return cls(save_root=working, open_root=working)
        files = environ.get(FILES_VARIABLE)
        return cls(save_root=None, open_root=Path(files) if files else None)
