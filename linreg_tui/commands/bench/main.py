"""`linreg-tui bench`: its flags, and the run of every section's cases with the tables printed."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable

import torch

from linreg_tui.commands.bench.cases import SECTION_NAMES, SECTIONS, SUMMARIES
from linreg_tui.commands.bench.harness import FULL_SIZES, QUICK_SIZES, ROUNDS, Options, run_cases
from linreg_tui.commands.bench.report import format_table, machine
from linreg_tui.commands.output import EXIT_READER_GONE, reader_watch
from linreg_tui.run.config import ConfigError, parse_field
from linreg_tui.training.devices import resolve_device


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linreg-tui bench",
        description="Time the engines on this machine against the book's loops (d2l 3.2 and 3.3).",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and short timings (a smoke test)")
    parser.add_argument(
        "--device",
        action="append",
        metavar="D",
        help="cpu | cuda | cuda:N (repeatable; default: the CPU and every CUDA device)",
    )
    parser.add_argument(
        "--budget", type=_positive(float), metavar="S", help="seconds each loop is timed (default 0.5, quick 0.05)"
    )
    parser.add_argument(
        "--rounds",
        type=_positive(int),
        metavar="N",
        help=f"times each line is measured; the table shows the median (default {ROUNDS}, quick 1)",
    )
    parser.add_argument(
        "--section",
        action="append",
        choices=list(SECTION_NAMES),
        help="time only this section (repeatable; default: all: the engines, the app, batched sweeps)",
    )
    return parser


def _positive(kind: type[float] | type[int]) -> Callable[[str], float | int]:
    """An argparse type: a number of `kind` above 0 (argparse names the option in its refusal)."""
    wanted = "a whole number" if kind is int else "a number"

    def read(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}; give {wanted} above 0") from None
        if not value > 0 or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r}: give {wanted} above 0")
        return value

    return read


def options_from(args: argparse.Namespace) -> Options:
    if args.device:
        devices = tuple(dict.fromkeys(str(resolve_device(str(parse_field("device", text)))) for text in args.device))
    else:
        devices = ("cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0)))
    if args.quick:
        return Options(devices, QUICK_SIZES, args.budget or 0.05, 5, 200, 200, rounds=args.rounds or 1)
    return Options(devices, FULL_SIZES, args.budget or 0.5, 20, 20_000, 20_000, rounds=args.rounds or ROUNDS)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        options = options_from(args)
    except ConfigError as exc:
        print(f"linreg-tui bench: {exc}", file=sys.stderr)
        return 2

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def reader_gone() -> None:
        # `linreg-tui bench | head -1`: nobody reads the table any more; stop now, not after every case.
        os._exit(EXIT_READER_GONE)

    started = time.perf_counter()
    with reader_watch(sys.stdout, reader_gone):
        print(f"Machine: {machine()}")
        print(f"Command: `{' '.join(['linreg-tui', 'bench', *argv])}`", flush=True)
        titles = [SECTION_NAMES[name] for name in args.section] if args.section else list(SECTIONS)
        cases = [case for title in titles for case in SECTIONS[title](options)]
        rounds = f", the median of {options.rounds} rounds" if options.rounds > 1 else ""
        progress(f"{len(cases)} cases, loops timed for about {options.budget_s:g} s each{rounds}")
        rows = run_cases(cases, options.rounds, progress)
        for title in titles:
            print(f"\n{title}:\n")
            section = [row for row in rows if row.case.section == title]
            for line in format_table(section):
                print(line)
            if title in SUMMARIES:
                print("", *SUMMARIES[title](section), sep="\n")
        failed = [row for row in rows if row.timing is None]
        if options.rounds > 1:
            print(
                f"\nµs/step: each line's median of {options.rounds} rounds. Speed-up: the median of the rounds' "
                "own ratios (a line and the one it is compared with timed back to back), the lowest and highest "
                "in brackets."
            )
        print(f"\nAll lines measured in this one run ({time.perf_counter() - started:.0f} s).", flush=True)
    if failed:
        progress(f"linreg-tui bench: {len(failed)} of {len(rows)} lines could not be timed (see the table)")
    return 1 if failed else 0
