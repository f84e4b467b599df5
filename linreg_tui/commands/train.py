"""`linreg-tui [flags]`: the app with its form filled in, or with `--headless` one run, printed as the
book prints it (or as JSON, or appended to a metrics file).

Imports only the pure-Python config at first: --help and bad flags answer before torch (seconds to
import) is loaded. The headless path imports the core; the app is imported only when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from linreg_tui.commands.common import (
    EXIT_DIVERGED,
    EXIT_FAILED,
    EXIT_FINISHED,
    EXIT_INVALID,
    SignalStop,
    add_field_flags,
    attach_flag_values,
    refuse,
    run_texts_and_record,
)
from linreg_tui.commands.output import EXIT_READER_GONE
from linreg_tui.run.command import LR_CHANGES_ALLOWED, LR_CHANGES_FLAG, parse_lr_changes
from linreg_tui.run.config import ConfigError, FieldError, RunConfig
from linreg_tui.run.config_file import ConfigFileError, check_save_target, save_config
from linreg_tui.run.data_record import ROWS_FLAG, SHA256_FLAG, RecordRefused, data_change, parse_record
from linreg_tui.run.optimizers import why_not
from linreg_tui.run.sweep import expand, split_sweep


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linreg-tui",
        description="Train d2l's linear regression (chapters 3.2 and 3.3) and watch it happen.",
        epilog="`linreg-tui presets` lists the book's experiments, `linreg-tui sweep --help` runs many at once. "
        "Run `linreg-tui bench --help` for the speed benchmark, `linreg-tui serve --help` for the app in a "
        "web browser. Without --headless the flags prefill the form.",
    )
    parser.add_argument("--headless", action="store_true", help="train without the UI and print the book's lines")
    parser.add_argument(
        "--preset",
        metavar="NAME",
        help="start from one of the book's experiments (`linreg-tui presets` lists them); flags given with it "
        "override its values",
    )
    parser.add_argument("--json", action="store_true", help="with --headless: print one JSON object instead")
    parser.add_argument(
        "--metrics",
        metavar="PATH",
        help="with --headless: append the run to PATH: CSV when it ends in .csv (a row per step and per epoch), "
        "JSON lines otherwise",
    )
    parser.add_argument(
        "--config",
        metavar="FILE.toml",
        help="read the run's fields from a TOML file (keys: the JSON names, e.g. true_w, lr, batch_size); "
        "flags given as well override it",
    )
    parser.add_argument(
        "--save-config", metavar="FILE.toml", help="with --headless: write the run's configuration as TOML"
    )
    parser.add_argument("--force", action="store_true", help="with --save-config: overwrite an existing file")
    parser.add_argument(
        LR_CHANGES_FLAG,
        metavar="STEP:LR,...",
        help=f"with --headless: change the learning rate from these steps on, as a recorded run did; "
        f"allowed: {LR_CHANGES_ALLOWED}",
    )
    parser.add_argument(
        ROWS_FLAG,
        metavar="N",
        help="with --headless and a data file: the rows the file had when the run was recorded (a reproduce "
        "command gives it, with --data-sha256); a file that has changed since is named as changed",
    )
    parser.add_argument(
        SHA256_FLAG, metavar="HEX", help=f"with {ROWS_FLAG}: the sha256 of the file's bytes when the run was recorded"
    )
    add_field_flags(parser, "the run (the same fields as the app's form)")
    return parser


def run(argv: list[str]) -> int:
    """`linreg-tui [flags]`: the app with the form filled in, or with --headless one run printed."""
    parser = build_parser()
    args = parser.parse_args(attach_flag_values(argv))
    try:
        flags_record = parse_record(args.data_rows, args.data_sha256, (ROWS_FLAG, SHA256_FLAG))
        texts, saved_record = run_texts_and_record(args)
        record = flags_record or saved_record  # the flags win, as every flag wins over the file
        if args.headless:
            refuse_a_sweep(texts, args.preset)
        # The app's form holds a sweep too (a preset's, or comma-separated values): each point is
        # checked here, so that a bad one is refused in one line before the app starts.
        config = expand(texts)[0].config
        swept = {name: texts[name] for name in split_sweep(texts)[1]}
        lr_changes = parse_lr_changes(args.lr_changes) if args.lr_changes is not None else ()
        if lr_changes and not config.applies("lr"):  # adadelta: no learning rate to change
            reason = why_not("lr", config.optimizer, config.schedule)
            raise ConfigError([FieldError(LR_CHANGES_FLAG, args.lr_changes, reason)])
    except (ConfigError, ConfigFileError, RecordRefused) as exc:
        return refuse(exc)
    if args.headless:
        if args.save_config:
            try:
                check_save_target(args.save_config, force=args.force)
            except ConfigFileError as exc:
                return refuse(exc)
        if change := data_change(config, record):
            print(f"linreg-tui: note: {change}", file=sys.stderr)
        save_to = ConfigSave(args.save_config, config, args.force) if args.save_config else None
        return run_headless(
            config, as_json=args.json, metrics=args.metrics, lr_changes=lr_changes, preset=args.preset, save_to=save_to
        )
    recorded = args.data_rows is not None or args.data_sha256 is not None
    if args.json or args.metrics or args.save_config or args.force or args.lr_changes is not None or recorded:
        parser.error(
            f"--json, --metrics, --save-config, --force, --lr-changes, {ROWS_FLAG} and {SHA256_FLAG} go with --headless"
        )
    # Textual reads keys from stdin and draws on stderr (its Linux driver writes to sys.__stderr__):
    # with `2>err.log` the whole UI would go into the file and leave the terminal blank. Under
    # textual-serve (the app in a browser) TEXTUAL_DRIVER names a driver that talks over pipes, so no
    # terminal is needed there and nothing is refused.
    streams = {"stdin": sys.__stdin__, "stdout": sys.__stdout__, "stderr": sys.__stderr__}
    not_terminals = [name for name, stream in streams.items() if stream is None or not stream.isatty()]
    if not_terminals and not os.environ.get("TEXTUAL_DRIVER"):
        verb = "is" if len(not_terminals) == 1 else "are"
        where = sys.stdout if sys.stdout.isatty() and not sys.stderr.isatty() else sys.stderr
        print(
            f"linreg-tui: the app needs a terminal, and {' and '.join(not_terminals)} {verb} not one; "
            "for scripts and pipes use `linreg-tui --headless`.",
            file=where,
        )
        return EXIT_INVALID
    from linreg_tui.ui.app import LinregApp

    app = LinregApp(config, args.preset, swept)
    app.run()
    return app.return_code or EXIT_FINISHED  # 128 + the signal when SIGTERM or SIGHUP closed it


def refuse_a_sweep(texts: dict[str, str], preset: str | None) -> None:
    """Comma-separated values (a sweep) in a headless run are `linreg-tui sweep`'s: one line saying so,
    not a parse error. (The app takes them: its form holds a sweep.)"""
    _, swept = split_sweep(texts)
    if swept:
        name, values = next(iter(swept.items()))
        command = f"linreg-tui sweep --preset {preset}" if preset else "linreg-tui sweep"
        reason = f"is a sweep of {len(values)} values; run it with `{command}`, or in the app (without --headless)"
        raise ConfigError([FieldError(name, texts[name], reason)])


@dataclass
class ConfigSave:
    """--save-config: written when the run starts (its data read and accepted), so that a run refused
    before then (a file's constant column to standardize, a file too large) writes nothing."""

    path: str
    config: RunConfig
    force: bool
    problem: str | None = None

    def write(self, on_failure: Callable[[], None]) -> None:
        try:
            replaced = save_config(self.path, self.config, force=self.force)
        except ConfigFileError as exc:
            self.problem = str(exc)
            on_failure()
            return
        saved = "overwrote" if replaced else "saved the configuration to"
        print(f"linreg-tui: {saved} {self.path}", file=sys.stderr)


def run_headless(
    config: RunConfig,
    *,
    as_json: bool,
    metrics: str | None,
    lr_changes: tuple[tuple[int, float], ...] = (),
    preset: str | None = None,
    save_to: ConfigSave | None = None,
) -> int:
    cancel = threading.Event()
    with SignalStop(cancel) as signals:  # first: a SIGTERM while torch loads is already a stop
        from linreg_tui.commands.output import LineOutput, reader_watch
        from linreg_tui.run.control import RunControl
        from linreg_tui.run.events import RunEnded, RunStarted, TrainingEvent
        from linreg_tui.run.report import (
            MetricsRefused,
            book_lines,
            event_lines,
            new_run_id,
            open_metrics,
            reproduce_line,
            result_json,
        )
        from linreg_tui.training.loop import SetupCancelled, TrainingSetupFailed, preflight, train

        run_id = new_run_id()
        try:
            preflight(config)
            writer = open_metrics(metrics, run_id) if metrics else None
        except (ConfigError, MetricsRefused) as exc:
            return refuse(exc)
        # A write error or a reader that left stops the run (raising inside the loop's callback would
        # end it as "failed"); what went wrong is said once training has stopped.
        out = LineOutput(sys.stdout, "the standard output", on_failure=cancel.set)

        def on_event(event: TrainingEvent) -> None:
            if save_to is not None and isinstance(event, RunStarted):
                save_to.write(on_failure=cancel.set)  # the data is read: the run will not be refused now
            if writer:
                writer(event)
                if writer.error:
                    cancel.set()
            if not as_json:
                out.write(event_lines(event))
                if isinstance(event, RunEnded):
                    out.write([*book_lines(preset, event.result), reproduce_line(event.result)])

        setup_cancelled = ""
        try:
            with reader_watch(sys.stdout, out.lost_reader):
                # A recorded run's live learning-rate changes, replayed at the same steps.
                control = RunControl(lr_changes=lr_changes, lr_applies=config.applies("lr")) if lr_changes else None
                result = train(config, on_event, cancel, control)
                if as_json:
                    out.write([result_json(result, run_id)])
        except TrainingSetupFailed as exc:
            print(f"linreg-tui: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except ConfigError as exc:  # found once the data is read: a file's bad cell, too few rows
            if writer:
                writer.discard()  # nothing trained, so nothing written
            return refuse(exc)
        except SetupCancelled as exc:
            setup_cancelled = str(exc)
        finally:
            if writer:
                writer.close()
    saved = save_to.problem if save_to is not None else None
    problems = [line for line in (out.error_line(), writer.error_line() if writer else None, saved) if line]
    stopped_by_it = bool(setup_cancelled) or result.status == "cancelled"
    for problem in problems:
        print(f"linreg-tui: {problem}{'; the run was stopped' if stopped_by_it else ''}", file=sys.stderr)
    if out.lost_output:
        return EXIT_READER_GONE
    if problems:
        return EXIT_FAILED
    if setup_cancelled:
        print(f"linreg-tui: {setup_cancelled}", file=sys.stderr)
        return signals.exit_code
    if result.status == "cancelled":
        return signals.exit_code
    return {"finished": EXIT_FINISHED, "diverged": EXIT_DIVERGED}.get(result.status, EXIT_FAILED)
