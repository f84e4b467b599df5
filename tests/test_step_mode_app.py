"""Step mode, pausing, a live learning rate and the conditioning, in the real app driven with Pilot.

Every wait is on what the app shows or holds (the status line, the log, the result), never on a clock."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from textual.widgets import Input, Markdown, Static
from textual.widgets._footer import FooterKey
from textual.widgets._markdown import MarkdownTableCellContents

from linreg_tui.run.config import RunConfig
from linreg_tui.run.result import RunResult
from linreg_tui.training.loop import train
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.help import HelpScreen
from linreg_tui.ui.plots.loss import LossPanel
from linreg_tui.ui.plots.parameters import ParamsOverTime
from tests.apptools import log_text, type_into, wait_ready, wait_until

EXPLAINED_STEP = re.compile(r"^step ([\d,]+) · epoch \d+ · minibatch of (\d+): examples \[([\d, ]+)(, …)?\]$")


def status(app: LinregApp) -> str:
    return app.main_screen.status_bar.text


def explained_steps(app: LinregApp) -> list[tuple[int, int, tuple[int, ...]]]:
    """(step, batch size, indices shown) of each step the log explained."""
    found = []
    for line in app.main_screen.log_pane.lines_written:
        if match := EXPLAINED_STEP.match(line):
            step, size, indices, _ = match.groups()
            found.append((int(step.replace(",", "")), int(size), tuple(int(i) for i in indices.split(", "))))
    return found


async def step_once(pilot: Any, app: LinregApp, step: int) -> None:
    await pilot.press("ctrl+t")
    await wait_until(pilot, lambda: status(app).startswith(f"paused · step {step}/"))


def recording_train(monkeypatch: pytest.MonkeyPatch) -> tuple[list[RunResult], threading.Event]:
    """The app's train, keeping each result and saying when the training thread is done."""
    ended: list[RunResult] = []
    thread_done = threading.Event()

    def record(*args: Any, **kwargs: Any) -> RunResult:
        try:
            ended.append(train(*args, **kwargs))
            return ended[-1]
        finally:
            thread_done.set()

    monkeypatch.setattr("linreg_tui.training.loop.train", record)
    return ended, thread_done


async def test_ctrl_t_takes_one_explained_step_at_a_time_and_ctrl_p_runs_to_the_end() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        assert status(app).startswith("paused · step 1/300 · epoch 1/3 · lr 0.03")
        [(step, size, indices)] = explained_steps(app)  # exactly one step, and it is explained
        assert (step, size, len(indices)) == (1, 10, 8)
        assert app.main_screen.loss_panel.current is not None and len(app.main_screen.loss_panel.current.steps) == 1
        log = log_text(app)
        assert "param -= lr * param.grad / batch_size: w -= 0.03 * [" in log and "/ 10 → Δ [" in log
        assert "minibatch loss " in log and "param.grad of l.sum(): w [" in log
        highlighted = app.main_screen.data_plot.highlighted
        assert len(highlighted) == 10 and highlighted[:8] == indices  # the whole minibatch, marked on the scatter

        await step_once(pilot, app, 2)
        assert [step for step, _, _ in explained_steps(app)] == [1, 2]
        assert app.main_screen.data_plot.highlighted[:8] == explained_steps(app)[-1][2]

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: not app.running)
        result = app.last_result
        assert result is not None and (result.status, result.steps) == ("finished", 300)
        assert [step for step, _, _ in explained_steps(app)] == [1, 2]  # the rest ran unexplained


async def test_a_step_is_drawn_at_once_not_at_the_next_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[str] = []  # each draw of the loss chart and of the parameters over time

    def counting(cls: type[LossPanel] | type[ParamsOverTime]) -> None:
        replot = cls.replot

        def counted(self: LossPanel | ParamsOverTime) -> None:
            drawn.append(cls.__name__)
            replot(self)  # type: ignore[arg-type]

        monkeypatch.setattr(cls, "replot", counted)

    counting(LossPanel)
    counting(ParamsOverTime)
    app = LinregApp()
    async with app.run_test(size=(200, 60)) as pilot:  # every view shown at once
        await wait_ready(pilot)
        assert app.main_screen.redraw_timer is not None
        app.main_screen.redraw_timer.pause()  # no frame comes: only the pause after the step can draw it
        landscape = app.main_screen.landscape_panel
        for step in (1, 2):
            seen, drawn[:] = landscape.version, []
            await step_once(pilot, app, step)
            assert landscape.version > seen
            assert "LossPanel" in drawn and "ParamsOverTime" in drawn


