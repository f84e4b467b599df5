"""Standardization: each column shifted by its mean and divided by its population std (ddof 0, as the
book does), and the map of a model's coefficients between the units it was trained in and the file's.

With x'ⱼ = (xⱼ − mⱼ)/sⱼ and y' = (y − m_y)/s_y, the model y' = Σ w'ⱼ x'ⱼ + b' is, in the file's units,

    y = Σ wⱼ xⱼ + b   with   wⱼ = s_y w'ⱼ / sⱼ   and   b = m_y + s_y b' − Σ wⱼ mⱼ

so the least-squares optimum on standardized data maps exactly onto the optimum on the raw data (the same
problem in other coordinates). "none" is the identity (means 0, stds 1); "features" leaves the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from linreg_tui.run.table_errors import NAME_CHARS, TableError, shown

STANDARDIZE = ("none", "features", "all")


@dataclass(frozen=True, eq=False)
class Scaling:
    """The per-column means and stds a run's data was standardized with (float64)."""

    mode: str  #: one of STANDARDIZE
    feature_mean: np.ndarray  #: (d,)
    feature_std: np.ndarray  #: (d,)
    target_mean: float
    target_std: float

    @classmethod
    def identity(cls, num_features: int) -> Scaling:
        return cls("none", np.zeros(num_features), np.ones(num_features), 0.0, 1.0)

    @classmethod
    def of(
        cls, features: np.ndarray, target: np.ndarray, mode: str, feature_names: Sequence[str], target_name: str
    ) -> Scaling:
        """The statistics of these rows for `mode`. A constant column cannot be standardized (its std is
        0): TableError naming it."""
        if mode not in STANDARDIZE:
            raise TableError(f"standardize: {shown(mode)} is not a choice; allowed: {', '.join(STANDARDIZE)}")
        d = features.shape[1]
        if mode == "none":
            return cls.identity(d)
        _refuse_constant(features, feature_names)
        feature_mean, feature_std = features.mean(axis=0), features.std(axis=0)
        if mode == "features":
            return cls(mode, feature_mean, feature_std, 0.0, 1.0)
        _refuse_constant(target[:, None], [target_name], "target")
        return cls(mode, feature_mean, feature_std, float(target.mean()), float(target.std()))

    def apply(self, features: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows in the file's units → the units training sees (float64; the same arrays for "none")."""
        if self.mode == "none":
            return np.asarray(features, dtype=np.float64), np.asarray(target, dtype=np.float64)
        return (features - self.feature_mean) / self.feature_std, (target - self.target_mean) / self.target_std

    def to_file_units(self, w: Sequence[float], b: float) -> tuple[tuple[float, ...], float]:
        """Coefficients learned on standardized data → the same model in the file's units."""
        w_file = self.target_std * np.asarray(w, dtype=np.float64) / self.feature_std
        b_file = self.target_mean + self.target_std * b - float(w_file @ self.feature_mean)
        return tuple(float(v) for v in w_file), float(b_file)

    def to_training_units(self, w: Sequence[float], b: float) -> tuple[tuple[float, ...], float]:
        """The inverse: a model in the file's units → the coefficients on the standardized data."""
        w_file = np.asarray(w, dtype=np.float64)
        w_std = w_file * self.feature_std / self.target_std
        b_std = (b + float(w_file @ self.feature_mean) - self.target_mean) / self.target_std
        return tuple(float(v) for v in w_std), float(b_std)


def _refuse_constant(columns: np.ndarray, names: Sequence[str], role: str = "feature") -> None:
    """max == min exactly: the std of a constant column computed in floating point may be a tiny
    non-zero number instead of 0, and dividing by it would blow the column up."""
    constant = np.flatnonzero(columns.max(axis=0) == columns.min(axis=0))
    if len(constant) == 0:
        return
    index = int(constant[0])
    remedy = (
        "use --standardize none, or leave it out with --features"
        if role == "feature"
        else "use --standardize features or none"
    )
    raise TableError(
        f"{role} {shown(names[index], NAME_CHARS)} is constant ({columns[0, index]:g} in every training row): "
        f"its std is 0, so it cannot be standardized; {remedy}"
    )
