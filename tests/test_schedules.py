"""Learning-rate schedules seen everywhere: each schedule against the book's schedulers (d2l 12.11), the
per-step rates reaching the engine through the training loop, the metrics' lr (CSV column, JSON lines),
the JSON's schedule, a live change ending the schedule, the Parameters view's lr line, and adadelta,
which has no learning rate, refusing one."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch
from textual.widget import Widget

from linreg_tui.commands.main import main
from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.control import RunControl
from linreg_tui.run.events import EpochEnded, LearningRateChanged, Paused, TrainingEvent
from linreg_tui.run.learning_rates import LearningRates
from linreg_tui.run.optimizers import schedule_lr, scheduled_lrs
from linreg_tui.run.report import CsvMetricsWriter, MetricsRefused, end_lines, schedule_lines
from linreg_tui.training.engines.concise import ConciseEngine
from linreg_tui.training.engines.fast import FastEngine
from linreg_tui.training.engines.scratch import ScratchEngine
from linreg_tui.training.loop import train
from linreg_tui.ui.app import LinregApp
from tests.apptools import run_to_end, wait_ready, wait_until
from tests.test_control import RunInThread
from tests.test_fitting import drawn_lines

# --- the book's schedulers, as d2l 12.11 writes them --------------------------------------------------


class BookFactorScheduler:
    def __init__(self, factor: float = 1, stop_factor_lr: float = 1e-7, base_lr: float = 0.1) -> None:
        self.factor, self.stop_factor_lr, self.base_lr = factor, stop_factor_lr, base_lr

    def __call__(self, num_update: int) -> float:
        self.base_lr = max(self.stop_factor_lr, self.base_lr * self.factor)
        return self.base_lr


class BookCosineScheduler:
    def __init__(
        self,
        max_update: int,
        base_lr: float = 0.01,
        final_lr: float = 0,
        warmup_steps: int = 0,
        warmup_begin_lr: float = 0,
    ) -> None:
        self.base_lr_orig, self.max_update, self.final_lr = base_lr, max_update, final_lr
        self.warmup_steps, self.warmup_begin_lr = warmup_steps, warmup_begin_lr
        self.max_steps = self.max_update - self.warmup_steps

    def get_warmup_lr(self, epoch: int) -> float:
        increase = (self.base_lr_orig - self.warmup_begin_lr) * float(epoch) / float(self.warmup_steps)
        return self.warmup_begin_lr + increase

    def __call__(self, epoch: int) -> float:
        if epoch < self.warmup_steps:
            return self.get_warmup_lr(epoch)
        if epoch <= self.max_update:
            self.base_lr = (
                self.final_lr
                + (self.base_lr_orig - self.final_lr)
                * (1 + math.cos(math.pi * (epoch - self.warmup_steps) / self.max_steps))
                / 2
            )
        return self.base_lr


def book_square_root(lr: float, num_update: int) -> float:
    return lr * pow(num_update + 1.0, -0.5)  # the book's SquareRootScheduler


# The book sets the rate for update t + 1 from scheduler(t) after update t (its train() calls the
# scheduler at the end of each epoch); the app's step s (from 1) is the book's update s − 1.


@pytest.mark.parametrize("every", [1, 7])
def test_factor_is_the_books_factor_scheduler_with_its_floor(every: int) -> None:
    book = BookFactorScheduler(factor=0.9, stop_factor_lr=1e-2, base_lr=0.1)
    book_lrs = [0.1] + [book(t) for t in range(59)]  # update 0 uses the base rate
    for step in range(1, 60 * every + 1):
        ours = schedule_lr("factor", 0.1, step, 60 * every, decay_factor=0.9, decay_every=every, lr_min=1e-2)
        assert ours == pytest.approx(book_lrs[(step - 1) // every], rel=1e-12), step
    assert book_lrs[-1] == 1e-2  # the floor was reached


def test_multistep_is_torchs_multistep_lr() -> None:
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([parameter], lr=0.5)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[15, 30], gamma=0.5)
    for step in range(1, 41):
        ours = schedule_lr("multistep", 0.5, step, 40, decay_factor=0.5, milestones=(15, 30))
        assert ours == pytest.approx(optimizer.param_groups[0]["lr"], rel=1e-12), step
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize(("warmup", "lr_min"), [(0, 0.0), (5, 0.0), (5, 0.01)])
def test_cosine_is_the_books_cosine_scheduler_with_its_warm_up(warmup: int, lr_min: float) -> None:
    """The warm-up climbs the book's line from 0, without its first update at rate 0: step s ≤ warm-up
    takes the book's warm-up rate at s, so the warm-up's last step is at the full rate; after it, step s
    is the book's update s − 1 of the cosine."""
    total = 40
    book = BookCosineScheduler(total, base_lr=0.3, final_lr=lr_min, warmup_steps=warmup)
    for step in range(1, total + 1):
        ours = schedule_lr("cosine", 0.3, step, total, lr_min=lr_min, warmup=warmup)
        expected = book.get_warmup_lr(step) if step <= warmup else book(step - 1)
        assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15), step
    assert schedule_lr("cosine", 0.3, 1, total, lr_min=lr_min, warmup=warmup) > 0  # no step at rate 0


