"""What is wrong with a table file, in one line: the error, and finding the line that numpy's loader
stopped at.

numpy's loader says that a cell could not be converted, but numbers its rows differently from one
message to another (data rows from 0 for a bad cell, file lines from 1 for a ragged row) and from one
version to the next. So when it fails, the file is read again with the csv module, only to find the first
bad line and name it as a person sees it: the line of the file, the column's number and name, and the
cell. The numbers themselves are only ever parsed by numpy.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from pathlib import Path

#: A cell is shown cut to this many characters; a column's name to NAME_CHARS.
CELL_CHARS = 20
NAME_CHARS = 40
DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


class TableError(ValueError):
    """A table that cannot be used, with one line saying what is wrong and what is allowed."""


def shown(text: str, limit: int = CELL_CHARS) -> str:
    """`text` quoted, cut to `limit` characters, on one line (control characters escaped)."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    printable = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return f"'{printable}'"


def is_number(cell: str) -> bool:
    """Whether numpy's loader reads this cell as a number. Python's float() accepts more (digits of other
    scripts, underscores between digits); numpy's C parser takes only ASCII without underscores."""
    if not cell.isascii() or "_" in cell:
        return False
    try:
        float(cell)
    except ValueError:
        return False
    return True


def rows_of(path: Path, delimiter: str, skip_lines: int) -> Iterator[tuple[int, list[str]]]:
    """(line number from 1, fields) of every non-blank row after the first `skip_lines` lines, as
    numpy's loader sees them (the same delimiter and quote character, blank lines skipped)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar='"')
        for fields in reader:
            if reader.line_num <= skip_lines or not fields:
                continue
            yield reader.line_num, fields


def column_label(index: int, names: tuple[str, ...]) -> str:
    return f"column {index + 1} ({shown(names[index], NAME_CHARS)})" if index < len(names) else f"column {index + 1}"


def bad_row(path: Path, shown_path: str, delimiter: str, skip_lines: int, names: tuple[str, ...], header: bool) -> str:
    """The first ragged row, empty cell or cell that is not a number, described; empty when none is found
    (the caller then passes on numpy's own message)."""
    expected = len(names)
    whose = "the header has" if header else "the first row has"
    for line, fields in rows_of(path, delimiter, skip_lines):
        if len(fields) == 1 and not fields[0].strip():
            return f"{shown_path}: line {line} holds only spaces; make it empty or delete it"
        if len(fields) != expected:
            return ragged(shown_path, line, len(fields), whose, expected)
        for index, raw in enumerate(fields):
            cell = raw.strip()
            where = f"{shown_path}: line {line}, {column_label(index, names)}"
            if not cell:
                return f"{where} is empty; every cell needs a number"
            if not is_number(cell):
                hint = (
                    " (a header row? leave out --no-header)"
                    if not header and line == 1
                    else " (a decimal comma? write 1.5, not 1,5)"
                    if DECIMAL_COMMA.fullmatch(cell)
                    else ""
                )
                return f"{where}: {shown(cell)} is not a number{hint}"
    return ""


def first_problem(
    path: Path, shown_path: str, delimiter: str, skip_lines: int, names: tuple[str, ...], header: bool
) -> str:
    """What loading the file would refuse in its cells, in the order the loader finds it (a ragged row,
    an empty cell or one that is not a number first, then NaN or infinity), read with the csv module
    alone; empty when the cells are all finite numbers."""
    try:
        found = bad_row(path, shown_path, delimiter, skip_lines, names, header)
        if found:
            return found
        for line, fields in rows_of(path, delimiter, skip_lines):
            for index, raw in enumerate(fields):
                if not math.isfinite(value := float(raw.strip())):
                    kind = "NaN" if math.isnan(value) else "infinite"
                    where = f"{shown_path}: line {line}, {column_label(index, names)}"
                    return f"{where}: {shown(raw.strip())} is {kind}; every cell needs a finite number"
    except UnicodeDecodeError:
        return not_utf8(shown_path, *first_undecodable(path))
    except csv.Error as error:
        return f"{shown_path}: {error}"
    return ""


def ragged(shown_path: str, line: int, count: int, whose: str, expected: int) -> str:
    return (
        f"{shown_path}: line {line} has {count} field{'s' if count != 1 else ''}, {whose} {expected}; "
        "every row needs the same columns"
    )


def cell_at(path: Path, delimiter: str, skip_lines: int, row: int, column: int) -> tuple[int, str]:
    """The line number and the text of data row `row` (from 0), column `column`."""
    for count, (line, fields) in enumerate(rows_of(path, delimiter, skip_lines)):
        if count == row:
            return line, fields[column].strip() if column < len(fields) else ""
    return 0, ""


def not_utf8(label: str, line: int, offset: int, byte: int) -> str:
    return f"{label}: line {line} is not UTF-8 text (byte 0x{byte:02x} at byte {offset} of the line); save it as UTF-8"


def first_undecodable(path: Path) -> tuple[int, int, int]:
    """(line from 1, byte offset in that line from 1, the byte) of the first byte that is not UTF-8;
    lines end at LF, CRLF or CR, as numpy's loader and the csv module count them."""
    line = 0
    with path.open("rb") as handle:
        for chunk in handle:
            for data in chunk.splitlines(keepends=True):
                line += 1
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as error:
                    return line, error.start + 1, data[error.start]
    return 0, 0, 0
