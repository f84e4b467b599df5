"""The results panel: true, learned, error and closed-form optimum for the weights and the bias; for data
without true parameters (a table, a file, poly) learned and optimum, and, where the data was standardized,
both again in the data's own units ("raw").

Up to ALL_ROWS_UP_TO weights every one has a row. Beyond that the table is bounded: the first few
weights, the ones with the largest errors, and the bias; the log has all of them. A table of 1,001 rows
updated cell by cell froze the app for minutes: each width-checked update re-measured a whole column,
millions of measurements holding the GIL the training thread needs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from linreg_tui.run.report import format_gap
from linreg_tui.run.result import Optimum, RunResult
from linreg_tui.run.theory import stable_lr
from linreg_tui.ui.widgets.fitting import FittedBorder

#: Every weight gets a row up to this many; more get a bounded selection of rows.
ALL_ROWS_UP_TO = 20
#: In the bounded table: the first weights, then the largest errors among the rest (with b and the
#: header, 10 rows: at 120×36 the table has 11 under the note and a two-line summary).
FIRST_ROWS = 2
LARGEST_ERRORS = 6
#: The widest number `format_number` writes ("-1.2e+38"). The columns that change while a run trains
#: have this fixed width, so a new value never re-measures a column, and at 120×36 all five columns fit
#: the panel's 43 cells whatever the values (a diverged run's 1e+30s cut the optimum column off).
NUMBER_WIDTH = 8
CHANGING_COLUMNS = ("learned", "error")
#: The columns of data with true parameters, and of data without (its raw columns: when standardized).
TRUTH_COLUMNS = ("true", "learned", "error", "optimum")
FIT_COLUMNS = ("learned", "optimum")
RAW_COLUMNS = ("raw learned", "raw optimum")
#: A column's name is cut to this many characters in a row's name ("w5 displacement_…"): the numbers fit.
NAME_CHARS = 14


def format_number(value: float) -> str:
    """Six significant digits where they fit NUMBER_WIDTH, else three, else two (a diverged run's
    last finite values, tiny errors: "-5.9e-05")."""
    for digits in (6, 3):
        text = f"{value:.{digits}g}"
        if len(text) <= NUMBER_WIDTH:
            return text
    return f"{value:.2g}"


def rows_to_show(errors: Sequence[float] | None, num_weights: int) -> list[int]:
    """Which weights get a row (indices, in table order): all of them when there are few; otherwise
    the first FIRST_ROWS and the LARGEST_ERRORS largest |errors| among the rest, largest first (a
    non-finite error counts as the largest). Without errors yet, the first weights."""
    if num_weights <= ALL_ROWS_UP_TO:
        return list(range(num_weights))
    if errors is None:
        return list(range(FIRST_ROWS + LARGEST_ERRORS))

    def size(index: int) -> float:
        error = abs(errors[index])
        return error if math.isfinite(error) else math.inf

    rest = sorted(range(FIRST_ROWS, num_weights), key=size, reverse=True)[:LARGEST_ERRORS]
    return [*range(FIRST_ROWS), *rest]


class ResultsPanel(Vertical):
    BORDER_TITLE = "Results"
    DEFAULT_CSS = """
    ResultsPanel #results-table {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    ResultsPanel #results-scope {
        height: auto;
        color: $text-muted;
        display: none;
    }
    ResultsPanel.-bounded #results-scope {
        display: block;
    }
    ResultsPanel #results-summary {
        height: auto;
        color: $success;
    }
    ResultsPanel #results-conditioning {
        height: auto;
        color: $text-muted;
    }
    ResultsPanel #results-conditioning.-above {
        color: $warning;
    }
    /* Many features: the table needs every row; the numbers go to the border (see show_conditioning). */
    ResultsPanel.-bounded #results-conditioning {
        display: none;
    }
    ResultsPanel.-problem #results-summary {
        color: $warning;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="results", classes="panel")
        #: The data's true (w, b); None for data with no true parameters (a table, a file).
        self.truth: tuple[tuple[float, ...], float] | None = None
        #: The features' names, for data that has them (a row reads "w2 GNP"); None: w1, w2, ….
        self.names: tuple[str, ...] | None = None
        self.optimum: Optimum | None = None
        self.learned: tuple[tuple[float, ...], float] | None = None
        #: The run's conditioning (condition number of ZᵀZ/n, largest stable lr), once it started.
        self.condition_number: float | None = None
        self.max_stable_lr: float | None = None
        #: The weights that have a row now (indices), in table order; the bias is always the last row.
        self.shown: list[int] = []
        #: The table's columns after the name (TRUTH_COLUMNS, or FIT_COLUMNS with RAW_COLUMNS or not).
        self.columns: tuple[str, ...] = ()
        self.fitted_border = FittedBorder(self)

    def on_resize(self) -> None:
        self.fitted_border.refit()

    def compose(self) -> ComposeResult:
        yield DataTable(id="results-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="results-scope")
        yield Static("no run yet", id="results-summary")
        yield Static("", id="results-conditioning")

    def on_mount(self) -> None:
        self._set_columns(TRUTH_COLUMNS)

    def _set_columns(self, columns: tuple[str, ...]) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        table = self.query_one(DataTable)
        table.clear(columns=True)
        # The name, the truth and the optimum do not change during a run: measured when rows are added.
        table.add_column("", key="name")
        for label in columns:
            table.add_column(label, key=label, width=NUMBER_WIDTH if label in CHANGING_COLUMNS else None)

    def start(
        self,
        truth: tuple[tuple[float, ...], float] | None,
        optimum: Optimum,
        names: tuple[str, ...] | None = None,
        raw: bool = False,
    ) -> None:
        """A new run: the truth (where the data has one) and the optimum are known before any step;
        `raw`: the data is standardized, so the end shows both again in its own units."""
        self.truth, self.optimum, self.names = truth, optimum, names
        self._set_columns(TRUTH_COLUMNS if truth is not None else FIT_COLUMNS + (RAW_COLUMNS if raw else ()))
        self.learned = None
        num_weights = len(optimum.w)
        bounded = num_weights > ALL_ROWS_UP_TO
        self.set_class(bounded, "-bounded")
        self.remove_class("-problem")
        if bounded:
            largest = "largest errors" if truth is not None else "largest gaps to the optimum"
            self.query_one("#results-scope", Static).update(
                f"w1–w{FIRST_ROWS} and the {LARGEST_ERRORS} {largest} of {num_weights:,} weights; the log lists all"
            )
        self._build_rows(rows_to_show(None, num_weights))
        self.query_one("#results-summary", Static).update("training…")
        self.condition_number = self.max_stable_lr = None
        self.query_one("#results-conditioning", Static).update("")  # the new run's comes with its start
        self.fitted_border.set(subtitle=[])

    def show_parameters(self, w: tuple[float, ...], b: float) -> None:
        """The learned values and their errors. Cells change in place while the same weights are shown
        (no layout pass, no measuring: the number columns have a fixed width); the rows are built again
        only when the largest errors are other weights, a dozen rows at most once per redraw."""
        self.learned = (w, b)
        truth, optimum = self.truth, self.optimum
        errors = None if truth is None else [true - value for true, value in zip(truth[0], w, strict=True)]
        # Without a truth the rows are the weights farthest from the optimum (learned − optimum).
        gaps = errors if errors is not None or optimum is None else [v - o for v, o in zip(w, optimum.w, strict=True)]
        shown = rows_to_show(gaps, len(w))  # the book's sign above: true − learned
        if shown != self.shown:
            self._build_rows(shown)
            return
        table = self.query_one(DataTable)
        for index in shown:
            table.update_cell(f"w{index + 1}", "learned", format_number(w[index]))
            if errors is not None:
                table.update_cell(f"w{index + 1}", "error", format_number(errors[index]))
        table.update_cell("b", "learned", format_number(b))
        if truth is not None:
            table.update_cell("b", "error", format_number(truth[1] - b))

    def show_conditioning(
        self, condition_number: float, max_stable_lr: float, lr: float, optimizer: str = "sgd", beta: float = 0.0
    ) -> None:
        """How stretched the loss is and the run's full-batch stability bound (gradient descent's 2/λmax,
        momentum's (2 + 2β)/λmax), known before the first step; marked when the run's learning rate is
        above it."""
        self.condition_number, self.max_stable_lr = condition_number, max_stable_lr
        stable = stable_lr(optimizer, beta, max_stable_lr)
        above = f" · lr {lr:g} is above it" if lr > stable else ""
        kind = f"full-batch momentum, β {beta:g}" if optimizer == "momentum" else "full-batch GD"
        widget = self.query_one("#results-conditioning", Static)
        widget.update(
            f"condition number {condition_number:.3g} · largest stable lr {stable:.3g}{above} "
            f"({kind}; minibatch SGD can diverge below it)"
        )
        widget.set_class(bool(above), "-above")
        # The bounded table (many features) fills the panel: there the numbers are on its border.
        bound = f"stable lr < {stable:.3g}{' (lr above!)' if above else ''}"
        short = (f"κ {condition_number:.3g} · {bound}", bound)
        self.fitted_border.set(subtitle=[short if self.has_class("-bounded") else ""])

    def finish(self, result: RunResult) -> None:
        self.show_parameters(result.w, result.b)
        if RAW_COLUMNS[0] in self.columns and result.data is not None:
            facts, table = result.data, self.query_one(DataTable)
            for index in self.shown:
                table.update_cell(f"w{index + 1}", "raw learned", format_number(facts.w_original[index]))
                table.update_cell(f"w{index + 1}", "raw optimum", format_number(facts.ols_w_original[index]))
            table.update_cell("b", "raw learned", format_number(facts.b_original))
            table.update_cell("b", "raw optimum", format_number(facts.ols_b_original))
        # The result's own numbers (the same as at the start), with the last learning rate used.
        last_lr = result.lr_changes[-1][1] if result.lr_changes else result.config.lr
        config = result.config
        self.show_conditioning(
            result.condition_number, result.max_stable_lr, last_lr, config.optimizer, config.momentum
        )
        self.query_one("#results-summary", Static).update(
            f"{result.status} · {result.steps:,} steps · {result.train_seconds:.2f} s · "
            f"{result.steps_per_second:,.0f} steps/s · gap to optimum {format_gap(result.gap_to_optimum)}"
            + fit_words(result)
        )
        self.set_class(result.status != "finished", "-problem")

    def _build_rows(self, shown: list[int]) -> None:
        self.shown = shown
        optimum = self.optimum
        assert optimum is not None, "start() comes first"
        truth = self.truth
        rows = [
            self._row(f"w{index + 1}", None if truth is None else truth[0][index], optimum.w[index], index)
            for index in shown
        ]
        rows.append(self._row("b", None if truth is None else truth[1], optimum.b, None))
        table = self.query_one(DataTable)
        table.clear()
        for key, row in zip([*(f"w{index + 1}" for index in shown), "b"], rows, strict=True):
            table.add_row(*row, key=key)

    def _row(self, name: str, true: float | None, best: float, index: int | None) -> tuple[str, ...]:
        """A row: its name (with the column's, where the data names them), then the table's columns: the
        truth, the learned value and its error, the optimum; the raw ones are filled when the run ends."""
        if self.names is not None and index is not None:
            column = self.names[index]
            # Cut in the middle: names that differ at their end ("feature_12", "feature_13") stay apart.
            head = (NAME_CHARS - 1) // 2
            cut = column if len(column) <= NAME_CHARS else f"{column[:head]}…{column[-(NAME_CHARS - 1 - head) :]}"
            name = f"{name} {cut}"
        learned = error = ""
        if self.learned is not None:
            w, b = self.learned
            value = b if index is None else w[index]
            learned = format_number(value)
            error = "—" if true is None else format_number(true - value)
        cells = {
            "true": "—" if true is None else format_number(true),
            "learned": learned,
            "error": error,
            "optimum": format_number(best),
        }
        return (name, *(cells.get(column, "") for column in self.columns))


def fit_words(result: RunResult) -> str:
    """R² and the RMSE in the target's units, on the training rows and the validation rows."""
    facts = result.data
    if facts is None:
        return ""
    words = f" · R² {facts.r2:.4g} · RMSE {facts.rmse:.4g}"
    if facts.val_r2 is not None and facts.val_rmse is not None:
        words += f" · validation R² {facts.val_r2:.4g}, RMSE {facts.val_rmse:.4g}"
    return words
