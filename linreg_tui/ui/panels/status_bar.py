"""The status bar: a run's progress and ETA while it trains, else what happened last. Its line is a
FittedLine: at a width that cannot hold every part, the least important parts go, never half a word or
half a number."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.style import Style
from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.renderables.bar import Bar
from textual.widget import Widget

from linreg_tui.run.config import RunConfig
from linreg_tui.run.memory import human_bytes
from linreg_tui.ui.widgets.fitting import SEPARATOR, FittedLine, Wording


class StepBar(Widget):
    """The run's progress as a bar: the renderable that Textual's ProgressBar draws, without that
    widget's once-a-second timer and its bar's deferred update, each a frame of its own (a frame is
    milliseconds of Python that the training thread waits for)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"step-bar--bar"}
    DEFAULT_CSS = """
    StepBar {
        width: 20;
        height: 1;
        margin-right: 2;
        display: none;
    }
    StepBar > .step-bar--bar {
        color: $primary;
        background: $surface;
    }
    """

    #: How many of the run's steps are done, and how many it has.
    progress: reactive[int] = reactive(0)
    total: reactive[int] = reactive(1)

    def __init__(self) -> None:
        super().__init__(id="progress")

    def render(self) -> RenderResult:
        style = self.get_component_rich_style("step-bar--bar")
        done = min(1.0, self.progress / self.total) if self.total else 0.0
        return Bar(
            highlight_range=(0, self.size.width * done),
            highlight_style=Style.from_color(style.color),
            background_style=Style.from_color(style.bgcolor),
        )


class StatusBar(Horizontal):
    """One line under the panels. Progress arrives with every chunk of steps (`note_progress`, cheap);
    it is drawn only when the screen calls `show_progress` (PROGRESS_HZ, see ui/screen/pacing.py)."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
    }
    StatusBar #status {
        width: 1fr;
        color: $text-muted;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="status-row")
        self._config: RunConfig | None = None  # of the run being trained, once it trains
        self._latest: tuple[int, int] | None = None  # (epoch, step) not yet shown
        self._training_since = 0.0
        #: When the run paused (monotonic), until it goes on: paused time does not count in the ETA.
        self._paused_at: float | None = None
        #: The learning rate set while the run trains, shown beside its progress (None: the form's).
        self._changed_lr: float | None = None

    def compose(self) -> ComposeResult:
        yield StepBar()  # percentage and ETA are in the text
        yield FittedLine(("ready: ctrl+r trains, f1 explains", "ready: ctrl+r trains"), id="status")

    @property
    def shown_step(self) -> int | None:
        """The step the bar shows; None while no bar is shown."""
        bar = self.query_one(StepBar)
        return bar.progress if bar.display else None

    @property
    def line(self) -> FittedLine:
        return self.query_one("#status", FittedLine)

    @property
    def text(self) -> str:
        """All the line says, whatever its width (`shown`: what the width holds)."""
        return self.line.text

    @property
    def shown(self) -> str:
        return self.line.shown

    def say(self, *parts: Wording) -> None:
        """Say these parts, the most important first: a text's " · " separates parts of its own (the
        file keys' outcomes, the sweep's summary), so a narrow line drops whole parts from the end."""
        split = [piece for part in parts for piece in (part.split(SEPARATOR) if isinstance(part, str) else [part])]
        self.line.update(*split)

    def starting(self, config: RunConfig) -> None:
        """A run was asked for; its data and engine are being made. Nothing of the last run shows."""
        self._config = None
        self._latest = None  # the last run's final steps may not have been shown: they never will be
        self._paused_at = None
        self._changed_lr = None
        self.say(f"starting {config.impl} on {config.device}…")

    def loading(self, name: str, done: int, total: int) -> None:
        """A data file is being read before the first step."""
        share = done / total if total else 1.0
        self.say(f"loading {name}", f"{share:4.0%}", f"{human_bytes(done)} of {human_bytes(total)}")

    def training(self, config: RunConfig) -> None:
        """The first step comes next: the bar appears and the ETA's clock starts (not counting set-up)."""
        self._config = config
        self._training_since = time.monotonic()
        bar = self.query_one(StepBar)
        bar.total, bar.progress = config.total_steps, 0
        bar.display = True

    def note_progress(self, epoch: int, step: int) -> None:
        if self._paused_at is not None:  # going on after a pause
            self._training_since += time.monotonic() - self._paused_at
            self._paused_at = None
        self._latest = (epoch, step)

    def lr_changed(self, lr: float) -> None:
        """The run uses `lr` from now on: the progress line says it, as the form's value may differ."""
        self._changed_lr = lr

    def paused(self, epoch: int, step: int, lr: float) -> None:
        """The run waits after `step` steps: say so at once (a person is waiting for it), with the bar
        at that step; the ETA's clock stops until the next steps come."""
        self._latest = None  # the steps before the pause are shown here, not by a later tick
        self._paused_at = time.monotonic()
        if self._config is not None:
            self.query_one(StepBar).progress = step
            steps, epochs = f"step {step:,}/{self._config.total_steps:,}", f"epoch {epoch}/{self._config.epochs}"
        else:
            steps, epochs = f"step {step:,}", f"epoch {epoch}"
        keys = ("ctrl+t steps, ctrl+p goes on, esc stops", "^t steps, ^p goes on, esc stops")
        self.say("paused", steps, epochs, f"lr {lr:g}", keys)

    def stopping(self) -> None:
        """Asked to stop: "stopping…" is what to read until the run ends."""
        self._config = None
        self.say("stopping…")

    def ended(self, *summary: Wording) -> None:
        self._config = None
        self.query_one(StepBar).display = False
        self.say(*summary)

    def show_progress(self) -> None:
        if self._latest is None or self._config is None:
            return  # nothing new, or not training
        (epoch, step), config = self._latest, self._config
        self._latest = None
        self.query_one(StepBar).progress = step
        elapsed = time.monotonic() - self._training_since
        eta = elapsed / step * (config.total_steps - step) if step else 0.0
        changed = f"lr {self._changed_lr:g}" if self._changed_lr is not None else ""
        # The most telling first: a narrow line keeps the share and the step, and drops the epoch.
        self.say(
            f"{step / config.total_steps:4.0%}",  # 4 cells: the line does not jitter
            f"step {step:,}/{config.total_steps:,}",
            f"ETA {clock(eta)}",
            changed,
            f"epoch {epoch}/{config.epochs}",
        )


def clock(seconds: float) -> str:
    """1:05 or 2:01:05."""
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
