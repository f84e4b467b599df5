"""The learning-rate curve: measured from a sweep's rows, said beside the theory's bound, drawn in the app."""

from __future__ import annotations

import dataclasses
import math

from textual.widgets import DataTable

from linreg_tui.run.config import RunConfig
from linreg_tui.run.lr_curve import lr_curve
from linreg_tui.run.result import RunResult
from linreg_tui.run.sweep import SweepPoint, SweepRow
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.messages import SweepProgress, SweepRowEnded
from linreg_tui.ui.panels.sweep import RESULT_WIDTHS, Sweep, SweepScreen, row_cells, training_row
from linreg_tui.ui.plots.lr_curve import LrCurvePlot
from linreg_tui.ui.screen.sweep_runner import BATCHED_DRAWN, BATCHED_IN_APP, BATCHED_NOT_DRAWN
from tests.apptools import log_text, set_field, wait_ready, wait_until
from tests.test_experiments_app import run_sweep_to_end

BOUND = 1.8


def row(lr: float, loss: float | None, seed: int = 0, config: RunConfig | None = None) -> SweepRow:
    config = dataclasses.replace(config or RunConfig(), lr=lr, seed=seed)
    status = "finished" if loss is not None else "diverged"
    result = RunResult(status, config, "cpu", (2.0, -3.4), 4.2, None, (), 300, 0.1, max_stable_lr=BOUND)  # type: ignore[arg-type]
    return SweepRow(SweepPoint(config, {"lr": str(lr)}, seed), status, loss, None, None, None, 300, 0.1, result)


def test_the_curve_finds_the_lowest_loss_the_turn_up_and_the_first_divergence() -> None:
    rows = [row(0.01, 1.0), row(0.1, 1e-4), row(1.0, 2e-4), row(1.5, 5e-3), row(2.0, None), row(3.0, None)]
    curve = lr_curve(rows)
    assert curve.best is not None and curve.best.lr == 0.1
    assert curve.turns_up == 1.5 and curve.diverges == 2.0 and curve.bound == BOUND
    said = curve.sentence()
    assert "lowest loss 0.0001 at lr 0.1" in said and "turns up from lr 1.5" in said
    assert "runs diverge from lr 2" in said and "bound 2/λmax is 1.8" in said
    assert "rates tried between it and 2 (1.5, …)" not in said  # 1.5 is below the bound 1.8
    assert "no rate between the bound and 2 was tried" in said  # so nothing is claimed between them
    above = lr_curve([*rows, row(1.9, 3e-3)]).sentence()
    assert "the rates tried between it and 2 (1.9) did not overflow in 300 steps" in above


def test_repeats_give_each_rate_its_median_and_range_and_a_divergence_below_the_bound_is_named() -> None:
    rows = [row(0.1, loss, seed) for seed, loss in enumerate((1e-4, 3e-4, 2e-4))] + [row(1.0, None, 0)]
    point = lr_curve(rows).points[0]
    assert (point.median, point.low, point.high, point.runs) == (2e-4, 1e-4, 3e-4, 3)
    assert "minibatch noise makes runs diverge below the full-batch bound" in lr_curve(rows).sentence()


def test_momentum_runs_with_one_beta_get_their_own_bound() -> None:
    momentum = RunConfig(optimizer="momentum", momentum=0.5)
    curve = lr_curve([row(0.1, 1e-4, config=momentum), row(1.0, 1e-3, config=momentum)])
    assert curve.momentum_bound is not None and math.isclose(curve.momentum_bound, BOUND * 1.5)
    assert "(2 + 2β)/λmax = 2.7" in curve.sentence()


async def test_the_app_draws_a_big_learning_rate_sweep_batched_as_its_curve() -> None:
    app = LinregApp()
    async with app.run_test(size=(130, 44)) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "epochs", "1")
        await set_field(pilot, "lr", "1e-3..5:20 log")
        await run_sweep_to_end(pilot, app)
        sweep = app.main_screen.sweep
        assert sweep is not None and sweep.state == "finished" and len(sweep.rows) == 20
        assert all(row.batched == 20 for row in sweep.rows)
        assert BATCHED_IN_APP.format(count=20, total=20, programs=1, s="") in log_text(app)
        assert BATCHED_NOT_DRAWN in log_text(app) and len(app.main_screen.session.history.records) == 0
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen))
        plot = app.screen.query_one(LrCurvePlot)
        said = str(plot.says.render())
        assert "learning-rate curve: lowest loss" in said and "runs diverge from lr" in said
        assert "× diverged" not in said and "x diverged (top edge)" in said


