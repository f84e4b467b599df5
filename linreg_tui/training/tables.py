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
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TextIO

import numpy as np

from linreg_tui.run.memory import host_free_bytes as current_host_free_bytes
from linreg_tui.run.memory import human_bytes
from linreg_tui.run.table_errors import (
    TableError,
    bad_row,
    cell_at,
    column_label,
    first_undecodable,
    not_utf8,
    ragged,
    rows_of,
    shown,
)
from linreg_tui.run.table_layout import Dialect, read_layout

#: Host memory a load needs, in float64 values of the estimated table: numpy's loader's array (its peak
#: was 1.1 times the array here), then the table's copies of the features and the target beside it
#: (measured: 2.7 times the array for a 1,000,000 × 6 file).
LOAD_COPIES = 3
#: Besides the numbers: the sample, the loader's buffers, the hash's.
LOAD_OVERHEAD_BYTES = 1 << 22
#: The estimate from the first lines' length is scaled up by this much (later lines may be shorter).
ESTIMATE_MARGIN = 1.25
#: A load reads its file this many characters at a time, and says how far it has got after each.
BLOCK_CHARS = 1 << 20


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


def load_table(
    path: str | os.PathLike[str],
    *,
    header: bool | None = None,
    target: str | None = None,
    features: str | None = None,
    host_free_bytes: int | None = None,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Table:
    """The file's table: `target` (a name or a position from 1; default the last column) on `features`
    (comma-separated names or positions; default every other column). `header` None detects a header
    row, True/False forces one or none. `host_free_bytes` (default: what the machine has now) is the
    memory the load may use, less 20% headroom; a file estimated not to fit is refused before it is read.
    `progress(done, total)` hears how many of the file's characters have been read, a block at a time
    (it may raise to stop the load: a run cancelled while its file loads).
    Raises TableError with one line saying what is wrong."""
    file = Path(path)
    label = str(path)
    layout = read_layout(label, header=header, target=target, features=features)
    size, dialect = layout.size, layout.dialect
    target_index, feature_indices = layout.target, list(layout.features)
    free = current_host_free_bytes() if host_free_bytes is None else host_free_bytes
    _check_memory(label, size, dialect, free)
    values = _parse(file, label, dialect, size, progress)
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


def load_bytes(file_bytes: int, line_bytes: float, header_bytes: int, columns: int) -> int:
    """Host memory a load needs, estimated from the file's size and its first lines' mean length."""
    rows = max(1.0, (file_bytes - header_bytes) / max(line_bytes, 1.0))
    return int(LOAD_COPIES * 8 * rows * columns * ESTIMATE_MARGIN) + LOAD_OVERHEAD_BYTES


def _check_memory(label: str, size: int, dialect: Dialect, free: int) -> None:
    needed = load_bytes(size, dialect.data_line_bytes, dialect.header_bytes, len(dialect.names))
    if needed > 0.8 * free:
        raise TableError(
            f"{label} ({human_bytes(size)}) needs about {human_bytes(needed)} of RAM to load, more than fits "
            f"({human_bytes(free)} free); use a smaller file"
        )


def _blocks(text: TextIO, size: int, progress: Callable[[int, int], None] | None) -> Iterator[str]:
    """The file's lines, read a block of about a MiB at a time, saying how far it has got after each
    (characters, against the file's bytes: the same for the ASCII of numbers). numpy parses lines from
    any iterable; this costs about a quarter of its own time (tests/bench_tables.py)."""
    done = 0
    while block := text.readlines(BLOCK_CHARS):
        yield from block
        done += sum(map(len, block))
        if progress is not None:
            progress(min(done, size), size)


def _parse(
    file: Path, label: str, dialect: Dialect, size: int, progress: Callable[[int, int], None] | None
) -> np.ndarray:
    try:
        with warnings.catch_warnings(), open(file, encoding="utf-8-sig", newline="") as text:
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": said below
            values = np.loadtxt(
                _blocks(text, size, progress),
                dtype=np.float64,
                delimiter=dialect.delimiter,
                quotechar='"',
                comments=None,
                skiprows=dialect.skip_lines,
                ndmin=2,
            )
    except UnicodeDecodeError:
        raise TableError(not_utf8(label, *first_undecodable(file))) from None
    except ValueError as error:
        found = _diagnose(file, label, dialect)
        raise TableError(found or f"{label}: {str(error).splitlines()[0]}") from None
    if values.shape[0] == 0:
        raise TableError(f"{label} has a header row but no rows of data")
    if values.shape[1] != len(dialect.names):
        first = next(rows_of(file, dialect.delimiter, dialect.skip_lines))[0]
        raise TableError(ragged(label, first, values.shape[1], "the header has", len(dialect.names)))
    return values


def _diagnose(file: Path, label: str, dialect: Dialect) -> str:
    try:
        return bad_row(file, label, dialect.delimiter, dialect.skip_lines, dialect.names, dialect.header)
    except (csv.Error, UnicodeDecodeError):
        return ""


def _check_finite(file: Path, label: str, dialect: Dialect, values: np.ndarray) -> None:
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
