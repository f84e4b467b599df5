"""The loss chart's bounded series: any number of steps, at most max_points points, means preserved."""

from __future__ import annotations

import random

import pytest

from linreg_tui.ui.series import DecimatedSeries


def feed(series: DecimatedSeries, values: list[float], chunks: list[int]) -> None:
    first = 1
    for size in chunks:
        series.extend(first, values[first - 1 : first - 1 + size])
        first += size


@pytest.mark.parametrize("chunks", [[1] * 3000, [7] * 500, [65_536, 1, 3, 40_000], [1000, 999, 1001, 17]])
def test_bounded_ordered_and_mean_preserving(chunks: list[int]) -> None:
    rng = random.Random(0)
    values = [rng.random() for _ in range(sum(chunks))]
    series = DecimatedSeries(max_points=100)
    feed(series, values, chunks)
    xs, ys = series.points()
    assert len(xs) <= 101  # the points plus the open bucket
    assert xs == sorted(xs) and xs[0] == 1
    # Each point is the mean of `bucket` steps (the last may hold fewer): the weighted mean is exact.
    weights = [series.bucket] * len(series.xs) + ([series._open_count] if series._open_count else [])
    assert sum(y * w for y, w in zip(ys, weights, strict=True)) == pytest.approx(sum(values))
    assert sum(weights) == len(values)


def test_few_steps_are_kept_as_they_are() -> None:
    series = DecimatedSeries(max_points=100)
    series.extend(1, [3.0, 2.0, 1.0])
    assert series.points() == ([1, 2, 3], [3.0, 2.0, 1.0])


def test_step_counts_read_short_on_the_x_axis() -> None:
    from linreg_tui.ui.loss_plot import _count

    assert [_count(n) for n in (0, 999, 750_000, 1_250_000, 3_000_000)] == ["0", "999", "750k", "1.25M", "3M"]
