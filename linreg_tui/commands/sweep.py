"""`linreg-tui sweep`: runs batched where they can share a tensor program, the others one after another,
as a table, JSON or CSV.

Dispatched by commands/main.py. Everything is checked before anything trains: every point of the
sweep is parsed and validated (exit 2, one line naming the field and the value), and the device and
memory of each (and of each batched program) are checked. Ctrl+C (or SIGTERM) stops after the current
run or program with the table so far (exit 130, 143); a second stops at once.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import threading
from collections.abc import Sequence

from linreg_tui.commands.common import (
    EXIT_FAILED,
    EXIT_FINISHED,
    add_field_flags,
    attach_flag_values,
    refuse,
    run_texts,
)
from linreg_tui.commands.output import EXIT_READER_GONE, LineOutput, reader_watch
from linreg_tui.commands.train import SignalStop
from linreg_tui.run.batching import group_points
from linreg_tui.run.config import FIELDS, ConfigError, FieldError
from linreg_tui.run.config_file import ConfigFileError
from linreg_tui.run.lr_curve import lr_curve
from linreg_tui.run.parsing import Refused, Whole
from linreg_tui.run.presets import PRESETS
from linreg_tui.run.sweep import MAX_REPEATS, SWEEPABLE, SweepPoint, SweepRow, error_slope, expand, range_notes
from linreg_tui.run.sweep_range import DEFAULT_RANGE_POINTS, MAX_RANGE_POINTS, is_range
from linreg_tui.training.sweep import run_sweep

#: The table's columns after the swept fields: (header, width).
RESULT_COLUMNS = (
    ("status", 9),
    ("train loss", 10),
    ("val loss", 10),
    ("max|w err|", 10),
    ("|b err|", 10),
)
CSV_COLUMNS = (
    "seed",
    "status",
    "final_loss",
    "final_val_loss",
    "max_w_error",
    "b_error",
    "steps",
    "seconds",
    "batched",
)
#: Marks a batched row's time in the table: its program's time divided by its points.
BATCHED_MARK = "*"


class _SweepSignalStop(SignalStop):
    MESSAGE = b"linreg-tui: stopping after the current run to print the table so far (again to stop at once)\n"
    #: Once the runs are over, a second signal has nothing left to cut short: the table's end and the
    #: summary line are written whatever arrives (a Ctrl+C pressed twice as the last run ends).
    runs_over = False

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None and self.runs_over:
            return
        super()._handle(signum, frame)


def build_sweep_parser() -> argparse.ArgumentParser:
    sweepable = ", ".join(FIELDS[name].flag for name in SWEEPABLE)
    parser = argparse.ArgumentParser(
        prog="linreg-tui sweep",
        description=f"Train every combination of comma-separated values of {sweepable} (the other fields "
        "fixed), one run after another, and print a table: the swept values, status, final training and "
        "validation loss, max |w error|, |b error|, steps and time.",
        epilog="Example: linreg-tui sweep --lr 0.01,0.03,0.1 --batch-size 10,100 --repeats 3. "
        "Ctrl+C stops after the current run with the table so far (exit 130); again to stop at once.",
    )
    parser.add_argument(
        "--preset", metavar="NAME", help=f"start from a preset ({', '.join(PRESETS)}); flags override it"
    )
    parser.add_argument("--config", metavar="FILE.toml", help="read the fields from a TOML file; flags override it")
    parser.add_argument(
        "--repeats",
        metavar="K",
        default="1",
        help=f"train each point K times, with seeds seed, seed+1, ... (1 to {MAX_REPEATS:,})",
    )
    parser.add_argument(
        "--points",
        metavar="K",
        help=f"the points of a range A..B in one sweepable field (2 to {MAX_RANGE_POINTS:,}; "
        f"default {DEFAULT_RANGE_POINTS}), e.g. --lr 1e-4..10 --points 100 --log",
    )
    parser.add_argument("--log", action="store_true", help="space a range's points geometrically (both ends positive)")
    parser.add_argument(
        "--no-batch",
        action="store_true",
        help="train every point on its own, one after another (by default, points that differ only in lr, wd, "
        "init std, the optimizer's constants and the seed train as one tensor program)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument(
        "--json",
        action="store_true",
        help='print {"runs": [...]}: each run the object --headless --json prints, with its swept values',
    )
    output.add_argument("--csv", action="store_true", help="print the table as CSV (one header, a row per run)")
    add_field_flags(parser, "the runs (comma-separated values in the sweepable fields)")
    return parser


def parse_repeats(text: str) -> int:
    try:
        return Whole(1, MAX_REPEATS)(text)
    except Refused as refused:
        raise ConfigError([FieldError("repeats", text, refused.reason)]) from None


def parse_range_flags(args: argparse.Namespace, texts: dict[str, str]) -> int | None:
    """--points as a number; --points or --log without a range in any field is refused (it would be ignored)."""
    if (args.points is not None or args.log) and not any(is_range(texts.get(name, "")) for name in SWEEPABLE):
        flag = "--points" if args.points is not None else "--log"
        given = args.points if args.points is not None else "--log"
        reason = f"goes with a range A..B in one of {', '.join(FIELDS[name].flag for name in SWEEPABLE)}"
        raise ConfigError([FieldError(flag.lstrip("-"), given, reason)])
    if args.points is None:
        return None
    try:
        return Whole(2, MAX_RANGE_POINTS)(args.points)
    except Refused as refused:
        raise ConfigError([FieldError("points", args.points, refused.reason)]) from None


def main(argv: Sequence[str]) -> int:
    args = build_sweep_parser().parse_args(attach_flag_values(list(argv)))
    try:
        texts = run_texts(args)
        count = parse_range_flags(args, texts)
        points = expand(texts, repeats=parse_repeats(args.repeats), points=count, log=args.log, batch=not args.no_batch)
    except (ConfigError, ConfigFileError) as exc:
        return refuse(exc)
    for note in range_notes(texts, count, args.log):
        print(f"note: {note}", file=sys.stderr)
    cancel = threading.Event()  # the sweep: stop after the current run
    run_cancel = threading.Event()  # the current run: stop now (the reader left, the output failed)
    with _SweepSignalStop(cancel) as signals:
        from linreg_tui.training.batched import preflight_group
        from linreg_tui.training.loop import preflight

        try:
            for point in points:
                preflight(point.config)
            for program in group_points(points, batch=not args.no_batch):
                if len(program) > 1:  # as one program: K times one run's parameters, and each seed's data
                    preflight_group(program)
        except ConfigError as exc:
            return refuse(exc)

        def stop() -> None:
            cancel.set()
            run_cancel.set()

        out = LineOutput(sys.stdout, "the standard output", on_failure=stop)
        writer = _writer(args, points, out)
        rows: list[SweepRow] = []

        def on_row(row: SweepRow) -> None:
            rows.append(row)
            writer.row(row)

        try:
            with reader_watch(sys.stdout, out.lost_reader):
                run_sweep(points, cancel=cancel, on_row=on_row, run_cancel=run_cancel, batch=not args.no_batch)
        except KeyboardInterrupt:  # a second Ctrl+C: at once, with the rows that ended
            pass
        finally:
            signals.runs_over = True
        writer.end(rows)
    if out.lost_output:
        return EXIT_READER_GONE
    if (problem := out.error_line()) is not None:
        print(f"linreg-tui: {problem}", file=sys.stderr)
        return EXIT_FAILED
    if signals.signum is not None:
        print(f"linreg-tui: the sweep stopped after {len(rows):,} of {len(points):,} runs", file=sys.stderr)
        return signals.exit_code
    return EXIT_FINISHED


def _writer(args: argparse.Namespace, points: list[SweepPoint], out: LineOutput) -> _Writer:
    if args.json:
        return _JsonWriter(points, out)
    if args.csv:
        return _CsvWriter(points, out)
    return _TableWriter(points, out)


class _Writer:
    """Writes the sweep as its rows come (the table and CSV at once, JSON at the end)."""

    def __init__(self, points: list[SweepPoint], out: LineOutput) -> None:
        self.points = points
        self.out = out
        self.swept = list(points[0].swept) if points else []
        self.repeats = max(point.repeat for point in points) + 1 if points else 1

    def row(self, row: SweepRow) -> None:
        pass

    def end(self, rows: list[SweepRow]) -> None:
        pass


class _TableWriter(_Writer):
    def __init__(self, points: list[SweepPoint], out: LineOutput) -> None:
        super().__init__(points, out)
        # Widths known before the first run, so each row is printed aligned as its run ends.
        self.columns: list[tuple[str, int]] = [
            (FIELDS[name].short, max(len(FIELDS[name].short), *(len(p.swept[name]) for p in points)))
            for name in self.swept
        ]
        if self.repeats > 1:
            self.columns.append(("seed", max(4, *(len(str(p.config.seed)) for p in points))))
        self.columns += RESULT_COLUMNS
        self.columns.append(("steps", max(5, *(len(f"{p.config.total_steps:,}") for p in points))))
        self.columns.append(("time (s)", 8))
        first = points[0].config
        swept = " × ".join(FIELDS[name].short for name in self.swept) or "no field"
        seeds = f"{self.repeats} seeds" if self.repeats > 1 else f"seed {first.seed}"
        out.write(
            [
                f"sweep: {len(points):,} run{'s' if len(points) != 1 else ''} over {swept} · {seeds} · "
                f"{first.impl} · {first.device}",
                self._line([header for header, _ in self.columns]),
            ]
        )

    def _line(self, cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if header == "status" else cell.rjust(width)
            for cell, (header, width) in zip(cells, self.columns, strict=True)
        ).rstrip()

    def row(self, row: SweepRow) -> None:
        point = row.point
        cells = [point.swept[name] for name in self.swept]
        if self.repeats > 1:
            cells.append(str(point.config.seed))
        cells += [row.status, *(_short(v) for v in (row.final_loss, row.final_val_loss, row.max_w_error, row.b_error))]
        seconds = f"{row.seconds:.2g}{BATCHED_MARK}" if row.batched > 1 else f"{row.seconds:.2f}"
        cells += [f"{row.steps:,}", seconds]
        self.out.write([self._line(cells)])

    def end(self, rows: list[SweepRow]) -> None:
        lines = [
            f"  {row.status} ({_describe_point(row.point)}): {row.message}" for row in rows if row.status == "failed"
        ]
        if "num_examples" in self.swept and (slope := error_slope(rows)) is not None:
            lines.append(slope_sentence(slope, rows))
        if self.swept == ["lr"] and rows:
            lines.append(lr_curve(rows).sentence())
        if batched := [row for row in rows if row.batched > 1]:
            lines.append(batched_sentence(batched))
        self.out.write(lines)


def batched_sentence(rows: list[SweepRow]) -> str:
    programs = sum(1 / row.batched for row in rows)
    return (
        f"{BATCHED_MARK} ran batched: {len(rows):,} runs as {round(programs):,} tensor program"
        f"{'s' if round(programs) != 1 else ''} (each column takes its own run's steps); a batched run's time is "
        "its program's divided by its runs (--no-batch runs each on its own)"
    )


def slope_sentence(slope: float, rows: list[SweepRow]) -> str:
    fitted = sum(1 for row in rows if row.status == "finished")
    return (
        f"error against n: log max|w error| falls with log n at a slope of {slope:.2f} (least squares over "
        f"{fitted:,} finished runs); the least-squares estimate's error falls as σ/√n, a slope of −0.5"
    )


class _CsvWriter(_Writer):
    def __init__(self, points: list[SweepPoint], out: LineOutput) -> None:
        super().__init__(points, out)
        self._write([*self.swept, *CSV_COLUMNS])

    def _write(self, cells: Sequence[object]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(cells)
        self.out.write([buffer.getvalue().rstrip("\n")])

    def row(self, row: SweepRow) -> None:
        values = (row.final_loss, row.final_val_loss, row.max_w_error, row.b_error)
        self._write(
            [
                *(row.point.swept[name] for name in self.swept),
                row.point.config.seed,
                row.status,
                *("" if value is None else repr(value) for value in values),
                row.steps,
                repr(row.seconds),
                row.batched,
            ]
        )


class _JsonWriter(_Writer):
    def end(self, rows: list[SweepRow]) -> None:
        from linreg_tui.run.report import new_run_id, result_record

        runs: list[dict[str, object]] = []
        for row in rows:
            where = {"swept": row.point.swept, "repeat": row.point.repeat}
            if row.result is None:
                record = {"status": row.status, "message": row.message, "config": row.point.config.as_dict()}
                runs.append({**record, **where})
            else:
                runs.append({"run_id": new_run_id(), **result_record(row.result), **where, "batched": row.batched})
        document: dict[str, object] = {"runs": runs}
        if "num_examples" in self.swept:
            document["error_slope"] = error_slope(rows)
        if self.swept == ["lr"] and rows:
            curve = lr_curve(rows)
            document["lr_curve"] = {
                "best_lr": None if curve.best is None else curve.best.lr,
                "best_loss": None if curve.best is None else curve.best.median,
                "turns_up_lr": curve.turns_up,
                "diverges_lr": curve.diverges,
                "max_stable_lr": curve.bound,
                "momentum_max_stable_lr": curve.momentum_bound,
            }
        self.out.write([json.dumps(document, indent=2)])


def _short(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _describe_point(point: SweepPoint) -> str:
    return ", ".join([*(f"{FIELDS[n].short} {v}" for n, v in point.swept.items()), f"seed {point.config.seed}"])
