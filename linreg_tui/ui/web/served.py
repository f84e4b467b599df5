"""What `linreg-tui serve` tells each browser tab's app, through its environment: how long the app may
sit idle before it ends (freeing the tab's place on the server), and the one directory ctrl+f may open
files from. The serve command sets these; the app reads them. Plain Python, no Textual."""

from __future__ import annotations

import math
from collections.abc import Mapping

#: Minutes without input and without a run training, after which a tab's app ends.
IDLE_MINUTES_VARIABLE = "LINREG_TUI_IDLE_MINUTES"
#: The directory `serve --files DIR` named: the only one a browser's ctrl+f opens files from.
FILES_VARIABLE = "LINREG_TUI_FILES"


def idle_limit_seconds(environ: Mapping[str, str]) -> float | None:
    """$LINREG_TUI_IDLE_MINUTES in seconds; None when unset or not a positive number (no limit). The
    server cannot see whether a run trains, so the app keeps the time itself."""
    try:
        minutes = float(environ.get(IDLE_MINUTES_VARIABLE, "nan"))
    except ValueError:
        return None
    return minutes * 60 if math.isfinite(minutes) and minutes > 0 else None
