"""The loss panel: the minibatch loss per step and the full-data loss per epoch, live, beside a few
earlier runs for comparison. A sweep's run that trained batched (training/batched.py) has no step
losses: it is drawn by its epochs' full-data losses."""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive

from linreg_tui.run.config import FIELDS, RunConfig
from linreg_tui.run.result import RunResult
from linreg_tui.ui.plots.plotting import CachedPlot
from linreg_tui.ui.plots.series import DecimatedSeries
from linreg_tui.ui.widgets.fitting import FittedBorder
from linreg_tui.ui.widgets.legend import Legend

#: The live run's step losses kept (for its JSON, `history.RunTrace`): every step up to this many, means
#: of 2^k steps beyond (measured: 0.2 s of the UI thread over a 5M-step fast run at 20,000; 0.9 s at
#: 100,000). The chart draws them merged to CHART_POINTS, and an earlier run keeps only those.
STEP_LOSSES_KEPT = 20_000
#: The points the chart draws per run: already more than a wide chart has braille dots across, and
#: plotext's drawing time grows with the points (500 cost a 56×16 chart 6 ms over an empty one).
CHART_POINTS = 500
#: How many earlier runs the chart draws unless the run history (f8) chooses others: the newest ones.
KEEP_RUNS = 3
#: The most earlier runs drawn at once (picked in the run history, or a sweep's runs): beyond it the
#: chart is unreadable, and each drawn run costs the redraw its points.
MAX_OVERLAID = 12
#: The app redraws live charts at most this often, however fast the losses arrive: every frame's
#: Python work holds the GIL that the training thread needs too.
REDRAW_HZ = 3
#: The most of the time that drawing the chart may take while a run trains.
UI_SHARE = 0.1
Color = tuple[int, int, int]
STEP_COLOR: Color = (40, 200, 220)
EPOCH_COLOR: Color = (255, 165, 0)
#: The validation loss per epoch (--val): its own colour and an ASCII marker, so it reads without colour.
VAL_COLOR: Color = (120, 220, 90)
VAL_MARKER = "v"
#: Where the live run's learning rate changed: a vertical line (drawn as │, so it reads without colour).
LR_CHANGE_COLOR: Color = (230, 90, 200)
#: Earlier runs are dimmer, so the live run stands out.
PREVIOUS_COLORS: tuple[Color, ...] = ((140, 130, 190), (170, 130, 100), (120, 160, 120))
#: Where colours run out (16 colours, NO_COLOR) earlier runs are told apart by their marker instead of
#: the live run's braille dots: one per earlier run the chart draws (MAX_OVERLAID, a sweep's), ASCII so every
#: terminal draws it one cell wide.
PREVIOUS_MARKERS: tuple[str, ...] = ("x", "+", "o", "*", "#", "%", "@", "&", "=", "$", "~", "^")
#: What the legend always names (they are what runs are usually compared by); any other field is named
#: only when it differs from the live run's.
ALWAYS_NAMED = ("impl", "optimizer", "lr")
#: A differing value longer than this (a thousand weights) is named without its value.
LONGEST_VALUE = 12


