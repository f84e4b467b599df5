"""The Landscape map's numbers, independent of the terminal: the grid of losses and its bands, their
colours, the view's ranges as a path leaves them, the axes' tick labels and the held parameters' names."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.color import Color

#: The shading's bands: few enough that their edges read as contour lines.
LEVELS = 10
#: Colours from the valley (dark) up the walls (bright); an RGB ramp in the spirit of viridis.
RAMP: tuple[tuple[int, int, int], ...] = ((20, 12, 60), (45, 70, 140), (30, 140, 140), (110, 195, 95), (240, 225, 60))
#: NO_COLOR: the bands as shades of one character instead, the valley blank.
SHADES = " ░▒▓█"
#: The log-ish scale: losses from the floor up to the view's highest span this many decades of shading.
DECADES = 3
#: The view (first: the start, the optimum and the truth) grows towards a path that leaves it in steps
#: of this share of its first span, and by at most MAX_SPANS first spans per side: a diverged run's
#: 1e18 is clipped (and said so) instead of shrinking the valley to a dot. From the path alone, not
#: from the redraws' timing, so the same run always gets the same view.
GROWTH_STEP = 0.25
MAX_SPANS = 3

Range = tuple[float, float]


@dataclass
class MapModel:
    """What the map shows, independent of the terminal: the grid of losses, its bands, and the cells of
    the markers. Built by `build`, read by the tests."""

    cols: int = 0
    subrows: int = 0  # two per character row
    x_range: Range = (0.0, 1.0)
    y_range: Range = (0.0, 1.0)
    losses: list[list[float]] = field(default_factory=list)  # subrows × cols, the top (largest y) first
    levels: list[list[int]] = field(default_factory=list)

    def cell(self, x: float, y: float) -> tuple[int, int] | None:
        """The (column, subrow) that holds the point, None outside the view."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        if not (math.isfinite(x) and math.isfinite(y)) or not (x0 <= x <= x1 and y0 <= y <= y1):
            return None
        col = min(self.cols - 1, int((x - x0) / (x1 - x0) * self.cols))
        subrow = min(self.subrows - 1, int((y1 - y) / (y1 - y0) * self.subrows))
        return col, subrow


def band_levels(losses: list[list[float]], floor: float) -> list[list[int]]:
    """Log-ish bands: log(1 + excess/ref) over DECADES decades below the highest excess, so the valley
    floor has bands of its own and does not drown in one colour beside walls a million times higher."""
    top = max((value - floor for row in losses for value in row), default=0.0)
    if not top > 0 or not math.isfinite(top):
        return [[0] * len(row) for row in losses]
    ref = top / 10**DECADES
    scale = LEVELS / math.log1p(top / ref)
    return [
        [min(LEVELS - 1, max(0, int(math.log1p(max(0.0, v - floor) / ref) * scale))) for v in row] for row in losses
    ]


def ramp_color(level: int) -> Color:
    t = level / (LEVELS - 1) * (len(RAMP) - 1)
    low = min(int(t), len(RAMP) - 2)
    f = t - low
    r, g, b = (round(a + (c - a) * f) for a, c in zip(RAMP[low], RAMP[low + 1], strict=True))
    return Color.from_rgb(r, g, b)


def tick_text(value: float) -> str:
    """Short tick labels: 2.5, -3.4, 1.2e+20."""
    if value == 0 or 1e-3 <= abs(value) < 1e4:
        return f"{value:.3g}"
    return f"{value:.1e}"


def held_names(names: Sequence[str], pair: tuple[int, int], held: int) -> str:
    """The parameters held at the optimum besides the pair: "b", "w3, w4, b", "w1, w2, w5…w1000, b"."""
    tracked_weights = len(names) - 1
    indices = [k + 1 for k in range(tracked_weights) if k not in pair]
    indices += range(tracked_weights + 1, tracked_weights + held + 1)
    runs: list[list[int]] = []  # consecutive indices, merged
    for index in indices:
        if runs and runs[-1][1] == index - 1:
            runs[-1][1] = index
        else:
            runs.append([index, index])
    words = [f"w{a}" if a == z else f"w{a}, w{z}" if z == a + 1 else f"w{a}…w{z}" for a, z in runs]
    if len(names) - 1 not in pair:
        words.append("b")
    return ", ".join(words)


def wanted_range(values: Sequence[float]) -> Range:
    finite = [v for v in values if math.isfinite(v)]
    low, high = min(finite, default=0.0), max(finite, default=0.0)
    pad = max((high - low) * 0.15, 0.1 * max(1.0, abs(low), abs(high)) if high == low else 0.0)
    return low - pad, high + pad


def grown(first: Range, values: Sequence[float]) -> Range:
    """The first view, widened to cover the values, in steps of GROWTH_STEP spans, at most MAX_SPANS."""
    low, high = first
    span = high - low
    finite = [v for v in values if math.isfinite(v)]
    if not finite or span <= 0:
        return first
    step = span * GROWTH_STEP
    below = min(MAX_SPANS * span, math.ceil(max(0.0, low - min(finite)) / step) * step)
    above = min(MAX_SPANS * span, math.ceil(max(0.0, max(finite) - high) / step) * step)
    return low - below, high + above
