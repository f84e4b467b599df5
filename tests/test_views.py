"""The issue-9 views in the real app: the Landscape map and its path, the model's line on the Data
scatter, the parameters over time, and where each view is at 120×36 and 80×24."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from textual.widgets import Static, Tabs

from linreg_tui.run.config import RunConfig
from linreg_tui.run.result import RunResult
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.screen.main_screen import MainScreen
from tests.apptools import run_to_end, wait_ready, wait_until

#: A short run of the book's problem: enough steps for a path, quick to train.
SHORT = RunConfig(epochs=2)


def shown_text(legend: Static) -> str:
    """A legend as it reads: its words kept together with no-break spaces read as spaces."""
    return str(legend.render()).replace("\xa0", " ")


def learned(result: RunResult, tracked: int) -> tuple[float, ...]:
    """What the views track of a result: w1..w_k and b."""
    return (*result.w[:tracked], result.b)


async def test_the_map_is_lowest_at_the_optimum_and_the_path_ends_at_the_learned_parameters() -> None:
    app = LinregApp(SHORT)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        screen = app.main_screen
        panel = screen.landscape_panel
        result = app.last_result
        assert result is not None and result.status == "finished"
        assert panel.border_title == "Landscape: w1 × w2 · b at optimum"
        model = panel.map.model
        assert model.cols > 20 and model.subrows > 20  # painted at the panel's size
        surface = panel.surface
        assert surface is not None
        col, subrow = model.cell(surface.optimum[0], surface.optimum[1]) or (-1, -1)
        lowest_loss = min(min(row) for row in model.losses)
        lowest_band = min(min(row) for row in model.levels)
        assert model.losses[subrow][col] == lowest_loss
        assert model.levels[subrow][col] == lowest_band
        assert max(max(row) for row in model.levels) > lowest_band  # shaded, not one colour
        # The path: from the run's initial parameters to its final ones, bounded in points.
        steps, points = panel.current.path.series() if panel.current is not None else ([], [])
        assert steps[-1] == result.steps and points[-1] == learned(result, 2)
        assert panel.current is not None and len(points) <= panel.current.path.max_points + 1


async def test_ctrl_g_cycles_the_pair_the_title_and_the_grid() -> None:
    app = LinregApp(SHORT)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        panel = app.main_screen.landscape_panel
        before = [list(row) for row in panel.map.model.losses]
        await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert panel.border_title == "Landscape: w1 × b · w2 at optimum"
        assert panel.map.model.losses != before
        surface = panel.surface
        assert surface is not None
        col, subrow = panel.map.model.cell(surface.optimum[0], surface.optimum[2]) or (-1, -1)
        assert panel.map.model.losses[subrow][col] == min(min(row) for row in panel.map.model.losses)
        for _ in range(len(surface.pairs()) - 1):  # w1×w2, w1×b, w2×b: back to the first
            await pilot.press("ctrl+g")
        await pilot.pause(0.1)
        assert panel.border_title == "Landscape: w1 × w2 · b at optimum"


async def test_with_one_feature_the_map_is_w1_by_b() -> None:
    app = LinregApp(replace(SHORT, true_w=(2.0,)))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        assert app.main_screen.landscape_panel.border_title == "Landscape: w1 × b"


async def test_with_the_huber_loss_the_map_says_it_is_the_squared_loss_not_the_runs() -> None:
    app = LinregApp(RunConfig(true_w=(2.0,), num_examples=100, epochs=1, loss="huber"))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        panel = app.main_screen.landscape_panel
        # At 120×36 the shorter wording: the map is the squared loss, not the one this run minimises.
        assert panel.border_subtitle == "map: squared loss: not this run's"
        app.main_screen.params_panel.set_texts({"loss": "squared"})
        await pilot.pause()
        await run_to_end(pilot)
        assert panel.border_subtitle == "^g next pair"  # the squared loss's run: the map is its loss


async def test_the_fit_line_is_the_learned_model_and_the_parameters_end_at_the_learned_values() -> None:
    app = LinregApp(SHORT)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        screen = app.main_screen
        result = app.last_result
        assert result is not None
        data = screen.data_plot
        preview = data.preview
        assert preview is not None
        column = data.column
        means = [math.fsum(values) / len(values) for values in preview.columns]
        other = math.fsum(w * mean for j, (w, mean) in enumerate(zip(result.w, means, strict=True)) if j != column)
        assert data.fit_line() == pytest.approx((result.w[column], result.b + other), rel=1e-12, abs=1e-12)
        assert "model" in str(data.border_subtitle) and "true" in str(data.border_subtitle)
        # Another column: the line follows it.
        await pilot.press("ctrl+n")
        await pilot.pause(0.1)
        fit = data.fit_line()
        assert fit is not None and fit[0] == result.w[data.column]
        series = screen.weights_panel.series()
        assert list(series) == ["w1", "w2", "b"]
        assert tuple(values[-1] for _, values in series.values()) == learned(result, 2)
        assert {steps[-1] for steps, _ in series.values()} == {result.steps}


async def test_the_fit_line_moves_while_training_within_the_first_epoch() -> None:
    """The line follows the tracked parameters step by step, not only the epochs' ends."""
    # 200,000 steps in one epoch (the test stops it once the line has moved three times), at a rate slow
    # enough that the line is still moving when a busy machine draws a chart only every few seconds: the
    # line settles in about 1/lr steps, and at lr 1e-4 that was over before three charts were drawn.
    app = LinregApp(replace(SHORT, num_examples=2_000_000, epochs=1, lr=0.00002))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        screen = app.main_screen
        data = screen.data_plot
        lines_in_epoch_1: set[tuple[float, float]] = set()
        original = data.replot

        def recording_replot(*args: str) -> None:
            original(*args)
            line = data.fit_line()
            history = screen.loss_panel.current
            if app.running and line is not None and history is not None and not history.epoch_steps:
                lines_in_epoch_1.add(line)

        data.replot = recording_replot  # type: ignore[method-assign]
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(lines_in_epoch_1) >= 3 or not app.running, timeout=120)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        assert len(lines_in_epoch_1) >= 3


