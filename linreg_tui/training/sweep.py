"""Train a sweep's points one after another: a run that diverges or fails is a row with its status, and
the sweep goes on."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from linreg_tui.run.batching import group_points
from linreg_tui.run.config import ConfigError
from linreg_tui.run.events import TrainingEvent
from linreg_tui.run.result import RunResult
from linreg_tui.run.sweep import SweepPoint, SweepRow
from linreg_tui.training.batched import EpochLosses, train_group
from linreg_tui.training.loop import SetupCancelled, TrainingSetupFailed, train


def run_sweep(
    points: list[SweepPoint],
    on_event: Callable[[SweepPoint, TrainingEvent], None] | None = None,
    cancel: threading.Event | None = None,
    on_row: Callable[[SweepRow], None] | None = None,
    run_cancel: threading.Event | None = None,
    batch: bool = True,
    on_progress: EpochLosses | None = None,
) -> list[SweepRow]:
    """Train the points and return their rows: each group of points that can share a program
    (run.batching) as one (training.batched), the others one after another with training.loop.train;
    `batch` False runs every point on its own.

    `cancel` stops the sweep after the current run (which ends as usual); `run_cancel` is handed to
    each run as its own cancel (the app's stop): setting it stops the current run at its next chunk of
    steps, and the sweep with it. `on_event` gets every run's events with its point; `on_row` each row
    as its run ends; `on_progress` a batched program's points, the epoch that ended and each point's
    training loss then (None: diverged). A run that diverges or fails is a row with its status, and the
    sweep goes on."""
    rows: list[SweepRow] = []
    for program in group_points(points, batch):
        if (cancel is not None and cancel.is_set()) or (run_cancel is not None and run_cancel.is_set()):
            break
        if len(program) > 1:
            for row in _train_together(program, run_cancel, on_progress):
                rows.append(row)
                if on_row is not None:
                    on_row(row)
            continue
        [point] = program

        def forward(event: TrainingEvent, point: SweepPoint = point) -> None:
            if on_event is not None:
                on_event(point, event)

        try:
            row = _row(point, train(point.config, forward, run_cancel))
        except SetupCancelled as exc:
            row = _failed_row(point, "cancelled", str(exc))
        except (TrainingSetupFailed, ConfigError) as exc:  # ConfigError: the memory check refused it
            row = _failed_row(point, "failed", str(exc))
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows


def _train_together(
    program: list[SweepPoint], run_cancel: threading.Event | None, on_epoch: EpochLosses | None
) -> list[SweepRow]:
    """The program's rows; one that cannot be set up (no memory for it, a bad file) is a failed row per point."""
    try:
        results = train_group(program, run_cancel, on_epoch)
    except (TrainingSetupFailed, ConfigError, RuntimeError, MemoryError) as exc:
        return [_failed_row(point, "failed", str(exc)) for point in program]
    return [
        dataclasses.replace(_row(point, result), batched=len(program))
        for point, result in zip(program, results, strict=True)
    ]


def _row(point: SweepPoint, result: RunResult) -> SweepRow:
    val_losses = getattr(result, "val_losses", ())
    return SweepRow(
        point=point,
        status=result.status,
        final_loss=result.epoch_losses[-1] if result.epoch_losses else None,
        final_val_loss=val_losses[-1] if val_losses else None,
        max_w_error=None if result.w_error is None else max(abs(error) for error in result.w_error),
        b_error=None if result.b_error is None else abs(result.b_error),
        steps=result.steps,
        seconds=result.train_seconds,
        result=result,
        message=result.message,
    )


def _failed_row(point: SweepPoint, status: str, message: str) -> SweepRow:
    return SweepRow(point, status, None, None, None, None, 0, 0.0, None, message)
