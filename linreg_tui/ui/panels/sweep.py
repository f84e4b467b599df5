"""A sweep from the form: its rows as runs end (a table), after a sweep over the number of examples the
data-size plot, after a sweep over the learning rate its curve. The main screen keeps the sweep
(`Sweep`); f9 opens `SweepScreen` on it, which fills in as the remaining runs end, and as each batched
program ends an epoch (its runs' rows then say "epoch 2/3", with their losses so far)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from linreg_tui.run.config import FIELDS
from linreg_tui.run.sweep import SweepPoint, SweepRow
from linreg_tui.ui.panels.results import NUMBER_WIDTH, format_number
from linreg_tui.ui.plots.error import ErrorPlot
from linreg_tui.ui.plots.lr_curve import LrCurvePlot
from linreg_tui.ui.widgets.fitting import FittedBorder

#: Marks a batched run's time: its program's time divided by its runs (said under the table).
BATCHED_MARK = "*"
BATCHED_NOTE = f"{BATCHED_MARK} batched: the runs trained as one tensor program; the time is its time ÷ its runs"
#: The columns after the swept fields', and their widths: fixed, so that a batched run's row, written
#: over at each epoch, costs no measuring of its column (DataTable measures a whole column each time a
#: cell gets narrower: quadratic in the rows).
RESULT_COLUMNS = ("status", "loss", "val loss", "max |w err|", "|b err|", "steps", "time")
RESULT_WIDTHS = (13, NUMBER_WIDTH, NUMBER_WIDTH, max(NUMBER_WIDTH, 11), NUMBER_WIDTH, 9, 10)  # time: "0.00039 s*"
#: A batched program's rows are updated at each epoch's end up to this many points (the curve always):
#: past it, rewriting a row per point per epoch would cost the UI seconds.
MOST_PROGRESS_ROWS = 1_000


@dataclass
class Sweep:
    """A sweep started from the form: its points, and a row per run that ended."""

    points: list[SweepPoint]
    rows: list[SweepRow] = field(default_factory=list)
    #: running, finished (every point ran) or stopped (esc, or an error ended it early).
    state: str = "running"
    #: The rows of batched runs still training, by point number: their losses at the last epoch's end.
    progress: dict[int, SweepRow] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._numbers = {id(point): number for number, point in enumerate(self.points)}

    def number(self, point: SweepPoint) -> int:
        """The point's place in the sweep (a table row's key)."""
        return self._numbers[id(point)]

    def end_row(self, row: SweepRow) -> None:
        self.rows.append(row)
        self.progress.pop(self.number(row.point), None)

    def epoch_ended(self, points: list[SweepPoint], epoch: int, losses: list[float | None]) -> list[SweepRow]:
        """A batched program's epoch ended: its points' rows so far (the ones that changed)."""
        rows = [training_row(point, epoch, loss, len(points)) for point, loss in zip(points, losses, strict=True)]
        self.progress.update((self.number(row.point), row) for row in rows)
        return rows

    @property
    def shown_rows(self) -> list[SweepRow]:
        """The ended rows, then those still training."""
        return [*self.rows, *self.progress.values()]

    @property
    def fields(self) -> list[str]:
        """The swept fields, in the form's order."""
        swept = set().union(*(point.swept for point in self.points))
        return [name for name in FIELDS if name in swept]

    @property
    def shows_lr_curve(self) -> bool:
        """A sweep over the learning rate alone (and seeds) gets its curve."""
        return self.fields == ["lr"]

    @property
    def shows_data_size(self) -> bool:
        """A sweep over n gets the log-log plot of the error against n."""
        return "num_examples" in self.fields

    def describe(self) -> str:
        """ "sweep over lr × batch: 2 of 4 runs, running" """
        names = " × ".join(FIELDS[name].short for name in self.fields)
        return f"sweep over {names}: {len(self.rows)} of {len(self.points)} runs, {self.state}"

    def describe_briefly(self) -> str:
        """ "sweep: 2 of 4 runs, running", for a narrow status line."""
        return f"sweep: {len(self.rows)} of {len(self.points)} runs, {self.state}"


def training_row(point: SweepPoint, epoch: int, loss: float | None, batched: int) -> SweepRow:
    """A batched run's row while its program trains: its loss after `epoch` (None: it diverged)."""
    config = point.config
    steps = epoch * config.steps_per_epoch
    said = f"epoch {epoch}/{config.epochs}"  # in the status column's width, or the share
    said = said if len(said) <= RESULT_WIDTHS[0] else f"training {epoch / config.epochs:.0%}"
    status, message = ("training", said) if loss is not None else ("diverged", "")
    return SweepRow(point, status, loss, None, None, None, steps, 0.0, None, message, batched)