async def test_concise_explains_its_step_with_net_weight_grad_and_trainer_step() -> None:
    app = LinregApp(RunConfig(impl="concise"))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        log = log_text(app)
        assert "net[0].weight.grad = [" in log and "trainer.step(): param -= lr * param.grad: w -= 0.03 * [" in log
        assert "/ 10 →" not in log  # MSELoss is already a mean: nothing more is divided
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)


async def test_escape_stops_a_paused_run_and_its_thread_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    ended, thread_done = recording_train(monkeypatch)
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        assert thread_done.wait(timeout=30), "the training thread went on after esc"
        assert (ended[0].status, ended[0].steps) == ("cancelled", 1)
        assert app.last_result is not None and app.last_result.status == "cancelled"
        assert status(app) == "cancelled in epoch 1 after 1 step", status(app)


async def test_quitting_while_paused_ends_the_training_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    ended, thread_done = recording_train(monkeypatch)
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        await pilot.press("ctrl+q")
    assert thread_done.wait(timeout=30), "the training thread went on after the app quit"
    assert (ended[0].status, ended[0].steps) == ("cancelled", 1)


async def test_ctrl_p_pauses_a_running_run_and_goes_on() -> None:
    # 10 million steps: still training when paused, resumed and stopped, however fast the machine.
    app = LinregApp(RunConfig(epochs=100_000))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        panel = app.main_screen.loss_panel
        await wait_until(pilot, lambda: panel.current is not None and len(panel.current.steps) > 0)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: status(app).startswith("paused · step "))
        paused_at = int(status(app).split()[3].split("/")[0].replace(",", ""))
        assert 0 < paused_at < 30_000 and explained_steps(app) == []  # a pause explains nothing
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: not status(app).startswith("paused"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        result = app.last_result
        assert result is not None and result.status == "cancelled" and result.steps >= paused_at


async def test_footer_offers_step_and_pause_when_they_do_something() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)

        def footer() -> dict[str, bool]:
            return {key.description: not key.has_class("-disabled") for key in app.screen.query(FooterKey)}

        await wait_until(pilot, lambda: "Step" in footer())
        assert (footer()["Run"], footer()["Step"], footer()["Pause"]) == (True, True, False)
        await step_once(pilot, app, 1)
        await wait_until(pilot, lambda: footer().get("Pause") is True)
        assert (footer()["Run"], footer()["Stop"], footer()["Step"]) == (False, True, True)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)


async def test_at_60_columns_the_keys_work_without_a_footer_entry() -> None:
    app = LinregApp()
    async with app.run_test(size=(60, 16)) as pilot:
        await wait_ready(pilot)
        assert not {"Step", "Pause"} & {key.description for key in app.screen.query(FooterKey)}
        await step_once(pilot, app, 1)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: not app.running)
        assert app.last_result is not None and app.last_result.status == "finished"


async def test_a_learning_rate_typed_while_paused_is_taken_recorded_and_marked_on_the_chart() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        assert app.query_one("#true_w", Input).is_disabled and not app.query_one("#lr", Input).is_disabled
        await type_into(pilot, "lr", "0.1")
        await pilot.press("enter")
        await step_once(pilot, app, 2)
        assert status(app).startswith("paused · step 2/300 · epoch 1/3 · lr 0.1 ")
        assert "w -= 0.1 * [" in app.main_screen.log_pane.lines_written[-1]  # step 2 used it
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: not app.running)
        result = app.last_result
        assert result is not None and result.status == "finished" and result.lr_changes == ((2, 0.1),)
        assert "lr 0.03 → 0.1 from step 2" in log_text(app)
        panel = app.main_screen.loss_panel
        assert panel.current is not None and panel.current.lr_changes == [(2, 0.1)]
        panel.replot()
        assert "lr 0.1" in str(panel.chart.render())  # the label at the marked step


async def test_a_learning_rate_typed_while_running_is_taken_once_typing_pauses() -> None:
    app = LinregApp(RunConfig(epochs=10_000))  # long enough never to end before the new rate arrives; esc ends it
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: app.main_screen.loss_panel.current is not None)
        await type_into(pilot, "lr", "0.05")  # no Enter
        await wait_until(pilot, lambda: app.main_screen.session.live_lr == 0.05)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        result = app.last_result
        assert result is not None and [lr for _, lr in result.lr_changes] == [0.05]
        assert result.config.lr == 0.03  # the run started at the form's rate and changed as it went


