"""What the Data scatter's y axis covers, and how it names what lies beyond it.

The axis covers the bulk of the labels, not every one: with the outlier preset one label is 10000
among labels within ±20, and an axis up to 10000 drew the scatter as one flat row. The bulk is every
label inside Tukey's far-out fences (the quartiles widened by three interquartile ranges): for the
normal labels the app makes that is all of them (a label beyond the fences is 4.7σ out, about one in
400,000), whatever their scale. A label outside is drawn at the edge of the chart with an arrow, and
the most extreme one on each side is written there with its value: "y₅ = 10000 ↑".
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: The fences lie this many interquartile ranges beyond the quartiles (Tukey's "far out").
FENCE = 3.0
#: Fewer labels than this have no quartiles worth the name: all of them are in view.
FEWEST_FOR_FENCES = 4
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
UP, DOWN = "↑", "↓"


def subscript(number: int) -> str:
    """12 → "₁₂": x₂ is the feature that w2 multiplies, y₅ the fifth label (the book's 1-based names)."""
    return str(number).translate(SUBSCRIPTS)


def bulk_range(labels: Sequence[float]) -> tuple[float, float]:
    """The lowest and highest label inside the far-out fences; (0, 0) when there are no finite labels."""
    finite = sorted(y for y in labels if math.isfinite(y))
    if len(finite) >= FEWEST_FOR_FENCES:
        q1, _, q3 = statistics.quantiles(finite, n=4, method="inclusive")
        low, high = q1 - FENCE * (q3 - q1), q3 + FENCE * (q3 - q1)
        finite = [y for y in finite if low <= y <= high]
    return (finite[0], finite[-1]) if finite else (0.0, 0.0)


def with_room(low: float, high: float) -> tuple[float, float]:
    """A range that an axis can span: all labels equal (noise 0, w 0) would make an empty one."""
    if high > low:
        return low, high
    pad = max(1.0, abs(low) * 0.1)
    return low - pad, high + pad


@dataclass(frozen=True)
class EdgeMarks:
    """The points beyond the view, by row: their arrows go at the edge, the most extreme gets its value."""

    above: tuple[int, ...]
    below: tuple[int, ...]

    @classmethod
    def beyond(cls, labels: Sequence[float], low: float, high: float) -> EdgeMarks:
        """Rows whose label is above `high` or below `low`, the most extreme first on each side."""
        above = sorted((row for row, y in enumerate(labels) if y > high), key=lambda row: -labels[row])
        below = sorted((row for row, y in enumerate(labels) if y < low), key=lambda row: labels[row])
        return cls(tuple(above), tuple(below))

    def __bool__(self) -> bool:
        return bool(self.above or self.below)


def edge_label(rows: Sequence[int], labels: Sequence[float], arrow: str, arrow_first: bool) -> str:
    """The most extreme of `rows` by its name and value, and how many more lie on that side, with the
    arrow at the end nearer the point (`arrow_first`: the text starts at it). The row's name is 1-based,
    as the book's y₅ (the outlier preset's row 4)."""
    first = rows[0]
    more = f" (+{len(rows) - 1} more)" if len(rows) > 1 else ""
    text = f"y{subscript(first + 1)} = {labels[first]:g}{more}"
    return f"{arrow} {text}" if arrow_first else f"{text} {arrow}"
