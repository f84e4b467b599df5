"""Whether a run's thread has begun: the handshake between a stop and a thread that may not start."""

from __future__ import annotations

import threading
from typing import Literal


class ThreadStart:
    """Which side ends a run stopped at the moment it starts. Textual never calls a worker that is
    cancelled before its task first runs (esc handled in the same tick as ctrl+r), so no event of the
    run's would end it, and the screen would say "stopping…" for good: then the screen ends it itself.
    Once the run's thread has begun, the run reports its own end, as always."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: Literal["waiting", "begun", "given up"] = "waiting"

    def begin(self) -> bool:
        """In the run's thread, first of all: False when the screen has already given the run up."""
        with self._lock:
            if self._state == "given up":
                return False
            self._state = "begun"
            return True

    def give_up(self) -> bool:
        """On a stop: True when the thread had not begun, and never will (the screen ends the run)."""
        with self._lock:
            if self._state == "begun":
                return False
            self._state = "given up"
            return True
