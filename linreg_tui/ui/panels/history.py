"""The run history: every run of the session in a table (f8), and which earlier runs the loss chart and
the landscape overlay (the last three by default; picking rows in the table chooses others).

A kept run costs a bounded amount whatever its length: the loss panel's decimated step losses (at most
500 points), the landscape's sampled path (at most 500 points) and a one-line summary; its per-epoch
lists are dropped when it stops being the live run (earlier runs draw only their step losses). Only
the live run keeps more, for saving it as JSON (`RunTrace`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from linreg_tui.run.config import FIELDS, RunConfig
from linreg_tui.run.events import EpochEnded
from linreg_tui.run.report import json_safe, new_run_id, result_record
from linreg_tui.run.result import RunResult
from linreg_tui.ui.plots.landscape import RunPath
from linreg_tui.ui.plots.loss import KEEP_RUNS, MAX_OVERLAID, LossHistory, field_text
from linreg_tui.ui.plots.series import DecimatedSeries

#: The live run's per-epoch parameters kept for its JSON, in numbers (epochs × (d + 1)): every epoch
#: up to that, every 2^k-th beyond (a thousand features over 100,000 epochs would be 800 MB).
EPOCH_VALUES_KEPT = 200_000


@dataclass
class RunRecord:
    """One run of the session: what the table shows, and what the charts draw of it."""

    number: int
    run_id: str
    config: RunConfig
    #: The fields that differ from the previous run's, as "lr=0.1 batch=5" ("" when none).
    changed: str
    loss: LossHistory
    path: RunPath | None
    status: str = "training"
    final_loss: float | None = None
    max_w_error: float | None = None
    seconds: float | None = None
    #: Picked in the table (True), hidden there (False), or None: the default (the newest few).
    chosen: bool | None = None

    def finish(self, result: RunResult) -> None:
        self.status = result.status
        self.final_loss = result.epoch_losses[-1] if result.epoch_losses else None
        errors = result.w_error
        self.max_w_error = None if errors is None else max((abs(e) for e in errors), default=None)
        self.seconds = result.train_seconds


def changed_fields(config: RunConfig, before: RunConfig | None) -> str:
    if before is None:
        return ""
    return " ".join(field_text(config, name) for name in FIELDS if getattr(config, name) != getattr(before, name))


class RunHistory:
    """The session's runs, oldest first; the last one is the live run (always drawn as such)."""

    def __init__(self) -> None:
        self.records: list[RunRecord] = []
        #: How many of the newest earlier runs are drawn unless picked or hidden in the table.
        self.default_overlaid = KEEP_RUNS

    @property
    def live(self) -> RunRecord | None:
        return self.records[-1] if self.records else None

    def start(self, config: RunConfig, loss: LossHistory, path: RunPath | None) -> RunRecord:
        before = self.live
        if before is not None:
            before.loss.keep_only_what_earlier_runs_draw()
        record = RunRecord(
            loss.number, new_run_id(), config, changed_fields(config, before.config if before else None), loss, path
        )
        self.records.append(record)
        return record

    def overlaid(self) -> list[RunRecord]:
        """The earlier runs the charts draw, newest first: the chosen ones, at most MAX_OVERLAID."""
        earlier = self.records[:-1][::-1]
        by_default = {id(record) for record in earlier[: self.default_overlaid]}
        shown = [r for r in earlier if r.chosen or (r.chosen is None and id(r) in by_default)]
        return shown[:MAX_OVERLAID]

    def toggle(self, number: int) -> str:
        """Overlay the run or stop overlaying it; says what happened (or why not) in a line for the log."""
        record = next((r for r in self.records if r.number == number), None)
        if record is None:
            return f"run #{number} is not in the history"
        if record is self.live:
            return f"run #{number} is the latest run: the charts always draw it"
        if record in self.overlaid():
            record.chosen = False
            return f"run #{number} is no longer drawn on the loss chart and the landscape"
        if len(self.overlaid()) >= MAX_OVERLAID:
            return f"at most {MAX_OVERLAID} earlier runs are drawn at once: hide one first"
        record.chosen = True
        return f"run #{number} is drawn on the loss chart and the landscape"

    def hide_all(self) -> None:
        for record in self.records[:-1]:
            record.chosen = False


