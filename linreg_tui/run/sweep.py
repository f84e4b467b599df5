"""Sweeps: every combination of comma-separated values of a few fields, one run per point.

What a sweep is, without torch: its points (expanded and every one validated before anything trains,
so a bad value in the last point is refused at once rather than after minutes of training), its rows,
and the error-against-n slope. training/sweep.py trains the points; the command line and the app both
use it.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from linreg_tui.run.batching import batch_key
from linreg_tui.run.config import FIELDS, ConfigError, FieldError, RunConfig, parse_config, parse_field
from linreg_tui.run.parsing import Numbers, Refused
from linreg_tui.run.sources import ColumnChoice
from linreg_tui.run.sweep_range import is_range, range_values

if TYPE_CHECKING:
    from linreg_tui.run.result import RunResult

#: The fields that take comma-separated values in a sweep (the list fields true_w, scales and features
#: keep their commas: those are one value each).
SWEEPABLE: tuple[str, ...] = (
    "lr",
    "batch_size",
    "num_examples",
    "wd",
    "init_std",
    *("momentum", "gamma", "rho", "beta1", "beta2", "eps"),  # the optimizer's constants (one optimizer a sweep)
)

#: A sweep's product of values times its repeats, at most (a typo such as 50 values in three fields
#: is refused instead of queueing 125,000 runs).
MAX_POINTS = 1_000
#: ... and at most this many when every point trains batched (run.batching): 100,000 columns of a few
#: parameters are one program of about the cost of a few runs.
MAX_BATCHED_POINTS = 100_000
MAX_REPEATS = 1_000


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: its configuration, the swept fields' texts for it, and which repeat it is
    (0-based; repeat r trains with seed + r)."""

    config: RunConfig
    swept: dict[str, str]
    repeat: int


@dataclass(frozen=True)
class SweepRow:
    """One line of the sweep's table. Losses and errors are None where the run has none (a set-up that
    failed; a run with no finished epoch; no validation set). Errors are magnitudes."""

    point: SweepPoint
    status: str  #: the run's status (finished, diverged, cancelled, failed)
    final_loss: float | None
    final_val_loss: float | None
    max_w_error: float | None
    b_error: float | None
    steps: int
    seconds: float
    #: The run's result; None when its set-up failed (then `message` says why).
    result: RunResult | None
    message: str = ""
    #: How many points trained as one program with this one (1: a run of its own); `seconds` is then
    #: the program's time divided by it.
    batched: int = 1


def _is_list_field(name: str) -> bool:
    """A field whose one value is a comma-separated list: numbers (true_w, scales) or a file's columns."""
    parse = FIELDS[name].parse
    return isinstance(parse, Numbers) or (isinstance(parse, ColumnChoice) and parse.several)


def _sweepable_names() -> str:
    return ", ".join(FIELDS[name].flag for name in SWEEPABLE)


