"""Tables of numbers: the two real data sets the package ships (airfoil, Longley) and any CSV/TSV file.

A Table holds a file's numbers in float64, as the file has them: which column is the target and which are
the features, and where the numbers came from (the file, its size in rows, the sha256 of its bytes).
Standardizing, the validation split and the float32 tensors training uses come later (prepared.py).

Reading a file:
- the delimiter is the first of tab, semicolon and comma that splits each of the first lines into the
  same number (more than one) of fields (tab and semicolon first: in a table of numbers a comma can be a
  decimal or thousands separator, a tab or a semicolon hardly ever is); else the first of them that
  splits the first line at all (a ragged row is then named as such);
- the first non-blank line is a header when any of its cells is not a number (`header` forces it either
  way; without one the columns are named c1, c2, …); an empty name in a header is named by position;
- the numbers are parsed by numpy's loader (its C parser: quoted numbers, CRLF and a UTF-8 BOM are read
  as they should be); this module only decides the dialect, checks the memory first, and turns every way
  a file can be wrong into one TableError line;
- columns are named by name or by position from 1 (c1 is column 1, as the names given without a header
  say): `target` is one of them (by default the last), `features` a comma-separated list (by default
  every other column, in the file's order).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from linreg_tui.run.memory import host_free_bytes as current_host_free_bytes
from linreg_tui.run.memory import human_bytes
from linreg_tui.training.table_errors import (
    NAME_CHARS,
    TableError,
    bad_row,
    cell_at,
    column_label,
    first_undecodable,
    is_number,
    ragged,
    rows_of,
    shown,
)

DELIMITERS = ("\t", ";", ",")
DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}
#: The dialect is decided from at most this many of the first non-blank lines.
SAMPLE_LINES = 100
#: A line longer than this in the sample is refused (a table this wide is not a table of numbers).
MAX_LINE_CHARS = 1 << 24
#: Host memory a load needs, in float64 values of the estimated table: numpy's loader's array (its peak
#: was 1.1 times the array here), then the table's copies of the features and the target beside it
#: (measured: 2.7 times the array for a 1,000,000 × 6 file).
LOAD_COPIES = 3
#: Besides the numbers: the sample, the loader's buffers, the hash's.
LOAD_OVERHEAD_BYTES = 1 << 22
#: The estimate from the first lines' length is scaled up by this much (later lines may be shorter).
ESTIMATE_MARGIN = 1.25


@dataclass(frozen=True, eq=False)
class Table:
    """A table's numbers in float64 (read-only arrays) and where they came from."""

    feature_names: tuple[str, ...]
    target_name: str
    features: np.ndarray  #: (rows, d) float64
    target: np.ndarray  #: (rows,) float64
    source: str  #: "airfoil", "longley", or the file's name
    path: str  #: the file read
    rows: int
    sha256: str  #: of the file's bytes

    @property
    def num_features(self) -> int:
        return len(self.feature_names)


@dataclass(frozen=True)
class _Dialect:
    delimiter: str
    names: tuple[str, ...]
    header: bool
    skip_lines: int  #: lines before the first data row (leading blank lines and the header)
    data_line_bytes: float  #: mean length of the sampled data lines (the header's when there are none)
    header_bytes: int


def load_table(
    path: str | os.PathLike[str],
    *,
    header: bool | None = None,
    target: str | None = None,
    features: str | None = None,
    host_free_bytes: int | None = None,
    source: str | None = None,
) -> Table:
    """The file's table: `target` (a name or a position from 1; default the last column) on `features`
    (comma-separated names or positions; default every other column). `header` None detects a header
    row, True/False forces one or none. `host_free_bytes` (default: what the machine has now) is the
    memory the load may use, less 20% headroom; a file estimated not to fit is refused before it is read.
    Raises TableError with one line saying what is wrong."""
    file = Path(path)
    label = str(path)
    size = _check_file(file, label)
    dialect = _dialect(file, label, header)
    target_index, feature_indices = _select(dialect.names, target, features)
    free = current_host_free_bytes() if host_free_bytes is None else host_free_bytes
    _check_memory(label, size, dialect, free)
    values = _parse(file, label, dialect)
    _check_finite(file, label, dialect, values)
    chosen = np.ascontiguousarray(values[:, feature_indices])
    labels = np.ascontiguousarray(values[:, target_index])
    del values
    chosen.setflags(write=False)
    labels.setflags(write=False)
    return Table(
        feature_names=tuple(dialect.names[i] for i in feature_indices),
        target_name=dialect.names[target_index],
        features=chosen,
        target=labels,
        source=source or file.name,
        path=str(file),
        rows=chosen.shape[0],
        sha256=_sha256(file),
    )


def _check_file(file: Path, label: str) -> int:
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


def _sample(file: Path, label: str) -> list[tuple[int, str]]:
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
        raise TableError(_not_utf8(label, *first_undecodable(file))) from None
    except OSError as error:
        raise TableError(f"{label}: cannot be read ({error.strerror})") from None
    return lines


def _not_utf8(label: str, line: int, offset: int, byte: int) -> str:
    return f"{label}: line {line} is not UTF-8 text (byte 0x{byte:02x} at byte {offset} of the line); save it as UTF-8"


def _fields(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, quotechar='"'))


def _delimiter(lines: list[tuple[int, str]], label: str) -> str:
    counts = {d: [len(_fields(text, d)) for _, text in lines] for d in DELIMITERS}
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


