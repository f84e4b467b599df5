"""The optimizers and learning-rate schedules of the book's optimization chapter (d2l 12.4–12.11), as
names and rules without torch: which fields each one takes, the book's constants, which engines have
it, and the learning rate a schedule gives each step.

The updates themselves are in training/optimizers.py (scratch, the book's from-scratch functions) and
training/engines/concise.py (torch.optim); the fast engine has sgd and momentum, whose steps on a
squared loss stay affine maps (training/engines/fast.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adagrad", "rmsprop", "adadelta", "adam", "yogi")
#: The fields each optimizer reads besides the learning rate (adadelta has no learning rate).
CONSTANTS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "momentum": ("momentum",),
    "adagrad": ("eps",),
    "rmsprop": ("gamma", "eps"),
    "adadelta": ("rho", "eps"),
    "adam": ("beta1", "beta2", "eps"),
    "yogi": ("beta1", "beta2", "eps"),
}
#: The book's ε for each optimizer that has one (adagrad and rmsprop 1e-6, adadelta 1e-5, adam 1e-6, yogi 1e-3).
BOOK_EPS: dict[str, float] = {"adagrad": 1e-6, "rmsprop": 1e-6, "adadelta": 1e-5, "adam": 1e-6, "yogi": 1e-3}
#: Which optimizers each engine has: torch has no Yogi; the fast engine's scan needs steps that are
#: affine maps of the state, which the adaptive ones (dividing by a root of the gradients) are not.
ENGINE_OPTIMIZERS: dict[str, tuple[str, ...]] = {
    "scratch": OPTIMIZERS,
    "concise": tuple(name for name in OPTIMIZERS if name != "yogi"),
    "fast": ("sgd", "momentum"),
}

SCHEDULES: tuple[str, ...] = ("constant", "factor", "multistep", "cosine", "sqrt")
#: The fields each schedule reads besides the learning rate it starts from.
SCHEDULE_FIELDS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "factor": ("decay_factor", "decay_every", "lr_min"),
    "multistep": ("decay_factor", "milestones"),
    "cosine": ("lr_min", "warmup"),
    "sqrt": (),
}
_CONSTANT_FIELDS = {name for names in CONSTANTS.values() for name in names}
#: Every schedule's settings (the fields only some schedules read).
SCHEDULE_SETTINGS = frozenset(name for names in SCHEDULE_FIELDS.values() for name in names)


def training_applies(name: str, optimizer: str, schedule: str) -> bool:
    """Whether field `name` means something for this optimizer and schedule: an optimizer's constants
    for it alone, a schedule's settings for it alone, the learning rate (and its schedule) for every
    optimizer but adadelta, which has none."""
    if name in _CONSTANT_FIELDS:
        return name in CONSTANTS.get(optimizer, ())
    if name in ("lr", "schedule") or name in SCHEDULE_SETTINGS:
        if optimizer == "adadelta":
            return False
        return name in ("lr", "schedule") or name in SCHEDULE_FIELDS.get(schedule, ())
    return True


def why_not(name: str, optimizer: str, schedule: str) -> str:
    """Why field `name` is refused for this optimizer and schedule, and where it is allowed."""
    if name in _CONSTANT_FIELDS:
        owners = [owner for owner, names in CONSTANTS.items() if name in names]
        return f"does not apply to optimizer {optimizer}; allowed with optimizer {' or '.join(owners)}"
    if optimizer == "adadelta":
        return (
            "does not apply to optimizer adadelta, which has no learning rate (the book's adadelta takes none); "
            "allowed with every other optimizer"
        )
    owners = [owner for owner, names in SCHEDULE_FIELDS.items() if name in names]
    return f"does not apply to schedule {schedule}; allowed with schedule {' or '.join(owners)}"


class TrainingValues(Protocol):
    """What check_training reads of a run (a RunConfig)."""

    impl: str
    optimizer: str
    schedule: str
    lr: float
    lr_min: float
    warmup: int
    milestones: tuple[int, ...]
    decay_factor: float
    decay_every: int

    @property
    def total_steps(self) -> int: ...


def check_training(config: TrainingValues, refuse: Callable[[str, str], None]) -> None:
    """The checks that take several of the optimizer's and schedule's fields at once."""
    have = ENGINE_OPTIMIZERS[config.impl]
    if config.optimizer not in have:
        why = (
            "its scan composes affine maps of the parameters, which the adaptive optimizers' steps (divided by "
            "a root of the squared gradients) are not"
            if config.impl == "fast"
            else "torch.optim has no Yogi"
        )
        others = " or ".join(impl for impl, names in ENGINE_OPTIMIZERS.items() if config.optimizer in names)
        refuse(
            "optimizer",
            f"is not available with impl {config.impl}: {why}; allowed with {config.impl}: {', '.join(have)} "
            f"({config.optimizer}: use impl {others})",
        )
    if config.optimizer == "adadelta":
        return
    if config.schedule == "multistep" and any(
        later <= earlier for earlier, later in zip(config.milestones, config.milestones[1:], strict=False)
    ):
        refuse("milestones", "are not increasing; give each step after the one before it, e.g. 100, 200")
    if config.schedule == "cosine" and config.warmup >= config.total_steps:
        refuse(
            "warmup",
            f"is not shorter than the run's {config.total_steps:,} steps; allowed: 0 to {config.total_steps - 1:,}",
        )
    if config.schedule in ("factor", "cosine") and config.lr_min > config.lr:
        refuse(
            "lr_min",
            f"is above the learning rate the schedule starts from ({config.lr:g}); allowed: 0 to {config.lr:g}",
        )


#: A learning rate: a float, or (training/batched.py) a float64 tensor of one per column.
Rate = TypeVar("Rate", float, Any)


def _at_least(floor: float, rate: Rate) -> Rate:
    """max(floor, rate), also for a tensor of rates (elementwise, by its clamp)."""
    return max(floor, rate) if isinstance(rate, float | int) else rate.clamp(min=floor)


def schedule_lr(
    schedule: str,
    lr: Rate,
    step: int,
    total_steps: int,
    *,
    decay_factor: float = 1.0,
    decay_every: int = 1,
    lr_min: float = 0.0,
    milestones: Sequence[int] = (),
    warmup: int = 0,
) -> Rate:
    """The learning rate of step `step` (1 for the first) of a run of `total_steps` starting from `lr`:
    the book's schedulers (d2l 12.11), counted in steps. `lr` may be a tensor of rates, one per batched
    run: each gets the rate its own run computes (the step's terms are the same Python floats).

    - factor: lr·factor^⌊(step−1)/every⌋, never below lr_min (the book's FactorScheduler);
    - multistep: lr·factor^(milestones passed), a milestone m applying from step m+1 on (torch's MultiStepLR);
    - cosine: linear warm-up from 0 over `warmup` steps, then lr_min + (lr − lr_min)(1 + cos(πt/T))/2
      over the remaining T steps (the book's CosineScheduler);
    - sqrt: lr/√step (the book's SquareRootScheduler, lr·(t+1)^−½ with t from 0).
    """
    if schedule == "factor":
        return _at_least(lr_min, lr * decay_factor ** ((step - 1) // decay_every))
    if schedule == "multistep":
        return lr * decay_factor ** sum(1 for milestone in milestones if step > milestone)
    if schedule == "cosine":
        if step <= warmup:
            return lr * step / warmup
        span = max(1, total_steps - warmup)
        return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * (step - warmup - 1) / span)) / 2
    if schedule == "sqrt":
        return lr / math.sqrt(step)
    return lr


def scheduled_lr(config: TrainingValues, step: int, lr: Rate) -> Rate:
    """The rate of step `step` under the run's schedule, starting from `lr` (the run's own, or a tensor of
    batched runs' starting rates)."""
    return schedule_lr(
        config.schedule,
        lr,
        step,
        config.total_steps,
        decay_factor=config.decay_factor,
        decay_every=config.decay_every,
        lr_min=config.lr_min,
        milestones=config.milestones,
        warmup=config.warmup,
    )


def scheduled_lrs(config: TrainingValues, first_step: int, count: int) -> list[float]:
    """The learning rates of steps first_step … first_step + count − 1 under the run's schedule."""
    return [scheduled_lr(config, step, config.lr) for step in range(first_step, first_step + count)]