def test_sqrt_is_the_books_square_root_scheduler() -> None:
    for step in range(1, 50):
        assert schedule_lr("sqrt", 0.1, step, 49) == pytest.approx(book_square_root(0.1, step - 1), rel=1e-12)


# --- the rates reach the engine ------------------------------------------------------------------------


def record_rates(monkeypatch: pytest.MonkeyPatch, engine: type) -> list[float | None]:
    """Wrap the engine's run_steps: each step's rate as handed over (None: the engine's own, self.lr)."""
    seen: list[float | None] = []
    original = engine.run_steps

    def recorded(self: ScratchEngine, batches: Sequence[object], lrs: Sequence[float] | None = None) -> torch.Tensor:
        seen.extend(lrs if lrs is not None else [None] * len(batches))
        if lrs is None:
            seen[-len(batches) :] = [self.lr] * len(batches)
        return original(self, batches, lrs)

    monkeypatch.setattr(engine, "run_steps", recorded)
    return seen


SCHEDULED = {
    "factor": RunConfig(schedule="factor", decay_factor=0.9, decay_every=20, lr_min=0.005),
    "multistep": RunConfig(schedule="multistep", decay_factor=0.5, milestones=(50, 120)),
    "cosine": RunConfig(schedule="cosine", lr_min=0.001, warmup=10),
    "sqrt": RunConfig(schedule="sqrt"),
}


