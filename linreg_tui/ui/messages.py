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
    """Making the data or the engine failed; nothing was trained."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class PreviewReady(Message):
    """The data a run with the form's current values would train on, for the scatter plot."""

    def __init__(self, preview: DataPreview) -> None:
        super().__init__()
        self.preview = preview


class PreviewRefused(Message):
    """The data for these values would not fit in memory; the form says so before any run."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__()
        self.error = error