@pytest.mark.parametrize("typed", ["abc", "0"])
async def test_a_bad_learning_rate_typed_mid_run_is_refused_and_the_run_goes_on_at_the_old_one(typed: str) -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        await type_into(pilot, "lr", typed)
        await pilot.press("enter")
        message = str(app.query_one("#form-message", Static).render())
        assert message.startswith(f"learning rate: '{typed}'"), message
        assert app.query_one("#lr", Input).has_class("-refused")
        await step_once(pilot, app, 2)
        assert "w -= 0.03 * [" in app.main_screen.log_pane.lines_written[-1]
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: not app.running)
        result = app.last_result
        assert result is not None and result.status == "finished" and result.lr_changes == ()


async def test_the_conditioning_in_the_results_panel_is_the_results() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: not app.running)
        result = app.last_result
        assert result is not None
        panel = app.main_screen.results_panel
        assert (panel.condition_number, panel.max_stable_lr) == (result.condition_number, result.max_stable_lr)
        text = str(app.query_one("#results-conditioning", Static).render())
        assert f"condition number {result.condition_number:.3g} · largest stable lr {result.max_stable_lr:.3g}" in text
        assert "minibatch SGD can diverge below it" in text
        assert f"condition number of ZᵀZ/n: {result.condition_number:.3g}" in log_text(app)


async def test_with_many_features_the_conditioning_is_on_the_results_border() -> None:
    app = LinregApp(RunConfig(true_w=tuple(float(i % 3) for i in range(21))))  # 21 weights: a bounded table
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        result = app.last_result
        assert result is not None
        panel = app.main_screen.results_panel
        assert panel.border_subtitle == f"κ {result.condition_number:.3g} · stable lr < {result.max_stable_lr:.3g}"
        assert not app.query_one("#results-conditioning").display  # the table needs the rows


async def test_momentum_below_its_own_bound_is_not_marked_above_gradient_descent_s() -> None:
    """lr 0.03 with --scales 1,10 is above 2/λmax (about 0.018) but below momentum's (2 + 2β)/λmax with
    β 0.9 (about 0.035): the results panel names momentum's bound and does not mark the rate."""
    app = LinregApp(RunConfig(scales=(1.0, 10.0), optimizer="momentum", momentum=0.9))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)
        bound = app.main_screen.results_panel.max_stable_lr
        assert bound is not None and bound < 0.03 < 1.9 * bound
        widget = app.query_one("#results-conditioning", Static)
        text = str(widget.render())
        assert f"largest stable lr {1.9 * bound:.3g} (full-batch momentum, β 0.9;" in text
        assert "above" not in text and not widget.has_class("-above")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)


async def test_an_lr_above_the_bound_is_warned_of_not_refused() -> None:
    # --scales 1,10: λmax(ZᵀZ/n) about 109, so scratch's bound 2/λmax is about 0.018 and 0.03 is above it.
    app = LinregApp(RunConfig(scales=(1.0, 10.0)))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await step_once(pilot, app, 1)  # it starts: a warning, not a refusal
        bound = app.main_screen.results_panel.max_stable_lr
        assert bound is not None and bound < 0.03
        warning = f"warning: lr 0.03 is above the largest stable lr {bound:.3g}"
        assert warning in log_text(app)
        assert str(app.query_one("#form-message", Static).render()).startswith(warning)
        assert app.query_one("#results-conditioning").has_class("-above")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not app.running)
        # Before the next run on the same data: the form warns as the lr is typed, and not below the bound.
        await type_into(pilot, "lr", "0.05")
        assert str(app.query_one("#form-message", Static).render()).startswith("warning: lr 0.05 is above")
        await type_into(pilot, "lr", "0.01")
        assert str(app.query_one("#form-message", Static).render()) == ""


async def test_the_help_explains_the_bound_and_how_to_see_it() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        shown = " ".join(app.screen.query_one(Markdown).source.split())
        for words in ("condition number", "largest stable lr", "2/λmax", "can diverge below", "--scales 1,10"):
            assert words in shown, words
        await wait_until(pilot, lambda: bool(app.screen.query(MarkdownTableCellContents)))
        cells = {str(cell.render()).strip() for cell in app.screen.query(MarkdownTableCellContents)}
        assert {"^t", "^p"} <= cells