class RunTrace:
    """What the live run's JSON holds beyond its result: the step losses and the per-epoch parameters."""

    def __init__(self, num_features: int, losses: DecimatedSeries) -> None:
        #: The loss chart's own series of the live run (its LossHistory.steps: STEP_LOSSES_KEPT points).
        self.losses = losses
        self.most_epochs = max(2, EPOCH_VALUES_KEPT // (num_features + 1))
        self.epochs: list[EpochEnded] = []
        self.epochs_every = 1

    def add_epoch(self, event: EpochEnded) -> None:
        if event.epoch % self.epochs_every == 0:
            self.epochs.append(event)
        if len(self.epochs) > self.most_epochs:
            self.epochs_every *= 2
            self.epochs = [e for e in self.epochs if e.epoch % self.epochs_every == 0]


def run_json(result: RunResult, trace: RunTrace | None, run_id: str) -> str:
    """The run as JSON: `--json`'s record (config, epoch losses, command, …), each kept epoch's loss and
    parameters, and the step losses (each the mean of `step_losses_every` consecutive steps from step 1;
    the last may hold fewer)."""
    record: dict[str, object] = {"run_id": run_id, **result_record(result)}
    if trace is not None:
        extra = {
            "epochs": [{"epoch": e.epoch, "steps": e.steps, "loss": e.loss, "w": e.w, "b": e.b} for e in trace.epochs],
            "epochs_every": trace.epochs_every,
            "step_losses": trace.losses.points()[1],
            "step_losses_every": trace.losses.bucket,
        }
        record.update(json_safe(extra))  # type: ignore[arg-type]
    return json.dumps(record, indent=2) + "\n"


def _number(value: float | None, spec: str) -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, spec)


class HistoryScreen(ModalScreen[None]):
    """The table of runs; enter, space or a click on a row draws that run on the charts or hides it."""

    DEFAULT_CSS = """
    HistoryScreen {
        align: center middle;
    }
    HistoryScreen #history {
        width: 95%;
        height: 90%;
        border: round $accent;
        background: $surface;
    }
    HistoryScreen #history-note {
        height: auto;
        padding: 0 1;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f10", "dismiss", "Close", tooltip="close the run history"),
        Binding("space", "toggle", "Draw/hide", tooltip="draw the run on the charts, or hide it"),
    ]
    COLUMNS = ("drawn", "run", "impl", "changed", "status", "final loss", "max |w err|", "time")

    def __init__(self, history: RunHistory, on_toggle: Callable[[str], None]) -> None:
        super().__init__()
        self.history = history
        self.on_toggle = on_toggle
        self.table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True, id="history-table")

    def compose(self) -> ComposeResult:
        with Vertical(id="history"):
            yield Static(
                f"Runs of this session. enter / space / click: draw a run on the loss chart and the landscape "
                f"or hide it (the newest {KEEP_RUNS} by default, at most {MAX_OVERLAID}).",
                id="history-note",
            )
            yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self.table.add_columns(*self.COLUMNS)
        self.sync()
        self.table.move_cursor(row=self.table.row_count - 1)
        self.table.focus()

    def sync(self) -> None:
        """The rows again (a run started or ended, or the choice changed): at most a few hundred cells."""
        drawn = {id(record) for record in self.history.overlaid()}
        live = self.history.live
        rows = [
            (
                "live" if record is live else "yes" if id(record) in drawn else "no",
                f"#{record.number}",
                record.config.impl,
                record.changed or ("—" if record.number == self.history.records[0].number else "same"),
                record.status,
                _number(record.final_loss, ".6g"),
                _number(record.max_w_error, ".3g"),
                _number(record.seconds, ".3f") + (" s" if record.seconds is not None else ""),
            )
            for record in self.history.records
        ]
        cursor = self.table.cursor_row
        self.table.clear()
        for record, row in zip(self.history.records, rows, strict=True):
            self.table.add_row(*row, key=str(record.number))
        if rows:
            self.table.move_cursor(row=min(cursor, len(rows) - 1))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._toggle(event.row_key.value)

    def action_toggle(self) -> None:
        if self.table.row_count:
            self._toggle(self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value)

    def _toggle(self, key: str | None) -> None:
        if key is not None:
            self.on_toggle(self.history.toggle(int(key)))
            self.sync()
