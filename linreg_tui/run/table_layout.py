"""How a CSV or TSV file is laid out, from its first lines only: its delimiter, whether its first row
names the columns, and which columns are the target and the features. Plain Python (csv, no numpy): the
form, `--help`'s checks and the memory estimate know a file's columns before its numbers are read, and
training/tables.py reads the numbers with numpy by the same layout.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from linreg_tui.run.table_errors import (
    NAME_CHARS,
    TableError,
    column_label,
    first_undecodable,
    is_number,
    not_utf8,
    shown,
)

DELIMITERS = ("\t", ";", ",")


DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}


#: The dialect is decided from at most this many of the first non-blank lines.
SAMPLE_LINES = 100


#: A line longer than this in the sample is refused (a table this wide is not a table of numbers).
MAX_LINE_CHARS = 1 << 24


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    names: tuple[str, ...]
    header: bool
    skip_lines: int  #: lines before the first data row (leading blank lines and the header)
    data_line_bytes: float  #: mean length of the sampled data lines (the header's when there are none)
    header_bytes: int


def check_file(file: Path, label: str) -> int:
    try:
        status = file.stat()
    except FileNotFoundError:
        raise TableError(f"{label}: no such file") from None
    except OSError as error:
        raise TableError(f"{label}: cannot be read ({error.strerror})") from None
    if file.is_dir():
        raise TableError(f"{label} is a directory; name a CSV or TSV file")
    if not file.is_file():
        raise TableError(f"{label} is not a regular file; name a CSV or TSV file")
    if status.st_size == 0:
        raise TableError(f"{label} is empty; a table needs rows of numbers (a header row is optional)")
    return status.st_size


def sample_lines(file: Path, label: str) -> list[tuple[int, str]]:
    """(line number from 1, text) of the first non-blank lines, decoded as UTF-8 (a BOM dropped; LF,
    CRLF and CR line ends alike, as numpy's loader reads them)."""
    lines: list[tuple[int, str]] = []
    try:
        with file.open("rb") as handle:
            if handle.read(2) in (b"\xff\xfe", b"\xfe\xff"):
                raise TableError(f"{label} is UTF-16 text; save it as UTF-8")
        with file.open(encoding="utf-8-sig", newline=None) as handle:
            for number, text in enumerate(iter(lambda: handle.readline(MAX_LINE_CHARS), ""), start=1):
                if len(text) == MAX_LINE_CHARS and not text.endswith("\n"):
                    raise TableError(f"{label}: line {number} is longer than {MAX_LINE_CHARS:,} characters")
                if text.strip():
                    lines.append((number, text.rstrip("\n")))
                    if len(lines) == SAMPLE_LINES:
                        break
    except UnicodeDecodeError:
        raise TableError(not_utf8(label, *first_undecodable(file))) from None
    except OSError as error:
        raise TableError(f"{label}: cannot be read ({error.strerror})") from None
    return lines


def split_fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, quotechar='"'))


def find_delimiter(lines: list[tuple[int, str]], label: str) -> str:
    counts = {d: [len(split_fields(text, d)) for _, text in lines] for d in DELIMITERS}
    for delimiter, widths in counts.items():
        if widths[0] > 1 and all(width == widths[0] for width in widths):
            return delimiter
    for delimiter, widths in counts.items():
        if widths[0] > 1:
            return delimiter
    raise TableError(
        f"{label}: line {lines[0][0]} has one column; a table needs a target and at least one feature, "
        "separated by commas, tabs or semicolons"
    )


def read_dialect(file: Path, label: str, header: bool | None) -> Dialect:
    lines = sample_lines(file, label)
    if not lines:
        raise TableError(f"{label} is empty (blank lines only); a table needs rows of numbers")
    delimiter = find_delimiter(lines, label)
    first_line, first_text = lines[0]
    cells = [cell.strip() for cell in split_fields(first_text, delimiter)]
    has_header = not all(is_number(cell) for cell in cells) if header is None else header
    if has_header:
        names = tuple(cell or f"c{i + 1}" for i, cell in enumerate(cells))
        check_unique(names, label)
        data = [len(text.encode()) + 1 for _, text in lines[1:]]
    else:
        names = tuple(f"c{i + 1}" for i in range(len(cells)))
        data = [len(text.encode()) + 1 for _, text in lines]
    header_bytes = len(first_text.encode()) + 1 if has_header else 0
    return Dialect(
        delimiter=delimiter,
        names=names,
        header=has_header,
        skip_lines=first_line if has_header else first_line - 1,
        data_line_bytes=sum(data) / len(data) if data else float(header_bytes),
        header_bytes=header_bytes,
    )


def check_unique(names: tuple[str, ...], label: str) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise TableError(
                f"{label}: the header names {shown(name, NAME_CHARS)} twice (columns {seen[name] + 1} and "
                f"{index + 1}); names must be unique: rename one, or read the file with --no-header"
            )
        seen[name] = index


def select_columns(names: tuple[str, ...], target: str | None, features: str | None) -> tuple[int, list[int]]:
    """Indices of the target and the features (positions from 1 or names, a name winning over a
    position that looks the same)."""
    target_index = len(names) - 1 if target is None else column_index(target, names, "target")
    if features is None:
        chosen = [i for i in range(len(names)) if i != target_index]
    else:
        entries = features.split(",")
        chosen = []
        for position, entry in enumerate(entries, start=1):
            if not entry.strip():
                raise TableError(f"features: entry {position} of {shown(features, NAME_CHARS)} is empty")
            index = column_index(entry, names, "feature")
            if index in chosen:
                raise TableError(f"features: {column_label(index, names)} is listed twice")
            chosen.append(index)
        if target_index in chosen:
            raise TableError(
                f"features: the target {column_label(target_index, names)} is among the features; "
                "a column cannot predict itself"
            )
    if not chosen:
        raise TableError(f"the table has only the target {column_label(target_index, names)}; it needs a feature")
    return target_index, chosen


def column_index(reference: str, names: tuple[str, ...], role: str) -> int:
    text = reference.strip()
    if text in names:
        return names.index(text)
    if text.isascii() and text.isdigit():
        position = int(text)
        if 1 <= position <= len(names):
            return position - 1
        raise TableError(f"{role} column {position} is out of range: the table has columns 1 to {len(names)}")
    listed = ", ".join(names[:10]) + (f", … ({len(names)} in all)" if len(names) > 10 else "")
    raise TableError(
        f"unknown {role} column {shown(text, NAME_CHARS)}: the columns are {listed} (or their positions from 1)"
    )


@dataclass(frozen=True)
class Layout:
    """A file's layout and the columns a run takes from it."""

    dialect: Dialect
    target: int  #: the target's column, from 0
    features: tuple[int, ...]
    size: int  #: the file's size in bytes

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.dialect.names[i] for i in self.features)

    @property
    def target_name(self) -> str:
        return self.dialect.names[self.target]


def read_layout(
    path: str, *, header: bool | None = None, target: str | None = None, features: str | None = None
) -> Layout:
    """The layout of the file at `path`: `header` None detects a header row; `target` (a name or a
    position from 1; default the last column) and `features` (comma-separated; default every other
    column). Raises TableError with one line saying what is wrong."""
    file = Path(path)
    size = check_file(file, path)
    dialect = read_dialect(file, path, header)
    target_index, feature_indices = select_columns(dialect.names, target, features)
    return Layout(dialect, target_index, tuple(feature_indices), size)
