"""Pause, single steps and a live learning rate for a run: the app's side and the training loop's side.

Pure Python (threading only), so the core stays free of Textual. The app calls `pause`, `resume`,
`step`, `set_lr` and `stop` from its UI thread; the training loop asks `next_move` before each chunk
of steps, and while the run is paused it blocks in `wait_while_paused`.

Waiting: a Condition that every app-side call notifies, waited on with a timeout of POLL_SECONDS. The
timeout is there for the one thing that cannot notify it: the app hands `train` its worker's own
`cancelled_event`, which Textual's `Worker.cancel()` sets (quit, `exclusive=True`, `cancel_all()`)
without knowing about us. So a paused run wakes at once for pause/resume/step/stop, and within
POLL_SECONDS for a worker cancel; either way it sleeps in between (no spinning: ten wake-ups a second
that each read two flags).

A watcher (the app) can ask to be shown the run's start before its first step (`hold_start=True`,
then `start_shown()` once the panels are laid out for the run): that work on the UI thread then does
not compete with the first steps for Python's GIL. The loop waits at most START_HOLD_SECONDS for it.

A change of learning rate takes effect at the start of the next chunk of steps, so a chunk (and the
fast engine's scan) never mixes two rates. `lr_changes` replays a recorded run's changes: the loop
ends its chunks where a scheduled change falls, so the replay changes at exactly the same steps. A
change ends the run's learning-rate schedule from its step on (the loop's `scheduled`). A run whose
optimizer has no learning rate (adadelta) takes none: `lr_applies=False` refuses every change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Literal

from linreg_tui.run.config import FIELDS, ConfigError, FieldError
from linreg_tui.run.optimizers import why_not

#: How long a paused run sleeps before it looks at a cancel event nobody notifies it about.
POLL_SECONDS = 0.1

#: The longest a run waits for its watcher to show its start (a watcher that never answers, e.g. an app
#: quitting, delays the run by this much at most).
START_HOLD_SECONDS = 2.0

#: What the loop does next: a chunk of steps, one explained step, or nothing yet (paused).
Move = Literal["run", "step", "paused"]


def check_lr(lr: float | str) -> float:
    """The learning rate, checked as the form and the command line check it: a ConfigError (a
    ValueError) with the same one-line reason naming the field. Text (what a person typed) is parsed."""
    return float(FIELDS["lr"].read(lr if isinstance(lr, str) else repr(float(lr))))


class RunControl:
    """One run's pause, single-step and learning-rate requests.

    `cancel` is the event that stops the run; `train` binds the control to the event it was handed, so
    that `stop()` stops that run. Start with `paused=True` and call `step()` to take a run from idle
    one step at a time: it stops before step 1, then takes exactly one step per `step()`.
    """

    def __init__(
        self,
        cancel: threading.Event | None = None,
        *,
        paused: bool = False,
        hold_start: bool = False,
        lr_changes: Iterable[tuple[int, float]] = (),
        lr_applies: bool = True,
    ) -> None:
        self.cancel = cancel or threading.Event()
        self._changed = threading.Condition()
        self._paused = paused
        self._start_held = hold_start
        self._steps_allowed = 0
        self._pending_lr: float | None = None
        #: Whether the run has a learning rate to change (adadelta has none).
        self.lr_applies = lr_applies
        #: step → learning rate from that step on, for replaying a recorded run.
        self._scheduled: dict[int, float] = {int(step): check_lr(lr) for step, lr in lr_changes}
        if self._scheduled:
            self._refuse_without_lr(",".join(f"{step}:{lr:g}" for step, lr in self._scheduled.items()))

    # --- the app's side ----------------------------------------------------------------------------

    def pause(self) -> None:
        """Stop after the chunk of steps in progress (at most about FLUSH_SECONDS of steps)."""
        with self._changed:
            self._paused = True
            self._changed.notify_all()

    def resume(self) -> None:
        with self._changed:
            self._paused = False
            self._steps_allowed = 0
            self._changed.notify_all()

    def step(self) -> None:
        """Allow one more step, explained, then pause (a running run pauses after its current chunk)."""
        with self._changed:
            self._paused = True
            self._steps_allowed += 1
            self._changed.notify_all()

    def set_lr(self, lr: float | str) -> None:
        """Use `lr` from the next chunk of steps on. Raises ConfigError (a ValueError) for a rate the
        form would refuse, with its message."""
        value = check_lr(lr)
        self._refuse_without_lr(f"{value:g}")
        with self._changed:
            self._pending_lr = value
            self._changed.notify_all()

    def _refuse_without_lr(self, given: str) -> None:
        if not self.lr_applies:
            raise ConfigError([FieldError("lr", given, why_not("lr", "adadelta", "constant"))])

    def start_shown(self) -> None:
        """The watcher has shown the run's start: its first step may come (see `hold_start`)."""
        with self._changed:
            self._start_held = False
            self._changed.notify_all()

    def stop(self) -> None:
        """Stop the run now, paused or not (the same as setting the cancel event, without the poll)."""
        with self._changed:
            self.cancel.set()
            self._changed.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def start_held(self) -> bool:
        """Whether step 1 still waits for the watcher to show the run's start."""
        return self._start_held

    # --- the training loop's side ------------------------------------------------------------------

    def bind(self, cancel: threading.Event | None) -> threading.Event:
        """Watch `cancel` (the run's own event, e.g. a worker's) from now on; returns the event watched.
        A stop that came before stays a stop."""
        with self._changed:
            if cancel is not None and cancel is not self.cancel:
                if self.cancel.is_set():
                    cancel.set()
                self.cancel = cancel
            return self.cancel

    def wait_until_start_shown(self, clock: Callable[[], float] = time.monotonic) -> None:
        """Before the first step: sleep until the watcher has shown the run's start (`start_shown`), the
        run is stopped, or START_HOLD_SECONDS have passed. At once without `hold_start`."""
        give_up_at = clock() + START_HOLD_SECONDS
        with self._changed:
            while self._start_held and not self.cancel.is_set() and (left := give_up_at - clock()) > 0:
                self._changed.wait(min(POLL_SECONDS, left))
            self._start_held = False

    def next_move(self) -> Move:
        """What to do now, without waiting."""
        with self._changed:
            return self._move()

    def wait_while_paused(self) -> Move:
        """Sleep until there is something to do or the run is cancelled (then returns "paused")."""
        with self._changed:
            while self._move() == "paused" and not self.cancel.is_set():
                self._changed.wait(POLL_SECONDS)
            return self._move()

    def step_taken(self) -> None:
        with self._changed:
            self._steps_allowed = max(0, self._steps_allowed - 1)

    def lr_from(self, step: int) -> float | None:
        """The learning rate to switch to before `step` (a live change wins over a scheduled one), if any."""
        with self._changed:
            lr = self._scheduled.pop(step, None)
            if self._pending_lr is not None:
                lr, self._pending_lr = self._pending_lr, None
            return lr

    def steps_before_next_change(self, step: int) -> int | None:
        """How many steps from `step` on still use the current rate, when a scheduled change is ahead."""
        with self._changed:
            ahead = [s for s in self._scheduled if s > step]
            return min(ahead) - step if ahead else None

    def _move(self) -> Move:
        if self._steps_allowed > 0:
            return "step"
        return "paused" if self._paused else "run"
