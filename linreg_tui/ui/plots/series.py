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

    def coarse_points(self, most: int) -> tuple[list[float], list[float]]:
        """The points merged in runs of 2^k neighbours, the fewest k that leaves at most `most` whole
        ones: what a series kept to `most` points would hold. The last point (the leftover neighbours
        and the open bucket) is the mean of its steps, each step weighted once. The loss chart draws a
        series kept for the run's JSON this way: the chunk's losses are summed once, not once per use."""
        group = 1
        while len(self.xs) // group > most:
            group *= 2
        if group == 1:
            return self.points()
        whole = len(self.xs) // group * group
        xs = self.xs[0:whole:group]
        ys = [sum(self.ys[start : start + group]) / group for start in range(0, whole, group)]
        tail = self.ys[whole:]
        if tail or self._open_count:
            xs.append(self.xs[whole] if tail else self._open_x)
            ys.append((sum(tail) * self.bucket + self._open_sum) / (len(tail) * self.bucket + self._open_count))
        return xs, ys

    def shrink(self, most: int) -> None:
        """Keep at most `most` points from now on (the bucket doubles as often as that takes)."""
        self.max_points = most
        while len(self.xs) > most:
            self._halve()

    def _close_open_bucket(self) -> None:
        self.xs.append(self._open_x)
        self.ys.append(self._open_sum / self._open_count)
        self._open_sum, self._open_count = 0.0, 0
        if len(self.xs) > self.max_points:
            self._halve()

    def _halve(self) -> None:
        """Merge neighbouring points and double the bucket. An odd last point joins the open bucket
        (fewer than the old bucket's steps), which stays open: fewer than the new bucket's."""
        old = self.bucket
        if len(self.xs) % 2:
            x, y = self.xs.pop(), self.ys.pop()
            self._open_x, self._open_sum, self._open_count = x, y * old + self._open_sum, old + self._open_count
        pairs = len(self.xs) // 2
        self.xs = self.xs[0::2]
        self.ys = [(self.ys[2 * i] + self.ys[2 * i + 1]) / 2 for i in range(pairs)]
        self.bucket = old * 2