def _dialect(file: Path, label: str, header: bool | None) -> _Dialect:
    lines = _sample(file, label)
    if not lines:
        raise TableError(f"{label} is empty (blank lines only); a table needs rows of numbers")
    delimiter = _delimiter(lines, label)
    first_line, first_text = lines[0]
    cells = [cell.strip() for cell in _fields(first_text, delimiter)]
    has_header = not all(is_number(cell) for cell in cells) if header is None else header
    if has_header:
        names = tuple(cell or f"c{i + 1}" for i, cell in enumerate(cells))
        _check_unique(names, label)
        data = [len(text.encode()) + 1 for _, text in lines[1:]]
    else:
        names = tuple(f"c{i + 1}" for i in range(len(cells)))
        data = [len(text.encode()) + 1 for _, text in lines]
    header_bytes = len(first_text.encode()) + 1 if has_header else 0
    return _Dialect(
        delimiter=delimiter,
        names=names,
        header=has_header,
        skip_lines=first_line if has_header else first_line - 1,
        data_line_bytes=sum(data) / len(data) if data else float(header_bytes),
        header_bytes=header_bytes,
    )


def _check_unique(names: tuple[str, ...], label: str) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise TableError(
                f"{label}: the header names {shown(name, NAME_CHARS)} twice (columns {seen[name] + 1} and "
                f"{index + 1}); names must be unique: rename one, or read the file with --no-header"
            )
        seen[name] = index


def _select(names: tuple[str, ...], target: str | None, features: str | None) -> tuple[int, list[int]]:
    """Indices of the target and the features (positions from 1 or names, a name winning over a
    position that looks the same)."""
    target_index = len(names) - 1 if target is None else _column(target, names, "target")
    if features is None:
        chosen = [i for i in range(len(names)) if i != target_index]
    else:
        entries = features.split(",")
        chosen = []
        for position, entry in enumerate(entries, start=1):
            if not entry.strip():
                raise TableError(f"features: entry {position} of {shown(features, NAME_CHARS)} is empty")
            index = _column(entry, names, "feature")
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


def _column(reference: str, names: tuple[str, ...], role: str) -> int:
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


def load_bytes(file_bytes: int, line_bytes: float, header_bytes: int, columns: int) -> int:
    """Host memory a load needs, estimated from the file's size and its first lines' mean length."""
    rows = max(1.0, (file_bytes - header_bytes) / max(line_bytes, 1.0))
    return int(LOAD_COPIES * 8 * rows * columns * ESTIMATE_MARGIN) + LOAD_OVERHEAD_BYTES


def _check_memory(label: str, size: int, dialect: _Dialect, free: int) -> None:
    needed = load_bytes(size, dialect.data_line_bytes, dialect.header_bytes, len(dialect.names))
    if needed > 0.8 * free:
        raise TableError(
            f"{label} ({human_bytes(size)}) needs about {human_bytes(needed)} of RAM to load, more than fits "
            f"({human_bytes(free)} free); use a smaller file"
        )


def _parse(file: Path, label: str, dialect: _Dialect) -> np.ndarray:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": said below
            values = np.loadtxt(
                file,
                dtype=np.float64,
                delimiter=dialect.delimiter,
                quotechar='"',
                comments=None,
                skiprows=dialect.skip_lines,
                encoding="utf-8-sig",
                ndmin=2,
            )
    except UnicodeDecodeError:
        raise TableError(_not_utf8(label, *first_undecodable(file))) from None
    except ValueError as error:
        found = _diagnose(file, label, dialect)
        raise TableError(found or f"{label}: {str(error).splitlines()[0]}") from None
    if values.shape[0] == 0:
        raise TableError(f"{label} has a header row but no rows of data")
    if values.shape[1] != len(dialect.names):
        first = next(rows_of(file, dialect.delimiter, dialect.skip_lines))[0]
        raise TableError(ragged(label, first, values.shape[1], "the header has", len(dialect.names)))
    return values


def _diagnose(file: Path, label: str, dialect: _Dialect) -> str:
    try:
        return bad_row(file, label, dialect.delimiter, dialect.skip_lines, dialect.names, dialect.header)
    except (csv.Error, UnicodeDecodeError):
        return ""


def _check_finite(file: Path, label: str, dialect: _Dialect, values: np.ndarray) -> None:
    finite = np.isfinite(values)
    if finite.all():
        return
    row, column = (int(i) for i in np.argwhere(~finite)[0])
    line, text = cell_at(file, dialect.delimiter, dialect.skip_lines, row, column)
    value = values[row, column]
    kind = "NaN" if math.isnan(value) else "infinite"
    raise TableError(
        f"{label}: line {line}, {column_label(column, dialect.names)}: {shown(text)} is {kind}; "
        "every cell needs a finite number"
    )


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _packaged(name: str, source: str, target: str, features: str) -> Table:
    data = resources.files("linreg_tui.training") / "datasets" / name
    with resources.as_file(data) as file:
        return load_table(file, header=True, target=target, features=features, source=source)


def airfoil_table() -> Table:
    """NASA's airfoil self-noise table as the package ships it (CC BY 4.0; datasets/NOTICE.md): 1,503 rows,
    the sound pressure in dB on the five others, in the file's units (the book's recipe is in prepared.py)."""
    return _packaged(
        "airfoil_self_noise.tsv",
        "airfoil",
        "sound_pressure_db",
        "frequency_hz,angle_deg,chord_m,velocity_m_s,displacement_thickness_m",
    )


def longley_table() -> Table:
    """Longley's 1967 table (public domain): TOTEMP on GNPDEFL, GNP, UNEMP, ARMED, POP and YEAR (the row
    number Obs left out), 16 rows: NIST certifies its least-squares coefficients."""
    return _packaged("longley.csv", "longley", "TOTEMP", "GNPDEFL,GNP,UNEMP,ARMED,POP,YEAR")
