"""The real app, driven headless with Pilot: what a person does and sees."""

from __future__ import annotations

import fcntl
import math
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest
import torch
from textual.message import Message
from textual.widgets import Button, DataTable, Input, Select, Static, Tabs
from textual.widgets._footer import FooterKey
from textual.widgets._markdown import MarkdownTableCellContents

from linreg_tui.run.config import RunConfig
from linreg_tui.run.devices import DeviceChoice
from linreg_tui.run.preview import DataPreview
from linreg_tui.run.result import RunResult
from linreg_tui.training.engines import ScratchEngine
from linreg_tui.training.loop import train
from linreg_tui.training.run_data import preview_for
from linreg_tui.training.statistics import least_squares
from linreg_tui.ui import messages
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.help import HelpScreen
from linreg_tui.ui.plots.loss import EPOCH_COLOR, STEP_COLOR, LossPanel
from tests.apptools import drawn_series, log_text, run_to_end, set_field, type_into, wait_ready, wait_until


async def test_starts_with_the_books_defaults() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        texts = app.main_screen.params_panel.texts()
        book = {
            "true_w": "2, -3.4",
            "true_b": "4.2",
            "num_examples": "1000",
            "noise": "0.01",
            "batch_size": "10",
            "lr": "0.03",
            "epochs": "3",
            "seed": "0",
            "impl": "scratch",
            "device": "cpu",
        }
        assert {name: texts[name] for name in book} == book
        assert "CUDA:" in log_text(app)
        plot = app.main_screen.data_plot
        assert plot.border_title == "Data: x₂ (w2's feature) vs labels"  # the book's features[:, 1]
        assert "1,000 points" in str(plot.border_subtitle)


async def test_flags_prefill_the_form() -> None:
    app = LinregApp(RunConfig(true_w=(1.0, 2.0, 3.0), lr=0.1, impl="concise", seed=9))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        texts = app.main_screen.params_panel.texts()
        assert (texts["true_w"], texts["lr"], texts["impl"], texts["seed"]) == ("1, 2, 3", "0.1", "concise", "9")


async def test_a_run_trains_to_the_truth_and_reports_it_everywhere() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        result = app.last_result
        assert result is not None and result.status == "finished" and result.steps == 300
        assert max(abs(e) for e in result.w_error) < 0.01 and abs(result.b_error) < 0.01
        log = log_text(app)
        for line in ("epoch 1, loss", "epoch 3, loss", "error in estimating w:", "features: [", "loss: scratch"):
            assert line in log
        table = app.query_one(DataTable)
        assert table.row_count == 3
        assert [table.get_row_at(i)[0] for i in range(3)] == ["w1", "w2", "b"]
        assert float(table.get_row_at(0)[2]) == pytest.approx(result.w[0], abs=1e-5)
        summary = str(app.query_one("#results-summary", Static).render())
        assert summary.startswith("finished · 300 steps")
        assert "finished" in str(app.main_screen.sub_title)
        loss = app.query_one(LossPanel)
        assert loss.current is not None and loss.current.epoch_losses == list(result.epoch_losses)
        assert app.main_screen.status_bar.shown_step is None


async def test_the_same_seed_reproduces_a_run_and_runs_are_compared() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        first = app.last_result
        await run_to_end(pilot)
        second = app.last_result
        assert first is not None and second is not None and first is not second
        assert (first.w, first.b, first.epoch_losses) == (second.w, second.b, second.epoch_losses)
        await set_field(pilot, "lr", "0.01")
        await run_to_end(pilot)
        loss = app.query_one(LossPanel)
        assert [h.label for h in loss.previous] == ["scratch lr=0.03", "scratch lr=0.03"]
        assert loss.current is not None and loss.current.label == "scratch lr=0.01"
        legend = str(loss.legend.render()).replace("\u00a0", " ")
        assert legend.count("scratch lr=0.03") == 2 and "scratch lr=0.01: steps" in legend
        await pilot.press("ctrl+o")
        assert loss.previous == []
        assert "earlier runs hidden from the loss chart and the landscape" in log_text(app)


