"""The real app, driven headless with Pilot: what a person does and sees."""

from __future__ import annotations

import asyncio
import re

import pytest
import torch
from textual.widgets import DataTable, Input, ProgressBar, Static, Tabs

from linreg_tui.config import RunConfig
from linreg_tui.engines import ScratchEngine
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.loss_plot import LossPanel
from linreg_tui.ui.params import ParamsPanel
from tests.apptools import log_text, run_to_end, set_field, wait_ready, wait_until


async def test_starts_with_the_books_defaults() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        texts = app.query_one(ParamsPanel).texts()
        assert texts == {
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
        assert "CUDA:" in log_text(app)
        assert "features[:, 1] vs labels · 1,000 pts" in str(app.query_one("#data").border_title)


async def test_flags_prefill_the_form() -> None:
    app = LinregApp(RunConfig(true_w=(1.0, 2.0, 3.0), lr=0.1, impl="concise", seed=9))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        texts = app.query_one(ParamsPanel).texts()
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
        assert "finished" in app.sub_title
        loss = app.query_one(LossPanel)
        assert loss.current is not None and loss.current.epoch_losses == list(result.epoch_losses)
        assert not app.query_one(ProgressBar).display


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
        assert "earlier runs cleared" in log_text(app)


async def test_log_scale_toggle() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        loss = app.query_one(LossPanel)
        assert not loss.log_y
        await pilot.press("ctrl+l")
        await pilot.pause(0.2)
        assert loss.log_y and "log y" in str(loss.border_title)
        await pilot.press("ctrl+l")
        await pilot.pause(0.2)
        assert not loss.log_y and "linear y" in str(loss.border_title)


async def test_escape_stops_a_run_and_the_next_one_works() -> None:
    app = LinregApp(RunConfig(epochs=2000))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.query_one(ProgressBar).progress > 50)
        assert app.running
        assert app.query_one("#true_w", Input).is_disabled  # the form is locked while training
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running, timeout=5)
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
        await set_field(pilot, "lr", "abc")
        message = app.query_one("#form-message", Static)
        assert "learning rate: 'abc' is not a number" in str(message.render())
        await pilot.press("ctrl+r")
        await pilot.pause(0.2)
        assert not app.running and app.last_result is None
        assert "not started: learning rate: 'abc'" in log_text(app)
        assert app.query_one("#lr", Input).has_class("-invalid")
        await set_field(pilot, "lr", "0.03")
        await run_to_end(pilot)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_divergence_is_shown_and_the_chart_copes() -> None:
    app = LinregApp(RunConfig(lr=5.0))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        result = app.last_result
        assert result is not None and result.status == "diverged"
        log = log_text(app)
        assert "diverged in epoch 1 at step" in log and "Try a smaller learning rate, e.g. 0.5" in log
        assert "diverged" in str(app.query_one("#status", Static).render())
        table = app.query_one(DataTable)
        assert float(table.get_row_at(0)[2]) == pytest.approx(result.w[0], rel=1e-5)
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

    def broken(self: ScratchEngine, batches: list[object]) -> torch.Tensor:
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
        monkeypatch.setattr("linreg_tui.ui.app.train", broken)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "something nobody expected" in log_text(app))
        await wait_until(pilot, lambda: not app.running)
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


async def test_quitting_mid_run_stops_the_worker_promptly() -> None:
    app = LinregApp(RunConfig(epochs=5000))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.query_one(ProgressBar).progress > 20)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await pilot.press("ctrl+q")
    assert loop.time() - started < 3
    assert app.cancel.is_set()
    assert app.return_code in (0, None)


@pytest.mark.parametrize(("size", "narrow"), [((80, 24), True), ((160, 48), False)])
async def test_layouts_at_80x24_and_160x48(size: tuple[int, int], narrow: bool) -> None:
    app = LinregApp()
    async with app.run_test(size=size) as pilot:
        await wait_ready(pilot)
        tabs = app.query_one(Tabs)
        assert tabs.display == narrow
        assert app.screen.has_class("-narrow" if narrow else "-wide")
        visible = [name for name in ("data", "loss", "log", "results") if app.query_one(f"#{name}").region.area]
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


async def test_help_screen_explains_keys_and_the_2x_learning_rate() -> None:
    app = LinregApp()
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ == "HelpScreen"
        text = app.screen.query_one("Markdown").source
        assert "concise at learning rate η" in text and "scratch at 2η" in text and "ctrl+r" in text
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert type(app.screen).__name__ != "HelpScreen"


async def test_a_run_goes_on_and_reports_while_the_help_is_open() -> None:
    app = LinregApp(RunConfig(num_examples=20_000))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await pilot.press("f1")
        await wait_until(pilot, lambda: app.last_result is not None)
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause(0.3)
        assert app.last_result is not None and app.last_result.status == "finished"
        assert "epoch 3, loss" in log_text(app)


async def test_a_new_run_shows_nothing_of_the_last_ones_progress() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        await set_field(pilot, "epochs", "1")
        await set_field(pilot, "num_examples", "200000")
        await pilot.press("ctrl+r")
        for _ in range(10):  # the first redraw ticks, before the new run reports its first steps
            await pilot.pause(0.05)
            assert "epoch 3/1" not in str(app.query_one("#status", Static).render())
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)


async def test_an_outdated_data_preview_never_replaces_the_current_one() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await set_field(pilot, "num_examples", "3000000")  # a slow preview…
        await pilot.pause(0.5)
        await set_field(pilot, "num_examples", "2000")  # …overtaken by a quick one
        await wait_until(pilot, lambda: app.query_one("#data").preview.total == 2000)
        await pilot.pause(2.0)  # the slow one arrives meanwhile, and is dropped
        assert app.query_one("#data").preview.total == 2000


async def test_a_field_made_wrong_by_another_is_marked_as_you_type_and_unmarked_when_fixed() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        message = app.query_one("#form-message", Static)
        await set_field(pilot, "batch_size", "2000")
        assert "batch size: '2000' is larger than the number of examples" in str(message.render())
        assert app.query_one("#batch_size", Input).has_class("-invalid")
        await set_field(pilot, "num_examples", "5000")
        assert str(message.render()) == ""
        assert not app.query_one("#batch_size", Input).has_class("-invalid")
