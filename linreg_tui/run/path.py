"""The path of a run: the tracked parameters (w1..w_k, b) after each step of a chunk.

Pure Python, so the UI reads it without torch: every read gives plain floats. The training loop
fetches a chunk's path with its losses in one transfer and keeps it as the float64 bytes it came in;
floats and tuples are made only where the path is read. fast hands over up to 65,536 steps a chunk:
a float per value and a tuple per step, made up front, cost ≈0.3 µs a step (a tenth of fast's step)
for views that draw a few hundred points.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import overload


class TrackedPath(Sequence[tuple[float, ...]]):
    """A read-only sequence with one tuple (w1..w_k, b) per step; `column(j)` is one parameter over the
    steps (what a parameters-over-time chart plots), read without building the tuples."""

    __slots__ = ("_data", "_values", "_width")

    def __init__(self, values: Sequence[float] | bytes, width: int) -> None:
        """`values`: the steps' parameters one after another, as floats or as float64 bytes."""
        data = values if isinstance(values, bytes) else array("d", values).tobytes()
        count = len(data) // array("d").itemsize
        if width < 1 or count % width:
            raise ValueError(f"a path of {count} values cannot have rows of {width}")
        self._data = data  # immutable: events cross threads
        self._values = memoryview(data).cast("d")
        self._width = width

    @property
    def width(self) -> int:
        """How many parameters each step holds: k weights and the bias."""
        return self._width

    def __len__(self) -> int:
        return len(self._values) // self._width

    @overload
    def __getitem__(self, index: int) -> tuple[float, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[tuple[float, ...], ...]: ...

    def __getitem__(self, index: int | slice) -> tuple[float, ...] | tuple[tuple[float, ...], ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        count = len(self)
        if index < 0:
            index += count
        if not 0 <= index < count:
            raise IndexError(f"step {index} of a path of {count} steps")
        start = index * self._width
        return tuple(self._values[start : start + self._width])

    def __iter__(self) -> Iterator[tuple[float, ...]]:
        flat = iter(self._values)
        return zip(*[flat] * self._width, strict=True)

    def column(self, parameter: int) -> tuple[float, ...]:
        """Parameter `parameter` (0 = w1, …, width − 1 = b) after each step."""
        if not 0 <= parameter < self._width:
            raise IndexError(f"parameter {parameter} of {self._width}")
        return tuple(self._values[parameter :: self._width])

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TrackedPath):
            return self._width == other._width and self._data == other._data
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._width, self._data))

    def __repr__(self) -> str:
        return f"TrackedPath({len(self)} steps × {self._width})"

    def __reduce__(self) -> tuple[type[TrackedPath], tuple[bytes, int]]:
        return TrackedPath, (self._data, self._width)


def join(paths: Sequence[TrackedPath], width: int) -> TrackedPath:
    """One path from consecutive ones (e.g. a chunk replayed step by step)."""
    return TrackedPath(b"".join(path._data for path in paths), width)
