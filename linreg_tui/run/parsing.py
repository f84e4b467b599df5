"""Text → value for each kind of field, with the reason a person reads when the text is refused.

Pure Python (no torch): the form checks each field as it is typed and `--help` must answer at once.
Text is parsed, never evaluated. Numbers are read with `decimal` first, so that what `float` or `int`
would silently change is refused with its real reason: a 5,000-digit integer is out of range (not "not
finite"), 1e-400 is too small to hold (not 0), and 1e-50 is 0 in float32, the type the model trains in.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol

#: The smallest positive float32 (a subnormal); anything smaller is 0 in the model's arithmetic.
FLOAT32_TINY = 1.401298464324817e-45


class Refused(ValueError):
    """The text is not allowed; `reason` completes a sentence that starts with the field and the text.

    `blind_reason` says the same without quoting any part of the text: what a message about a file
    says, since the file may hold something that must not be printed (config_file.read_config_file)."""

    def __init__(self, reason: str, *, blind_reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.blind_reason = reason if blind_reason is None else blind_reason


class Parser(Protocol):
    """Reads one field's text. `allowed` says what may be entered, for `--help`."""

    @property
    def allowed(self) -> str: ...

    def __call__(self, text: str) -> object: ...


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float: 2.0 -> '2', -3.4 -> '-3.4'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def short_number(value: float) -> str:
    """1e6 rather than 1000000 or 1e+06."""
    return f"{value:.0e}".replace("e+0", "e").replace("e+", "e") if abs(value) >= 1e5 else format_number(value)


