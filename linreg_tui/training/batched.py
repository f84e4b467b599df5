"""Many sweep points as one tensor program: scratch's minibatch SGD (d2l 3.2, and the optimization
chapter's optimizers) with K columns of parameters, each column taking the steps its own run would.

Points that share a seed share its data, initial draw and minibatch order; each seed's data is stacked,
so the parameters are an (S, d, C) tensor for S seeds of C points each, and a minibatch is gathered per
seed: (S, m, d) @ (S, d, C). The loss is the book's per example, summed for backward(), and the update is
the book's own function (`sgd`, or training/optimizers.py) with each column's learning rate and
constants as (S, 1, C) tensors that broadcast where the single run has a Python float; under a schedule
each step's rates are run.optimizers.schedule_lr of the columns' starting rates, the floats each single
run computes. So a column equals its single run to float32 rounding (the summation order of a product
over C columns may differ).

A column whose loss or parameters stop being finite stops updating at that step, keeping its last finite
parameters, and the others go on: the single run's divergence, checked on the device at every step
without a synchronisation (run.batching groups the points; training.sweep runs the groups).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter

import torch
from torch.nn import functional

from linreg_tui.run.batching import LOSS_BLOCK_COLUMNS, check_group_memory, seed_layout
from linreg_tui.run.config import RunConfig
from linreg_tui.run.memory import host_free_bytes
from linreg_tui.run.optimizers import scheduled_lr
from linreg_tui.run.result import RunResult
from linreg_tui.run.stability import divergence_message
from linreg_tui.run.sweep import SweepPoint
from linreg_tui.training.data import initial_weights, make_generator
from linreg_tui.training.devices import describe_device, device_free_bytes, resolve_device
from linreg_tui.training.engines.scratch import sgd
from linreg_tui.training.optimizers import UPDATES, Hyperparams, init_states
from linreg_tui.training.run_data import RunData, make_run_data
from linreg_tui.training.statistics import conditioning

ColumnLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: Called after each epoch of a program with its points, the epoch and each point's full-data training
#: loss then, in the points' order (None for a point that has diverged). A group whose seeds train as
#: programs of their own calls it with each program's points.
EpochLosses = Callable[[list[SweepPoint], int, list[float | None]], None]


def column_loss(config: RunConfig) -> ColumnLoss:
    """The run's loss per example and column: scratch's (training/engines/scratch.py) with the labels
    (S, m, 1) broadcast over the columns instead of reshaped to one."""
    if config.loss == "huber":
        delta = config.huber_delta
        return lambda y_hat, y: functional.huber_loss(y_hat, y.expand_as(y_hat), reduction="none", delta=delta)
    if config.loss == "absolute":
        return lambda y_hat, y: (y_hat - y).abs()
    return lambda y_hat, y: (y_hat - y) ** 2 / 2


@dataclass
class _Seed:
    """One seed's data and what its runs report about it."""

    data: RunData
    features: torch.Tensor  #: (n, d) float32 on the device
    labels: torch.Tensor  #: (n, 1)
    val_features: torch.Tensor | None
    val_labels: torch.Tensor | None
    generator: torch.Generator
    initial: torch.Tensor  #: (d, C): each column's initial weights, drawn as its single run draws them


def train_group(
    points: Sequence[SweepPoint], cancel: threading.Event | None = None, on_epoch: EpochLosses | None = None
) -> list[RunResult]:
    """Train the points (which run.batching.group_points put together) as one program; their results in
    the points' order. Seeds with other numbers of points train as programs of their own (`on_epoch`
    then hears of each program's points). Raises ConfigError for a program that cannot fit in memory."""
    by_seed = seed_layout(points)
    if len({len(group) for group in by_seed}) > 1:
        done = {}
        for group in by_seed:
            results = train_group(group, cancel, on_epoch)
            done.update({id(point): result for point, result in zip(group, results, strict=True)})
        return [done[id(point)] for point in points]
    device = preflight_group(points)
    seeds = [_prepare_seed([point.config for point in group], device) for group in by_seed]
    program = _Program([[point.config for point in group] for group in by_seed], seeds, device, cancel)
    order = {id(point): index for index, point in enumerate(point for group in by_seed for point in group)}
    if on_epoch is not None:
        listed = list(points)  # one list for every epoch: the app's messages replace their program's last
        program.on_epoch = lambda epoch, losses: on_epoch(listed, epoch, [losses[order[id(p)]] for p in listed])
    started = perf_counter()
    program.run()
    seconds = (perf_counter() - started) / len(points)
    results = program.results(describe_device(device), seconds)
    return [results[order[id(point)]] for point in points]


def preflight_group(points: Sequence[SweepPoint]) -> torch.device:
    """The program's device, once its memory is checked against what is free there (ConfigError if not)."""
    by_seed = seed_layout(points)
    device = resolve_device(points[0].config.device)
    columns = max(map(len, by_seed))
    check_group_memory(points[0].config, len(by_seed), columns, host_free_bytes(), device_free_bytes(device))
    return device