@pytest.mark.parametrize("schedule", list(SCHEDULED))
@pytest.mark.parametrize("engine", [ScratchEngine, ConciseEngine, FastEngine])
def test_each_step_of_a_scheduled_run_gets_its_scheduled_rate(
    schedule: str, engine: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    impl = {ScratchEngine: "scratch", ConciseEngine: "concise", FastEngine: "fast"}[engine]
    config = RunConfig(**{**SCHEDULED[schedule].as_dict(), "impl": impl, "true_w": (2.0, -3.4)})
    seen = record_rates(monkeypatch, engine)
    events: list[TrainingEvent] = []
    result = train(config, events.append)
    assert result.status == "finished" and len(seen) == config.total_steps == 300
    assert seen == pytest.approx(scheduled_lrs(config, 1, config.total_steps), rel=1e-12)
    epochs = [event for event in events if isinstance(event, EpochEnded)]
    assert [event.lr for event in epochs] == [seen[event.steps - 1] for event in epochs]
    assert len(set(seen)) > 2  # it varied


def test_a_constant_run_hands_the_engine_its_one_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = record_rates(monkeypatch, ScratchEngine)
    events: list[TrainingEvent] = []
    train(RunConfig(lr=0.02), events.append)
    assert set(seen) == {0.02}
    assert {event.lr for event in events if isinstance(event, EpochEnded)} == {0.02}


def test_adadelta_has_no_rate_to_record() -> None:
    events: list[TrainingEvent] = []
    train(RunConfig(optimizer="adadelta", eps=1e-5), events.append)
    assert [event.lr for event in events if isinstance(event, EpochEnded)] == [None, None, None]


# --- a live change ends the schedule from its step on ----------------------------------------------------


def test_a_live_change_ends_the_schedule_from_its_step_and_is_recorded(monkeypatch: pytest.MonkeyPatch) -> None:
    config = RunConfig(schedule="factor", decay_factor=0.9, decay_every=1, lr_min=0.0)
    seen = record_rates(monkeypatch, ScratchEngine)
    control = RunControl(paused=True)
    run = RunInThread(config, control)
    run.wait_for(Paused)
    control.step()  # step 1, explained (scratch takes it through run_steps too): the schedule's first rate
    run.wait_for(Paused)
    control.set_lr(0.01)
    control.resume()
    result = run.finish()
    assert result.lr_changes == ((2, 0.01),)
    assert [event for event in run.events if isinstance(event, LearningRateChanged)] == [LearningRateChanged(2, 0.01)]
    assert seen == [0.03, *[0.01] * (config.total_steps - 1)]  # steps 2 … 300: the rate chosen
    epochs = [event.lr for event in run.events if isinstance(event, EpochEnded)]
    assert epochs == [0.01, 0.01, 0.01]
    assert "learning rate changed while training: 0.01 from step 2 (the factor schedule ended at step 2)" in end_lines(
        result
    )
    assert LearningRates(config, result.lr_changes).of_steps(1, 3) == [0.03, 0.01, 0.01]


def test_a_change_to_the_starting_rate_still_ends_the_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    config = RunConfig(schedule="sqrt")
    seen = record_rates(monkeypatch, ScratchEngine)
    result = train(config, control=RunControl(lr_changes=[(101, 0.03)]))
    assert result.lr_changes == ((101, 0.03),)
    assert seen[:100] == pytest.approx(scheduled_lrs(config, 1, 100)) and set(seen[100:]) == {0.03}


def test_adadelta_takes_no_live_rate() -> None:
    with pytest.raises(ConfigError, match=re.escape("learning rate: '0.1' does not apply to optimizer adadelta")):
        RunControl(lr_applies=False).set_lr(0.1)
    with pytest.raises(ConfigError, match=re.escape("learning rate: '5:0.1' does not apply to optimizer adadelta")):
        RunControl(lr_changes=[(5, 0.1)], lr_applies=False)
    RunControl(lr_applies=True).set_lr(0.1)


def test_lr_changes_with_adadelta_are_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--optimizer", "adadelta", "--lr-changes", "10:0.1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "linreg-tui: invalid input: --lr-changes: '10:0.1' does not apply to optimizer adadelta, which has no "
        "learning rate (the book's adadelta takes none); allowed with every other optimizer"
    ]


# --- what is written ---------------------------------------------------------------------------------


COSINE_FLAGS = ["--schedule", "cosine", "--lr-min", "0.001", "--warmup", "10", "--lr-changes", "251:0.002"]


