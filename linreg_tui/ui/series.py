"""A growing (step, loss) series kept to a bounded number of points for drawing."""

from __future__ import annotations

from collections.abc import Sequence


class DecimatedSeries:
    """Keeps at most `max_points` points by averaging neighbours as the series grows.

    A million steps become at most `max_points` points, each the mean loss of a run of consecutive
    steps (its x the run's first step), so the chart costs the same at any size. 500 is already more
    than a wide chart has braille dots across; plotext's drawing time grows with the points.
    """

    def __init__(self, max_points: int = 500) -> None:
        self.max_points = max_points
        self.xs: list[float] = []
        self.ys: list[float] = []
        self._bucket = 1  # steps per point
        self._open_x = 0.0
        self._open_sum = 0.0
        self._open_count = 0

    def __len__(self) -> int:
        return len(self.xs)

    def extend(self, first_x: int, values: Sequence[float]) -> None:
        for offset, value in enumerate(values):
            if self._open_count == 0:
                self._open_x = first_x + offset
            self._open_sum += value
            self._open_count += 1
            if self._open_count == self._bucket:
                self._close_bucket()

    def points(self) -> tuple[list[float], list[float]]:
        """All points, the still-open bucket included."""
        if self._open_count:
            return [*self.xs, self._open_x], [*self.ys, self._open_sum / self._open_count]
        return list(self.xs), list(self.ys)

    def _close_bucket(self) -> None:
        self.xs.append(self._open_x)
        self.ys.append(self._open_sum / self._open_count)
        self._open_sum, self._open_count = 0.0, 0
        if len(self.xs) > self.max_points:
            pairs = len(self.xs) // 2
            self.xs = [self.xs[2 * i] for i in range(pairs)]
            self.ys = [(self.ys[2 * i] + self.ys[2 * i + 1]) / 2 for i in range(pairs)]
            self._bucket *= 2