@dataclass
class LossHistory:
    config: RunConfig
    #: The run's number since the app started: #1, #2, …
    number: int
    steps: DecimatedSeries = field(default_factory=lambda: DecimatedSeries(max_points=STEP_LOSSES_KEPT))
    epoch_steps: list[float] = field(default_factory=list)
    epoch_losses: list[float] = field(default_factory=list)
    #: The validation loss after each epoch (empty without a validation set).
    val_losses: list[float] = field(default_factory=list)
    #: (step, lr): the learning rate set while the run trained, from that step on.
    lr_changes: list[tuple[int, float]] = field(default_factory=list)
    #: Trained batched in a sweep: no step losses, so its epochs' losses are its curve.
    batched: bool = False

    def keep_only_what_earlier_runs_draw(self) -> None:
        """No longer the live run: an earlier run is drawn by its step losses alone, as many as the chart
        draws, so the rest goes (100,000 epochs would otherwise stay in memory for every run of the session)."""
        if not self.batched:  # (a batched run's epochs are what it draws)
            self.epoch_steps, self.epoch_losses = [], []
        self.steps.shrink(CHART_POINTS)

    def drawn_points(self) -> tuple[list[float], list[float]]:
        """What the chart draws of it as an earlier run: its step losses, or a batched run's epochs'."""
        if self.batched:
            return list(self.epoch_steps), list(self.epoch_losses)
        return self.steps.coarse_points(CHART_POINTS)

    @property
    def label(self) -> str:
        """What the legend always says of a run: "scratch lr=0.03", "concise adam lr=0.01"."""
        return run_label(self.config)

    def legend_label(self, live: RunConfig) -> str:
        """The legend's words for this run, e.g. "#2 scratch lr=0.03 batch=5 seed=1": the number, the
        implementation and learning rate, and every other field in which it differs from the live run."""
        differing = [
            name for name in FIELDS if name not in ALWAYS_NAMED and getattr(self.config, name) != getattr(live, name)
        ]
        return " ".join([f"#{self.number}", self.label, *(field_text(self.config, name) for name in differing)])


def run_label(config: RunConfig) -> str:
    """A run in a few words: its implementation, its optimizer (unless the book's sgd) and its learning
    rate (adadelta has none)."""
    words = [config.impl]
    if config.optimizer != "sgd":
        words.append(config.optimizer)
    if config.applies("lr"):
        words.append(field_text(config, "lr"))
    return " ".join(words)


def field_text(config: RunConfig, name: str) -> str:
    """A field as "batch=5", in the form's short words and values; a long value as "other w"."""
    description = FIELDS[name]
    text = description.show(getattr(config, name))
    return f"{description.short}={text}" if len(text) <= LONGEST_VALUE else f"other {description.short}"


