"""What `linreg-tui serve` serves, its flags checked: the command each tab runs, where it listens, the
token, the limits, and what each tab's app is told through its environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from linreg_tui.ui.web.gate import TOKEN_VARIABLE
from linreg_tui.ui.web.served import FILES_VARIABLE, IDLE_MINUTES_VARIABLE

DEFAULT_MAX_SESSIONS = 4
DEFAULT_IDLE_MINUTES = 30.0


@dataclass(frozen=True)
class ServeSettings:
    """What `linreg-tui serve` serves, its flags checked."""

    #: The shell command each tab runs (app_command).
    command: str
    host: str
    port: int
    #: --public-url without its trailing slash, or None: the page uses http://HOST:PORT.
    public_url: str | None = None
    #: The token a browser must bring; None with --no-token.
    token: str | None = None
    max_sessions: int = DEFAULT_MAX_SESSIONS
    idle_minutes: float = DEFAULT_IDLE_MINUTES
    #: --files, absolute and resolved; None: the apps open no files.
    files: Path | None = None

    def app_environment(self) -> dict[str, str | None]:
        """The changes to the server's environment that each app process starts with (None: removed)."""
        return {
            TOKEN_VARIABLE: None,  # the server's secret: an app has no use for it
            IDLE_MINUTES_VARIABLE: repr(self.idle_minutes),
            FILES_VARIABLE: str(self.files) if self.files is not None else None,
        }
