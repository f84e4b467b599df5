"""The results panel: true, learned, error and closed-form optimum for every weight and the bias."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from linreg_tui.results import Optimum, RunResult

COLUMNS = ("", "true", "learned", "error", "optimum")


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


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
        self.query_one(DataTable).add_columns(*COLUMNS)

    def start(self, true_w: tuple[float, ...], true_b: float, optimum: Optimum) -> None:
        """A new run: the truth and the optimum are known before any step."""
        self.true_w, self.true_b, self.optimum = true_w, true_b, optimum
        self.show_parameters(None, None)
        self.query_one("#results-summary", Static).update("training…")

    def show_parameters(self, w: tuple[float, ...] | None, b: float | None) -> None:
        table = self.query_one(DataTable)
        table.clear()
        if self.optimum is None:
            return
        names = [f"w{i + 1}" for i in range(len(self.true_w))]
        truths = [*self.true_w, self.true_b]
        learned = [*w, b] if w is not None and b is not None else [None] * len(truths)
        optimum = [*self.optimum.w, self.optimum.b]
        for name, true, value, best in zip([*names, "b"], truths, learned, optimum, strict=True):
            error = None if value is None else true - value  # the book's sign: true − learned
            table.add_row(name, _num(true), _num(value), _num(error), _num(best))

    def finish(self, result: RunResult) -> None:
        self.show_parameters(result.w, result.b)
        self.query_one("#results-summary", Static).update(
            f"{result.status} · {result.steps:,} steps · {result.train_seconds:.2f} s · "
            f"{result.steps_per_second:,.0f} steps/s · gap to optimum {result.gap_to_optimum:.1e}"
        )
        self.set_class(result.status != "finished", "-problem")