def test_the_csv_says_each_steps_rate_and_each_epochs_last(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    assert main(["--headless", *COSINE_FLAGS, "--metrics", str(path)]) == 0
    with path.open() as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == list(CsvMetricsWriter.COLUMNS)
    config = RunConfig(schedule="cosine", lr_min=0.001, warmup=10)
    steps = [row for row in rows if row["kind"] == "step"]
    assert [int(row["step"]) for row in steps] == list(range(1, 301))
    expected = [*scheduled_lrs(config, 1, 250), *[0.002] * 50]
    assert [float(row["lr"]) for row in steps] == pytest.approx(expected, rel=1e-12)
    epochs = [row for row in rows if row["kind"] == "epoch"]
    assert [float(row["lr"]) for row in epochs] == pytest.approx([expected[99], expected[199], 0.002], rel=1e-12)


def test_adadelta_leaves_the_lr_cells_empty(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    assert main(["--headless", "--optimizer", "adadelta", "--epochs", "1", "--metrics", str(path)]) == 0
    with path.open() as file:
        assert {row["lr"] for row in csv.DictReader(file)} == {""}


def test_a_csv_in_the_older_layout_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "old.csv"
    older = "run_id,kind,epoch,step,loss,val_loss,w,b\nr,epoch,1,100,0.1,,[1],2\n"
    path.write_text(older)
    assert main(["--headless", "--metrics", str(path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"linreg-tui: invalid input: metrics: {str(path)!r} has the older layout's columns (without lr, the "
        f"learning rate); give a new .csv file or one with the columns {','.join(CsvMetricsWriter.COLUMNS)}"
    ]
    assert path.read_text() == older  # nothing appended
    with pytest.raises(MetricsRefused, match="older layout"):
        CsvMetricsWriter(str(path), "r")


def test_json_lines_say_each_epochs_rate_and_the_schedule(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    assert main(["--headless", *COSINE_FLAGS, "--metrics", str(path)]) == 0
    records = [json.loads(line) for line in path.read_text().splitlines()]
    config = RunConfig(schedule="cosine", lr_min=0.001, warmup=10)
    epochs = [record["lr"] for record in records if record["type"] == "epoch"]
    assert epochs == pytest.approx([*scheduled_lrs(config, 100, 1), *scheduled_lrs(config, 200, 1), 0.002])
    [result] = [record for record in records if record["type"] == "result"]
    assert {key: result["config"][key] for key in ("lr", "schedule", "lr_min", "warmup")} == {
        "lr": 0.03,
        "schedule": "cosine",
        "lr_min": 0.001,
        "warmup": 10,
    }
    assert result["lr_changes"] == [{"step": 251, "lr": 0.002}]
    assert "--schedule cosine --lr-min 0.001 --warmup 10" in result["command"]
    assert result["command"].endswith("--lr-changes 251:0.002")


def test_the_json_of_an_adadelta_run_has_no_rate_or_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--json", "--optimizer", "adadelta", "--epochs", "1"]) == 0
    config = json.loads(capsys.readouterr().out)["config"]
    assert config["optimizer"] == "adadelta" and "lr" not in config and "schedule" not in config


@pytest.mark.parametrize(
    ("config", "line"),
    [
        (
            RunConfig(schedule="cosine", lr_min=0.001, warmup=10),
            "lr schedule cosine: 0.03 → 0.001 over 300 steps, warm-up 10 steps from 0",
        ),
        (
            RunConfig(schedule="factor", decay_factor=0.5, decay_every=100, lr_min=0.001),
            "lr schedule factor: 0.03 × 0.5 every 100 steps, not below 0.001; 0.0075 at step 300",
        ),
        (
            RunConfig(schedule="multistep", decay_factor=0.1, milestones=(150, 250)),
            "lr schedule multistep: 0.03 × 0.1 after steps 150, 250; 0.0003 at step 300",
        ),
        (RunConfig(schedule="sqrt", lr=0.1, epochs=1), "lr schedule sqrt: 0.1/√t at step t; 0.01 at step 100"),
    ],
)
def test_the_start_lines_say_the_schedule(config: RunConfig, line: str) -> None:
    assert schedule_lines(config) == [line]


def test_the_start_lines_say_no_schedule_without_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert schedule_lines(RunConfig()) == [] and schedule_lines(RunConfig(optimizer="adadelta", eps=1e-5)) == []
    assert main(["--headless", "--schedule", "sqrt", "--epochs", "1"]) == 0
    assert "lr schedule sqrt: 0.03/√t at step t; 0.003 at step 100" in capsys.readouterr().out.splitlines()


# --- the app: the Parameters view's lr line, and no live rate for adadelta -------------------------------


def legend_text(legend: Widget) -> str:
    return " ".join(line.replace("\u00a0", " ").strip() for line in drawn_lines(legend))


async def test_the_parameters_view_draws_a_scheduled_runs_rate() -> None:
    config = RunConfig(schedule="cosine", lr_min=0.001, warmup=10)
    app = LinregApp(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        await pilot.press("f7")
        panel = app.main_screen.weights_panel
        await wait_until(pilot, lambda: "l lr, cosine schedule (right axis)" in legend_text(panel.legend))
        assert "0.03" in "".join(drawn_lines(panel.chart))  # its axis's top
        assert panel.path is not None
        steps, rates = panel.lr_line.series(panel.path.series()[0])
        assert steps[0] == 1 and steps[-1] == 300 and len(steps) > 100
        assert rates == pytest.approx([schedule_lr("cosine", 0.03, s, 300, lr_min=0.001, warmup=10) for s in steps])
        assert max(rates) == pytest.approx(0.03)


async def test_a_constant_runs_rate_is_not_drawn() -> None:
    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        await pilot.press("f7")
        await pilot.pause(0.1)
        panel = app.main_screen.weights_panel
        assert not panel.lr_line.shown and panel.lr_line.series(list(range(101))) == ([], [])
        assert "lr" not in legend_text(panel.legend).split()


async def test_a_live_change_shows_on_the_lr_line() -> None:
    """Through the app's own handler for the loop's event: the line follows the schedule to the change and
    jumps there, at steps the sampled path (every other step here) does not hold."""
    app = LinregApp(RunConfig(schedule="sqrt", epochs=1, num_examples=10_000))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        panel = app.main_screen.weights_panel
        app.main_screen.run_view.lr_changed(LearningRateChanged(503, 0.005))
        assert panel.path is not None and panel.path.stride > 1 and 503 not in panel.path.steps
        steps, rates = panel.lr_line.series(panel.path.series()[0])
        by_step = dict(zip(steps, rates, strict=True))
        assert by_step[502] == pytest.approx(0.03 / math.sqrt(502)) and by_step[503] == by_step[1000] == 0.005
        assert panel.lr_line.note() == "lr, sqrt schedule to step 502, then as changed (right axis)"


async def test_the_form_sends_no_live_rate_for_adadelta() -> None:
    app = LinregApp(RunConfig(optimizer="adadelta", eps=1e-5))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await pilot.press("ctrl+t")  # from idle: the run starts paused, one explained step at a time
        session = app.main_screen.session
        await wait_until(pilot, lambda: session.running and session.control is not None)
        control = session.control
        assert control is not None
        await wait_until(pilot, lambda: control.paused)
        panel = app.main_screen.params_panel
        panel.query_one("#lr").value = "0.5"  # hidden, but say a rate were typed there
        panel._choose_lr()
        await pilot.pause(0.1)
        assert control._pending_lr is None
        await pilot.press("escape")
        await wait_until(pilot, lambda: not session.running)
        assert app.last_result is None or app.last_result.lr_changes == ()


@pytest.mark.parametrize("schedule", ["factor", "multistep", "cosine", "sqrt", "constant"])
def test_a_tensor_of_starting_rates_gets_each_run_s_own_floats(schedule: str) -> None:
    """The batched engine schedules all its columns at once: each column's rate is bit for bit the float
    its single run computes (factor's floor included: 0.002 is above some of these rates' decays)."""
    starts = [0.1, 0.03, 0.001]
    settings = {"decay_factor": 0.5, "decay_every": 4, "lr_min": 0.002, "milestones": (5, 10), "warmup": 3}
    for step in (1, 2, 5, 17, 30):
        batched = schedule_lr(schedule, torch.tensor(starts, dtype=torch.float64), step, 30, **settings)
        assert batched.tolist() == [schedule_lr(schedule, lr, step, 30, **settings) for lr in starts]