async def test_the_loss_charts_epoch_points_sit_at_each_epochs_last_step() -> None:
    """1,005 examples in batches of 10: 101 steps an epoch (the last one short), so epoch k's full-data loss
    is drawn at step 101·k, over the minibatch loss of that same step."""
    app = LinregApp(RunConfig(num_examples=1005))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        result = app.last_result
        assert result is not None and result.status == "finished"
        series = drawn_series(app.query_one(LossPanel).chart)
        epoch_xs, epoch_ys = series[EPOCH_COLOR]
        step_xs, _ = series[STEP_COLOR]
        assert epoch_xs == [101, 202, 303] and epoch_xs[-1] == result.steps
        assert epoch_ys == list(result.epoch_losses)
        assert set(epoch_xs) <= set(step_xs) and max(step_xs) == result.steps


async def test_log_scale_draws_the_log10_of_each_loss_and_linear_draws_the_losses() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        loss = app.query_one(LossPanel)
        result = app.last_result
        assert result is not None and not loss.log_y
        linear = drawn_series(loss.chart)
        assert linear[EPOCH_COLOR][1] == list(result.epoch_losses)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: loss.log_y)  # its watcher replots at once
        assert "log y" in str(loss.border_title)
        logged = drawn_series(loss.chart)
        for color in (STEP_COLOR, EPOCH_COLOR):
            xs, ys = linear[color]
            assert logged[color][0] == xs and len(xs) > 1
            assert logged[color][1] == pytest.approx([math.log10(y) for y in ys], rel=1e-12)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: not loss.log_y)
        assert drawn_series(loss.chart) == linear and "linear y" in str(loss.border_title)


@pytest.mark.parametrize("lr", ["0.03", "0.03, 0.1"], ids=["run", "sweep"])
async def test_a_stop_in_the_same_moment_as_the_start_ends_the_run(lr: str) -> None:
    """esc handled before the run's thread began: Textual then never calls the worker, so no event of the
    run's would end it (the app said "stopping…" for good). The run ends, and the next one trains."""
    app = LinregApp(RunConfig(num_examples=100, epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "lr", lr)
        screen = app.main_screen
        screen.action_run()
        screen.action_stop()  # the same tick: the worker's task has not run yet
        await wait_until(pilot, lambda: not app.running)
        assert "stopped" in screen.status_bar.text
        await set_field(pilot, "lr", "0.03")
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_escape_stops_a_run_and_the_next_one_works() -> None:
    app = LinregApp(RunConfig(epochs=2000))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: (app.main_screen.status_bar.shown_step or 0) > 50)
        assert app.running
        assert app.query_one("#true_w", Input).is_disabled  # the form is locked while training
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)  # a guard, not a timing: the result below says how it ended
        result = app.last_result
        assert result is not None and result.status == "cancelled" and 0 < result.steps < 2000 * 100
        assert "cancelled in epoch" in log_text(app)
        assert not app.query_one("#true_w", Input).is_disabled
        await set_field(pilot, "epochs", "1")
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_a_bad_field_is_refused_with_its_message() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await type_into(pilot, "lr", "abc")
        message = app.query_one("#form-message", Static)
        assert "learning rate: 'abc' is not a number" in str(message.render())
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert not app.running and app.last_result is None
        assert "not started: learning rate: 'abc'" in log_text(app)
        await type_into(pilot, "lr", "0.5")
        assert str(message.render()) == ""
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"
        assert app.last_result.config.lr == 0.5


async def test_divergence_is_shown_and_the_chart_copes() -> None:
    app = LinregApp(RunConfig(lr=5.0))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        result = app.last_result
        assert result is not None and result.status == "diverged"
        log = log_text(app)
        assert "diverged in epoch 1 at step" in log and "Try a smaller learning rate, e.g. 0.5" in log
        assert app.main_screen.status_bar.text.startswith("diverged at epoch 1, step")
        table = app.query_one(DataTable)
        assert float(table.get_row_at(0)[2]) == pytest.approx(result.w[0], rel=5e-3)  # as many digits as shown
        loss = app.query_one(LossPanel)
        assert loss.log_y and "log y axis, to show the blow-up" in log
        await pilot.press("ctrl+l")  # back to linear: losses near 1e37 still get short tick labels
        await pilot.pause(0.3)
        chart = app.query_one("#loss-chart").render()
        assert not loss.log_y and not re.search(r"\d{12,}", str(chart))