async def test_a_small_batched_sweep_is_drawn_on_the_loss_chart_and_kept_in_the_history() -> None:
    app = LinregApp()
    async with app.run_test(size=(130, 44)) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "lr", "0.01, 9, 0.03")
        await run_sweep_to_end(pilot, app)
        sweep = app.main_screen.sweep
        assert sweep is not None and [row.batched for row in sweep.rows] == [3, 3, 3]
        assert BATCHED_IN_APP.format(count=3, total=3, programs=1, s="") + "; " + BATCHED_DRAWN in log_text(app)
        records = app.main_screen.session.history.records
        assert [(record.config.lr, record.status) for record in records] == [
            (0.01, "finished"),
            (9.0, "diverged"),
            (0.03, "finished"),
        ]
        loss_panel = app.main_screen.loss_panel
        drawn = [*loss_panel.previous, loss_panel.current]
        assert [history.batched for history in drawn if history is not None] == [True, True, True]
        first = records[0].loss  # an earlier run: drawn by its three epochs' losses, at each epoch's last step
        assert first.drawn_points() == ([100.0, 200.0, 300.0], list(sweep.rows[0].result.epoch_losses))  # type: ignore[union-attr]
        legend = str(loss_panel.legend.render()).replace("\xa0", " ")
        assert "#3 scratch lr=0.03: epochs (full data), trained batched" in legend and "#1 scratch lr=0.01" in legend


async def test_a_batched_program_s_rows_and_curve_fill_in_at_each_epoch_and_end_in_place() -> None:
    app = LinregApp()
    async with app.run_test(size=(130, 44)) as pilot:
        await wait_ready(pilot)
        points = [row(lr, None).point for lr in (0.01, 0.1, 5.0)]
        sweep = Sweep(points)
        app.main_screen.sweeper.sweep = sweep
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen))
        screen = app.screen
        assert isinstance(screen, SweepScreen)
        app.main_screen.post_message(SweepProgress(points, 1, [0.5, 0.01, None]))
        table = screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 3)
        assert [table.get_row_at(i)[1] for i in range(3)] == ["epoch 1/3", "epoch 1/3", "diverged"]
        app.main_screen.post_message(SweepProgress(points, 2, [0.25, 0.001, None]))
        await wait_until(pilot, lambda: table.get_row_at(0)[1] == "epoch 2/3")
        curve = lr_curve(sweep.shown_rows)
        assert curve.best is not None and (curve.best.lr, curve.best.median) == (0.1, 0.001)
        assert "lowest loss 0.001 at lr 0.1" in str(screen.query_one(LrCurvePlot).says.render())
        ended = dataclasses.replace(row(0.01, 0.2), point=points[0], batched=3)
        app.main_screen.post_message(SweepRowEnded(ended))
        await wait_until(pilot, lambda: table.get_row_at(0)[1] == "finished")
        assert table.row_count == 3 and len(sweep.progress) == 2 and sweep.rows == [ended]


def test_every_result_cell_fits_its_fixed_column_width() -> None:
    """The table's result columns have fixed widths (rows written over cost no measuring): a cell longer
    than its column would be cut, e.g. a batched time's mark."""
    long_run = RunConfig(epochs=100_000)
    rows = [
        dataclasses.replace(row(0.1, 1.234567e-05), seconds=seconds, batched=batched, steps=1_000_000)
        for seconds, batched in ((0.00039, 3), (123.45, 1), (1.5e-5, 100_000), (0.0123, 2))
    ]
    rows += [training_row(row(0.1, None, config=long_run).point, epoch, 0.5, 3) for epoch in (7, 99_999)]
    rows += [training_row(row(0.1, None).point, 2, 1.5e-5, 3)]
    for each in rows:
        for cell, width in zip(row_cells(each, []), RESULT_WIDTHS, strict=True):
            assert len(cell) <= width, (cell, width)


async def test_rows_that_ended_while_the_table_was_closed_show_their_end_when_it_opens() -> None:
    """A program's last epoch came and its rows ended with f9 closed: opening the table (and the redraw
    ticks after) shows the rows' ends, not the epoch before them."""
    app = LinregApp()
    async with app.run_test(size=(130, 44)) as pilot:
        await wait_ready(pilot)
        points = [row(lr, None).point for lr in (0.01, 0.1)]
        sweep = Sweep(points)
        main_screen = app.main_screen
        main_screen.sweeper.sweep = sweep
        main_screen.post_message(SweepProgress(points, 3, [0.5, 0.01]))
        for point, loss in zip(points, (0.2, 0.005), strict=True):
            main_screen.post_message(SweepRowEnded(dataclasses.replace(row(point.config.lr, loss), point=point)))
        await wait_until(pilot, lambda: len(sweep.rows) == 2)
        await pilot.press("f9")
        await wait_until(pilot, lambda: isinstance(app.screen, SweepScreen))
        main_screen.redraw_tick(now=True)  # what the next tick shows
        table = app.screen.query_one(DataTable)
        assert [table.get_row_at(i)[1] for i in range(table.row_count)] == ["finished", "finished"]
