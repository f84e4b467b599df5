"""Messages the training worker posts to the app (`post_message` is thread-safe).

Small and torch-free: a core event, or a refusal with its field errors, or the data to draw.
"""

from __future__ import annotations

from textual.message import Message

from linreg_tui.config import ConfigError
from linreg_tui.data import DataPreview
from linreg_tui.training import TrainingEvent


class TrainingUpdate(Message):
    """One event of the running training loop."""

    def __init__(self, event: TrainingEvent) -> None:
        super().__init__()
        self.event = event


class RunRefused(Message):
    """The run did not start: a field is invalid, CUDA is absent, or it cannot fit in memory."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__()
        self.error = error


class RunSetupFailed(Message):
    """Making the data or the engine failed, or was stopped (`cancelled`); nothing was trained."""

    def __init__(self, reason: str, cancelled: bool = False) -> None:
        super().__init__()
        self.reason = reason
        self.cancelled = cancelled


class PreviewReady(Message):
    """The data a run with these form values would train on, for the scatter plot (None: too large to
    make before the run). `key` says which values, so a slow, outdated preview can be dropped."""

    def __init__(self, key: tuple[object, ...], preview: DataPreview | None) -> None:
        super().__init__()
        self.key = key
        self.preview = preview


class PreviewRefused(Message):
    """The data for these values would not fit in memory; the form says so before any run."""

    def __init__(self, key: tuple[object, ...], error: ConfigError) -> None:
        super().__init__()
        self.key = key
        self.error = error
