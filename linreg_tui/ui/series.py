"""A growing (step, loss) series kept to a bounded number of points for drawing."""

from __future__ import annotations

from collections.abc import Sequence


class DecimatedSeries:
    """Keeps at most `max_points` points, each the mean loss of a run of `bucket` consecutive steps
    (its x the run's first step); the bucket doubles whenever the points would overflow.

    A million steps cost the chart what a thousand do. 500 points are already more than a wide chart
    has braille dots across, and plotext's drawing time grows with the points. `extend` takes the
    fast engine's 65,536 steps at once with C-level `sum`s over slices, not a Python loop per step:
    it runs on the UI thread, whose every millisecond is one the training thread waits for the GIL.
    """

    def __init__(self, max_points: int = 500) -> None:
        self.max_points = max_points
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.bucket = 1  # steps per point
        self._open_x = 0.0  # the bucket being filled
        self._open_sum = 0.0
        self._open_count = 0

    def __len__(self) -> int:
        return len(self.xs) + (1 if self._open_count else 0)

    def extend(self, first_x: int, values: Sequence[float]) -> None:
        done, total = 0, len(values)
        while done < total:
            if self._open_count:  # fill the open bucket first: points stay in step order
                take = min(self.bucket - self._open_count, total - done)
                self._open_sum += sum(values[done : done + take])
                self._open_count += take
                done += take
                if self._open_count == self.bucket:
                    self._close_open_bucket()
                continue
            whole = (total - done) // self.bucket
            if whole == 0:
                self._open_x, self._open_sum, self._open_count = first_x + done, sum(values[done:]), total - done
                return
            if len(self.xs) + whole > self.max_points:
                self._halve()  # the bucket doubles, so this ends
                continue
            size = self.bucket
            for start in range(done, done + whole * size, size):
                self.xs.append(first_x + start)
                self.ys.append(sum(values[start : start + size]) / size)
            done += whole * size

    def points(self) -> tuple[list[float], list[float]]:
        """All points, the still-open bucket's mean included."""
        if self._open_count:
            return [*self.xs, self._open_x], [*self.ys, self._open_sum / self._open_count]
        return list(self.xs), list(self.ys)

    def _close_open_bucket(self) -> None:
        self.xs.append(self._open_x)
        self.ys.append(self._open_sum / self._open_count)
        self._open_sum, self._open_count = 0.0, 0
        if len(self.xs) > self.max_points:
            self._halve()

    def _halve(self) -> None:
        """Merge neighbouring points and double the bucket (with no bucket open). An odd last point
        becomes the new open bucket, half full."""
        old = self.bucket
        odd = (self.xs[-1], self.ys[-1]) if len(self.xs) % 2 else None
        pairs = len(self.xs) // 2
        self.xs = [self.xs[2 * i] for i in range(pairs)]
        self.ys = [(self.ys[2 * i] + self.ys[2 * i + 1]) / 2 for i in range(pairs)]
        self.bucket = old * 2
        if odd is not None:
            self._open_x, self._open_sum, self._open_count = odd[0], odd[1] * old, old
