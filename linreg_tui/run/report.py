"""How a run is written down: the book's printed lines, one JSON object, JSON-lines or CSV metrics, and
the command line that reproduces it."""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO

from linreg_tui.run.command import command_line
from linreg_tui.run.config import RunConfig
from linreg_tui.run.data_record import DataRecord
from linreg_tui.run.events import (
    EpochEnded,
    LearningRateChanged,
    RunEnded,
    RunStarted,
    StepLosses,
    TrainingEvent,
)
from linreg_tui.run.learning_rates import LearningRates
from linreg_tui.run.presets import PRESETS, book_comparison
from linreg_tui.run.result import RunResult
from linreg_tui.run.stability import unstable_line
from linreg_tui.run.theory import TOLERANCE, RunTheory, run_theory, stable_lr

#: Longer vectors are printed as their first entries and the largest one (`--json` keeps every value): the
#: book prints its two weights whole, a wall of 200 (the weight-decay section) helps nobody.
SHOWN_ENTRIES = 10
#: From this condition number on, the log says what it means for gradient descent (Longley's is 2.4e19;
#: the book's synthetic data's is about 1, its conditioning presets' up to about 1e4).
ILL_CONDITIONED = 1e6
#: 1 − x rounds to 1 in float32 for x below half its machine epsilon, 2⁻²⁴.
FLOAT32_HALF_EPS = 2.0**-24
#: run.theory's tolerance as the log writes it: "1e-4".
TOLERANCE_WORDS = f"{TOLERANCE:.0e}".replace("e-0", "e-")


def format_vector(values: Sequence[float], digits: int = 6) -> str:
    if len(values) <= SHOWN_ENTRIES:
        return "[" + ", ".join(f"{v:.{digits}g}" for v in values) + "]"
    largest = max(range(len(values)), key=lambda i: abs(values[i]))
    first = ", ".join(f"{v:.{digits}g}" for v in values[:5])
    return (
        f"[{first}, … {len(values) - 5:,} more] (largest in size: {values[largest]:.{digits}g} at index {largest}; "
        "--json has every value)"
    )


def count(number: int, noun: str) -> str:
    """'1 feature', '1,000 examples'."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def new_run_id() -> str:
    """Unique, and sorting as text sorts by start time: UTC to the millisecond, then 6 random hex digits
    (two runs started in the same millisecond still differ), e.g. 20250601T093012.345Z-3f9a2c."""
    now = datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def format_gap(gap: float) -> str:
    """The largest gap between learned and optimum: the log and the results panel write it the same way."""
    return f"{gap:.2g}"


def epoch_line(event: EpochEnded) -> str:
    """Exactly the book's line: print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}'), and the
    validation loss after it when the run has a validation set."""
    line = f"epoch {event.epoch}, loss {event.loss:f}"
    return line if event.val_loss is None else f"{line}, val loss {event.val_loss:f}"


def epoch_lines(event: EpochEnded) -> list[str]:
    """The book's line, and after it the warning on the epoch where the run is seen to be unstable."""
    if event.unstable_from is None:
        return [epoch_line(event)]
    return [epoch_line(event), unstable_line(event.epoch, event.unstable_from, event.loss)]


def start_lines(event: RunStarted) -> list[str]:
    config = event.config
    return [
        f"linreg-tui · {config.impl} · {event.device} · seed {config.seed} · "
        f"{count(config.num_examples, 'example')} × {count(config.num_features, 'feature')}",
        f"loss: {event.loss_formula}",
        f"features: {format_vector(event.first_features, 4)}  label: {event.first_label:.4f}  (first example)",
        *schedule_lines(config),
        *conditioning_lines(
            event.conditioning.condition_number,
            event.conditioning.max_stable_lr,
            config.lr,
            could_standardize(config),
            config.optimizer,
            config.momentum,
        ),
        *theory_lines(run_theory(config, event.conditioning.hessian_min, event.conditioning.hessian_max), config),
    ]


