"""A run's configuration as a TOML file: `--config FILE.toml` reads one, `--save-config` writes one.

Pure Python. The file is data only: tomllib parses it, nothing in it is evaluated. Every key is a field
of the one table (config.FIELDS) by its JSON name; each TOML value is turned into text the way the
field writes it (numbers by repr, arrays as comma-separated numbers) and read by the field's own
parser, so a bad value is refused with the same reason as on the command line or in the form.
Writing: a flat `key = value` file (tomllib cannot write, and this needs no dependency), written to a
temporary file in the same directory and renamed over the target, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import tomllib
from pathlib import Path

from linreg_tui.run.config import FIELDS, RunConfig
from linreg_tui.run.data_record import (
    ROWS_KEY,
    SHA256_KEY,
    DataRecord,
    RecordRefused,
    file_record,
    parse_record,
)
from linreg_tui.run.parsing import Refused, format_number
from linreg_tui.run.table_errors import TableError


class ConfigFileError(ValueError):
    """A config file that cannot be read, or a key or value in it that is refused: one line."""


def _value_text(value: object) -> str | None:
    """The text a field's parser reads for a TOML value; None for a value no field can hold."""
    if isinstance(value, bool):  # before int: a bool is an int in Python
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return ", ".join(_value_text(v) or "" for v in value)
    return None


def read_config_file(path: str, *, shown_as: str | None = None) -> dict[str, str]:
    """The field texts of a TOML file (read_config, without the data record)."""
    return read_config(path, shown_as=shown_as)[0]


def read_config(path: str, *, shown_as: str | None = None) -> tuple[dict[str, str], DataRecord | None]:
    """The field texts of a TOML file, each already checked by its field's parser, and the data file's
    record (`data_rows`, `data_sha256`: what a file's run was saved with) when it has one.

    Raises ConfigFileError naming the file (as `shown_as`, when given), the key and what is allowed.
    A message never shows a value read from the file: the file may be something else than a config
    (a secret named by mistake, or by a visitor in a browser), and an error must not print it.
    """
    name = path if shown_as is None else shown_as
    try:
        with open(path, "rb") as file:
            table = tomllib.load(file)
    except OSError as exc:
        raise ConfigFileError(f"--config: {name!r} cannot be read ({exc.strerror or type(exc).__name__})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # tomllib's messages name a line and column, never the text there.
        where = exc if isinstance(exc, tomllib.TOMLDecodeError) else "not UTF-8 text"
        raise ConfigFileError(f"{name}: not valid TOML ({where})") from None
    try:
        record = parse_record(table.pop(ROWS_KEY, None), table.pop(SHA256_KEY, None), (ROWS_KEY, SHA256_KEY))
    except RecordRefused as error:
        raise ConfigFileError(f"{name}: {error}") from None
    texts: dict[str, str] = {}
    for key, value in table.items():
        if key not in FIELDS:
            raise ConfigFileError(f"{name}: unknown key {_key_shown(key)}; allowed keys: {', '.join(FIELDS)}")
        field = FIELDS[key]
        text = _value_text(value)
        if text is None:
            raise ConfigFileError(
                f"{name}: {key} is not a number, a string or an array of numbers; allowed: {field.parse.allowed}"
            )
        try:
            field.parse(text)
        except Refused as refused:
            raise ConfigFileError(f"{name}: {key} ({field.label}) {refused.blind_reason}") from None
        texts[key] = text
    return texts, record


def _key_shown(key: str) -> str:
    """An unknown key, quoted and cut short: it names where the problem is, and no more of the file."""
    return repr(key) if len(key) <= 40 else repr(key[:37]) + "..."


def _toml_value(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, float):
        return repr(value)  # TOML's float syntax: '2.0', '-3.4', '1e+16', all 17 digits where needed
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string (same escapes)


def config_toml(config: RunConfig) -> str:
    """Every field as `name = value`, in the table's order: reads back (read_config_file) to `config`.
    A file's run adds the file's rows and sha256 as they are now (read_config gives them back)."""
    lines = ["# linreg-tui run configuration: linreg-tui --config FILE.toml (flags given as well win)"]
    lines += [f"{field.name} = {_toml_value(getattr(config, field.name))}" for field in config.fields]
    if config.kind == "file":
        with contextlib.suppress(OSError, TableError):  # a file that cannot be read has no record to keep
            record = file_record(config.data, config.header)
            lines += [
                "# the data file as it was saved with (a run on a changed file says so)",
                f"{ROWS_KEY} = {record.rows}",
                f"{SHA256_KEY} = {json.dumps(record.sha256)}",
            ]
    return "\n".join(lines) + "\n"


def check_save_target(path: str, *, force: bool = False) -> None:
    """Before a run: whether `save_config` may write `path` (it writes once the run's data is read, so
    that a run refused then leaves nothing). Raises ConfigFileError."""
    target = Path(path)
    if target.is_dir():
        raise ConfigFileError(f"--save-config: {path} is a directory; give a file name")
    if target.exists() and not force:
        raise ConfigFileError(f"--save-config: {path} exists; give another name, or --force to overwrite it")
    if not target.parent.is_dir():
        raise ConfigFileError(f"--save-config: {path} cannot be written (no directory {target.parent})")


def save_config(path: str, config: RunConfig, *, force: bool = False) -> bool:
    """Write `config` to `path` atomically; True when it replaced a file that was there.

    Refuses (ConfigFileError) to replace an existing file unless `force`.
    """
    target = Path(path)
    existed = target.exists()
    check_save_target(path, force=force)
    try:
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ConfigFileError(
            f"--save-config: {path} cannot be written ({exc.strerror or type(exc).__name__})"
        ) from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(config_toml(config))
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a config file is for sharing
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise ConfigFileError(
            f"--save-config: {path} cannot be written ({exc.strerror or type(exc).__name__})"
        ) from None
    return existed
