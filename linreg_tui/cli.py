"""`linreg-tui`: the app, `--headless` training, and `bench`.

Imports only the pure-Python config at first: --help and bad flags answer before torch (seconds to
import) is loaded. The headless path imports the core; the app is imported only when it runs.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence

from linreg_tui.config import FIELDS, ConfigError, RunConfig, parse_config

_NEGATIVE = re.compile(r"^-[\d.]")

EXIT_FINISHED = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_DIVERGED = 3
EXIT_CANCELLED = 130

#: Flag → RunConfig field, from the one table of fields. Values are read as text and parsed by
#: config.parse_config, like the form.
FLAGS: dict[str, str] = {field.flag: name for name, field in FIELDS.items()}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linreg-tui",
        description="Train d2l's linear regression (chapters 3.2 and 3.3) and watch it happen.",
        epilog="Run `linreg-tui bench --help` for the speed benchmark. Without --headless the flags prefill the form.",
    )
    parser.add_argument("--headless", action="store_true", help="train without the UI and print the book's lines")
    parser.add_argument("--json", action="store_true", help="with --headless: print one JSON object instead")
    parser.add_argument("--metrics", metavar="PATH", help="with --headless: append the run to PATH as JSON lines")
    fields = parser.add_argument_group("the run (the same fields as the app's form)")
    for name, field in FIELDS.items():
        # Values stay text: the same parser as the form explains bad ones. '%' is argparse's format sign.
        fields.add_argument(
            field.flag, dest=name, metavar=field.metavar, default=None, help=field.help_text().replace("%", "%%")
        )
    return parser


def attach_flag_values(argv: list[str]) -> list[str]:
    """`--w -3.4,2` as `--w=-3.4,2`: argparse takes a value that starts with '-' (and is not a plain
    negative number) for an option of its own."""
    out: list[str] = []
    for token in argv:
        if out and out[-1] in FLAGS and _NEGATIVE.match(token):
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def config_texts(args: argparse.Namespace) -> dict[str, str]:
    return {name: value for name in FIELDS if (value := getattr(args, name)) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:  # Ctrl+C before training installed its own handler (importing torch, say)
        print("linreg-tui: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:  # `linreg-tui --headless | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _main(argv: list[str]) -> int:
    if argv[:1] == ["bench"]:
        from linreg_tui.bench import main as bench_main

        return bench_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(attach_flag_values(argv))
    try:
        config = parse_config(config_texts(args))
    except ConfigError as exc:
        return refuse(exc)
    if args.headless:
        return run_headless(config, as_json=args.json, metrics=args.metrics)
    if args.json or args.metrics:
        parser.error("--json and --metrics go with --headless")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(
            "linreg-tui: the app needs a terminal; for scripts and pipes use `linreg-tui --headless`.", file=sys.stderr
        )
        return EXIT_INVALID
    from linreg_tui.ui.app import LinregApp

    LinregApp(config).run()
    return EXIT_FINISHED


def refuse(error: ConfigError) -> int:
    print(f"linreg-tui: invalid input: {error}", file=sys.stderr)
    return EXIT_INVALID


def run_headless(config: RunConfig, *, as_json: bool, metrics: str | None) -> int:
    from linreg_tui.report import MetricsWriter, event_lines, result_json
    from linreg_tui.training import SetupCancelled, TrainingEvent, TrainingSetupFailed, preflight, train

    try:
        preflight(config)
        writer = MetricsWriter(metrics) if metrics else None
    except ConfigError as exc:
        return refuse(exc)

    def on_event(event: TrainingEvent) -> None:
        if writer:
            writer(event)
        if not as_json:
            for line in event_lines(event):
                print(line, flush=True)

    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: _cancel_once(cancel, previous))
    try:
        result = train(config, on_event, cancel)
    except TrainingSetupFailed as exc:
        print(f"linreg-tui: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except SetupCancelled as exc:
        print(f"linreg-tui: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGINT, previous)
        if writer:
            writer.close()
    if as_json:
        print(result_json(result))
    return {
        "finished": EXIT_FINISHED,
        "diverged": EXIT_DIVERGED,
        "cancelled": EXIT_CANCELLED,
    }.get(result.status, EXIT_FAILED)


def _cancel_once(cancel: threading.Event, previous: object) -> None:
    """First Ctrl+C: stop after the current chunk and report. A second one interrupts at once."""
    cancel.set()
    signal.signal(signal.SIGINT, previous if callable(previous) else signal.default_int_handler)
