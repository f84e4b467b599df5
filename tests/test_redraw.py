"""What the app's frames cost while a run trains: the pace of the redraws, the footer and the focus at a
run's start, and panels that are hidden. Every millisecond of Python on the UI thread is one that the
training thread waits for the GIL (`linreg-tui bench`'s app rows measure it)."""

from __future__ import annotations

import gc
import math
from collections.abc import Sequence

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget

from linreg_tui.run import control as control_module
from linreg_tui.run.config import RunConfig
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.footer import QuietFooter
from linreg_tui.ui.plots.loss import CHART_POINTS, LossPanel
from linreg_tui.ui.plots.series import DecimatedSeries
from linreg_tui.ui.screen.main_screen import MainScreen
from linreg_tui.ui.screen.pacing import FramePacer
from linreg_tui.ui.widgets.quiet_static import QuietStatic
from tests.apptools import log_text, run_to_end, type_into, wait_ready, wait_until


def test_the_redraw_interval_grows_with_a_frames_cost_within_its_bounds() -> None:
    pacer = FramePacer(shortest=1 / 3, tick=1 / 6, longest=1.0, share=0.03)
    pacer.frame_cost(0.0)
    assert pacer.interval == pytest.approx(1 / 3)  # a cheap frame: as often as asked
    pacer.frame_cost(0.012)
    assert pacer.interval == pytest.approx(0.4)  # 12 ms is 3% of 0.4 s
    for cost in (0.5, math.inf, math.nan):
        pacer.frame_cost(cost)
        assert pacer.interval == pytest.approx(1.0)  # never less often than once a second


def test_a_frame_is_due_once_its_interval_has_passed() -> None:
    pacer = FramePacer(shortest=1 / 3, tick=1 / 6)
    pacer.frame_cost(0.015)  # 0.5 s apart at the default share (3%)
    assert pacer.due(10.0)
    assert not pacer.due(10.0 + 1 / 6)
    assert not pacer.due(10.0 + 2 / 6)
    assert pacer.due(10.0 + 3 / 6 - 0.01)  # the timer's jitter: a tick a little early is taken


async def test_a_focus_move_that_changes_no_key_keeps_the_footer() -> None:
    """Textual's footer rebuilds all its keys (a restyle and a layout pass) on every refresh of the
    bindings, two per focus move; QuietFooter only when the keys it shows change."""
    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        keys = list(app.query_one(QuietFooter).children)
        await pilot.press("tab", "tab")  # the focus moves down the form
        await pilot.pause()
        assert list(app.query_one(QuietFooter).children) == keys
        await run_to_end(pilot)  # Run and Stop change state: the footer follows
        assert list(app.query_one(QuietFooter).children) != keys


async def test_starting_a_run_moves_the_focus_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Straight to Stop: not from each field as it is disabled to the next (a footer refresh a hop)."""
    focused: list[Widget | None] = []
    set_focus = Screen.set_focus

    def counted(self: Screen, widget: Widget | None, *args: object, **kwargs: object) -> None:
        if widget is not self.focused:
            focused.append(widget)
        set_focus(self, widget, *args, **kwargs)  # type: ignore[arg-type]

    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        monkeypatch.setattr(Screen, "set_focus", counted)
        await pilot.press("ctrl+t")  # a run paused before step 1: the form stays locked
        await wait_until(pilot, lambda: app.running)
        await pilot.pause()
        assert [widget.id if widget else None for widget in focused] == ["stop"]
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)


async def test_a_hidden_loss_chart_is_not_drawn_until_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """80×24: the panels are tabs, Data shown. The loss chart takes no frame while hidden; shown, it
    draws the run at once (not at the next frame, up to a second later)."""
    replots: list[int] = []
    replot = LossPanel.replot

    def counted(self: LossPanel) -> None:
        replots.append(len(self.current.steps) if self.current else 0)
        replot(self)

    app = LinregApp(RunConfig(epochs=2))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        monkeypatch.setattr(LossPanel, "replot", counted)
        await run_to_end(pilot)
        assert not any(replots)  # none with steps (the earlier runs are set, before any, at the start)
        before = len(replots)
        assert app.main_screen.redraw_timer is not None
        app.main_screen.redraw_timer.pause()  # no frame comes: shown, it draws at once all the same
        await pilot.press("f3")
        await wait_until(pilot, lambda: len(replots) > before)
        assert replots[-1] > 0


async def test_the_form_says_the_estimated_bound_before_any_run() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await type_into(pilot, "scales", "1,4")
        await wait_until(pilot, lambda: "estimate before the run" in log_text(app))
        assert "largest stable lr (full-batch GD on this loss): 0.125" in log_text(app)


async def test_the_run_waits_for_the_panels_to_show_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app tells the run when its panels show the start (RunControl.start_shown): with the run's
    patience made endless, a run in the app still trains to its end."""
    monkeypatch.setattr(control_module, "START_HOLD_SECONDS", math.inf)
    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot, timeout=20)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_the_apps_objects_are_left_out_of_the_garbage_collector_while_a_run_trains() -> None:
    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        assert gc.get_freeze_count() == 0
        await pilot.press("ctrl+t")  # paused before step 1: the run is on
        await wait_until(pilot, lambda: app.running)
        assert gc.get_freeze_count() > 100_000  # the widgets, styles and caches
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        assert gc.get_freeze_count() == 0  # collected as usual again