def theory_lines(theory: RunTheory, config: RunConfig) -> list[str]:
    """The optimal (η, β) of this quadratic and the run's own predicted rate (run.theory), for sgd and
    momentum runs on the plain squared loss; why there is no prediction, where there is none."""
    if theory.gd_rate is None or theory.momentum is None or theory.gd_lr is None:
        return [theory.why] if config.optimizer in ("sgd", "momentum") and theory.why else []
    best = theory.momentum
    lines = [
        f"Hessian of this loss: λmin {theory.hessian_min:.4g}, λmax {theory.hessian_max:.4g} · optimal full-batch "
        f"gd: lr 2/(λmin+λmax) = {theory.gd_lr:.4g}, rate (κ−1)/(κ+1) = {theory.gd_rate:.4g} a step · momentum: "
        f"lr (2/(√λmin+√λmax))² = {best.lr:.4g}, β ((√κ−1)/(√κ+1))² = {best.beta:.4g}, rate (√κ−1)/(√κ+1) = "
        f"{best.rate:.4g} a step"
    ]
    if theory.predicted_rate is None:
        return [*lines, theory.why]
    rate, steps = theory.predicted_rate, theory.predicted_steps
    constants = f"lr {config.lr:g}" + (f", β {config.momentum:g}" if config.optimizer == "momentum" else "")
    reach = (
        "the distance to the optimum does not shrink"
        if steps is None or math.isinf(steps)
        else f"{TOLERANCE_WORDS} of its start in {count(int(steps), 'step')}"
    )
    return [
        *lines,
        f"this run ({config.optimizer}, {constants}, full batch): predicted rate {rate:.4g} a step (the spectral "
        f"radius of its iteration) · distance to the optimum: {reach}",
    ]


def schedule_lines(config: RunConfig) -> list[str]:
    """The learning-rate schedule, when the run has one: how the rate goes, counted in steps (the book
    counts its schedulers' updates in epochs; here each step takes its own rate), and where it ends."""
    if not config.applies("schedule") or config.schedule == "constant":
        return []
    lr, total = config.lr, config.total_steps
    last = LearningRates(config).at(total)
    if config.schedule == "cosine":
        warmup = f", warm-up {count(config.warmup, 'step')} from 0" if config.warmup else ""
        how = f"{lr:g} → {config.lr_min:g} over {count(total, 'step')}{warmup}"
    elif config.schedule == "factor":
        how = (
            f"{lr:g} × {config.decay_factor:g} every {count(config.decay_every, 'step')}, "
            f"not below {config.lr_min:g}; {last:g} at step {total:,}"
        )
    elif config.schedule == "multistep":
        after = ", ".join(f"{milestone:,}" for milestone in config.milestones)
        how = f"{lr:g} × {config.decay_factor:g} after steps {after}; {last:g} at step {total:,}"
    else:  # sqrt
        how = f"{lr:g}/√t at step t; {last:g} at step {total:,}"
    return [f"lr schedule {config.schedule}: {how}"]


def conditioning_lines(
    condition_number: float,
    max_stable_lr: float,
    lr: float,
    could_standardize: bool = False,
    optimizer: str = "sgd",
    beta: float = 0.0,
) -> list[str]:
    """The theory beside the experiment: how stretched the loss is, and the full-batch stability bound
    (momentum's (2 + 2β)/λmax for momentum); `could_standardize`: the data is a table or file that is not
    standardized."""
    if math.isinf(max_stable_lr):  # the absolute loss: no curvature, so no step size overshoots it
        return [f"condition number of ZᵀZ/n: {condition_number:.3g} · this loss has no curvature: no lr bound"]
    lines = [
        f"condition number of ZᵀZ/n: {condition_number:.3g} · largest stable lr (full-batch GD on this loss): "
        f"{max_stable_lr:.3g}; minibatch SGD can diverge below it"
    ]
    if optimizer == "momentum":
        lines[0] += f" · momentum's, (2 + 2β)/λmax with β {beta:g}: {stable_lr(optimizer, beta, max_stable_lr):.3g}"
    if (warning := lr_warning(lr, max_stable_lr, optimizer, beta)) is not None:
        lines.append(warning)
    if condition_number >= ILL_CONDITIONED:
        lines.append(ill_conditioned(condition_number, could_standardize))
    return lines


