"""Where a run's data comes from, without torch: the sources, what each brings by default, which fields
apply to it, and the shape of its data as far as it is known before anything is loaded.

- synthetic: the book's synthetic_data (3.2), from the true w and b; the default, bit for bit as before.
- airfoil: NASA's airfoil self-noise table, as the book's optimization chapter reads it (get_data_ch11).
- longley: Longley's 1967 table, TOTEMP on six nearly collinear regressors.
- poly: the book's 4.4 polynomial data: features x^i / i! for i = 1 … degree.
- a path: the user's CSV or TSV file.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from linreg_tui.run.parsing import Refused
from linreg_tui.run.table_errors import TableError, first_problem
from linreg_tui.run.table_layout import Dialect, Layout, read_layout

SYNTHETIC, AIRFOIL, LONGLEY, POLY = "synthetic", "airfoil", "longley", "poly"
BUILT_IN: tuple[str, ...] = (SYNTHETIC, AIRFOIL, LONGLEY, POLY)

Kind = Literal["synthetic", "table", "poly", "file"]

#: The shipped tables' feature and label names, in their files' order (training/datasets/).
TABLE_COLUMNS: dict[str, tuple[tuple[str, ...], str]] = {
    AIRFOIL: (
        ("frequency_hz", "angle_deg", "chord_m", "velocity_m_s", "displacement_thickness_m"),
        "sound_pressure_db",
    ),
    LONGLEY: (("GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"), "TOTEMP"),
}

#: A file's cells are scanned before its load (to say what is wrong with it before what is wrong with a
#: field that depends on its rows) only up to this size; a larger file's cells are checked by its load.
SCAN_MAX_BYTES = 64 << 20

#: The book's 4.4: true weights 1.2, −3.4, 5.6 and 0 beyond, the constant term (the bias) 5.
POLY_WEIGHTS = (1.2, -3.4, 5.6)
POLY_BIAS = 5.0
MAX_DEGREE = 19

STANDARDIZE: tuple[str, ...] = ("none", "features", "all")
HEADERS: tuple[str, ...] = ("auto", "none")

#: What each source brings instead of the synthetic defaults (the field table's defaults are synthetic's).
SOURCE_DEFAULTS: dict[Kind | str, dict[str, object]] = {
    AIRFOIL: {"num_examples": 1500, "standardize": "all"},
    LONGLEY: {"num_examples": 16},
    POLY: {"num_examples": 100, "val": 100, "noise": 0.1},
}

#: Fields that apply only to some kinds of source; every other field applies to all.
ONLY_FOR: dict[str, tuple[Kind, ...]] = {
    "true_w": ("synthetic",),
    "true_b": ("synthetic",),
    "scales": ("synthetic",),
    "corr": ("synthetic",),
    "outlier": ("synthetic",),
    "noise": ("synthetic", "poly"),
    "degree": ("poly",),
    "standardize": ("table", "poly", "file"),
    "target": ("file",),
    "features": ("file",),
    "header": ("file",),
}


def kind_of(source: str) -> Kind:
    if source == SYNTHETIC:
        return "synthetic"
    if source in TABLE_COLUMNS:
        return "table"
    if source == POLY:
        return "poly"
    return "file"


def applies(field: str, source: str) -> bool:
    """Whether `field` means something for data from `source`."""
    return kind_of(source) in ONLY_FOR.get(field, ("synthetic", "table", "poly", "file"))


def defaults_for(source: str) -> dict[str, object]:
    """The values `source` brings for the fields it changes."""
    return dict(SOURCE_DEFAULTS.get(source, {}))


def poly_truth(degree: int) -> tuple[tuple[float, ...], float]:
    """The book's true weights for x^i / i!, i = 1 … degree, and its bias."""
    weights = (*POLY_WEIGHTS, *(0.0,) * max(0, degree - len(POLY_WEIGHTS)))
    return weights[:degree], POLY_BIAS


def poly_feature_names(degree: int) -> tuple[str, ...]:
    return tuple(f"x^{i}/{math.factorial(i)}" if i > 1 else "x" for i in range(1, degree + 1))


