"""What a run produced: the learned parameters, how the run ended, and the closed-form optimum it is
compared against. Plain values (no torch): the app's panels, the reports and the sweeps read them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from linreg_tui.run.config import RunConfig
from linreg_tui.run.theory import TOLERANCE, RunTheory, observed_rate, observed_steps_to, run_theory

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
class DataFacts:
    """The data a run trained on, and how the learned model and the optimum fit it, in the data's own
    units (the file's, when the run standardized it)."""

    source: str
    feature_names: tuple[str, ...]
    target_name: str
    standardize: str
    w_original: tuple[float, ...]
    b_original: float
    ols_w_original: tuple[float, ...]
    ols_b_original: float
    #: R² and the RMSE in the target's units, on the training rows and (with validation rows) on those.
    r2: float
    rmse: float
    val_r2: float | None = None
    val_rmse: float | None = None
    #: The file read, its rows and its sha256 (a built-in table's too; None for generated data).
    path: str | None = None
    rows: int | None = None
    sha256: str | None = None


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
    #: The ends of that Hessian's spectrum (run.surface.Conditioning), for run.theory's rates.
    hessian_min: float = math.nan
    hessian_max: float = math.nan
    #: (steps taken, ‖θ − θ*‖ over w and b) at the start and at each epoch's end: a full-batch run's steps.
    distances: tuple[tuple[int, float], ...] = ()
    #: (step, lr): from each step on the run used the new learning rate (changed while it ran).
    lr_changes: tuple[tuple[int, float], ...] = ()
    #: The validation loss at the end of each epoch (the book's evaluate_loss); empty without --val.
    val_losses: list[float] = field(default_factory=list)
    #: The data's names, its own units and the fit's R² and RMSE (None only where a run was not set up).
    data: DataFacts | None = None

    @property
    def w_norm(self) -> float:
        """‖w‖, the L2 norm of the learned weights (the book's weight-decay section prints it)."""
        return math.hypot(*self.w)

    @property
    def w_error(self) -> tuple[float, ...] | None:
        """true w − w, the sign the book prints; None for data with no true parameters (a table, a file)."""
        if (truth := self.config.truth) is None:
            return None
        return tuple(t - v for t, v in zip(truth[0], self.w, strict=True))

    @property
    def b_error(self) -> float | None:
        return None if (truth := self.config.truth) is None else truth[1] - self.b

    @property
    def gap_to_optimum(self) -> float:
        """The largest |learned − optimum| over all weights and the bias."""
        pairs = [*zip(self.w, self.optimum.w, strict=True), (self.b, self.optimum.b)]
        return max(abs(a - o) for a, o in pairs)

    @property
    def theory(self) -> RunTheory:
        return run_theory(self.config, self.hessian_min, self.hessian_max)

    @property
    def observed_rate(self) -> float | None:
        """The distance's geometric mean shrink per step, for a run whose rate the theory predicts."""
        return None if self.theory.predicted_rate is None else observed_rate(self.distances)

    @property
    def observed_steps(self) -> int | None:
        """The steps the distance took to fall to TOLERANCE of its start (None: not predicted, or not reached)."""
        return None if self.theory.predicted_rate is None else observed_steps_to(TOLERANCE, self.distances)

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
            "true_w": None if (truth := self.config.truth) is None else list(truth[0]),
            "true_b": None if truth is None else truth[1],
            "w": list(self.w),
            "b": self.b,
            "w_error": None if (w_error := self.w_error) is None else list(w_error),
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
            **self._theory_dict(),
            "config": self.config.as_dict(),
            **self._data_dict(),
        }

    def _theory_dict(self) -> dict[str, object]:
        """run.theory's numbers: null where the theory does not cover the run (the log says why)."""
        theory, momentum = self.theory, self.theory.momentum
        return {
            "hessian_min": self.hessian_min,
            "hessian_max": self.hessian_max,
            "gd_optimal_lr": theory.gd_lr,
            "gd_optimal_rate": theory.gd_rate,
            "momentum_optimal_lr": None if momentum is None else momentum.lr,
            "momentum_optimal_beta": None if momentum is None else momentum.beta,
            "momentum_optimal_rate": None if momentum is None else momentum.rate,
            "predicted_rate": theory.predicted_rate,
            "observed_rate": self.observed_rate,
            "predicted_steps": theory.predicted_steps,
            "observed_steps": self.observed_steps,
        }

    def _data_dict(self) -> dict[str, object]:
        """The data's keys: its source (a file's path, rows and sha256), its names, the learned model and
        the optimum in its own units, R² and RMSE."""
        facts = self.data
        if facts is None:
            return {}
        return {
            "data": {"source": facts.source, "path": facts.path, "rows": facts.rows, "sha256": facts.sha256},
            "feature_names": list(facts.feature_names),
            "target_name": facts.target_name,
            "w_original": list(facts.w_original),
            "b_original": facts.b_original,
            "ols_w_original": list(facts.ols_w_original),
            "ols_b_original": facts.ols_b_original,
            "r2": facts.r2,
            "rmse": facts.rmse,
            "val_r2": facts.val_r2,
            "val_rmse": facts.val_rmse,
        }