def ill_conditioned(condition_number: float, could_standardize: bool) -> str:
    """Why gradient descent cannot fit such data: below the bound, the flattest direction's error shrinks
    by at most 1 − 2/κ a step."""
    if math.isinf(condition_number):
        line = (
            "ill-conditioned: the condition number is infinite to float64's precision (the columns are "
            "dependent, or nearly: a constant column repeats the bias, or one is a combination of others), "
            "so along the flattest directions gradient descent does not move at all"
        )
        return line  # rescaling does not make dependent columns independent
    line = (
        f"ill-conditioned: below the bound, the flattest direction's error shrinks by at most 1 − 2/κ = "
        f"1 − {2 / condition_number:.2g} a step, so fitting it takes about κ/2 = {condition_number / 2:.2g} steps: "
        "gradient descent moves along the steep directions only (the closed form is exact regardless)"
    )
    if 2 / condition_number < FLOAT32_HALF_EPS:
        line += "; in float32, which training uses, that factor rounds to exactly 1: no step moves it at all"
    return line + STANDARDIZE_HINT if could_standardize else line


STANDARDIZE_HINT = (
    "; --standardize all (or features) puts every column on one scale, which removes the part of κ "
    "that comes from columns of different sizes (collinear columns keep the rest)"
)


def could_standardize(config: RunConfig) -> bool:
    """A table's or a file's data trained in its own units: standardizing it is the cure for its scales."""
    return config.kind in ("table", "file") and config.standardize == "none"


def lr_above_bound(lr: float, max_stable_lr: float) -> str:
    return (
        f"warning: lr {lr:g} is above the largest stable lr {max_stable_lr:.3g}: "
        "even full-batch gradient descent diverges on this loss"
    )


def lr_warning(lr: float, max_stable_lr: float, optimizer: str = "sgd", beta: float = 0.0) -> str | None:
    """The warning for an lr above the run's full-batch bound (None below it): gradient descent's 2/λmax,
    momentum's (2 + 2β)/λmax, naming it."""
    bound = stable_lr(optimizer, beta, max_stable_lr)
    if not lr > bound:
        return None
    if optimizer == "momentum":
        return (
            f"warning: lr {lr:g} is above momentum's largest stable lr (2 + 2β)/λmax = {bound:.3g} with β {beta:g}: "
            "even full-batch momentum diverges on this loss"
        )
    return lr_above_bound(lr, max_stable_lr)


def observed_lines(result: RunResult) -> list[str]:
    """The rate the run had beside the one predicted for it (a full-batch sgd or momentum run)."""
    predicted, observed = result.theory.predicted_rate, result.observed_rate
    if predicted is None or observed is None:
        return []
    steps, predicted_steps = result.observed_steps, result.theory.predicted_steps
    reached = "not reached" if steps is None else count(steps, "step")
    expected = "" if predicted_steps is None or math.isinf(predicted_steps) else f" (predicted {predicted_steps:,.0f})"
    return [
        f"observed rate {observed:.4g} a step (predicted {predicted:.4g}): the geometric mean shrink of the "
        f"distance to the optimum, over the steps above float32's floor · {TOLERANCE_WORDS} of its start: "
        f"{reached}{expected}"
    ]


