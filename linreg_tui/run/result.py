"""What a run produced: the learned parameters, how the run ended, and the closed-form optimum it is
compared against. Plain values (no torch): the app's panels, the reports and the sweeps read them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from linreg_tui.run.config import RunConfig

Status = Literal["finished", "cancelled", "diverged", "failed"]


@dataclass(frozen=True)
class Optimum:
    """argmin over (w, b) of Σ(Xw + b − y)²: the lowest loss any training on this data can reach.

    Unique when the data pins down all d + 1 unknowns (rank d + 1: at least d + 1 examples, which
    X ~ N(0, 1) then has almost surely). Otherwise (n < d + 1) many (w, b) fit the data exactly, this is
    the one of least norm, and training can end at another exact fit: `unique` is False.
    """

    w: tuple[float, ...]
    b: float
    unique: bool = True


@dataclass(frozen=True)
class RunResult:
    status: Status
    config: RunConfig
    device: str
    w: tuple[float, ...]
    b: float
    optimum: Optimum
    epoch_losses: tuple[float, ...]
    steps: int
    train_seconds: float
    #: Why a run stopped early (diverged, failed, cancelled), in words for the log.
    message: str = ""
    #: For a diverged run: (epoch, global step) of the first non-finite loss or parameter.
    diverged_at: tuple[int, int] | None = None
    #: λmax/λmin of ZᵀZ/n, and 2/λmax of the run's loss's Hessian (run.surface.Conditioning).
    condition_number: float = math.nan
    max_stable_lr: float = math.nan
    #: (step, lr): from each step on the run used the new learning rate (changed while it ran).
    lr_changes: tuple[tuple[int, float], ...] = ()
    #: The validation loss at the end of each epoch (the book's evaluate_loss); empty without --val.
    val_losses: list[float] = field(default_factory=list)

    @property
    def w_norm(self) -> float:
        """‖w‖, the L2 norm of the learned weights (the book's weight-decay section prints it)."""
        return math.hypot(*self.w)

    @property
    def w_error(self) -> tuple[float, ...]:
        """true_w − w, the sign the book prints."""
        return tuple(t - v for t, v in zip(self.config.true_w, self.w, strict=True))

    @property
    def b_error(self) -> float:
        return self.config.true_b - self.b

    @property
    def gap_to_optimum(self) -> float:
        """The largest |learned − optimum| over all weights and the bias."""
        pairs = [*zip(self.w, self.optimum.w, strict=True), (self.b, self.optimum.b)]
        return max(abs(a - o) for a, o in pairs)

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.train_seconds if self.train_seconds > 0 else math.nan

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of `linreg-tui --headless --json`."""
        return {
            "status": self.status,
            "message": self.message,
            "impl": self.config.impl,
            "device": self.device,
            "seed": self.config.seed,
            "true_w": list(self.config.true_w),
            "true_b": self.config.true_b,
            "w": list(self.w),
            "b": self.b,
            "w_error": list(self.w_error),
            "b_error": self.b_error,
            "ols_w": list(self.optimum.w),
            "ols_b": self.optimum.b,
            "gap_to_optimum": self.gap_to_optimum,
            "ols_unique": self.optimum.unique,
            "epoch_losses": list(self.epoch_losses),
            "val_losses": list(self.val_losses),
            "w_norm": self.w_norm,
            "steps": self.steps,
            "train_seconds": self.train_seconds,
            "diverged_at": None
            if self.diverged_at is None
            else {"epoch": self.diverged_at[0], "step": self.diverged_at[1]},
            "condition_number": self.condition_number,
            "max_stable_lr": self.max_stable_lr,
            "lr_changes": [{"step": step, "lr": lr} for step, lr in self.lr_changes],
            "config": self.config.as_dict(),
        }
