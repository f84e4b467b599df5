"""A table made ready to train on: the rows training uses, the rows it is validated on, float32 tensors
for the engines (as data.Dataset) and float64 copies for the closed form and the fit's R² and RMSE, and
the standardization that maps coefficients back to the file's units.

- `prepare(table, …)`: a file. `num_examples` keeps the first N rows; `val` then holds out that many rows
  chosen by a permutation drawn from the run's generator (rows keep the file's order on both sides);
  standardization uses the training rows' statistics only, so nothing of the validation rows leaks in.
- `prepare_airfoil(table)`: the book's get_data_ch11 exactly: all six columns standardized in float32 with
  the mean and population std over all 1,503 rows, the first 1,500 kept, no validation rows. The float32
  tensors are the book's bit for bit, and the closed form works on those very numbers.
- poly.py makes the book's polynomial data and hands it over through the same `Prepared`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from linreg_tui.run.table_errors import TableError
from linreg_tui.training.closed_form import FitQuality, fit_quality
from linreg_tui.training.data import Dataset
from linreg_tui.training.scaling import Scaling
from linreg_tui.training.tables import Table, airfoil_table

#: The book keeps the first 1,500 of airfoil's 1,503 rows.
AIRFOIL_EXAMPLES = 1500


@dataclass(frozen=True, eq=False)
class Rows:
    """Float64 rows in the units training sees (standardized when the run standardizes)."""

    features: np.ndarray  #: (n, d)
    target: np.ndarray  #: (n,)

    @property
    def count(self) -> int:
        return self.features.shape[0]


@dataclass(frozen=True, eq=False)
class Prepared:
    """What a run trains on, and what its results are measured against."""

    source: str
    feature_names: tuple[str, ...]
    target_name: str
    train: Dataset  #: float32, features (n, d), labels (n, 1)
    validation: Dataset | None
    train64: Rows  #: the same training rows in float64, for the closed form
    validation64: Rows | None
    scaling: Scaling  #: how the rows were standardized (identity for "none")
    #: The true parameters where the data was made from them (poly), in the file's units; None for files.
    true_w: tuple[float, ...] | None = None
    true_b: float | None = None

    @property
    def num_features(self) -> int:
        return len(self.feature_names)

    def fit_quality(self, w: tuple[float, ...], b: float, *, validation: bool = False) -> FitQuality:
        """R² and RMSE (in the target's own units) of (w, b), given in the units training sees, on the
        training rows or the validation rows."""
        rows = self.validation64 if validation else self.train64
        if rows is None:
            raise ValueError("this data has no validation rows")
        return fit_quality(w, b, rows.features, rows.target, target_std=self.scaling.target_std)


def prepare(
    table: Table,
    *,
    standardize: str = "none",
    val: int = 0,
    num_examples: int | None = None,
    generator: torch.Generator | None = None,
) -> Prepared:
    """A file's table ready to train on. `num_examples` (default every row) keeps the first N rows, `val`
    holds out N of them chosen by `generator` (which is drawn from only when val > 0), `standardize` is
    "none", "features" or "all" with the training rows' statistics. TableError when the numbers do not fit
    the table or a column to be standardized is constant."""
    count = table.rows if num_examples is None else num_examples
    if not 1 <= count <= table.rows:
        raise TableError(f"examples: {count:,} is out of range; {table.source} has {table.rows:,} rows")
    if not 0 <= val < count:
        raise TableError(f"validation: {val:,} rows would leave no training rows out of {count:,}")
    features, target = table.features[:count], table.target[:count]
    if val:
        if generator is None:
            raise ValueError("a validation split needs the run's generator")
        order = torch.randperm(count, generator=generator).numpy()
        held, kept = np.sort(order[:val]), np.sort(order[val:])
        train_x, train_y, val_x, val_y = features[kept], target[kept], features[held], target[held]
    else:
        train_x, train_y, val_x, val_y = features, target, None, None
    scaling = Scaling.of(train_x, train_y, standardize, table.feature_names, table.target_name)
    train64 = Rows(*scaling.apply(train_x, train_y))
    validation64 = None if val_x is None or val_y is None else Rows(*scaling.apply(val_x, val_y))
    return Prepared(
        source=table.source,
        feature_names=table.feature_names,
        target_name=table.target_name,
        train=to_dataset(train64),
        validation=None if validation64 is None else to_dataset(validation64),
        train64=train64,
        validation64=validation64,
        scaling=scaling,
    )


def prepare_airfoil(table: Table | None = None, num_examples: int = AIRFOIL_EXAMPLES) -> Prepared:
    """The book's get_data_ch11(n=num_examples): genfromtxt(dtype=float32), (data − mean)/std over all the
    rows, computed in float32 as the book computes it, the first n rows kept. Training gets exactly those
    float32 numbers, and so does the closed form (held exactly in float64): the book's float32 means and
    stds are off the float64 ones by up to 3e-4 (velocity's mean), 1.8e-5 in standardized units, more than
    float32's rounding of the result, so the optimum is that of the rows training sees. The scaling is the
    book's float32 statistics, which map the coefficients back to the file's units."""
    table = airfoil_table() if table is None else table
    if not 1 <= num_examples <= table.rows:
        raise TableError(f"examples: {num_examples:,} is out of range; airfoil has {table.rows:,} rows")
    data = np.column_stack([table.features, table.target]).astype(np.float32)
    mean, std = data.mean(axis=0), data.std(axis=0)
    book = ((data - mean) / std)[:num_examples]
    scaling = Scaling("all", mean[:-1].astype(np.float64), std[:-1].astype(np.float64), float(mean[-1]), float(std[-1]))
    train = Dataset(
        torch.from_numpy(np.ascontiguousarray(book[:, :-1])), torch.from_numpy(np.ascontiguousarray(book[:, -1:]))
    )
    return Prepared(
        source=table.source,
        feature_names=table.feature_names,
        target_name=table.target_name,
        train=train,
        validation=None,
        train64=Rows(book[:, :-1].astype(np.float64), book[:, -1].astype(np.float64)),
        validation64=None,
        scaling=scaling,
    )


def to_dataset(rows: Rows) -> Dataset:
    """Float32 tensors as training uses them (data.Dataset: features (n, d), labels (n, 1))."""
    features = torch.from_numpy(rows.features.astype(np.float32))
    labels = torch.from_numpy(rows.target.astype(np.float32).reshape(-1, 1))
    return Dataset(features, labels)
