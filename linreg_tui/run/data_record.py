"""What a data file was when a run was recorded: its rows and the sha256 of its bytes.

A reproduce command (`--data-rows N --data-sha256 HEX`) and a saved TOML config (`data_rows`,
`data_sha256`) carry them for a file's run, so that running it again on a file that has changed since
says so instead of quietly training on other numbers. Pure Python: hashlib reads the file, once per
version of it (its modification time and size).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass

from linreg_tui.run.config import RunConfig
from linreg_tui.run.sources import file_rows
from linreg_tui.run.table_errors import TableError

ROWS_FLAG, SHA256_FLAG = "--data-rows", "--data-sha256"
ROWS_KEY, SHA256_KEY = "data_rows", "data_sha256"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DataRecord:
    rows: int
    sha256: str


def file_record(path: str, header: str = "auto") -> DataRecord:
    """The file's rows (as its run counts them) and its sha256. Raises OSError or TableError."""
    stat = os.stat(path)
    return DataRecord(file_rows(path, header), _digest(path, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=32)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


class RecordRefused(ValueError):
    """A recorded rows or sha256 that is not one: one line naming it, never its value (it may come from
    a file that is not a config at all)."""


def parse_record(rows: object, sha256: object, where: tuple[str, str]) -> DataRecord | None:
    """The recorded rows and sha256 (both, or neither: None); `where` names them (flags or TOML keys).
    Raises RecordRefused naming the one that is refused."""
    if rows is None and sha256 is None:
        return None
    if rows is None or sha256 is None:
        given, missing = (where[0], where[1]) if rows is not None else (where[1], where[0])
        raise RecordRefused(f"{given} needs {missing} with it (a file's reproduce command gives both)")
    text = str(rows) if isinstance(rows, int | str) and not isinstance(rows, bool) else ""
    if not text.strip().isdigit() or int(text) < 1:
        raise RecordRefused(f"{where[0]} is not a whole number of rows; allowed: 1 or more")
    digest = sha256.strip().lower() if isinstance(sha256, str) else ""
    if not _HEX64.fullmatch(digest):
        raise RecordRefused(f"{where[1]} is not a sha256; allowed: 64 hexadecimal digits")
    return DataRecord(int(text), digest)


def record_change(path: str, recorded: DataRecord, now: DataRecord) -> str | None:
    """One line naming a file that is not what the run was recorded with; None when it is the same."""
    if now == recorded:
        return None
    name = os.path.basename(path) or path
    rows = f"{recorded.rows:,} rows" + ("" if now.rows == recorded.rows else f" (now {now.rows:,})")
    return (
        f"data file {name} has changed since the run was recorded: it had {rows} and sha256 "
        f"{recorded.sha256[:12]}…, it has sha256 {now.sha256[:12]}… now; the run trains on it as it is now, "
        "so its numbers can differ from the recorded ones"
    )


def data_change(config: RunConfig, record: DataRecord | None) -> str | None:
    """The line naming a file's run's data file as changed since `record`; None when it is the same, when
    there is no record, or when the data is not a file (a file that cannot be read: the run says why)."""
    if record is None or config.kind != "file":
        return None
    try:
        now = file_record(config.data, config.header)
    except (OSError, TableError):
        return None
    return record_change(config.data, record, now)
