"""The training loop: runs any engine, reports events, stops on cancel, divergence or a fault.

Written once for all engines. It hands the engine a chunk of minibatches at a time and looks at the
results once per chunk (one device synchronisation: the losses, the path of the tracked parameters and
a finiteness flag in one transfer), so that the book's step stays the book's step. With a RunControl
(linreg_tui/run/control.py) it pauses between chunks, takes single explained steps, and changes the
learning rate at a chunk boundary.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from array import array
from collections.abc import Callable, Iterator
from itertools import islice
from time import perf_counter  # a module-level name, so tests can give the loop a fake clock

import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.run.control import Move, RunControl
from linreg_tui.run.events import (
    EXPLAINED_INDICES,
    DataLoading,
    EpochEnded,
    LearningRateChanged,
    Paused,
    RunEnded,
    RunStarted,
    StepExplained,
    StepLosses,
    TrainingEvent,
)
from linreg_tui.run.memory import check_memory, estimate_memory, host_free_bytes
from linreg_tui.run.optimizers import scheduled_lrs
from linreg_tui.run.path import TrackedPath, join
from linreg_tui.run.report import count
from linreg_tui.run.result import Optimum, RunResult, Status
from linreg_tui.run.stability import divergence_message, keeps_rising, watched
from linreg_tui.run.theory import distance, why_no_prediction
from linreg_tui.training.data import Dataset, make_generator, preview
from linreg_tui.training.devices import describe_device, device_free_bytes, resolve_device
from linreg_tui.training.engines import Engine, make_engine
from linreg_tui.training.engines.base import Checkpoint, StepExplanation, tracked_count
from linreg_tui.training.run_data import column_names, make_run_data
from linreg_tui.training.statistics import loss_surface

#: Aim to report losses (and look for cancellation) about this often: often enough for a live chart
#: and a prompt stop, rarely enough that the UI's work does not slow the training thread.
FLUSH_SECONDS = 0.1
#: A file's load says how far it has got at most this often (a status line, not a chart).
LOAD_EVENT_SECONDS = 0.1


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
    control: RunControl | None = None,
) -> RunResult:
    """Train as the book does and return what was learned, whatever way the run ended.

    `cancel` may be set from any thread; the run stops at the next chunk of steps (within about
    FLUSH_SECONDS, or POLL_SECONDS while paused), or between the phases of its set-up. `control`
    pauses, steps and changes the learning rate; it is bound to `cancel` (control.stop() sets it).
    Raises ConfigError for a run that must not start, TrainingSetupFailed when the data or engine
    cannot be made, SetupCancelled when `cancel` came before the first step.
    """
    emit = on_event or (lambda event: None)
    cancel = control.bind(cancel) if control is not None else cancel or threading.Event()
    device = preflight(config)

    def unless_cancelled() -> None:
        # Each phase of the set-up can take seconds for large runs; a stop or quit need not wait for all.
        if cancel.is_set():
            raise SetupCancelled("stopped before training started")

    try:
        generator = make_generator(config.seed)
        loading = LoadProgress(config, emit, unless_cancelled) if config.kind == "file" else None
        data, cpu_data, cpu_validation = make_run_data(config, generator, unless_cancelled, loading)
        optimum, conditions = data.optimum, data.conditions
        surface = loss_surface(data.stats, optimum, config.truth, config.impl)
        unless_cancelled()
        engine = make_engine(config, cpu_data.to(device), generator)
        validation = cpu_validation.to(device) if cpu_validation is not None else None
        unless_cancelled()
    except SetupCancelled:
        raise
    except (RuntimeError, MemoryError) as exc:
        raise TrainingSetupFailed(f"could not prepare the run on {device}: {_describe(exc)}") from exc
    device_name = describe_device(device)
    w0, b0 = engine.parameters().to_lists()
    emit(
        RunStarted(
            config=config,
            device=device_name,
            first_features=tuple(cpu_data.features[0].tolist()),
            first_label=float(cpu_data.labels[0, 0]),
            optimum=optimum,
            loss_formula=engine.describe_loss(),
            preview=preview(cpu_data, column_names(config)),
            surface=surface,
            conditioning=conditions,
            initial=(*w0[: tracked_count(config.num_features)], b0),
            surface_is_exact=config.minimises_squared_loss,
        )
    )
    del cpu_data, cpu_validation  # on CUDA the device copies are all we need from here on
    if control is not None:
        control.wait_until_start_shown()  # the app lays its panels out for the run before step 1
    loop = _Loop(engine, config, emit, cancel, control, validation)
    loop.max_stable_lr = conditions.max_stable_lr
    if not why_no_prediction(config):  # only a run whose rate is predicted has its rate observed
        loop.optimum = optimum
        loop.distances.append((0, distance(w0, b0, optimum.w, optimum.b)))
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
        val_losses=list(loop.val_losses),
        steps=loop.steps,
        train_seconds=train_seconds,
        message=loop.message,
        diverged_at=loop.diverged_at,
        condition_number=conditions.condition_number,
        max_stable_lr=conditions.max_stable_lr,
        hessian_min=conditions.hessian_min,
        hessian_max=conditions.hessian_max,
        distances=tuple(loop.distances),
        lr_changes=tuple(loop.lr_changes),
        data=data.facts(config, w, b),
    )
    emit(RunEnded(result))
    return result


class LoadProgress:
    """A file's load, said as DataLoading events at most every LOAD_EVENT_SECONDS (and at its end); a stop
    asked for while it loads ends it there (`unless_cancelled` raises)."""

    def __init__(
        self, config: RunConfig, emit: Callable[[TrainingEvent], None], unless_cancelled: Callable[[], None]
    ) -> None:
        self.name = os.path.basename(config.data) or config.data
        self.emit, self.unless_cancelled = emit, unless_cancelled
        self.said_at = -math.inf

    def __call__(self, done: int, total: int) -> None:
        self.unless_cancelled()
        now = perf_counter()
        if done >= total or now - self.said_at >= LOAD_EVENT_SECONDS:
            self.said_at = now
            self.emit(DataLoading(self.name, done, total))


class _Loop:
    """One run's epochs; its fields are the run's state when `run` returns."""

    def __init__(
        self,
        engine: Engine,
        config: RunConfig,
        emit: Callable[[TrainingEvent], None],
        cancel: threading.Event,
        control: RunControl | None = None,
        validation: Dataset | None = None,
    ) -> None:
        self.engine = engine
        self.validation = validation
        self.config = config
        self.emit = emit
        self.cancel = cancel
        self.control = control
        self.status: Status = "finished"
        self.message = ""
        self.diverged_at: tuple[int, int] | None = None
        self.steps = 0
        self.epoch_losses: list[float] = []
        self.val_losses: list[float] = []
        # Said once a run, and only where the loss's rise means instability (run.stability).
        full_batch = config.batch_size >= config.training_examples
        self.unstable_seen = not watched(full_batch, config.minimises_squared_loss)
        self.max_stable_lr = math.inf  # the run's bound, for the lr a divergence suggests
        self.optimum: Optimum | None = None
        #: (steps, ‖θ − θ*‖) at the start and each epoch's end: run.theory's observed rate.
        self.distances: list[tuple[int, float]] = []
        self.lr_changes: list[tuple[int, float]] = []
        self.chunk = min(8, engine.max_chunk)
        self.last_good: Checkpoint = engine.checkpoint()
        #: Whether the schedule still sets each step's learning rate: a live change ends it from its step on.
        self.scheduled = config.schedule != "constant" and config.optimizer != "adadelta"
        #: The learning rate of the last step taken (a schedule's, or the engine's constant one).
        self.last_lr = engine.lr
        # Host copies, for a fault that leaves the device unreadable.
        self.last_known: tuple[tuple[float, ...], float] = self.last_good.params.to_lists()

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
                self.engine.rewind(self.last_good)
                return self.last_good.params.to_lists()
            except Exception:  # noqa: BLE001 - the device itself may be gone; use the host copy
                return self.last_known
        return self.engine.parameters().to_lists()

    def _run_epoch(self, epoch: int, batches: Iterator[object]) -> bool:
        taken = 0  # steps of this epoch: after its last one the epoch ends at once, before any pause
        while taken < self.config.steps_per_epoch:
            move = self._next_move(epoch)
            if self.cancel.is_set():
                self.status = "cancelled"
                self.message = f"cancelled in epoch {epoch} after {count(self.steps, 'step')}"
                return False
            self._apply_lr_change()
            group = list(islice(batches, 1 if move == "step" else self._chunk_size()))
            if not group:
                return True
            started = perf_counter()
            lrs = self._scheduled_lrs(len(group))
            if move == "step":
                explanation = self.engine.explain_step(group[0], None if lrs is None else lrs[0])
                losses = explanation.loss
            else:
                explanation, losses = None, self.engine.run_steps(group, lrs)
            values, path, finite = self._fetch(losses)
            if not finite:
                self.engine.rewind(self.last_good)
                values, path = self._replay(group, lrs)
            if values:
                self.emit(StepLosses(epoch, self.steps + 1, values, path))
                self.steps += len(values)
                taken += len(values)
            if values:  # the rate of the last finite step, which a divergence message names
                self.last_lr = self.engine.lr if lrs is None else lrs[len(values) - 1]
            if len(values) < len(group):
                self._diverged(epoch, self.steps + 1, f"step {self.steps + 1}")
                return False
            self.last_good = self.engine.checkpoint()
            if explanation is not None:
                self._explain(epoch, explanation)
            else:
                self._adapt_chunk(perf_counter() - started)
        return True

    def _next_move(self, epoch: int) -> Move:
        """A chunk ("run") or one explained step ("step"); while paused, waits (and says so once)."""
        if self.control is None:
            return "run"
        move = self.control.next_move()
        if move == "paused" and not self.cancel.is_set():
            self.emit(Paused(epoch, self.steps))
            move = self.control.wait_while_paused()
        return move

    def _apply_lr_change(self) -> None:
        if self.control is None:
            return
        lr = self.control.lr_from(self.steps + 1)
        if lr is not None and (lr != self.engine.lr or self.scheduled):
            self.scheduled = False  # a learning rate chosen during the run ends the schedule from here on
            self.engine.set_lr(lr)
            self.lr_changes.append((self.steps + 1, lr))
            self.emit(LearningRateChanged(self.steps + 1, lr))

    def _chunk_size(self) -> int:
        """The adaptive chunk, ended early where a scheduled learning-rate change falls (a replay)."""
        ahead = self.control.steps_before_next_change(self.steps + 1) if self.control is not None else None
        return self.chunk if ahead is None else min(self.chunk, ahead)

    def _explain(self, epoch: int, explanation: StepExplanation) -> None:
        """Read the step's explanation (one transfer) and tell it; the control then pauses again."""
        k = tracked_count(self.config.num_features)
        grad, update = explanation.grad, explanation.update
        parts = [grad.w[:k], grad.b, update.w[:k], update.b]
        for _, state in explanation.state:  # each state's tracked weights and b, after the indices' place
            parts += [state.w[:k], state.b]
        parts.append(explanation.indices[:EXPLAINED_INDICES])
        values = torch.cat([part.detach().reshape(-1).double().cpu() for part in parts]).tolist()
        after = 2 * k + 2 + len(explanation.state) * (k + 1)
        states = tuple(
            (name, tuple(values[start : start + k]), values[start + k])
            for position, (name, _) in enumerate(explanation.state)
            for start in [2 * k + 2 + position * (k + 1)]
        )
        self.emit(
            StepExplained(
                epoch=epoch,
                step=self.steps,
                indices=tuple(int(i) for i in values[after:]),
                batch_size=explanation.indices.numel(),
                loss=float(explanation.loss.reshape(-1)[0]),
                lr=self.last_lr,
                grad_w=tuple(values[:k]),
                grad_b=values[k],
                update_w=tuple(values[k + 1 : 2 * k + 1]),
                update_b=values[2 * k + 1],
                rule=explanation.rule,
                state=states,
            )
        )
        if self.control is not None:
            self.control.step_taken()

    def _end_epoch(self, epoch: int) -> bool:
        loss = float(self.engine.epoch_loss())
        if not math.isfinite(loss):
            self._diverged(epoch, self.steps, f"the end of the epoch (full-data loss {loss})")
            return False
        w, b = self.engine.parameters().to_lists()
        self.last_known = (w, b)
        self.epoch_losses.append(loss)
        if self.optimum is not None:
            self.distances.append((self.steps, distance(w, b, self.optimum.w, self.optimum.b)))
        val_loss = None
        if self.validation is not None:
            val_loss = float(self.engine.loss_on(self.validation))
            self.val_losses.append(val_loss)
        unstable_from = None
        if not self.unstable_seen and keeps_rising(self.epoch_losses):
            self.unstable_seen = True
            unstable_from = min(self.epoch_losses)
        lr = self.last_lr if self.config.applies("lr") else None  # adadelta has no learning rate
        self.emit(EpochEnded(epoch, loss, self.steps, w, b, val_loss, unstable_from, lr))
        return True

    def _fetch(self, losses: torch.Tensor) -> tuple[array[float], TrackedPath, bool]:
        """The chunk's losses, the tracked parameters after each step, and whether all losses and
        parameters are finite: one transfer."""
        path = self.engine.last_path()
        # Checked on the device, in the same transfer: all(map(math.isfinite, values)) on the host cost
        # fast 27 ns a step (1.8 ms a chunk of 65,536), its whole step being 0.7–0.9 µs here.
        flag = (self.engine.parameters().all_finite() & torch.isfinite(losses).all()).reshape(1)
        count = losses.numel()
        host = torch.cat([losses.reshape(-1).double(), path.reshape(-1).double(), flag.double()]).cpu()
        # The losses and the path as the float64 bytes they came in (a memcpy; numpy is not a
        # dependency): Python floats are made only where they are read.
        values = array("d", ctypes.string_at(host.data_ptr(), 8 * count))
        tracked = TrackedPath(ctypes.string_at(host[count:].data_ptr(), 8 * (host.numel() - count - 1)), path.shape[1])
        return values, tracked, bool(host[-1])

    def _scheduled_lrs(self, count: int) -> list[float] | None:
        """The learning rates of the next `count` steps while a schedule sets them (None: the engine's
        constant rate)."""
        if not self.scheduled:
            return None
        return scheduled_lrs(self.config, self.steps + 1, count)

    def _replay(self, group: list[object], lrs: list[float] | None) -> tuple[array[float], TrackedPath]:
        """Re-run a chunk that went non-finite step by step, stopping before the first bad step."""
        values: array[float] = array("d")
        paths: list[TrackedPath] = []
        for batch in group:
            before = self.engine.checkpoint()
            lr = None if lrs is None else [lrs[len(values)]]
            [value], after, finite = self._fetch(self.engine.run_steps([batch], lr))
            if not finite:
                self.engine.rewind(before)
                break
            values.append(value)
            paths.append(after)
        return values, join(paths, tracked_count(self.config.num_features) + 1)

    def _diverged(self, epoch: int, step: int, where: str) -> None:
        self.status = "diverged"
        self.diverged_at = (epoch, step)
        self.message = divergence_message(epoch, where, self.last_lr, self.max_stable_lr)

    def _adapt_chunk(self, seconds: float) -> None:
        if seconds < FLUSH_SECONDS / 2 and self.chunk < self.engine.max_chunk:
            self.chunk = min(self.chunk * 2, self.engine.max_chunk)
        elif seconds > FLUSH_SECONDS * 2 and self.chunk > 1:
            self.chunk //= 2


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
