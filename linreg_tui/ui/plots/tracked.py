"""The tracked parameters (w1..w_k, b) along a run, sampled to a bounded number of points for drawing
(the core's linreg_tui.run.path.TrackedPath holds a chunk's every step; this keeps a run's few hundred)."""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, ...]


class SampledPath:
    """Every `stride`-th step's tracked parameters, plus the latest; the stride doubles whenever the
    points would overflow `max_points`.

    A chunk of the fast engine brings 65,536 steps: `extend` keeps its points with one slice (C level),
    not a Python loop per step, because it runs on the UI thread, which shares the GIL with training.
    Sampled, not averaged: a parameter's value at a step is a point the run really passed through.
    """

    def __init__(self, initial: Point, max_points: int = 500) -> None:
        self.max_points = max_points
        self.stride = 1
        self.steps: list[int] = [0]  # step 0: the parameters before step 1
        self.points: list[Point] = [initial]
        self.last_step = 0
        self.last: Point = initial

    def extend(self, first_step: int, tracked: Sequence[Point]) -> None:
        if not tracked:
            return
        while len(self.points) + len(tracked) // self.stride + 1 > self.max_points:
            self._halve()  # before keeping: the halving then walks at most max_points points
        offset = -first_step % self.stride  # the first step of the chunk that is a multiple of stride
        kept = tracked[offset :: self.stride]  # a TrackedPath makes tuples only for the kept steps
        self.steps.extend(range(first_step + offset, first_step + len(tracked), self.stride))
        self.points.extend(kept)
        self.last_step, self.last = first_step + len(tracked) - 1, tracked[-1]

    def series(self) -> tuple[list[int], list[Point]]:
        """The kept steps and points, the latest one always among them."""
        if self.steps[-1] == self.last_step:
            return list(self.steps), list(self.points)
        return [*self.steps, self.last_step], [*self.points, self.last]

    def _halve(self) -> None:
        """Keep the steps that are multiples of twice the stride (step 0 among them)."""
        self.stride *= 2
        keep = [i for i, step in enumerate(self.steps) if step % self.stride == 0]
        self.steps = [self.steps[i] for i in keep]
        self.points = [self.points[i] for i in keep]
