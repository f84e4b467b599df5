"""A run's command line: the `linreg-tui --headless ...` that trains it again, bit for bit.

Pure Python (no torch). Every field that differs from its default is written with its flag and its
`show` text (which parses back to the same value: floats by repr, all 17 digits where they need
them), and --device, --impl and --seed always, so the command says where and how it ran even when
those are the defaults. A run whose learning rate was changed while it trained adds `--lr-changes`,
which replays the changes at the same steps (control.RunControl's schedule): flags alone could not.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from linreg_tui.run.config import ConfigError, FieldError, RunConfig
from linreg_tui.run.control import check_lr
from linreg_tui.run.data_record import ROWS_FLAG, SHA256_FLAG, DataRecord
from linreg_tui.run.parsing import Refused, Whole, format_number
from linreg_tui.run.sources import defaults_for

PROGRAM = "linreg-tui"
#: Written even when they are the defaults: what ran where, and the one seed everything random comes from.
ALWAYS = ("device", "impl", "seed")
LR_CHANGES_FLAG = "--lr-changes"
LR_CHANGES_ALLOWED = "STEP:LR pairs separated by commas, e.g. 101:0.01,201:0.003 (step a whole number from 1)"

_STEP = Whole(1, 2**63 - 1)


def flag_token(flag: str, text: str) -> list[str]:
    """`--lr 0.1`, but `--w=-3.4, 2`: argparse takes a value that starts with '-' for an option."""
    return [f"{flag}={text}"] if text.startswith("-") else [flag, text]


def command_args(
    config: RunConfig,
    lr_changes: Iterable[tuple[int, float]] = (),
    device: str | None = None,
    record: DataRecord | None = None,
) -> list[str]:
    """The arguments (without the program) that run `config` headless again. `device` replaces the
    configured one (e.g. "auto") with the device the run actually used; `record` is the data file as
    the run read it (its rows and sha256), so that running it again names a file that has changed."""
    args = ["--headless"]
    # The data first (its defaults are the ones the other fields differ from), then the fields that apply.
    defaults = {field.name: field.default for field in config.fields} | defaults_for(config.data)
    for field in config.fields:
        value = getattr(config, field.name)
        if field.name == "device" and device is not None:
            value = device
        if field.name in ALWAYS or value != defaults[field.name]:
            args += flag_token(field.flag, field.show(value))
    changes = format_lr_changes(lr_changes)
    if changes:
        args += [LR_CHANGES_FLAG, changes]
    if record is not None and config.kind == "file":
        args += [ROWS_FLAG, str(record.rows), SHA256_FLAG, record.sha256]
    return args


def command_line(
    config: RunConfig,
    lr_changes: Iterable[tuple[int, float]] = (),
    device: str | None = None,
    record: DataRecord | None = None,
) -> str:
    """The command as one line a POSIX shell reads back to the same arguments (shlex quoting)."""
    return shlex.join([PROGRAM, *command_args(config, lr_changes, device, record)])


def format_lr_changes(lr_changes: Iterable[tuple[int, float]]) -> str:
    return ",".join(f"{step}:{format_number(lr)}" for step, lr in lr_changes)


def parse_lr_changes(text: str) -> tuple[tuple[int, float], ...]:
    """`101:0.01,201:0.003` → ((101, 0.01), (201, 0.003)). Raises ConfigError naming the flag, the text
    and what is allowed; each rate is checked as the learning-rate field checks it."""

    def refuse(reason: str) -> ConfigError:
        return ConfigError([FieldError(LR_CHANGES_FLAG, text, f"{reason}; allowed: {LR_CHANGES_ALLOWED}")])

    changes: list[tuple[int, float]] = []
    for position, part in enumerate(text.split(","), start=1):
        step_text, colon, lr_text = part.partition(":")
        if not colon:
            raise refuse(f"entry {position} ({part.strip()!r}) has no ':'")
        try:
            step = _STEP(step_text)
        except Refused as refused:
            raise refuse(f"entry {position}: step {step_text.strip()!r} {refused.reason}") from None
        try:
            lr = check_lr(lr_text)
        except ConfigError as error:
            raise refuse(f"entry {position}: {error}") from None
        if changes and step <= changes[-1][0]:
            raise refuse(f"entry {position}: step {step} does not come after step {changes[-1][0]}")
        changes.append((step, lr))
    return tuple(changes)