@dataclass(frozen=True)
class SourceName:
    """A built-in source's name, in any case, or a path to a file (read, and checked, when the data is)."""

    @property
    def allowed(self) -> str:
        return f"{' | '.join(BUILT_IN)} | a path to a CSV or TSV file"

    def __call__(self, text: str) -> str:
        source = text.strip()
        if not source:
            raise Refused(f"is empty; enter {', '.join(BUILT_IN)} or a file's path")
        if "\0" in source:
            raise Refused("has a NUL character; enter a source's name or a file's path")
        return source.lower() if source.lower() in BUILT_IN else source


@dataclass(frozen=True)
class ColumnChoice:
    """A file's column by name or by 1-based number (c1 is the first, as a file without a header names
    its columns); empty: the default. `several`: a comma-separated list."""

    several: bool

    @property
    def allowed(self) -> str:
        one = "a column's name or number (1 = the first)"
        if self.several:
            return "columns' names or numbers (1 = the first), comma-separated; empty: every column but the target"
        return f"{one}; empty: the last"

    def __call__(self, text: str) -> str:
        parts = [part.strip() for part in text.split(",")] if self.several else [text.strip()]
        if text.strip() and any(not part for part in parts):
            raise Refused("has an empty entry; give names or numbers separated by commas")
        if any(len(part) > 200 for part in parts):
            raise Refused("has a name longer than 200 characters")
        return ", ".join(parts) if text.strip() else ""


def file_layout(path: str, header: str = "auto", target: str = "", features: str = "") -> Layout:
    """The layout of a run's file (table_layout.read_layout, with the fields' texts), once per version of
    the file (its size and modification time): the form and the memory estimate ask often. Raises
    TableError."""
    try:
        stat = os.stat(path)
    except OSError:
        return _read(path, header, target, features)  # says why, in its words
    return _cached_layout(path, stat.st_mtime_ns, stat.st_size, header, target, features)


def _read(path: str, header: str, target: str, features: str) -> Layout:
    return read_layout(
        path, header=False if header == "none" else None, target=target or None, features=features or None
    )


@functools.lru_cache(maxsize=32)
def _cached_layout(path: str, mtime_ns: int, size: int, header: str, target: str, features: str) -> Layout:
    return _read(path, header, target, features)


def layout_field(error: TableError) -> str:
    """The field a file's refusal is about: its target, its features, standardizing it, or the file itself."""
    text = str(error)
    if "cannot be standardized" in text:  # a constant column: the file is fine, standardizing it is not
        return "standardize"
    if text.startswith("features:") or "feature column" in text:
        return "features"
    return "target" if "target column" in text else "data"


def file_rows(path: str, header: str = "auto") -> int:
    """How many rows of data a file holds (its non-blank lines, less the header), once per version of the
    file: a file's run takes them all unless --num-examples says fewer. Raises TableError."""
    layout = file_layout(path, header)
    stat = os.stat(path)
    return _cached_rows(path, stat.st_mtime_ns, stat.st_size, layout.dialect.skip_lines)


@functools.lru_cache(maxsize=32)
def _cached_rows(path: str, mtime_ns: int, size: int, skip_lines: int) -> int:
    with open(path, "rb") as file:
        lines = sum(1 for number, line in enumerate(file, start=1) if number > skip_lines and line.strip())
    return lines


def file_problem(path: str, header: str = "auto") -> str:
    """What loading the file would refuse in its cells (a bad cell, a ragged row, NaN: one line), or
    empty, read once per version of the file without numpy; empty too for a file larger than
    SCAN_MAX_BYTES, which its load checks. Raises TableError for a file whose layout is refused."""
    layout = file_layout(path, header)
    stat = os.stat(path)
    if stat.st_size > SCAN_MAX_BYTES:
        return ""
    return _cached_problem(path, stat.st_mtime_ns, stat.st_size, layout.dialect)


@functools.lru_cache(maxsize=32)
def _cached_problem(path: str, mtime_ns: int, size: int, dialect: Dialect) -> str:
    return first_problem(Path(path), path, dialect.delimiter, dialect.skip_lines, dialect.names, dialect.header)