def split_sweep(
    texts: Mapping[str, str], points: int | None = None, log: bool = False
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """The fixed fields' texts, and the swept fields' values (each a list of texts, in the order given).

    A field is swept when its text has a comma, or is a range A..B (run/sweep_range.py; `points` and
    `log` are the command line's --points and --log), and it is one of SWEEPABLE. Raises ConfigError for
    a comma or a range in any other single-valued field, for an empty value between commas, for a bad
    range and for more than one ranged field."""
    fixed: dict[str, str] = {}
    swept: dict[str, list[str]] = {}
    errors: list[FieldError] = []
    ranged: list[str] = []
    for name, text in texts.items():
        if name not in FIELDS or _is_list_field(name) or not ("," in text or is_range(text)):
            fixed[name] = text
            continue
        if name not in SWEEPABLE:
            extra = " (use --repeats for several seeds)" if name == "seed" else ""
            what = "a range A..B" if is_range(text) else "comma-separated values"
            errors.append(
                FieldError(name, text, f"takes one value; a sweep takes {what} only in {_sweepable_names()}{extra}")
            )
            continue
        if is_range(text):
            ranged.append(name)
            try:
                swept[name] = range_values(text, FIELDS[name].parse, points, log).texts
            except Refused as refused:
                errors.append(FieldError(name, text, refused.reason))
            if len(ranged) == 2:
                errors.append(
                    FieldError(name, text, f"is a second range (after {FIELDS[ranged[0]].label}); a sweep takes one")
                )
            continue
        values = [value.strip() for value in text.split(",")]
        if any(not value for value in values):
            errors.append(
                FieldError(name, text, "has an empty value between commas; write values like 0.01, 0.03, 0.1")
            )
            continue
        swept[name] = values
    if errors:
        raise ConfigError(errors)
    # The form's order, so that the table's columns do not depend on the order the flags were given in.
    return fixed, {name: swept[name] for name in FIELDS if name in swept}


def expand(
    texts: Mapping[str, str], repeats: int = 1, points: int | None = None, log: bool = False, batch: bool = True
) -> list[SweepPoint]:
    """Every combination of the swept values (the first field varying slowest), each `repeats` times with
    seeds seed, seed + 1, ... Every point is validated here, before any run starts: ConfigError lists every
    field and value refused (a refusal that depends on the point names the point). `points` and `log`
    space a range's values (split_sweep). A sweep is at most MAX_POINTS runs, or MAX_BATCHED_POINTS when
    every point can train batched (`batch`: the sweep will batch them)."""
    if not 1 <= repeats <= MAX_REPEATS:
        raise ConfigError([FieldError("repeats", str(repeats), f"is out of range (allowed: 1 to {MAX_REPEATS:,})")])
    fixed, swept = split_sweep(texts, points, log)
    combinations = list(itertools.product(*swept.values()))
    total = len(combinations) * repeats
    name = next(iter(swept), "repeats")

    def too_many(limit: int, more: str = "") -> ConfigError:
        return ConfigError(
            [
                FieldError(
                    name,
                    texts.get(name, str(repeats)),
                    f"makes {total:,} runs; a sweep is at most {limit:,} runs (the product of every swept "
                    f"field's values times the repeats){more}",
                )
            ]
        )

    if total > MAX_BATCHED_POINTS:
        raise too_many(MAX_BATCHED_POINTS)
    base_seed = parse_field("seed", fixed["seed"]) if "seed" in fixed else RunConfig().seed
    points: list[SweepPoint] = []
    errors: list[FieldError] = []
    for values in combinations:
        point_texts = dict(zip(swept, values, strict=True))
        for repeat in range(repeats):
            texts_here = {**fixed, **point_texts}
            if repeats > 1:
                texts_here["seed"] = str(base_seed + repeat)  # type: ignore[operator]
            try:
                config = parse_config(texts_here)
            except ConfigError as exc:
                where = ", ".join(f"{FIELDS[n].short} {v}" for n, v in point_texts.items())
                for error in exc.errors:
                    named = (
                        error
                        if not where or error.field in point_texts
                        else dataclasses.replace(error, reason=f"{error.reason} (in the sweep's point {where})")
                    )
                    if str(named) not in {str(e) for e in errors}:
                        errors.append(named)
                continue
            points.append(SweepPoint(config, point_texts, repeat))
    if errors:
        raise ConfigError(errors)
    if total > MAX_POINTS and (not batch or any(batch_key(point.config) is None for point in points)):
        more = (
            f", or {MAX_BATCHED_POINTS:,} when every point can train batched (impl scratch, schedule constant)"
            if batch
            else f" with --no-batch ({MAX_BATCHED_POINTS:,} batched)"
        )
        raise too_many(MAX_POINTS, more)
    return points


def range_notes(texts: Mapping[str, str], points: int | None = None, log: bool = False) -> list[str]:
    """What a range of a whole-number field did to its points ("batch size: 100 points round to 37
    distinct whole numbers"), to be said where the sweep is asked for. Bad ranges say nothing here
    (split_sweep refuses them)."""
    notes = []
    for name, text in texts.items():
        if name in SWEEPABLE and is_range(text):
            try:
                note = range_values(text, FIELDS[name].parse, points, log).note
            except Refused:
                continue
            if note:
                notes.append(f"{FIELDS[name].label}: {note}")
    return notes


def error_slope(rows: list[SweepRow]) -> float | None:
    """The least-squares slope of log(max |w error|) against log(n) over the finished rows: about −0.5
    when the error falls as 1/√n. None with fewer than two sizes (or no positive errors) to fit."""
    pairs = [
        (math.log(row.point.config.num_examples), math.log(row.max_w_error))
        for row in rows
        if row.status == "finished" and row.max_w_error is not None and 0 < row.max_w_error < math.inf
    ]
    if len({x for x, _ in pairs}) < 2:
        return None
    xs, ys = zip(*pairs, strict=True)
    return statistics.linear_regression(xs, ys).slope
