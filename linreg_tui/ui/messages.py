"""Messages the workers post to the main screen (`post_message` is thread-safe): one per event.

Small and torch-free. A training message carries the core's frozen event as it is; `for_event` picks the
message class by the event's type, so the screen has one handler per event rather than an isinstance chain.

None of them replaces a pending one (`can_replace`): StepLosses carry consecutive steps, and each
step's loss is a point of the chart, so replacing one with the next would lose steps; merging would be
safe, but the training loop already batches its steps into one message per chunk (about 10 a second,
see training.loop.FLUSH_SECONDS) and the handler only appends them, so the queue never grows. Each EpochEnded
is a line of the book's log and a point of the chart, and the others come once per run. The one that
does is SweepProgress: a batched program's losses at an epoch's end supersede its last ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from linreg_tui.run import events
from linreg_tui.run.config import ConfigError
from linreg_tui.run.devices import DeviceChoice
from linreg_tui.run.preview import DataPreview
from linreg_tui.run.sweep import SweepPoint, SweepRow


@dataclass
class DataLoading(Message):
    """A data file is being read before the run starts (a few a second while it loads)."""

    event: events.DataLoading


@dataclass
class RunStarted(Message):
    """The data, the optimum and the engine are made; the first step comes next."""

    event: events.RunStarted


@dataclass
class StepLosses(Message):
    """The minibatch losses of a chunk of consecutive steps."""

    event: events.StepLosses


@dataclass
class EpochEnded(Message):
    """An epoch ended: its full-data loss and the parameters after it."""

    event: events.EpochEnded


@dataclass
class RunEnded(Message):
    """The run ended (finished, cancelled, diverged or failed), with what it learned."""

    event: events.RunEnded


@dataclass
class Paused(Message):
    """The run waits (ctrl+p, or a single step taken): `event.step` steps are done."""

    event: events.Paused


@dataclass
class StepExplained(Message):
    """One step taken in step mode, with its minibatch, loss, gradient and update."""

    event: events.StepExplained


@dataclass
class LearningRateChanged(Message):
    """The run uses a new learning rate from `event.step` on."""

    event: events.LearningRateChanged


TrainingMessage = (
    DataLoading | RunStarted | StepLosses | EpochEnded | RunEnded | Paused | StepExplained | LearningRateChanged
)

_MESSAGE_FOR_EVENT: dict[type[events.TrainingEvent], type[TrainingMessage]] = {
    events.DataLoading: DataLoading,
    events.RunStarted: RunStarted,
    events.StepLosses: StepLosses,
    events.EpochEnded: EpochEnded,
    events.RunEnded: RunEnded,
    events.Paused: Paused,
    events.StepExplained: StepExplained,
    events.LearningRateChanged: LearningRateChanged,
}


def for_event(event: events.TrainingEvent) -> TrainingMessage:
    """The message that carries a training event to the screen."""
    return _MESSAGE_FOR_EVENT[type(event)](event)  # type: ignore[arg-type]


@dataclass
class RunRefused(Message):
    """The run did not start: a field is invalid, CUDA is absent, or it cannot fit in memory."""

    error: ConfigError


@dataclass
class RunSetupFailed(Message):
    """Making the data or the engine failed, or was stopped (`cancelled`); nothing was trained."""

    reason: str
    cancelled: bool = False


@dataclass
class PreviewReady(Message):
    """The data a run with these form values would train on, for the scatter plot (None: too large to
    make before the run). `key` says which values, so a slow, outdated preview can be dropped."""

    key: tuple[object, ...]
    preview: DataPreview | None


@dataclass
class PreviewRefused(Message):
    """The data for these values would not fit in memory; the form says so before any run."""

    key: tuple[object, ...]
    error: ConfigError


@dataclass
class DevicesFound(Message):
    """The devices this machine has and why CUDA can or cannot be used, probed off the UI thread
    (starting CUDA can take seconds on a GPU server)."""

    devices: list[DeviceChoice]
    cuda_status: str


@dataclass
class SweepRowEnded(Message):
    """A sweep's run ended (or its set-up failed): its row of the sweep's table."""

    row: SweepRow


@dataclass
class SweepProgress(Message):
    """A batched program of a sweep finished an epoch: each of its points' training loss then, in the
    points' order (None: that run diverged)."""

    points: list[SweepPoint]
    epoch: int
    losses: list[float | None]

    def can_replace(self, message: Message) -> bool:
        """The same program's later epoch says all an earlier one did (a fast program's epochs may come
        quicker than the table redraws)."""
        return isinstance(message, SweepProgress) and message.points is self.points


@dataclass
class SweepEnded(Message):
    """A sweep's last run ended, or esc stopped it."""