def _prepare_seed(configs: list[RunConfig], device: torch.device) -> _Seed:
    """The seed's data and initial weights, drawn in the single run's order: data, then w (one draw per
    spread asked for, from the same generator state, since w = N(0, σ²) is drawn with σ), then the
    minibatch orders."""
    generator = make_generator(configs[0].seed)
    data, train, validation = make_run_data(configs[0], generator)
    state = generator.get_state()
    columns = []
    for config in configs:
        draw = torch.Generator().set_state(state)
        columns.append(initial_weights(config.num_features, draw, config.init_std))
    generator.set_state(draw.get_state())
    return _Seed(
        data=data,
        features=train.features.to(device),
        labels=train.labels.to(device),
        val_features=None if validation is None else validation.features.to(device),
        val_labels=None if validation is None else validation.labels.to(device),
        generator=generator,
        initial=torch.cat(columns, dim=1),
    )


class _Program:
    """The group's parameters, optimizer states and what each column has done so far."""

    def __init__(
        self, configs: list[list[RunConfig]], seeds: list[_Seed], device: torch.device, cancel: threading.Event | None
    ) -> None:
        self.configs, self.seeds, self.cancel = configs, seeds, cancel
        self.first = configs[0][0]
        shape = (len(seeds), 1, len(configs[0]))

        def column(name: str) -> torch.Tensor:
            values = [[getattr(config, name) for config in group] for group in configs]
            return torch.tensor(values, dtype=torch.float32, device=device).view(shape)

        self.lr, self.lambd = column("lr"), column("wd")
        # Under a schedule each step's rates come from the starting ones, in float64 as each run's do.
        self.scheduled = self.first.schedule != "constant" and self.first.optimizer != "adadelta"
        self.start_lr = self.lr.double()
        self.rate = self.lr  # this step's rates
        self.decays = any(config.wd for group in configs for config in group)
        self.w = torch.stack([seed.initial for seed in seeds]).to(device).requires_grad_(True)
        self.b = torch.zeros(shape, device=device, requires_grad=True)
        self.update = None
        if self.first.optimizer != "sgd":
            self.update, names = UPDATES[self.first.optimizer]
            self.states = init_states([self.w, self.b], names)
            constants = {name: column(name) for name in ("momentum", "gamma", "rho", "beta1", "beta2", "eps")}
            self.hyperparams = Hyperparams(lr=self.lr, **constants)  # type: ignore[arg-type]
        self.loss = column_loss(self.first)
        self.alive = torch.ones(shape, dtype=torch.bool, device=device)
        self.stopped_at = torch.zeros(shape, dtype=torch.int64, device=device)  # the step that diverged
        self.stopped_in = torch.zeros(shape, dtype=torch.int64, device=device)  # its epoch
        count = shape[0] * shape[2]
        self.epoch_losses: list[list[float]] = [[] for _ in range(count)]
        self.val_losses: list[list[float]] = [[] for _ in range(count)]
        self.at_epoch_end: list[tuple[int, int, float] | None] = [None] * count  # (epoch, step, loss)
        self.steps = 0
        self.status = "finished"
        self.on_epoch: Callable[[int, list[float | None]], None] | None = None  # in program order

    def run(self) -> None:
        config = self.first
        rows = torch.arange(len(self.seeds), device=self.w.device).unsqueeze(1)
        features = torch.stack([seed.features for seed in self.seeds])
        labels = torch.stack([seed.labels for seed in self.seeds])
        n = config.training_examples
        for epoch in range(1, config.epochs + 1):
            # One randperm per seed and epoch from its generator, as the single runs draw them.
            order = torch.stack([torch.randperm(n, generator=seed.generator) for seed in self.seeds])
            order = order.to(self.w.device)
            for start in range(0, n, config.batch_size):
                if self.cancel is not None and self.cancel.is_set():
                    self.status = "cancelled"
                    return
                indices = order[:, start : start + config.batch_size]
                self._step(epoch, features[rows, indices], labels[rows, indices])
            self._end_epoch(epoch)

    def _step(self, epoch: int, X: torch.Tensor, y: torch.Tensor) -> None:
        """One step of every column, as scratch's run_steps takes it (the book's lines, per column)."""
        self.steps += 1
        if self.scheduled:
            self._schedule_step()
        l = self.loss(torch.matmul(X, self.w) + self.b, y)  # noqa: E741 (the book's name)
        total = l.sum(dim=1, keepdim=True)
        if self.decays:
            l = l + self.lambd * (self.w**2).sum(dim=1, keepdim=True) / 2  # noqa: E741 (lambd * l2_penalty(w))
        l.sum().backward()
        w_before, b_before = self.w.detach().clone(), self.b.detach().clone()
        if self.update is None:
            sgd([self.w, self.b], self.rate, self.first.batch_size)  # type: ignore[arg-type]
        else:
            self.update([self.w, self.b], self.states, self.hyperparams, self.first.batch_size)
        with torch.no_grad():
            finite = torch.isfinite(total) & torch.isfinite(self.w).all(dim=1, keepdim=True) & torch.isfinite(self.b)
            stops = self.alive & ~finite
            self.stopped_at.masked_fill_(stops, self.steps)
            self.stopped_in.masked_fill_(stops, epoch)
            self.alive &= finite
            self.w.copy_(torch.where(self.alive, self.w, w_before))
            self.b.copy_(torch.where(self.alive, self.b, b_before))

    def _schedule_step(self) -> None:
        """This step's rate in every column: what run.optimizers.scheduled_lr gives each single run."""
        self.rate = scheduled_lr(self.first, self.steps, self.start_lr).float()
        if self.update is not None:
            self.hyperparams.lr = self.rate  # type: ignore[assignment]

    def _end_epoch(self, epoch: int) -> None:
        """The full-data loss of every column still going (the book's evaluate_loss, in float32, a block
        of columns at a time); a column whose loss is not finite diverged at the end of the epoch."""
        losses = self._mean_loss([seed.features for seed in self.seeds], [seed.labels for seed in self.seeds])
        val = None
        if self.seeds[0].val_features is not None:
            val = self._mean_loss(
                [seed.val_features for seed in self.seeds],  # type: ignore[misc]
                [seed.val_labels for seed in self.seeds],  # type: ignore[misc]
            )
        alive = self.alive.reshape(-1).tolist()
        for index, loss in enumerate(losses.reshape(-1).tolist()):
            if not alive[index]:
                continue
            if not math.isfinite(loss):  # the single run stops here, with these parameters
                self.at_epoch_end[index] = (epoch, self.steps, loss)
                self.alive.view(-1)[index] = False
                continue
            self.epoch_losses[index].append(loss)
            if val is not None:
                self.val_losses[index].append(float(val.reshape(-1)[index]))
        if self.on_epoch is not None:
            going = self.alive.reshape(-1).tolist()
            self.on_epoch(epoch, [losses[-1] if going[i] else None for i, losses in enumerate(self.epoch_losses)])

    def _mean_loss(self, features: list[torch.Tensor], labels: list[torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():
            out = torch.empty(self.alive.shape, device=self.w.device)
            for s, (X, y) in enumerate(zip(features, labels, strict=True)):
                for first in range(0, self.w.shape[2], LOSS_BLOCK_COLUMNS):
                    block = slice(first, first + LOSS_BLOCK_COLUMNS)
                    y_hat = torch.matmul(X, self.w[s, :, block]) + self.b[s, :, block]
                    out[s, 0, block] = self.loss(y_hat, y).mean(dim=0)
            return out

    def _rate_of(self, config: RunConfig, step: int) -> float:
        """The rate of the column's last finite step, which its single run's divergence message names."""
        return scheduled_lr(config, step, config.lr) if self.scheduled and step >= 1 else config.lr

    def results(self, device: str, seconds: float) -> list[RunResult]:
        """Each column's RunResult, as its single run would return it."""
        w = self.w.detach().double().cpu()
        b = self.b.detach().double().cpu()
        stopped_at = self.stopped_at.reshape(-1).tolist()
        stopped_in = self.stopped_in.reshape(-1).tolist()
        results = []
        columns = len(self.configs[0])
        for s, (seed, group) in enumerate(zip(self.seeds, self.configs, strict=True)):
            for c, config in enumerate(group):
                index = s * columns + c
                conditions = seed.data.conditions
                if config.wd != group[0].wd:  # the seed's data was made with its first point's
                    conditions = conditioning(seed.data.stats, config.impl, config.loss, config.wd)
                learned_w, learned_b = tuple(w[s, :, c].tolist()), float(b[s, 0, c])
                status, message, diverged_at, steps = self.status, "", None, self.steps
                if stopped_at[index]:
                    epoch, step = stopped_in[index], stopped_at[index]
                    status, diverged_at, steps = "diverged", (epoch, step), step - 1
                    lr = self._rate_of(config, step - 1)
                    message = divergence_message(epoch, f"step {step}", lr, conditions.max_stable_lr)
                elif (ended := self.at_epoch_end[index]) is not None:
                    epoch, step, loss = ended
                    status, diverged_at, steps = "diverged", (epoch, step), step
                    where = f"the end of the epoch (full-data loss {loss})"
                    message = divergence_message(epoch, where, self._rate_of(config, step), conditions.max_stable_lr)
                elif status == "cancelled":
                    message = f"cancelled after {steps:,} steps (the sweep was stopped)"
                results.append(
                    RunResult(
                        status=status,  # type: ignore[arg-type]
                        config=config,
                        device=device,
                        w=learned_w,
                        b=learned_b,
                        optimum=seed.data.optimum,
                        epoch_losses=tuple(self.epoch_losses[index]),
                        val_losses=list(self.val_losses[index]),
                        steps=steps,
                        train_seconds=seconds,
                        message=message,
                        diverged_at=diverged_at,
                        condition_number=conditions.condition_number,
                        max_stable_lr=conditions.max_stable_lr,
                        data=seed.data.facts(config, learned_w, learned_b),
                    )
                )
        return results