def row_cells(row: SweepRow, fields: list[str]) -> list[str]:
    """A table row: the swept values as typed, then the result."""

    def number(value: float | None) -> str:
        return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else format_number(value)

    training = row.result is None and row.status in ("training", "diverged") and row.batched > 1
    return [
        *(row.point.swept.get(name, "") for name in fields),
        row.message if row.status == "training" else row.status,
        number(row.final_loss),
        number(row.final_val_loss),
        number(row.max_w_error),
        number(row.b_error),
        f"{row.steps:,}",
        "…" if training else f"{row.seconds:.2g} s{BATCHED_MARK}" if row.batched > 1 else f"{row.seconds:.2f} s",
    ]


class SweepBox(Vertical):
    """The box around the sweep's table: its title is the sweep's state, in the longest wording that fits."""

    def __init__(self) -> None:
        super().__init__(id="sweep-box")
        self.fitted_border = FittedBorder(self)

    def on_resize(self) -> None:
        self.fitted_border.refit()


class SweepScreen(ModalScreen[None]):
    """The sweep's table (a row per run, as runs end) and, for a sweep over n, the data-size plot."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f9,q", "dismiss", "Close", tooltip="close the sweep's table"),
    ]
    DEFAULT_CSS = """
    SweepScreen {
        align: center middle;
    }
    SweepScreen #sweep-box {
        width: 95%;
        height: 95%;
        border: round $accent;
        border-title-color: $accent;
        background: $surface;
    }
    SweepScreen #sweep-table {
        height: auto;
        max-height: 1fr;
    }
    /* With a plot below, the table scrolls in a third of the box and the plot has the rest (its 1fr). */
    SweepScreen #sweep-box.-with-plot #sweep-table {
        height: 35%;
    }
    SweepScreen #sweep-empty {
        color: $text-muted;
        padding: 0 1;
    }
    """

    def __init__(self, sweep: Sweep) -> None:
        super().__init__()
        self.sweep = sweep
        self.table: DataTable[str] = DataTable(id="sweep-table", cursor_type="row", zebra_stripes=True)
        self._stale = False  # rows were added since the title and plots were drawn

    def compose(self) -> ComposeResult:
        with SweepBox():
            yield self.table
            yield Static("no run has ended yet", id="sweep-empty")
            if self.sweep.shows_data_size:
                yield ErrorPlot()
            if self.sweep.shows_lr_curve:
                yield LrCurvePlot()
        yield Footer()

    def on_mount(self) -> None:
        self.columns = self.table.add_columns(*(FIELDS[name].short for name in self.sweep.fields))
        for label, width in zip(RESULT_COLUMNS, RESULT_WIDTHS, strict=True):
            self.columns.append(self.table.add_column(label, width=width))
        for row in self.sweep.shown_rows:
            self._show_row(row)
        self.refresh_sweep()

    def add_row(self, row: SweepRow) -> None:
        """A run ended (the sweep's rows already hold it). The title and plots follow at the next redraw
        tick (`refresh_if_stale`): a batched program's thousands of rows end at once."""
        self._show_row(row)
        self._stale = True

    def refresh_if_stale(self) -> None:
        if self._stale:
            self.refresh_sweep()

    def show_progress(self) -> None:
        """Batched programs ended epochs: the rows of their runs still training (the sweep's progress)."""
        if len(self.sweep.progress) <= MOST_PROGRESS_ROWS:
            for row in self.sweep.progress.values():
                self._show_row(row)
        self.refresh_sweep()

    def _show_row(self, row: SweepRow) -> None:
        """The row of the point, added or (a batched run's, as it trains and ends) written over."""
        key = str(self.sweep.number(row.point))
        cells = row_cells(row, self.sweep.fields)
        if key not in self.table.rows:
            self.table.add_row(*cells, key=key)
            return
        for column, cell in zip(self.columns, cells, strict=True):
            self.table.update_cell(key, column, cell)

    def refresh_sweep(self) -> None:
        self._stale = False
        box = self.query_one(SweepBox)
        box.set_class(self.sweep.shows_data_size or self.sweep.shows_lr_curve, "-with-plot")
        batched = any(row.batched > 1 for row in self.sweep.rows)
        box.fitted_border.set(
            title=[(self.sweep.describe(), self.sweep.describe_briefly())], subtitle=[BATCHED_NOTE] if batched else []
        )
        shown = self.sweep.shown_rows
        self.query_one("#sweep-empty").display = not shown
        if self.sweep.shows_data_size:
            self.query_one(ErrorPlot).show(self.sweep.rows)
        if self.sweep.shows_lr_curve:
            self.query_one(LrCurvePlot).show(shown)
