"""Which sweep points can train as one tensor program, and what that program needs, without torch.

Points that differ only in numbers entering the update (the learning rate, weight decay, the initial
weights' spread, the optimizer's constants) and the seed can share one program: K columns of
parameters, each taking exactly the steps its own run would (training/batched.py). Everything else must
be equal: the data and its size, d, the batch size, the epochs, the loss, the optimizer, the schedule
and its settings, the device.
The engine is scratch's (concise keeps one torch.optim per model, fast a scan per learning rate); a
schedule and its settings are shared, each column scheduling from its own starting rate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Protocol, TypeVar

from linreg_tui.run.config import ConfigError, FieldError, RunConfig
from linreg_tui.run.memory import MemoryEstimate, human_bytes


class HasConfig(Protocol):
    """A sweep's point (run.sweep.SweepPoint), as far as grouping reads it."""

    @property
    def config(self) -> RunConfig: ...


Point = TypeVar("Point", bound=HasConfig)

#: The fields in which points of one program may differ (besides the seed).
PER_COLUMN: tuple[str, ...] = ("lr", "wd", "init_std", "momentum", "gamma", "rho", "beta1", "beta2", "eps")
#: A group of one point gains nothing: it runs as a single run.
MIN_BATCH = 2


def batch_key(config: RunConfig) -> RunConfig | None:
    """What points must share to train together (the config with its per-column fields and seed set to
    the defaults); None for a point that cannot batch at all."""
    if config.impl != "scratch":
        return None
    return dataclasses.replace(config, seed=0, **{name: getattr(RunConfig(), name) for name in PER_COLUMN})


def group_points(points: Sequence[Point], batch: bool = True) -> list[list[Point]]:
    """The sweep's points as programs, in the order of their first point: groups of points that train
    together, and single points (every point alone when `batch` is off)."""
    if not batch:
        return [[point] for point in points]
    groups: dict[object, list[Point]] = {}
    order: list[object] = []
    for index, point in enumerate(points):
        key = batch_key(point.config)
        slot: object = index if key is None else key
        if slot not in groups:
            groups[slot] = []
            order.append(slot)
        groups[slot].append(point)
    programs: list[list[Point]] = []
    for slot in order:
        group = groups[slot]
        programs.extend([group] if len(group) >= MIN_BATCH else [[point] for point in group])
    return programs


def seed_layout(group: Sequence[Point]) -> list[list[Point]]:
    """The group's points by seed (each seed draws its own data, initial weights and order), in the order
    the seeds first appear."""
    by_seed: dict[int, list[Point]] = {}
    for point in group:
        by_seed.setdefault(point.config.seed, []).append(point)
    return list(by_seed.values())


def estimate_group_memory(config: RunConfig, seeds: int, columns: int, on_cuda: bool = False) -> MemoryEstimate:
    """The program's peak, generously: each seed's data (training and validation rows) and its order,
    the parameters, their gradients, the optimizer's states and a copy per column, one minibatch's
    predictions per column, and the full-data loss evaluated a block of columns at a time. On CUDA all
    of it is on the device, and the host holds the data it was made in."""
    n, d = config.num_examples, config.num_features
    data = seeds * (4 * (n + config.val) * (d + 2) + 8 * n)
    parameters = 4 * seeds * columns * (d + 1) * 6  # θ, its gradient, a copy and up to three states
    minibatch = 4 * seeds * config.batch_size * columns * 4
    loss_block = 4 * seeds * max(n, config.val) * min(columns, LOSS_BLOCK_COLUMNS) * 2
    total = data + parameters + minibatch + loss_block
    if on_cuda:
        return MemoryEstimate(host_bytes=data, device_bytes=total)
    return MemoryEstimate(host_bytes=total, device_bytes=0)


#: The full-data loss is computed for at most this many columns at once (an (n × block) temporary).
LOSS_BLOCK_COLUMNS = 256


def check_group_memory(
    config: RunConfig, seeds: int, columns: int, free_bytes: int, device_free: int | None = None
) -> None:
    """Refuses a program that cannot fit (ConfigError, with the figure); `device_free`: the CUDA device's
    free bytes (None: the program runs on the CPU)."""
    estimate = estimate_group_memory(config, seeds, columns, on_cuda=device_free is not None)
    on_device = device_free is not None and estimate.device_bytes > device_free
    if estimate.host_bytes > free_bytes or on_device:
        free = f"{human_bytes(free_bytes)} is free" + (
            f" ({human_bytes(device_free)} on the device)" if device_free is not None else ""
        )
        raise ConfigError(
            [
                FieldError(
                    "lr",
                    f"{seeds * columns:,} points",
                    f"as one program {estimate.describe()}, but {free}; sweep fewer points, or run them one "
                    "after another (--no-batch)",
                )
            ]
        )