def end_lines(result: RunResult) -> list[str]:
    config = result.config
    of_what = "" if config.minimises_squared_loss else " of the squared loss without weight decay, not this run's"
    lines = []
    if result.w_error is not None and result.b_error is not None:  # data made from true parameters
        lines += [
            f"error in estimating w: {format_vector(result.w_error)}",
            f"error in estimating b: {result.b_error:.6g}",
        ]
    lines.append(
        f"closed-form optimum{of_what}: w = {format_vector(result.optimum.w)}, b = {result.optimum.b:.6g} "
        f"(largest gap to learned: {format_gap(result.gap_to_optimum)})"
    )
    lines += data_lines(result)
    lines += observed_lines(result)
    if config.wd > 0:
        lines.append(f"L2 norm of w: {result.w_norm:.6g}")  # the book's weight-decay section prints it
    if not result.optimum.unique:
        lines.append(optimum_not_unique(result))
    if result.lr_changes:
        changes = ", ".join(f"{lr:g} from step {step:,}" for step, lr in result.lr_changes)
        ended = ""
        if LearningRates(config).scheduled:  # a rate chosen while training ends the schedule from its step
            ended = f" (the {config.schedule} schedule ended at step {result.lr_changes[0][0]:,})"
        lines.append(f"learning rate changed while training: {changes}{ended}")
        bound, optimizer, beta = result.max_stable_lr, config.optimizer, config.momentum
        warnings = (lr_warning(lr, bound, optimizer, beta) for _, lr in result.lr_changes)
        lines += [warning for warning in warnings if warning is not None]
    if result.message:
        lines.append(result.message)
    lines.append(
        f"{result.status}: {count(result.steps, 'step')} in {result.train_seconds:.3f} s "
        f"({result.steps_per_second:,.0f} steps/s) on {result.device}"
    )
    return lines


def book_lines(preset: str | None, result: RunResult) -> list[str]:
    """The loss the book printed for a preset's run, beside this run's (when the run is the preset's)."""
    if preset is None or not result.epoch_losses:
        return []
    line = book_comparison(PRESETS[preset], result.config, result.epoch_losses[-1])
    return [] if line is None else [line]


def run_command(result: RunResult) -> str:
    """The `linreg-tui --headless ...` that trains this run again, on the device it used ("auto" pinned)."""
    device = result.device.split(" (", 1)[0]  # describe_device: "cuda:0 (NVIDIA H200)" -> "cuda:0"
    facts = result.data
    record = None
    if facts is not None and facts.rows is not None and facts.sha256 is not None:
        record = DataRecord(facts.rows, facts.sha256)  # written for a file's run only
    return command_line(result.config, result.lr_changes, device=device, record=record)


def reproduce_line(result: RunResult) -> str:
    """The text report's last line (the app's log ends with end_lines' status line instead)."""
    return f"reproduce: {run_command(result)}"


def optimum_not_unique(result: RunResult) -> str:
    """Many (w, b) fit equally well: with fewer examples than unknowns (n < d + 1) they fit the data
    exactly; otherwise the columns are (numerically) dependent: a constant column repeats the bias, or one
    column is a combination of others. The optimum shown is the one of least norm either way."""
    config = result.config
    unknowns = config.num_features + 1
    if config.training_examples < unknowns:
        why = (
            f"the closed-form optimum is one of many exact fits: {count(config.training_examples, 'example')} "
            f"cannot pin down {unknowns} unknowns (w and b)"
        )
    else:
        why = (
            "the closed-form optimum is one of many equally good fits: the columns are linearly dependent "
            "(to float64's precision), as when a column is constant (it repeats the bias) or one column is "
            "a combination of others"
        )
    return f"{why}; it is the one of least norm, and training may reach another, so the gap to it says little"


def event_lines(event: TrainingEvent) -> list[str]:
    """The book-style text for one event (step losses print nothing)."""
    if isinstance(event, RunStarted):
        return start_lines(event)
    if isinstance(event, EpochEnded):
        return epoch_lines(event)
    if isinstance(event, RunEnded):
        return end_lines(event.result)
    return []


class MetricsRefused(ValueError):
    """The metrics file cannot be opened for appending: said before training, like bad input."""


def open_metrics(path: str, run_id: str) -> MetricsWriter:
    """CSV for a path ending in .csv, JSON lines otherwise. Raises MetricsRefused."""
    return CsvMetricsWriter(path, run_id) if path.lower().endswith(".csv") else MetricsWriter(path, run_id)


