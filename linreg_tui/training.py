"""The training loop: runs any engine, reports events, stops on cancel, divergence or a fault.

Written once for all engines. It hands the engine a chunk of minibatches at a time and looks at the
results once per chunk (one device synchronisation), so that the book's step stays the book's step.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from time import perf_counter  # a module-level name, so tests can give the loop a fake clock

import torch

from linreg_tui.config import RunConfig, check_memory, estimate_memory
from linreg_tui.data import DataPreview, make_dataset, make_generator, preview
from linreg_tui.devices import describe_device, device_free_bytes, host_free_bytes, resolve_device
from linreg_tui.engines import Engine, Params, make_engine
from linreg_tui.results import Optimum, RunResult, Status, least_squares

#: Aim to report losses (and look for cancellation) about this often: often enough for a live chart
#: and a prompt stop, rarely enough that the UI's work does not slow the training thread.
FLUSH_SECONDS = 0.1


@dataclass(frozen=True)
class RunStarted:
    config: RunConfig
    device: str
    first_features: tuple[float, ...]
    first_label: float
    optimum: Optimum
    loss_formula: str
    preview: DataPreview


@dataclass(frozen=True)
class StepLosses:
    """The minibatch losses of consecutive steps; `first_step` counts from 1 over the whole run."""

    epoch: int
    first_step: int
    losses: tuple[float, ...]


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    loss: float  # the full-data loss, as the book prints it
    steps: int
    w: tuple[float, ...]
    b: float


@dataclass(frozen=True)
class RunEnded:
    result: RunResult


TrainingEvent = RunStarted | StepLosses | EpochEnded | RunEnded


class TrainingSetupFailed(RuntimeError):
    """Making the data or the engine failed (out of memory, a driver error): nothing was trained."""


class SetupCancelled(RuntimeError):
    """`cancel` was set while the data, the optimum or the engine was being made: nothing was trained."""


def preflight(config: RunConfig) -> torch.device:
    """Everything that can refuse a run before anything is allocated. Raises ConfigError."""
    device = resolve_device(config.device)
    estimate = estimate_memory(config, on_cuda=device.type == "cuda")
    check_memory(config, estimate, host_free_bytes(), device_free_bytes(device))
    return device


def train(
    config: RunConfig,
    on_event: Callable[[TrainingEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Train as the book does and return what was learned, whatever way the run ended.

    `cancel` may be set from any thread; the run stops at the next chunk of steps (within about
    FLUSH_SECONDS), or between the phases of its set-up. Raises ConfigError for a run that must not
    start, TrainingSetupFailed when the data or engine cannot be made, SetupCancelled when `cancel`
    came before the first step.
    """
    emit = on_event or (lambda event: None)
    cancel = cancel or threading.Event()
    device = preflight(config)

    def unless_cancelled() -> None:
        # Each phase of the set-up can take seconds for large runs; a stop or quit need not wait for all.
        if cancel.is_set():
            raise SetupCancelled("stopped before training started")

    try:
        generator = make_generator(config.seed)
        cpu_data = make_dataset(config, generator)
        unless_cancelled()
        optimum = least_squares(cpu_data)
        unless_cancelled()
        engine = make_engine(config, cpu_data.to(device), generator)
        unless_cancelled()
    except SetupCancelled:
        raise
    except (RuntimeError, MemoryError) as exc:
        raise TrainingSetupFailed(f"could not prepare the run on {device}: {_describe(exc)}") from exc
    device_name = describe_device(device)
    emit(
        RunStarted(
            config=config,
            device=device_name,
            first_features=tuple(cpu_data.features[0].tolist()),
            first_label=float(cpu_data.labels[0, 0]),
            optimum=optimum,
            loss_formula=engine.loss_formula,
            preview=preview(cpu_data),
        )
    )
    del cpu_data  # on CUDA the device copy is all we need from here on
    loop = _Loop(engine, config, emit, cancel)
    started = perf_counter()
    loop.run()
    train_seconds = perf_counter() - started
    w, b = loop.final_parameters()
    result = RunResult(
        status=loop.status,
        config=config,
        device=device_name,
        w=w,
        b=b,
        optimum=optimum,
        epoch_losses=tuple(loop.epoch_losses),
        steps=loop.steps,
        train_seconds=train_seconds,
        message=loop.message,
        diverged_at=loop.diverged_at,
    )
    emit(RunEnded(result))
    return result


