"""The Data scatter's y axis: on the bulk of the labels, a label far outside it at the edge with its
value (issue 18: the outlier preset's scatter was one flat row, its axis running to 10000)."""

from __future__ import annotations

import random

import pytest

from linreg_tui.run.config import OUTLIER_INDEX, parse_config
from linreg_tui.run.presets import apply_preset
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.plots.data import DataPlot
from linreg_tui.ui.plots.data_view import EdgeMarks, bulk_range, edge_label, with_room
from tests.apptools import drawn_series, run_to_end, wait_ready


@pytest.mark.parametrize("seed", range(20))
def test_normal_labels_are_all_in_view_whatever_their_scale(seed: int) -> None:
    rng = random.Random(seed)
    scale = 10 ** rng.uniform(-3, 6)
    labels = [rng.gauss(4.2, 1.0) * scale for _ in range(2000)]
    assert bulk_range(labels) == (min(labels), max(labels))


def test_a_label_far_out_on_either_side_is_left_out_of_the_view_and_named_at_its_edge() -> None:
    rng = random.Random(0)
    labels = [rng.gauss(4.2, 5.0) for _ in range(1000)]
    labels[4], labels[7], labels[9] = 10000.0, -5000.0, 900.0
    low, high = bulk_range(labels)
    inliers = [y for row, y in enumerate(labels) if row not in (4, 7, 9)]
    assert (low, high) == (min(inliers), max(inliers))
    marks = EdgeMarks.beyond(labels, low, high)
    assert (marks.above, marks.below) == ((4, 9), (7,))  # the most extreme first
    assert edge_label(marks.above, labels, "↑", arrow_first=False) == "y₅ = 10000 (+1 more) ↑"
    assert edge_label(marks.below, labels, "↓", arrow_first=True) == "↓ y₈ = -5000"


def test_few_or_equal_labels_still_make_an_axis() -> None:
    assert bulk_range([7.0]) == (7.0, 7.0)  # one example: no quartiles to take
    assert bulk_range([4.2] * 10 + [10000.0]) == (4.2, 4.2)  # noise 0, w 0: the outlier alone is out
    low, high = with_room(4.2, 4.2)
    assert low < 4.2 < high  # an axis of no height cannot be drawn


async def test_the_outlier_presets_axis_holds_the_bulk_and_its_edge_names_y5() -> None:
    app = LinregApp(parse_config(apply_preset("outlier")), preset="outlier")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)  # the squared loss's line, dragged by y₅, is drawn too
        plot = app.query_one(DataPlot)
        assert plot.preview is not None and plot.preview.labels[OUTLIER_INDEX] == 10000
        low, high = plot.plt._active.monitor.ylim[0]  # the axis as plotext draws it
        assert high < 100 and low > -100
        drawn = drawn_series(plot)
        _, scattered = drawn["cyan"]  # type: ignore[index]
        assert len(scattered) == len(plot.preview.labels) - 1 and max(scattered) <= high
        for color in ((130, 130, 130), (255, 165, 0)):  # the true line and the model's: in the same view
            _, ends = drawn[color]
            assert all(low <= y <= high for y in ends)
        assert plot.edge_marks.above == (OUTLIER_INDEX,) and drawn[(255, 80, 80)][1] == [high]
        chart = str(plot.render())
        assert "y₅ = 10000 ↑" in chart or "↑ y₅ = 10000" in chart
