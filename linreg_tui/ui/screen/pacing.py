"""How often the live views are redrawn while a run trains: at most as often as asked, less often when
a frame costs more, and never less often than MIN_HZ. The progress line, a cheap one-row frame, keeps
its own pace (PROGRESS_HZ)."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: However much a frame costs, the charts move at least this often. A frame of the charts costs 15–30 ms
#: at 120×36, which FRAME_SHARE spaces half a second to a second apart.
MIN_HZ = 1
#: The progress line (the bar, the step, the ETA) is drawn this often while a run trains, charts or not.
PROGRESS_HZ = 2
#: The share of the time the frames may take: every millisecond of Python on the UI thread is one the
#: training thread waits for the GIL (and each torch op it hands the GIL over for can cost it up to the
#: interpreter's switch interval, 5 ms, to get it back).
FRAME_SHARE = 0.03


@dataclass
class FramePacer:
    """Spaces the frames so that their cost stays about `share` of the time, between `shortest` and
    1/MIN_HZ seconds apart. The cost is the UI thread's CPU time from a frame's tick until it has been
    drawn (not the wall clock, which waiting for the GIL stretches). A timer asks every `tick` seconds."""

    shortest: float
    tick: float
    longest: float = 1 / MIN_HZ
    share: float = FRAME_SHARE
    last_frame_at: float = -math.inf

    def __post_init__(self) -> None:
        self.interval = self.shortest

    def due(self, now: float) -> bool:
        """Whether a frame is due at `now` (monotonic seconds); if so, it counts as drawn then. A tick
        up to half a tick early (the timer's jitter) is taken."""
        if now - self.last_frame_at < self.interval - self.tick / 2:
            return False
        self.last_frame_at = now
        return True

    def drawn(self, now: float) -> None:
        """A frame was drawn at `now` along with another's: the next is an interval later."""
        self.last_frame_at = now

    def frame_cost(self, cpu_seconds: float) -> None:
        """The last frame took this much of the UI thread: the next one waits accordingly."""
        wanted = cpu_seconds / self.share if math.isfinite(cpu_seconds) else self.longest
        self.interval = min(self.longest, max(self.shortest, wanted))
