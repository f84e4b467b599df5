"""The results panel: true, learned, error and closed-form optimum for every weight and the bias."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from linreg_tui.results import Optimum, RunResult

COLUMNS = ("", "true", "learned", "error", "optimum")


def _num(value: float) -> str:
    return f"{value:.6g}"


class ResultsPanel(Vertical):
    BORDER_TITLE = "Results"

    def __init__(self) -> None:
        super().__init__(id="results", classes="panel")
        self.true_w: tuple[float, ...] = ()
        self.true_b = 0.0
        self.optimum: Optimum | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="results-table", cursor_type="row", zebra_stripes=True)
        yield Static("no run yet", id="results-summary")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in COLUMNS:
            table.add_column(label, key=label or "name")

    def start(self, true_w: tuple[float, ...], true_b: float, optimum: Optimum) -> None:
        """A new run: the truth and the optimum are known before any step; one row per parameter."""
        self.true_w, self.true_b, self.optimum = true_w, true_b, optimum
        table = self.query_one(DataTable)
        table.clear()
        names = [*(f"w{i + 1}" for i in range(len(true_w))), "b"]
        for name, true, best in zip(names, [*true_w, true_b], [*optimum.w, optimum.b], strict=True):
            table.add_row(name, _num(true), "", "", _num(best), key=name)
        self.query_one("#results-summary", Static).update("training…")

    def show_parameters(self, w: tuple[float, ...], b: float) -> None:
        """The learned values and their errors, changed cell by cell: rebuilding the rows would cost
        a layout pass, several times a second while the fast engine runs."""
        table = self.query_one(DataTable)
        names = [*(f"w{i + 1}" for i in range(len(w))), "b"]
        for name, true, value in zip(names, [*self.true_w, self.true_b], [*w, b], strict=True):
            table.update_cell(name, "learned", _num(value), update_width=True)
            table.update_cell(name, "error", _num(true - value), update_width=True)  # the book's sign

    def finish(self, result: RunResult) -> None:
        self.show_parameters(result.w, result.b)
        self.query_one("#results-summary", Static).update(
            f"{result.status} · {result.steps:,} steps · {result.train_seconds:.2f} s · "
            f"{result.steps_per_second:,.0f} steps/s · gap to optimum {result.gap_to_optimum:.1e}"
        )
        self.set_class(result.status != "finished", "-problem")