class _Loop:
    """One run's epochs; its fields are the run's state when `run` returns."""

    def __init__(
        self, engine: Engine, config: RunConfig, emit: Callable[[TrainingEvent], None], cancel: threading.Event
    ) -> None:
        self.engine = engine
        self.config = config
        self.emit = emit
        self.cancel = cancel
        self.status: Status = "finished"
        self.message = ""
        self.diverged_at: tuple[int, int] | None = None
        self.steps = 0
        self.epoch_losses: list[float] = []
        self.chunk = min(8, engine.max_chunk)
        self.last_good: Params = engine.snapshot()
        # Host copies, for a fault that leaves the device unreadable.
        self.last_known: tuple[tuple[float, ...], float] = self.last_good.to_lists()

    def run(self) -> None:
        try:
            for epoch in range(1, self.config.epochs + 1):
                if not self._run_epoch(epoch, self.engine.epoch_batches()):
                    return
                if not self._end_epoch(epoch):
                    return
        except Exception as exc:  # noqa: BLE001 - any fault ends the run as failed, with what was learned
            self.status = "failed"
            self.message = f"failed at step {self.steps + 1}: {_describe(exc)}"

    def final_parameters(self) -> tuple[tuple[float, ...], float]:
        if self.status == "failed":
            try:
                self.engine.restore(self.last_good)
                return self.last_good.to_lists()
            except Exception:  # noqa: BLE001 - the device itself may be gone; use the host copy
                return self.last_known
        return self.engine.parameters().to_lists()

    def _run_epoch(self, epoch: int, batches: Iterator[object]) -> bool:
        while True:
            if self.cancel.is_set():
                self.status = "cancelled"
                self.message = f"cancelled in epoch {epoch} after {self.steps:,} steps"
                return False
            group = list(islice(batches, self.chunk))
            if not group:
                return True
            started = perf_counter()
            losses = self.engine.run_steps(group)
            values, finite = self._fetch(losses)
            if not finite:
                self.engine.restore(self.last_good)
                values = self._replay(group)
            if values:
                self.emit(StepLosses(epoch, self.steps + 1, tuple(values)))
                self.steps += len(values)
            if len(values) < len(group):
                self._diverged(epoch, self.steps + 1, f"step {self.steps + 1}")
                return False
            self.last_good = self.engine.snapshot()
            self._adapt_chunk(perf_counter() - started)

    def _end_epoch(self, epoch: int) -> bool:
        loss = float(self.engine.epoch_loss())
        if not math.isfinite(loss):
            self._diverged(epoch, self.steps, f"the end of the epoch (full-data loss {loss})")
            return False
        w, b = self.engine.parameters().to_lists()
        self.last_known = (w, b)
        self.epoch_losses.append(loss)
        self.emit(EpochEnded(epoch, loss, self.steps, w, b))
        return True

    def _fetch(self, losses: torch.Tensor) -> tuple[list[float], bool]:
        """The chunk's losses and whether all losses and parameters are finite: one transfer."""
        flag = self.engine.parameters().all_finite().to(losses.dtype).reshape(1)
        *values, params_finite = torch.cat([losses.reshape(-1), flag]).tolist()
        return values, params_finite == 1.0 and all(map(math.isfinite, values))

    def _replay(self, group: list[object]) -> list[float]:
        """Re-run a chunk that went non-finite step by step, stopping before the first bad step."""
        values: list[float] = []
        for batch in group:
            before = self.engine.snapshot()
            [value], finite = self._fetch(self.engine.run_steps([batch]))
            if not finite:
                self.engine.restore(before)
                break
            values.append(value)
        return values

    def _diverged(self, epoch: int, step: int, where: str) -> None:
        self.status = "diverged"
        self.diverged_at = (epoch, step)
        self.message = (
            f"diverged in epoch {epoch} at {where}: the loss or a parameter stopped being a finite number. "
            f"The parameters shown are the last finite ones. Try a smaller learning rate, "
            f"e.g. {self.config.lr / 10:g}."
        )

    def _adapt_chunk(self, seconds: float) -> None:
        if seconds < FLUSH_SECONDS / 2 and self.chunk < self.engine.max_chunk:
            self.chunk = min(self.chunk * 2, self.engine.max_chunk)
        elif seconds > FLUSH_SECONDS * 2 and self.chunk > 1:
            self.chunk //= 2


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