class MetricsWriter:
    """Appends a run as JSON lines: a header with the configuration, one record per epoch, the result,
    each with the run's id, so that runs appended to one file can be told apart.

    Opened (and so checked) before training; flushed per record, so an interrupted run leaves a valid
    file of whole lines. A write that fails (a full disk) is kept in `error`, not raised: it happens
    inside the training loop's callbacks, and the command line decides what to do about it.
    """

    def __init__(self, path: str, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self.error: OSError | None = None
        #: The size of the regular file found at `path` (None: there was none), for `discard`.
        self.found_size = os.path.getsize(path) if os.path.isfile(path) else None
        self.created = not os.path.lexists(path)
        #: Each step's learning rate, from the run's configuration and its live changes (RunStarted sets it).
        self.rates: LearningRates | None = None
        try:
            # newline="": the csv module writes its own line endings.
            self.file: IO[str] = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115 - lives as long as the run
        except OSError as exc:
            raise MetricsRefused(self._refusal(exc)) from None

    def _refusal(self, exc: OSError) -> str:
        reason = exc.strerror or type(exc).__name__
        return f"metrics: {self.path!r} cannot be written ({reason}); give a writable file path"

    def __call__(self, event: TrainingEvent) -> None:
        record: dict[str, object] | None = None
        self.follow_rates(event)
        if isinstance(event, RunStarted):
            record = {
                "type": "run",
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "device": event.device,
                "config": event.config.as_dict(),
            }
        elif isinstance(event, EpochEnded):
            record = {
                "type": "epoch",
                "epoch": event.epoch,
                "loss": event.loss,
                "val_loss": event.val_loss,
                "lr": event.lr,
                "steps": event.steps,
                "w": list(event.w),
                "b": event.b,
            }
        elif isinstance(event, RunEnded):
            record = {"type": "result", **result_record(event.result)}
        if record is None or self.error is not None:
            return
        try:
            # Strict JSON: an epoch's validation loss can overflow while the training loss is finite.
            self.file.write(json.dumps(json_safe({"run_id": self.run_id, **record})) + "\n")
            self.file.flush()
        except OSError as exc:
            self.error = exc

    def follow_rates(self, event: TrainingEvent) -> None:
        if isinstance(event, RunStarted):
            self.rates = LearningRates(event.config)
        elif isinstance(event, LearningRateChanged) and self.rates is not None:
            self.rates.change(event.step, event.lr)

    def error_line(self) -> str | None:
        if self.error is None:
            return None
        return f"cannot write the metrics to {self.path} ({self.error.strerror or type(self.error).__name__})"

    def close(self) -> None:
        try:
            self.file.close()
        except OSError as exc:  # the last buffered bytes could not be written either
            self.error = self.error or exc

    def discard(self) -> None:
        """A run refused before it started: the file as it was found (a file this opened is removed, one
        it appended to cut back to its size), so that a refusal writes nothing."""
        self.close()
        with contextlib.suppress(OSError):
            if self.created:
                os.remove(self.path)
            elif self.found_size is not None:
                os.truncate(self.path, self.found_size)


class CsvMetricsWriter(MetricsWriter):
    """Appends a run as CSV: one row per step (kind=step) and per epoch (kind=epoch, with w and b).

    One header for the whole file: written when the file is new or empty, checked when appending (a
    file with other columns is refused before training). w is one column holding a JSON array, not
    w1..wk columns: runs with different numbers of features (up to 1,000) append to one file under one
    header. val_loss is the epoch's validation loss (empty without --val, and on step rows). lr is the
    step's learning rate (an epoch row's: its last step's), empty where the optimizer has none (adadelta).
    """

    COLUMNS = ("run_id", "kind", "epoch", "step", "loss", "val_loss", "lr", "w", "b")
    #: The header before the lr column: a file written so is refused (its rows would not line up).
    OLDER_COLUMNS = ("run_id", "kind", "epoch", "step", "loss", "val_loss", "w", "b")

    def __init__(self, path: str, run_id: str) -> None:
        header = ",".join(self.COLUMNS)
        try:
            if os.path.isfile(path) and os.path.getsize(path) > 0:
                with open(path, encoding="utf-8", newline="") as existing:
                    first = existing.readline().rstrip("\r\n")
                if first == ",".join(self.OLDER_COLUMNS):
                    raise MetricsRefused(
                        f"metrics: {path!r} has the older layout's columns (without lr, the learning rate); "
                        f"give a new .csv file or one with the columns {header}"
                    )
                if first != header:
                    # What the line holds is not said: the file may be anything but a metrics file.
                    raise MetricsRefused(
                        f"metrics: {path!r} has other columns (its first line is not linreg-tui's header); "
                        f"give a new .csv file or one with the columns {header}"
                    )
                needs_header = False
            else:
                needs_header = True
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise MetricsRefused(f"metrics: {path!r} cannot be read to append to ({reason})") from None
        super().__init__(path, run_id)
        self.rows = csv.writer(self.file)
        if needs_header:
            try:
                self.rows.writerow(self.COLUMNS)
                self.file.flush()
            except OSError as exc:
                self.file.close()
                raise MetricsRefused(self._refusal(exc)) from None

    def __call__(self, event: TrainingEvent) -> None:
        rows: list[tuple[object, ...]] = []
        self.follow_rates(event)
        if isinstance(event, StepLosses):
            taken = len(event.losses)
            rates = self.rates.of_steps(event.first_step, taken) if self.rates is not None else [None] * taken
            rows = [
                (self.run_id, "step", event.epoch, event.first_step + i, loss, "", _cell(lr), "", "")
                for i, (loss, lr) in enumerate(zip(event.losses, rates, strict=True))
            ]
        elif isinstance(event, EpochEnded):
            w = json.dumps(list(event.w))
            row = (event.loss, _cell(event.val_loss), _cell(event.lr), w, event.b)
            rows = [(self.run_id, "epoch", event.epoch, event.steps, *row)]
        if not rows or self.error is not None:
            return
        try:
            self.rows.writerows(rows)
            self.file.flush()
        except OSError as exc:
            self.error = exc


def _cell(value: float | None) -> object:
    """A CSV cell: empty for a value the run does not have."""
    return "" if value is None else value


def result_record(result: RunResult) -> dict[str, object]:
    """The result as JSON-safe data (non-finite floats become null, which JSON can carry), with the
    command line that reproduces it."""
    return json_safe({**result.as_dict(), "command": run_command(result)})


def result_json(result: RunResult, run_id: str) -> str:
    return json.dumps({"run_id": run_id, **result_record(result)}, indent=2)


def json_safe(value: object) -> object:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def data_lines(result: RunResult) -> list[str]:
    """A table's or a file's run in the data's own units (when it was standardized), and how well the
    learned model fits: R² and the RMSE in the target's units, on the training and validation rows."""
    facts = result.data
    if facts is None or result.config.kind == "synthetic":
        return []
    lines = []
    if facts.standardize != "none":
        names = ", ".join(facts.feature_names) if len(facts.feature_names) <= SHOWN_ENTRIES else "w"
        lines += [
            f"in the data's own units ({names}; {facts.target_name}):",
            f"  learned: w = {format_vector(facts.w_original)}, b = {facts.b_original:.6g}",
            f"  optimum: w = {format_vector(facts.ols_w_original)}, b = {facts.ols_b_original:.6g}",
        ]
    fit = f"fit: R² {facts.r2:.6g}, RMSE {facts.rmse:.6g} {facts.target_name} on the training rows"
    if facts.val_r2 is not None and facts.val_rmse is not None:
        fit += f"; R² {facts.val_r2:.6g}, RMSE {facts.val_rmse:.6g} on the validation rows"
    return [*lines, fit]
