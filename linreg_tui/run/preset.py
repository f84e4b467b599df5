"""What a preset is: a named experiment from the book, as form texts, with its question and what to see."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class BookFigure:
    """A loss the book printed for the run a preset makes, to show beside the app's own."""

    loss: float
    where: str  #: the section and the call that printed it


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str  #: one line, for `linreg-tui presets` and the picker
    question: str  #: the book's question, and where it asks it
    look_for: str  #: what the run shows, in a few sentences
    values: dict[str, str] = field(default_factory=dict)  #: field name -> form text (differences from the defaults)
    sweep: dict[str, str] = field(default_factory=dict)  #: field name -> comma-separated values; empty: one run
    book: BookFigure | None = None  #: the loss the book printed for this run, if it printed one

    @property
    def command(self) -> str:
        """How to run it without the app."""
        return f"linreg-tui sweep --preset {self.name}" if self.sweep else f"linreg-tui --headless --preset {self.name}"