def as_float32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class Real:
    """A float in [low, high] (either end open on request) that float32 can hold as it is meant."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    @property
    def allowed(self) -> str:
        lower = f"greater than {short_number(self.low)}" if self.low_open else f"from {short_number(self.low)}"
        upper = f"less than {short_number(self.high)}" if self.high_open else short_number(self.high)
        return f"{lower} to {upper}"

    def __call__(self, text: str) -> float:
        allowed = f" (allowed: {self.allowed})"
        stripped = text.strip()
        if not stripped:
            raise Refused(f"is empty; enter a number{allowed}")
        try:
            value = float(stripped)
        except ValueError:
            raise Refused(f"is not a number{allowed}") from None
        if math.isnan(value):
            raise Refused(f"is not a number (nan){allowed}")
        if math.isinf(value):
            raise Refused(f"is infinite or overflows; enter a finite number{allowed}")
        if value == 0 and self.low <= 0 <= self.high and (exact := _decimal(stripped)) is not None and exact != 0:
            excluded = "" if self._zero_allowed else ", and 0 is not allowed"
            instead = self._instead_of_zero
            raise Refused(f"is too small to hold as a number (it would become 0{excluded}); enter {instead}{allowed}")
        below = value < self.low or (self.low_open and value == self.low)
        if below or value > self.high or (self.high_open and value == self.high):
            raise Refused(f"is out of range{allowed}")
        if value != 0 and as_float32(value) == 0:
            instead = self._instead_of_zero
            raise Refused(f"is 0 in float32, the type the data and the model are computed in; enter {instead}{allowed}")
        return value

    @property
    def _zero_allowed(self) -> bool:
        return (self.low < 0 or (self.low == 0 and not self.low_open)) and (
            self.high > 0 or (self.high == 0 and not self.high_open)
        )

    @property
    def _instead_of_zero(self) -> str:
        """What to enter instead of a nonzero number too small to hold (in Python's float or float32),
        for a range that reaches 0: the smallest sizes allowed, with 0 only where the range has it."""
        smallest = f"{FLOAT32_TINY:.1e}"
        if self.low < 0 < self.high:  # either sign: the size is what is too small
            return f"0 or a number at least {smallest} in size"
        if self.high <= 0:
            return f"{'0 or ' if self._zero_allowed else ''}at most -{smallest}"
        return f"{'0 or ' if self._zero_allowed else ''}at least {smallest}"


@dataclass(frozen=True)
class Whole:
    """A whole number in [low, high], also written as 1e6 or 1_000_000 (large n are easier to type)."""

    low: int
    high: int

    @property
    def allowed(self) -> str:
        return f"a whole number from {self.low:,} to {self.high:,}"

    def __call__(self, text: str) -> int:
        stripped = text.strip()
        enter = f"enter {self.allowed}"
        if not stripped:
            raise Refused(f"is empty; {enter}")
        exact = _decimal(stripped)
        if exact is None or exact.is_nan():
            raise Refused(f"is not a whole number; {enter}")
        if exact.is_infinite():
            raise Refused(f"is not finite; {enter}")
        if not self.low <= exact <= self.high:
            raise Refused(f"is out of range; {enter}")
        if exact != exact.to_integral_value():
            raise Refused(f"is a fraction; {enter}")
        return int(exact)


@dataclass(frozen=True)
class Numbers:
    """Comma-separated numbers, optionally in brackets as the book writes torch.tensor([2, -3.4]);
    `value*count` stands for count copies (the weight-decay section's 200 weights of 0.01: `0.01*200`)."""

    entry: Real | Whole  #: Whole for a list of step counts (the milestones)
    max_count: int
    example: str
    unit: str = "numbers"  #: what the count is of, for "at most 1,000 features are allowed"

    @property
    def allowed(self) -> str:
        return f"1 to {self.max_count:,} {self.unit}, each {self.entry.allowed} (v*k: k copies of v)"

    def __call__(self, text: str) -> tuple[float, ...]:
        stripped = text.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            stripped = stripped[1:-1]
        how = f"enter numbers separated by commas, e.g. {self.example}"
        if not stripped.strip():
            raise Refused(f"is empty; {how}")
        parts = stripped.split(",")
        counts = [self._count(part, position) for position, part in enumerate(parts, start=1)]
        if sum(counts) > self.max_count:
            raise Refused(f"has {sum(counts):,} numbers; at most {self.max_count:,} {self.unit} are allowed")
        values: list[float] = []
        for position, (part, count) in enumerate(zip(parts, counts, strict=True), start=1):
            number = part.split("*")[0]
            if not number.strip():
                raise Refused(f"has an empty entry at position {position}; {how}")
            try:
                values.extend([self.entry(number)] * count)
            except Refused as refused:
                reason = refused.reason
                if reason.startswith("is not a number (allowed"):  # not even a number: say how to write one
                    reason = f"is not a number; {how}"
                raise Refused(
                    f"entry {position} ({part.strip()!r}) {reason}", blind_reason=f"entry {position} {reason}"
                ) from None
        return tuple(values)

    def _count(self, part: str, position: int) -> int:
        """How many values `part` stands for: 1, or k in `v*k` (checked before anything is expanded)."""
        pieces = part.split("*")
        if len(pieces) == 1:
            return 1
        count = pieces[1].strip()
        if len(pieces) > 2 or not count.isdecimal() or not 1 <= int(count[:12]) <= self.max_count:
            how = f"has a bad repeat count; write v*k with k from 1 to {self.max_count:,}, e.g. 0.01*200"
            raise Refused(f"entry {position} ({part.strip()!r}) {how}", blind_reason=f"entry {position} {how}")
        return int(count)


def show_numbers(values: tuple[float, ...]) -> str:
    """The text `Numbers` reads back to `values`; three or more equal neighbours are written `v*k`."""
    runs: list[str] = []
    position = 0
    while position < len(values):
        end = position
        while end < len(values) and values[end] == values[position]:
            end += 1
        shown = format_number(values[position])
        count = end - position
        runs.extend([f"{shown}*{count}"] if count >= 3 else [shown] * count)
        position = end
    return ", ".join(runs)


@dataclass(frozen=True)
class Choice:
    """One of a few words, in any case."""

    options: tuple[str, ...]
    what: str

    @property
    def allowed(self) -> str:
        return " | ".join(self.options)

    def __call__(self, text: str) -> str:
        word = text.strip().lower()
        if word not in self.options:
            raise Refused(f"is not {self.what}; allowed: {', '.join(self.options)}")
        return word


_DEVICE_RE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


@dataclass(frozen=True)
class DeviceName:
    """A torch device name; whether it exists is checked when a run starts (CUDA may be absent)."""

    @property
    def allowed(self) -> str:
        return "cpu | cuda | cuda:N | auto (CUDA if there is one, else cpu)"

    def __call__(self, text: str) -> str:
        device = text.strip().lower()
        if not _DEVICE_RE.match(device):
            raise Refused("is not a device; allowed: cpu, cuda, cuda:N (N = 0, 1, ...), auto")
        return device
