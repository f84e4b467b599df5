"""The loss chart's bounded series: any number of steps, at most max_points points, means preserved."""

from __future__ import annotations

import pytest

from linreg_tui.ui.series import DecimatedSeries


def feed(series: DecimatedSeries, values: list[float], chunks: list[int]) -> None:
    first = 1
    for size in chunks:
        series.extend(first, values[first - 1 : first - 1 + size])
        first += size


@pytest.mark.parametrize("chunks", [[1] * 3000, [7] * 500, [65_536, 1, 3, 40_000], [1000, 999, 1001, 17]])
def test_bounded_ordered_and_each_point_the_mean_of_its_steps(chunks: list[int]) -> None:
    """Step k's loss is k, so a point that covers steps x … x'−1 (x' the next point's step) must read
    (x + x' − 1) / 2, and the last one (x + N) / 2: checked without the series' own bookkeeping."""
    total = sum(chunks)
    series = DecimatedSeries(max_points=100)
    feed(series, [float(k) for k in range(1, total + 1)], chunks)
    xs, ys = series.points()
    assert len(xs) <= 101  # the points plus the open bucket
    assert xs == sorted(xs) and xs[0] == 1
    ends = [*xs[1:], total + 1]
    for x, end, y in zip(xs, ends, ys, strict=True):
        assert y == pytest.approx((x + end - 1) / 2), (x, end, y)


def test_few_steps_are_kept_as_they_are() -> None:
    series = DecimatedSeries(max_points=100)
    series.extend(1, [3.0, 2.0, 1.0])
    assert series.points() == ([1, 2, 3], [3.0, 2.0, 1.0])


def test_step_counts_read_short_on_the_x_axis() -> None:
    from linreg_tui.ui.loss_plot import _count

    assert [_count(n) for n in (0, 999, 750_000, 1_250_000, 3_000_000)] == ["0", "999", "750k", "1.25M", "3M"]