async def test_a_fault_in_the_worker_ends_the_run_as_failed_and_the_app_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = ScratchEngine.run_steps

    def broken(self: ScratchEngine, batches: list[object], lrs: Sequence[float] | None = None) -> torch.Tensor:
        raise RuntimeError("CUDA error: an illegal memory access was encountered (injected)")

    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        monkeypatch.setattr(ScratchEngine, "run_steps", broken)
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "failed"
        assert "RuntimeError: CUDA error: an illegal memory access" in log_text(app)
        monkeypatch.setattr(ScratchEngine, "run_steps", original)
        await run_to_end(pilot)
        assert app.last_result.status == "finished"


async def test_an_unexpected_worker_error_is_logged_and_the_app_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("something nobody expected")

    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        monkeypatch.setattr("linreg_tui.training.loop.train", broken)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "error while training: ValueError: something" in log_text(app))
        await wait_until(pilot, lambda: not app.running)
        # The conditioning estimate's worker (the form changed): its error names it, not another worker.
        monkeypatch.setattr("linreg_tui.training.conditioning.conditioning_for", broken)
        await set_field(pilot, "batch_size", "20")
        await wait_until(pilot, lambda: "error while estimating the conditioning: ValueError" in log_text(app))
        monkeypatch.undo()
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_absent_cuda_is_refused_before_anything_starts() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    app = LinregApp(RunConfig(device="cuda"))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "not started" in log_text(app))
        assert not app.running and app.last_result is None
        assert "device: 'cuda' is not available" in str(app.query_one("#form-message", Static).render())


async def test_quitting_mid_run_stops_the_worker_promptly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quitting cancels the app's workers; the training thread watches its worker's cancelled_event."""
    ended: list[RunResult] = []
    thread_done = threading.Event()

    def recording_train(*args: Any, **kwargs: Any) -> RunResult:
        try:
            ended.append(train(*args, **kwargs))
            return ended[-1]
        finally:
            thread_done.set()

    monkeypatch.setattr("linreg_tui.training.loop.train", recording_train)
    app = LinregApp(RunConfig(epochs=5000))  # 500,000 steps: minutes, unless quitting stops it
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: (app.main_screen.status_bar.shown_step or 0) > 20)
        await pilot.press("ctrl+q")
    assert thread_done.wait(timeout=60), "the training thread went on after the app quit"
    assert ended[0].status == "cancelled" and ended[0].steps < 5000 * 100
    assert app.return_code in (0, None)


@pytest.mark.parametrize(("size", "narrow"), [((80, 24), True), ((160, 48), False)])
async def test_layouts_at_80x24_and_160x48(size: tuple[int, int], narrow: bool) -> None:
    app = LinregApp()
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        tabs = app.query_one(Tabs)
        assert tabs.display == narrow
        assert app.screen.has_class("-narrow" if narrow else "-wide")
        panels = ("data", "loss", "log", "results")  # "#panels >": the form has a field named loss
        visible = [name for name in panels if app.query_one(f"#panels > #{name}").region.area]
        assert visible == (["data"] if narrow else ["data", "loss", "log", "results"])
        await run_to_end(pilot)
        await pilot.press("f4")  # the log is one key away
        await pilot.pause(0.1)
        assert app.query_one("#log").region.area > 0
        await pilot.press("f3")
        await pilot.pause(0.1)
        assert app.query_one("#loss").region.area > 0
        assert app.query_one("#params").region.area > 0


async def test_tiny_terminal_and_resizing_during_a_run() -> None:
    app = LinregApp(RunConfig(epochs=30))
    async with app.run_test(size=(40, 12)) as pilot:
        await wait_ready(pilot)
        notice = app.query_one("#too-small", Static)
        assert notice.region.area > 0 and "too small" in str(notice.render())
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.1)
        assert notice.region.area == 0
        await pilot.press("ctrl+r")
        for width, height in ((40, 12), (80, 24), (200, 60), (61, 17), (100, 30)):
            await pilot.resize_terminal(width, height)
            await pilot.pause(0.05)
        await wait_until(pilot, lambda: not app.running, timeout=60)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_the_help_lists_every_key_of_the_footer_and_closes_with_esc_or_q() -> None:
    app = LinregApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_ready(pilot)
        await wait_until(pilot, lambda: any(key.key == "f1" for key in app.screen.query(FooterKey)))
        footer_keys = {key.key_display for key in app.screen.query(FooterKey)}
        assert len(footer_keys) >= 6
        await pilot.press("f1")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        cells = {str(cell.render()).strip() for cell in app.screen.query(MarkdownTableCellContents)}
        assert footer_keys <= cells, footer_keys - cells  # every key the footer names is explained
        assert {"f2", "f5", "tab / shift+tab"} <= cells  # and those it has no room for
        await pilot.press("q")  # closes the help: it does not type into the form behind it
        await pilot.pause(0.2)
        assert not isinstance(app.screen, HelpScreen)
        assert app.main_screen.params_panel.texts()["true_w"] == "2, -3.4"
        await pilot.press("f1")
        await pilot.pause(0.2)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, HelpScreen)


async def test_a_run_goes_on_and_reports_while_the_help_is_open() -> None:
    app = LinregApp(RunConfig(num_examples=20_000))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.last_result is not None)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.last_result is not None and app.last_result.status == "finished"
        assert "epoch 3, loss" in log_text(app)


async def test_a_new_run_shows_nothing_of_the_last_ones_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last run's final steps, noted but not yet drawn when it ended, never show in the next one."""
    first_steps = threading.Event()
    go_on = threading.Event()
    run_steps = ScratchEngine.run_steps

    def held(self: ScratchEngine, batches: list[object], lrs: Sequence[float] | None = None) -> torch.Tensor:
        first_steps.set()
        go_on.wait(timeout=60)
        return run_steps(self, batches, lrs)

    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        screen = app.main_screen
        assert screen.redraw_timer is not None
        screen.redraw_timer.pause()  # no tick draws the first run's last steps before it ends
        await run_to_end(pilot)
        assert screen.status_bar.text.startswith("finished")
        await set_field(pilot, "epochs", "1")
        monkeypatch.setattr(ScratchEngine, "run_steps", held)  # the second run stops before its first step
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: first_steps.is_set() and app.main_screen.status_bar.shown_step is not None)
        screen.status_bar.show_progress()
        assert screen.status_bar.text == "starting scratch on cpu…"  # not "epoch 3/1 · step 300/100"
        go_on.set()
        await wait_until(pilot, lambda: not app.running)