async def test_a_diverged_run_is_clipped_to_the_view_and_says_so() -> None:
    app = LinregApp(replace(SHORT, lr=3.0))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        result = app.last_result
        assert result is not None and result.status == "diverged"
        panel = app.main_screen.landscape_panel
        (x0, x1), (y0, y1) = panel.map.model.x_range, panel.map.model.y_range
        assert all(math.isfinite(v) for v in (x0, x1, y0, y1))
        assert panel.clipped and "clipped" in shown_text(panel.legend)
        assert panel.current is not None and panel.current.path.series()[1][-1] == learned(result, 2)


async def test_a_thousand_features_still_finish_with_the_note() -> None:
    config = replace(SHORT, true_w=tuple(float(i % 5 - 2) for i in range(1000)), epochs=1, lr=0.001)
    app = LinregApp(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot, timeout=120)
        result = app.last_result
        assert result is not None and result.status == "finished"
        screen = app.main_screen
        landscape = screen.landscape_panel
        assert landscape.border_title == "Landscape: w1 × w2 · rest at optimum"  # fits 120×36 whole
        assert "(w3…w1000, b held at the optimum)" in shown_text(landscape.legend)
        assert "w1–w4 of 1,000" in shown_text(screen.weights_panel.legend)
        assert list(screen.weights_panel.series()) == ["w1", "w2", "w3", "w4", "b"]
        assert landscape.current is not None and landscape.current.path.series()[1][-1] == learned(result, 4)


async def test_earlier_runs_paths_are_drawn_with_their_numbers_and_named_by_optimizer_at_most_three() -> None:
    app = LinregApp(replace(SHORT, epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        for lr in ("0.01", "0.02", "0.04", "0.03"):  # other paths, each visible beside the others
            app.main_screen.params_panel.set_texts({"lr": lr})
            await pilot.pause()
            await run_to_end(pilot)
        app.main_screen.params_panel.set_texts({"optimizer": "momentum"})
        await pilot.pause()
        await run_to_end(pilot)
        panel = app.main_screen.landscape_panel
        assert [run.number for run in panel.previous] == [4, 3, 2]
        legend = shown_text(panel.legend)
        assert "path #5 scratch momentum lr=0.03" in legend and "#4 scratch lr=0.03" in legend
        drawn = {mark for mark, _ in panel._marker_cells(60, 20).values()}
        assert {"4", "3", "2"} <= drawn and "1" not in drawn


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (160, 48)])
async def test_each_view_is_reachable(size: tuple[int, int]) -> None:
    app = LinregApp(replace(SHORT, epochs=1))
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        for key, name in (("f6", "landscape"), ("f7", "weights"), ("f2", "data"), ("f3", "loss"), ("f4", "log")):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.main_screen.query_one(f"#{name}").region.area > 0, (key, name)
        if size[0] < 110:
            tabs = app.main_screen.query_one(Tabs)
            for name in ("landscape", "weights"):  # the tabs reach them too
                tabs.active = f"tab-{name}"
                await pilot.pause(0.1)
                assert app.main_screen.query_one(f"#{name}").region.area > 0


async def test_at_120x36_data_loss_landscape_and_results_are_shown_and_at_160_all_six() -> None:
    app = LinregApp(SHORT)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)

        def shown() -> list[str]:
            return [name for name in ("data", "loss", "weights", "landscape", "log", "results") if area(name)]

        def area(name: str) -> int:
            return app.main_screen.query_one(f"#{name}").region.area

        assert shown() == ["data", "loss", "landscape", "results"]
        await pilot.resize_terminal(160, 48)
        await pilot.pause(0.2)
        assert shown() == ["data", "loss", "weights", "landscape", "log", "results"]


def test_the_new_keys_have_ids_and_descriptions() -> None:
    bindings = {binding.id: binding for binding in MainScreen.BINDINGS if not isinstance(binding, tuple)}
    for binding_id in ("landscape-pair", "show-landscape", "show-weights"):
        binding = bindings[binding_id]  # type: ignore[index]
        assert binding.description and binding.tooltip  # type: ignore[union-attr]