class LossPanel(Vertical):
    """Holds the runs' loss histories and redraws them into its chart at a bounded rate."""

    BORDER_TITLE = "Loss"
    DEFAULT_CSS = """
    LossPanel #loss-chart {
        height: 1fr;
    }
    LossPanel #loss-legend {
        height: auto;
        max-height: 4;
        padding: 0 1;
    }
    """
    can_focus = True  # f3 marks it in the wide layout

    log_y: reactive[bool] = reactive(False, init=False)  # on_mount draws the first time

    def __init__(self) -> None:
        super().__init__(id="loss", classes="panel")
        self.current: LossHistory | None = None
        self.previous: list[LossHistory] = []
        self.runs_started = 0
        self._dirty = True
        self.chart = CachedPlot(id="loss-chart")
        # The legend lives under the chart: plotext's own legend box would hide the curves under it.
        self.legend = Legend(id="loss-legend")
        self._replotted_at = 0.0
        self.fitted_border = FittedBorder(self)

    def compose(self) -> ComposeResult:
        yield self.chart
        yield self.legend

    def on_mount(self) -> None:
        self.replot()

    def on_resize(self) -> None:
        self.fitted_border.refit()

    def start_run(self, config: RunConfig) -> None:
        """A new live run, numbered. Which earlier runs are drawn beside it is `show_earlier`'s (the run
        history chooses them)."""
        self.runs_started += 1
        self.current = LossHistory(config, self.runs_started)
        self._dirty = True

    def add_batched_run(self, result: RunResult) -> LossHistory:
        """A sweep's run that trained batched, numbered as the live run: its epochs' full-data losses,
        each at its epoch's last step."""
        self.runs_started += 1
        config = result.config
        self.current = LossHistory(config, self.runs_started, batched=True)
        per_epoch = config.steps_per_epoch
        self.current.epoch_steps = [per_epoch * epoch for epoch in range(1, len(result.epoch_losses) + 1)]
        self.current.epoch_losses = list(result.epoch_losses)
        self.current.val_losses = list(result.val_losses)
        self._dirty = True
        return self.current

    def add_steps(self, first_step: int, losses: Sequence[float]) -> None:
        if self.current is not None:
            self.current.steps.extend(first_step, losses)
            self._dirty = True

    def add_epoch(self, step: int, loss: float, val_loss: float | None = None) -> None:
        """An epoch's full-data loss, and its validation loss when the run holds examples out."""
        if self.current is not None:
            self.current.epoch_steps.append(step)
            self.current.epoch_losses.append(loss)
            if val_loss is not None:
                self.current.val_losses.append(val_loss)
            self._dirty = True

    def mark_lr_change(self, step: int, lr: float) -> None:
        """The live run uses `lr` from `step` on: a marked line on the chart, labelled with the rate."""
        if self.current is not None:
            self.current.lr_changes.append((step, lr))
            self._dirty = True

    def show_earlier(self, runs: list[LossHistory]) -> None:
        """Draw these earlier runs (newest first; those that drew no step are left out) beside the live one."""
        self.previous = [run for run in runs if len(run.steps) or run.batched][:MAX_OVERLAID]
        self.replot()

    def watch_log_y(self) -> None:
        self.replot()

    @property
    def colours_run_out(self) -> bool:
        """16 colours map the earlier runs' colours to one grey, and NO_COLOR has none at all."""
        return self.app.no_color or self.app.console.color_system not in ("256", "truecolor")

    def on_show(self) -> None:
        self.redraw_if_dirty(now=True)  # shown again (a tab, f3): what came while hidden, at once

    def redraw_if_dirty(self, now: bool = False) -> None:
        """Called by the app's redraw tick: redraw when new losses came, and rarely enough that building
        the chart takes at most UI_SHARE of the time; `now` (a run's end, shown again): at once."""
        spacing = 0.0 if now else max(1 / REDRAW_HZ, self.chart.build_seconds / UI_SHARE)
        # Hidden (a tab not shown, or Parameters over time in its cell): drawn when shown again.
        if self._dirty and self.region.area and time.monotonic() - self._replotted_at >= spacing:
            self.replot()

    def replot(self) -> None:
        self._dirty = False
        self._replotted_at = time.monotonic()
        self._y_range = (math.inf, -math.inf)
        self._x_range = (math.inf, -math.inf)
        plt = self.chart.plt
        plt.clear_figure()  # data, title, labels and ticks: every replot draws them all again
        axis = "log y" if self.log_y else "linear y"
        self.fitted_border.set(title=[(f"Loss ({axis}; ^l toggles)", f"Loss ({axis})", "Loss")])
        legend: list[str] = []
        live = self.current.config if self.current is not None else None
        markers = PREVIOUS_MARKERS if self.colours_run_out else ("braille",) * KEEP_RUNS
        earlier = list(reversed(self.previous))  # the oldest first: the live run is drawn over them
        for history, color, marker in zip(earlier, itertools.cycle(PREVIOUS_COLORS), itertools.cycle(markers)):
            if history.batched and marker == "braille":
                marker = "dot"  # a batched run's few epochs: braille dots would hardly show
            if self._draw_series(*history.drawn_points(), color, marker):
                label = history.legend_label(live or history.config)
                mark = {"braille": "━", "dot": "•"}.get(marker, marker)
                legend.append(_key(color, label, mark=mark))
        if self.current is not None:
            if self._draw_series(*self.current.steps.coarse_points(CHART_POINTS), STEP_COLOR, "braille"):
                legend.append(_key(STEP_COLOR, f"{self.current.legend_label(self.current.config)}: steps"))
            if self._draw_series(self.current.epoch_steps, self.current.epoch_losses, EPOCH_COLOR, "dot"):
                epochs = "epochs (full data)"
                if self.current.batched:  # no steps drawn: the legend names the run here
                    epochs = f"{self.current.legend_label(self.current.config)}: {epochs}, trained batched"
                legend.append(_key(EPOCH_COLOR, epochs, mark="•"))
            val_steps = self.current.epoch_steps[: len(self.current.val_losses)]
            if self._draw_series(val_steps, self.current.val_losses, VAL_COLOR, VAL_MARKER):
                legend.append(_key(VAL_COLOR, "validation (held out)", mark=VAL_MARKER))
            if self.current.lr_changes and legend:
                self._mark_lr_changes(self.current.lr_changes)
                legend.append(_key(LR_CHANGE_COLOR, "lr changed", mark="│"))
        self.legend.show(legend or ["no run yet: ctrl+r trains"])
        if legend:
            self._label_axes()
        plt.xlabel("step")
        self.chart.replotted()

    def _mark_lr_changes(self, changes: list[tuple[int, float]]) -> None:
        """A vertical line at each step where the rate changed, and the new rate at the top of the plot."""
        plt = self.chart.plt
        top = self._y_range[1]
        for step, lr in changes:
            self._x_range = (min(self._x_range[0], step), max(self._x_range[1], step))
            plt.vline(step, color=LR_CHANGE_COLOR)
            plt.text(f"lr {lr:g}", x=step, y=top, color=LR_CHANGE_COLOR, alignment="left")

    def _label_axes(self) -> None:
        """Tick labels of our own: whole steps (plotext writes 75.8 or 1.50 on a step axis, and step
        750,000 as 750000.8), short losses (2.5e36, not forty digits), and log decades inside the frame.

        On a log axis the log is taken here rather than with plotext's yscale("log"): plotext applies
        the log to its stored data on every build, and a widget is built again on each repaint."""
        plt = self.chart.plt
        low, high = self._y_range
        if self.log_y:
            first, last = math.floor(low), math.ceil(high)
            stride = max(1, math.ceil((last - first) / 6))  # at most 7 labels: two on one row hide one
            decades = list(range(last, first - 1, -stride))  # from the top: the highest decade is labelled
            # The axis spans whole decades, so its top label sits on the top row of the plot, not on
            # the frame's corner above it.
            plt.ylim(first, max(last, first + 1))
            plt.yticks(decades, [f"1e{d}" for d in decades])
        elif high > low and max(abs(low), abs(high)) >= 1e5:  # plotext's own ticks read well below that
            ticks = [low + i * (high - low) / 4 for i in range(5)]
            plt.yticks(ticks, [f"{t:.3g}" for t in ticks])
        steps = step_ticks(*self._x_range)
        plt.xticks(steps, [_count(step) for step in steps])

    def _draw_series(self, xs: list[float], ys: list[float], color: Color, marker: str) -> bool:
        """Plot the finite (and, on a log axis, positive) points; say whether any were drawn. Dots, not
        lines: a run's losses are noisy anyway, and plotext draws dots twice as fast."""
        keep = [(x, y) for x, y in zip(xs, ys, strict=True) if math.isfinite(y) and (y > 0 or not self.log_y)]
        if not keep:
            return False
        kx, ky = zip(*keep, strict=True)
        if self.log_y:
            ky = tuple(math.log10(y) for y in ky)
        self._y_range = (min(self._y_range[0], *ky), max(self._y_range[1], *ky))
        self._x_range = (min(self._x_range[0], *kx), max(self._x_range[1], *kx))
        self.chart.plt.scatter(kx, ky, color=color, marker=marker)
        return True


def step_ticks(low: float, high: float, most: int = 5) -> list[int]:
    """Whole steps for the x axis: multiples of 1, 2 or 5 × 10^k, at most `most` of them in [low, high]."""
    low_step, high_step = math.ceil(low), math.floor(high)
    if high_step <= low_step:
        return [low_step]
    span = high_step - low_step
    magnitude = 10 ** max(0, math.floor(math.log10(span / most)) if span >= most else 0)
    spacing = next(m * magnitude for m in (1, 2, 5, 10) if span // (m * magnitude) + 1 <= most)
    first = -(-low_step // spacing) * spacing
    return list(range(first, high_step + 1, spacing))


def _key(color: Color, label: str, mark: str = "━") -> str:
    r, g, b = color
    keep_together = label.replace(" ", "\u00a0")  # wrap between entries, not inside one
    return f"[rgb({r},{g},{b})]{mark}[/]\u00a0{keep_together}"


def _count(steps: int) -> str:
    """750000 → 750k, 3000000 → 3M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if steps >= size:
            return f"{steps / size:.4g}{suffix}"
    return str(steps)
