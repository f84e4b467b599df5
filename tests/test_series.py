"""The loss chart's bounded series: any number of steps, at most max_points points, means preserved."""

from __future__ import annotations

import itertools

import pytest

from linreg_tui.ui.plots.series import DecimatedSeries


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
    from linreg_tui.ui.plots.loss import _count

    assert [_count(n) for n in (0, 999, 750_000, 1_250_000, 3_000_000)] == ["0", "999", "750k", "1.25M", "3M"]


def assert_each_point_is_the_mean_of_its_steps(xs: list[float], ys: list[float], total: int) -> None:
    """Step k's loss is k: a point covering steps x … x'−1 reads (x + x' − 1) / 2."""
    assert xs == sorted(xs) and xs[0] == 1
    for x, end, y in zip(xs, [*xs[1:], total + 1], ys, strict=True):
        assert y == pytest.approx((x + end - 1) / 2), (x, end, y)


@pytest.mark.parametrize("chunks", [[1] * 3000, [7] * 500, [65_536, 1, 3, 40_000], [1000, 999, 1001, 17]])
def test_the_chart_draws_the_kept_points_merged_as_a_smaller_series_would_hold_them(chunks: list[int]) -> None:
    total = sum(chunks)
    kept, small = DecimatedSeries(max_points=2_000), DecimatedSeries(max_points=50)
    values = [float(k) for k in range(1, total + 1)]
    feed(kept, values, chunks)
    feed(small, values, chunks)
    xs, ys = kept.coarse_points(50)
    assert len(xs) <= 51  # at most 50 whole points, and the leftover
    assert_each_point_is_the_mean_of_its_steps(xs, ys, total)
    # Merged in runs of 2^k: every whole point covers the same steps, as a series kept to 50 would.
    widths = {b - a for a, b in itertools.pairwise(xs)}
    assert len(widths) <= 1 and all(width & (width - 1) == 0 for width in widths)
    assert len(small.points()[0]) // 2 <= len(xs) <= 2 * len(small.points()[0])


@pytest.mark.parametrize("chunks", [[1] * 3000, [7] * 500, [65_536, 1, 3, 40_000], [1000, 999, 1001, 17]])
def test_a_series_shrunk_keeps_fewer_points_each_still_the_mean_of_its_steps(chunks: list[int]) -> None:
    total = sum(chunks)
    series = DecimatedSeries(max_points=2_000)
    feed(series, [float(k) for k in range(1, total + 1)], chunks)
    series.shrink(30)
    assert len(series) <= 31
    assert_each_point_is_the_mean_of_its_steps(*series.points(), total)
    series.extend(total + 1, [float(k) for k in range(total + 1, total + 2_000)])  # and it stays so
    assert len(series) <= 31
    assert_each_point_is_the_mean_of_its_steps(*series.points(), total + 1_999)


def test_a_series_already_small_enough_is_drawn_as_it_is_open_bucket_included() -> None:
    series = DecimatedSeries(max_points=2)
    series.extend(1, [1.0, 2.0, 3.0, 4.0, 5.0])  # two points of two steps, and step 5 in the open bucket
    assert series.coarse_points(100) == series.points() == ([1, 3, 5], [1.5, 3.5, 5.0])