async def test_an_outdated_data_preview_never_replaces_the_current_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The preview of 3,000 examples is held until the one of 2,000 is drawn, then arrives: it is dropped."""
    slow_started, release_slow = threading.Event(), threading.Event()
    arrived: list[messages.PreviewReady] = []

    def preview_held_for_3000(config: RunConfig) -> DataPreview | None:
        if config.num_examples == 3000:
            slow_started.set()
            release_slow.wait(timeout=60)
        return preview_for(config)

    monkeypatch.setattr("linreg_tui.training.run_data.preview_for", preview_held_for_3000)

    def hook(message: Message) -> None:
        if isinstance(message, messages.PreviewReady) and message.preview and message.preview.total == 3000:
            arrived.append(message)

    app = LinregApp()
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await wait_ready(pilot)
        await type_into(pilot, "num_examples", "3000")
        await wait_until(pilot, slow_started.is_set)
        await type_into(pilot, "num_examples", "2000")
        plot = app.main_screen.data_plot
        await wait_until(pilot, lambda: plot.preview is not None and plot.preview.total == 2000)
        release_slow.set()
        await wait_until(pilot, lambda: bool(arrived))  # the hook runs as the screen takes the message
        await pilot.pause()
        assert plot.preview is not None and plot.preview.total == 2000


async def test_a_field_made_wrong_by_another_is_marked_as_you_type_and_unmarked_when_fixed() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        message = app.query_one("#form-message", Static)
        await type_into(pilot, "batch_size", "2000")
        assert "batch size: '2000' is larger than the number of examples" in str(message.render())
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert not app.running and app.last_result is None
        await type_into(pilot, "num_examples", "5000")
        assert str(message.render()) == ""
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.config.batch_size == 2000


async def test_the_run_and_stop_buttons_work_by_click_and_by_enter() -> None:
    app = LinregApp(RunConfig(epochs=2000))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.click("#run")
        await wait_until(pilot, lambda: (app.main_screen.status_bar.shown_step or 0) > 0)
        await pilot.click("#stop")
        await wait_until(pilot, lambda: not app.running)
        assert app.last_result is not None and app.last_result.status == "cancelled"
        app.query_one("#run", Button).focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: (app.main_screen.status_bar.shown_step or 0) > 0)
        assert app.focused is app.query_one("#stop", Button)  # the form locks; Stop takes the focus
        await pilot.press("enter")
        await wait_until(pilot, lambda: not app.running and app.last_result is not None)
        assert app.last_result.status == "cancelled"


async def test_escape_during_the_set_up_stops_the_run_before_its_first_step(monkeypatch: pytest.MonkeyPatch) -> None:
    in_set_up, go_on = threading.Event(), threading.Event()

    def slow_least_squares(data: Any) -> Any:
        in_set_up.set()
        go_on.wait(timeout=60)
        return least_squares(data)

    monkeypatch.setattr("linreg_tui.training.run_data.least_squares", slow_least_squares)
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, in_set_up.is_set)
        await pilot.press("escape")
        assert app.main_screen.status_bar.text == "stopping…"
        go_on.set()
        await wait_until(pilot, lambda: not app.running)
        assert app.last_result is None  # nothing was trained
        assert "stopped before training started" in log_text(app)
        assert app.main_screen.status_bar.text == "stopped before training started"
        assert not app.query_one("#true_w", Input).is_disabled


async def test_cancelling_the_apps_workers_stops_a_run() -> None:
    app = LinregApp(RunConfig(epochs=2000))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: (app.main_screen.status_bar.shown_step or 0) > 0)
        app.workers.cancel_all()
        await wait_until(pilot, lambda: not app.running)
        assert app.last_result is not None and app.last_result.status == "cancelled"


async def test_ctrl_n_draws_the_next_feature_named_by_its_weight_as_the_results_name_it() -> None:
    """One numbering: the scatter named "w2's feature" is the book's features[:, 1], and its fitted line's
    slope is what the results call w2 (the book's code counts columns from 0, the weights from 1)."""
    app = LinregApp(RunConfig(true_w=(2.0, -3.4, 1.0), num_examples=200))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        plot, table = app.main_screen.data_plot, app.query_one(DataTable)
        assert plot.preview is not None
        seen = []
        for _ in range(4):
            k = plot.column + 1
            assert plot.border_title == f"Data: x{'₁₂₃'[k - 1]} (w{k}'s feature) vs labels"
            assert plot.plt._active.monitor.xlabel[0] == f"x{'₁₂₃'[k - 1]} (w{k}'s feature)"
            drawn_xs, _ = drawn_series(plot)["cyan"]  # type: ignore[index]  # the scatter: column k - 1 of the data
            assert drawn_xs == list(plot.preview.columns[k - 1])
            fit = plot.fit_line()
            assert fit is not None and f"{fit[0]:.4g}" == f"{float(table.get_row_at(k - 1)[2]):.4g}"
            assert table.get_row_at(k - 1)[0] == f"w{k}"
            seen.append(k)
            await pilot.press("ctrl+n")
        assert seen == [2, 3, 1, 2]  # the book's column first, round all three


async def test_data_too_large_to_preview_is_drawn_when_the_run_makes_it() -> None:
    app = LinregApp()
    async with app.run_test(size=(200, 60)) as pilot:
        await wait_ready(pilot)
        plot = app.main_screen.data_plot
        await type_into(pilot, "num_examples", "20000000")  # 40 million values: more than a preview makes
        await wait_until(pilot, lambda: plot.preview is None)
        assert "the data is drawn when the run makes it" in str(plot.render())
        await type_into(pilot, "num_examples", "2000")
        await wait_until(pilot, lambda: plot.preview is not None and plot.preview.total == 2000)


async def test_the_first_paint_does_not_wait_for_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a GPU server the first CUDA call can take seconds: the form is usable meanwhile."""
    probing, answer, gave_up = threading.Event(), threading.Event(), threading.Event()

    def slow_devices() -> list[DeviceChoice]:
        probing.set()
        if not answer.wait(timeout=30):  # a probe on the UI thread blocks the test that would answer it
            gave_up.set()
        return [DeviceChoice("cpu", "cpu"), DeviceChoice("cuda:0", "cuda:0 · a GPU (80 GiB)")]

    monkeypatch.setattr("linreg_tui.training.devices.available_devices", slow_devices)
    monkeypatch.setattr("linreg_tui.training.devices.cuda_status", lambda: "1 CUDA device(s), CUDA 12.8")
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: probing.is_set() and app.main_screen.data_plot.preview is not None)
        await type_into(pilot, "epochs", "4")  # the form works while the probe waits
        assert app.main_screen.params_panel.texts()["epochs"] == "4"
        answer.set()
        await wait_until(pilot, lambda: app.main_screen.session.devices is not None)
        device = app.query_one("#device", Select)
        assert [value for _, value in device._options] == ["cpu", "auto", "cuda:0"]
        assert device.value == "cpu"  # the choice is kept
        assert "1 CUDA device(s)" in str(app.query_one("#device-note", Static).render())
    assert not gave_up.is_set()


@pytest.mark.parametrize("size", [(60, 16), (80, 24), (120, 36), (200, 60)])
async def test_run_and_stop_and_f1_help_stay_in_sight(size: tuple[int, int]) -> None:
    app = LinregApp()
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        await type_into(pilot, "lr", "x")  # a message under the form takes room too
        screen = app.screen.region
        for button in ("#run", "#stop"):
            region = app.query_one(button).region
            assert region.area and screen.contains_region(region), (button, region)
            assert app.query_one("#params").region.contains_region(region), (button, region)
        help_key = next(key for key in app.screen.query(FooterKey) if key.key == "f1")
        assert screen.contains_region(help_key.region), help_key.region


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_app_and_restores_the_terminal(signum: signal.Signals) -> None:
    """Under a real pseudo-terminal: the app leaves the alternate screen and mouse reporting and
    exits by itself, instead of dying with the terminal left in the app's modes."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the app, on the pty
        os.environ.update(TERM="xterm-256color", COLUMNS="100", LINES="32")
        os.execv(sys.executable, [sys.executable, "-m", "linreg_tui"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 0, 0))
    drawn = _read_pty_until(fd, "ctrl+r trains")
    assert "\x1b[?1049h" in drawn  # it did switch to the alternate screen
    os.kill(pid, signum)
    after = _read_pty_until(fd, None)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.WIFEXITED(status), f"killed by signal {os.WTERMSIG(status)}"
    assert os.WEXITSTATUS(status) == 128 + signum  # as a shell reports a job the signal ended
    assert "\x1b[?1049l" in after and "\x1b[?1000l" in after  # the alternate screen and the mouse off
    assert "Traceback" not in after


def _read_pty_until(fd: int, text: str | None, timeout: float = 60.0) -> str:
    """What the app writes, until `text` appears (None: until it closes the terminal)."""
    received = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the app exited and the pty closed
            chunk = b""
        if not chunk:
            return received.decode(errors="replace")
        received += chunk
        if text is not None and text in received.decode(errors="replace"):
            return received.decode(errors="replace")
    raise AssertionError(f"waited {timeout} s for {text!r}; got {received[-500:]!r}")


async def test_a_refused_preview_of_a_value_typed_on_the_way_does_not_replace_the_fields_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Typing 1e999 passes through 1e9 (valid, too large for memory): that refusal comes after the typing."""
    previewing, typed = threading.Event(), threading.Event()
    refusals: list[messages.PreviewRefused] = []

    def held_free_bytes() -> int:
        previewing.set()
        typed.wait(timeout=60)
        return 2**30  # 1 GiB free, whatever this machine has: 1e9 examples do not fit

    def hook(message: Message) -> None:
        if isinstance(message, messages.PreviewRefused):
            refusals.append(message)

    app = LinregApp()
    async with app.run_test(size=(120, 36), message_hook=hook) as pilot:
        await wait_ready(pilot)
        monkeypatch.setattr("linreg_tui.ui.screen.form_watch.host_free_bytes", held_free_bytes)
        await type_into(pilot, "num_examples", "1e999")
        await wait_until(pilot, previewing.is_set)
        typed.set()
        await wait_until(pilot, lambda: bool(refusals))
        await pilot.pause()
        assert "examples: '1e999' is out of range" in str(app.query_one("#form-message", Static).render())
