"""What every command shares: the exit codes, a flag per field of the one table, reading a run's texts
(preset, then config file, then flags), the one-line refusal, and Ctrl+C or SIGTERM as a stop."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading

from linreg_tui.run.config import FIELDS
from linreg_tui.run.config_file import read_config
from linreg_tui.run.data_record import DataRecord
from linreg_tui.run.presets import apply_preset

_NEGATIVE = re.compile(r"^-[\d.]")

EXIT_FINISHED = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_DIVERGED = 3
EXIT_CANCELLED = 130

#: Flag → RunConfig field, from the one table of fields. Values are read as text and parsed by
#: config.parse_config, like the form.
FLAGS: dict[str, str] = {field.flag: name for name, field in FIELDS.items()}


def add_field_flags(parser: argparse.ArgumentParser, title: str) -> None:
    """A flag per field of the one table, in a group titled `title`."""
    fields = parser.add_argument_group(title)
    for name, field in FIELDS.items():
        # Values stay text: the same parser as the form explains bad ones. '%' is argparse's format sign.
        fields.add_argument(
            field.flag, dest=name, metavar=field.metavar, default=None, help=field.help_text().replace("%", "%%")
        )


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


def run_texts(args: argparse.Namespace) -> dict[str, str]:
    """The field texts of a run (or a sweep): the preset, the config file over it, the flags over both, so
    that `--config base.toml --lr 0.1` is base.toml at lr 0.1. Raises ConfigError or ConfigFileError."""
    return run_texts_and_record(args)[0]


def run_texts_and_record(args: argparse.Namespace) -> tuple[dict[str, str], DataRecord | None]:
    """run_texts, and the data file's record the config file was saved with (None without one): the
    file read once for both."""
    file_texts, record = read_config(args.config) if args.config else ({}, None)
    texts = {**(apply_preset(args.preset) if args.preset else {}), **file_texts, **config_texts(args)}
    return texts, record


def refuse(error: ValueError) -> int:
    print(f"linreg-tui: invalid input: {error}", file=sys.stderr)
    return EXIT_INVALID


class Interrupted(KeyboardInterrupt):
    """A second SIGINT or SIGTERM: stop at once (main exits with 128 + the signal's number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class SignalStop:
    """Ctrl+C (SIGINT) and SIGTERM (what a batch scheduler sends before it kills a job) end a headless
    run alike: the first stops it after the current chunk of steps and the partial report is written,
    the exit code then 128 + the signal's number (130, 143); a second stops at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)
    MESSAGE = b"linreg-tui: stopping after the current steps to write the report (again to stop at once)\n"

    def __init__(self, cancel: threading.Event) -> None:
        self.cancel = cancel
        self.signum: int | None = None
        self.previous: dict[int, object] = {}

    def __enter__(self) -> SignalStop:
        for signum in self.SIGNALS:
            self.previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def _handle(self, signum: int, frame: object) -> None:
        if self.signum is not None:
            raise Interrupted(signum)
        self.signum = signum
        self.cancel.set()
        # os.write, not print: a handler can run in the middle of another write to the same stream.
        os.write(sys.__stderr__.fileno() if sys.__stderr__ else 2, self.MESSAGE)
