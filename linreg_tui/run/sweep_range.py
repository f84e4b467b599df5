"""A swept field's values as a range: `A..B` with a number of points, evenly or geometrically spaced
(`linreg-tui sweep --lr 1e-4..10 --points 100 --log`, or in the form's field `1e-4..10:100 log`).

Pure Python: the form checks the text as it is typed. The values are written back as texts, so that each
point is parsed and validated by the field's own parser like a typed value.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from linreg_tui.run.parsing import Refused, Whole, format_number

#: The most points a range may make (the sweep's own limit on runs still applies).
MAX_RANGE_POINTS = 100_000
#: Points in a range that names none (and no --points was given).
DEFAULT_RANGE_POINTS = 10
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*(?::\s*(\S+?))?\s*(log)?\s*$", re.IGNORECASE)
#: How a range is written, for refusals.
RANGE_HOW = "write A..B, optionally with :K points and log, e.g. 1e-4..10:100 log"


def is_range(text: str) -> bool:
    return ".." in text


@dataclass(frozen=True)
class RangeValues:
    """The texts of a range's points, and what rounding to whole numbers did to them (a note or "")."""

    texts: list[str]
    note: str = ""


def range_values(text: str, parse: object, points: int | None = None, log: bool = False) -> RangeValues:
    """The points of the range `text` for a field read by `parse` (a Whole field's points are rounded,
    and repeats dropped). `points` and `log` are the command line's --points and --log, used where the
    text does not say its own. Raises Refused."""
    match = _RANGE.match(text)
    if match is None:
        raise Refused(f"is not a range; {RANGE_HOW}")
    low, high = float(match.group(1)), float(match.group(2))
    count = points if match.group(3) is None else _count(match.group(3))
    count = DEFAULT_RANGE_POINTS if count is None else count
    geometric = log or match.group(4) is not None
    if not 2 <= count <= MAX_RANGE_POINTS:
        raise Refused(f"asks for {count:,} points; a range takes 2 to {MAX_RANGE_POINTS:,}")
    if not (math.isfinite(low) and math.isfinite(high)) or low == high:
        raise Refused(f"is a range with equal or infinite ends; {RANGE_HOW}")
    if geometric and (low <= 0 or high <= 0):
        raise Refused("is a log-spaced range that reaches 0 or below; both ends of a log range must be positive")
    if geometric:
        ratio = math.log(high / low)
        values = [low * math.exp(ratio * k / (count - 1)) for k in range(count)]
    else:
        values = [low + (high - low) * k / (count - 1) for k in range(count)]
    values[-1] = high  # exactly the end asked for, not its rounding
    if isinstance(parse, Whole):
        whole = list(dict.fromkeys(round(value) for value in values))
        note = "" if len(whole) == count else f"{count:,} points round to {len(whole):,} distinct whole numbers"
        return RangeValues([str(value) for value in whole], note)
    return RangeValues([format_number(float(f"{value:.6g}")) for value in values])


def _count(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise Refused(f"has {text!r} points, not a whole number; {RANGE_HOW}") from None