async def test_the_progress_line_moves_without_the_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts' frames slow down as they cost more; the progress line keeps its own pace."""
    monkeypatch.setattr(MainScreen, "redraw_tick", lambda self: None)
    # 2 million steps: still training when the line first shows an ETA, however fast the machine (20,000
    # steps could end before it did, and the wait for "ETA" then never ended).
    app = LinregApp(RunConfig(num_examples=200_000, epochs=100))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "ETA" in app.main_screen.status_bar.text)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)


class OneLegend(App[None]):
    def compose(self) -> ComposeResult:
        yield QuietStatic("a legend")


async def test_a_legend_lays_the_screen_out_only_when_its_height_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    layouts: list[int] = []
    refresh_layout = Screen._refresh_layout

    def counted(self: Screen, *args: object, **kwargs: object) -> None:
        layouts.append(1)
        refresh_layout(self, *args, **kwargs)  # type: ignore[arg-type]

    app = OneLegend()
    async with app.run_test(size=(20, 10)) as pilot:
        await pilot.pause()
        legend = app.query_one(QuietStatic)
        monkeypatch.setattr(Screen, "_refresh_layout", counted)
        legend.update("other words")  # one line, as before
        await pilot.pause()
        assert layouts == [] and legend.size.height == 1
        legend.update("a legend that needs three lines at this width")
        await pilot.pause()
        assert layouts and legend.size.height == 3


async def test_the_loss_chart_shows_a_runs_end_without_waiting_for_a_frame() -> None:
    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        assert app.main_screen.redraw_timer is not None
        app.main_screen.redraw_timer.pause()  # no frame comes: only the run's end can draw it
        await run_to_end(pilot)
        loss = app.query_one(LossPanel)
        assert loss.current is not None and len(loss.current.steps) == 100
        assert "scratch lr=0.03: steps" in str(loss.legend.render()).replace("\u00a0", " ")


async def test_a_hidden_landscape_draws_the_runs_path_once_shown() -> None:
    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_ready(pilot)
        assert app.main_screen.redraw_timer is not None
        app.main_screen.redraw_timer.pause()  # no frame comes: only being shown can draw it
        await run_to_end(pilot)
        landscape = app.main_screen.landscape_panel
        drawn = landscape.version
        await pilot.press("f6")
        await wait_until(pilot, lambda: landscape.version > drawn)


async def test_each_chunk_of_losses_is_summed_once_for_the_chart_and_the_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast engine hands the UI 65,536 losses a chunk: summing them costs about 0.5 ms a pass, so the
    chart draws the series the run's JSON keeps (merged to CHART_POINTS) rather than keeping its own."""
    passes: list[int] = []
    extend = DecimatedSeries.extend

    def counted(self: DecimatedSeries, first_x: int, values: Sequence[float]) -> None:
        passes.append(len(values))
        extend(self, first_x, values)

    monkeypatch.setattr(DecimatedSeries, "extend", counted)
    app = LinregApp(RunConfig(impl="fast", num_examples=20_000, epochs=3))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        screen, session = app.main_screen, app.main_screen.session
        assert session.last_result is not None and sum(passes) == session.last_result.steps == 6_000
        assert session.trace is not None and len(session.trace.losses) == 6_000  # every step, for the JSON
        assert screen.loss_panel.current is not None
        assert len(screen.loss_panel.current.steps.coarse_points(CHART_POINTS)[0]) <= CHART_POINTS + 1
