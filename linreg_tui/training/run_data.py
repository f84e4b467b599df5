"""A run's data from its source, and what the loop needs of it before the first step and after the last.

Synthetic data is made as it always was (the book's synthetic_data, its ZᵀZ in one chunked pass, the
optimum and the conditioning from there: bit for bit as before). A table, a file and the book's poly data
come through the data layer (tables, prepared, poly): their training rows are kept in float64 for the
closed form and the conditioning, which come from an orthogonal factorization and singular values (on
Longley the Gram matrix of float32 data has no correct digit left), while training sees float32 as the
book's code does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from linreg_tui.run.config import ConfigError, FieldError, RunConfig
from linreg_tui.run.preview import DataPreview
from linreg_tui.run.result import DataFacts, Optimum
from linreg_tui.run.sources import layout_field
from linreg_tui.run.surface import Conditioning
from linreg_tui.run.table_errors import TableError
from linreg_tui.training import closed_form
from linreg_tui.training.data import (
    PREVIEW_MAX_DATA_VALUES,
    Dataset,
    make_dataset,
    make_generator,
    make_validation_set,
    preview,
)
from linreg_tui.training.poly import poly_data
from linreg_tui.training.prepared import Prepared, prepare, prepare_airfoil
from linreg_tui.training.statistics import SufficientStats, conditioning, least_squares, sufficient_statistics
from linreg_tui.training.tables import Table, airfoil_table, load_table, longley_table


@dataclass(frozen=True, eq=False)
class RunData:
    """What the loop keeps of its data once the engine has its own copy: statistics, the optimum, the
    conditioning, and a prepared source's float64 rows (for R² and RMSE in the data's own units)."""

    #: ZᵀZ, Zᵀy, yᵀy of the training rows (float64): the landscape's surface, and synthetic's fit.
    stats: SufficientStats
    #: The same of synthetic data's validation rows (its fit there); None without them.
    val_stats: SufficientStats | None
    optimum: Optimum
    conditions: Conditioning
    #: A table's, a file's or poly's rows as the data layer prepared them; None for synthetic data.
    prepared: Prepared | None = None
    path: str | None = None
    rows: int | None = None
    sha256: str | None = None

    def facts(self, config: RunConfig, w: tuple[float, ...], b: float) -> DataFacts:
        """What the run's result says about its data, for the learned (w, b)."""
        if self.prepared is None:
            names = config.feature_names
            fit = _fit(self.stats, w, b)
            val_fit = None if self.val_stats is None else _fit(self.val_stats, w, b)
            return DataFacts(
                source=config.data,
                feature_names=names,
                target_name=config.target_name,
                standardize="none",
                w_original=w,
                b_original=b,
                ols_w_original=self.optimum.w,
                ols_b_original=self.optimum.b,
                r2=fit[0],
                rmse=fit[1],
                val_r2=None if val_fit is None else val_fit[0],
                val_rmse=None if val_fit is None else val_fit[1],
            )
        prepared = self.prepared
        w_file, b_file = prepared.scaling.to_file_units(w, b)
        ols_w, ols_b = prepared.scaling.to_file_units(self.optimum.w, self.optimum.b)
        fit = prepared.fit_quality(w, b)
        val = prepared.fit_quality(w, b, validation=True) if prepared.validation64 is not None else None
        return DataFacts(
            source=config.data,
            feature_names=prepared.feature_names,
            target_name=prepared.target_name,
            standardize=prepared.scaling.mode,
            w_original=w_file,
            b_original=b_file,
            ols_w_original=ols_w,
            ols_b_original=ols_b,
            r2=fit.r2,
            rmse=fit.rmse,
            val_r2=None if val is None else val.r2,
            val_rmse=None if val is None else val.rmse,
            path=self.path,
            rows=self.rows,
            sha256=self.sha256,
        )


Made = tuple[RunData, Dataset, Dataset | None]


def make_run_data(
    config: RunConfig,
    generator: torch.Generator,
    between: Callable[[], None] = lambda: None,
    progress: Callable[[int, int], None] | None = None,
) -> Made:
    """The run's data from its source, drawn from `generator` first (before the initial weights), with
    its statistics, optimum and conditioning; then the training and validation sets (float32, CPU), which
    the caller drops once the engine has them. `between` is called between the phases (a stop need not
    wait for all); `progress(done, total)` hears how far a file's load has got. Raises ConfigError,
    naming the field, for data that cannot be used (a file's bad cell, a constant column to standardize,
    more examples than rows)."""
    try:
        return _make(config, generator, between, progress)
    except TableError as problem:
        field = layout_field(problem)
        raise ConfigError([FieldError(field, getattr(config, field), f"cannot be used: {problem}")]) from None


def _make(
    config: RunConfig,
    generator: torch.Generator,
    between: Callable[[], None],
    progress: Callable[[int, int], None] | None,
) -> Made:
    summed_over = config.batch_size if config.reduction == "sum" else 1
    if config.kind == "synthetic":
        train = make_dataset(config, generator)
        validation = make_validation_set(config, generator)  # drawn next: the training data stays the same
        between()
        # One pass over the data for ZᵀZ, Zᵀy, yᵀy; the optimum, the conditioning (an eigvalsh of a
        # (d+1)² matrix: 0.1 s at d = 1,000) and the loss surface all come from them.
        stats = sufficient_statistics(train)
        between()
        data = RunData(
            stats=stats,
            val_stats=None if validation is None else sufficient_statistics(validation),
            optimum=least_squares(stats),
            conditions=conditioning(stats, config.impl, config.loss, config.wd, summed_over),
        )
        return data, train, validation
    path = rows = sha256 = None
    if config.kind == "poly":
        prepared = poly_data(
            config.degree, config.num_examples, config.val, config.noise, generator, standardize=config.standardize
        )
    else:
        table = _table(config, progress)
        path, rows, sha256 = table.path, table.rows, table.sha256
        if config.num_examples > table.rows:
            reason = f"is more than the {table.rows:,} rows of {table.source}; allowed: 1 to {table.rows:,}"
            raise ConfigError([FieldError("num_examples", str(config.num_examples), reason)])
        if config.data == "airfoil" and config.standardize == "all" and config.val == 0:
            prepared = prepare_airfoil(table, config.num_examples)  # the book's get_data_ch11, bit for bit
        else:
            prepared = prepare(
                table,
                standardize=config.standardize,
                val=config.val,
                num_examples=config.num_examples,
                generator=generator,
            )
    between()
    factor = closed_form.factor(prepared.train64.features, prepared.train64.target)
    data = RunData(
        stats=_stats64(prepared.train64.features, prepared.train64.target),
        val_stats=None,
        optimum=closed_form.least_squares(factor),
        conditions=closed_form.conditioning(factor, config.impl, config.loss, config.wd, summed_over),
        prepared=prepared,
        path=path,
        rows=rows,
        sha256=sha256,
    )
    return data, prepared.train, prepared.validation


def _table(config: RunConfig, progress: Callable[[int, int], None] | None) -> Table:
    if config.data == "airfoil":
        return airfoil_table()
    if config.data == "longley":
        return longley_table()
    return load_table(
        config.data,
        header=False if config.header == "none" else None,
        target=config.target or None,
        features=config.features or None,
        progress=progress,
    )


def _stats64(features: np.ndarray, target: np.ndarray) -> SufficientStats:
    """ZᵀZ, Zᵀy and yᵀy of float64 rows (the landscape's surface; the optimum comes from the factor)."""
    z = np.hstack([features, np.ones((features.shape[0], 1))])
    return SufficientStats(
        gram=torch.from_numpy(z.T @ z),
        zty=torch.from_numpy(z.T @ target),
        yty=float(target @ target),
        count=features.shape[0],
    )


def _fit(stats: SufficientStats, w: tuple[float, ...], b: float) -> tuple[float, float]:
    """R² and RMSE of (w, b) from the data's ZᵀZ, Zᵀy and yᵀy (synthetic data is not kept: it can be
    billions of rows; it is well conditioned, so the quadratic form loses nothing that shows)."""
    theta = torch.tensor([*w, b], dtype=torch.float64)
    rss = max(0.0, float(theta @ stats.gram @ theta) - 2 * float(theta @ stats.zty) + stats.yty)
    n = stats.count
    mean = float(stats.zty[-1]) / n
    tss = stats.yty - n * mean * mean
    return (1 - rss / tss if tss > 0 else float("nan")), (rss / n) ** 0.5


def column_names(config: RunConfig) -> tuple[tuple[str, ...], str] | None:
    """The names the scatter's axes take: a table's or a file's own (synthetic and poly: x₁, x₂, … and y),
    as z(name) where the column was standardized: the axes show z-scores, not the file's units."""
    if config.kind not in ("table", "file"):
        return None
    features, target = config.feature_names, config.target_name
    if config.standardize in ("features", "all"):
        features = tuple(f"z({name})" for name in features)
    if config.standardize == "all":
        target = f"z({target})"
    return features, target


def preview_for(config: RunConfig) -> DataPreview | None:
    """The data a run with this configuration will train on, for drawing before it runs; None when it
    is too large to make just for a picture (the run's own preview comes with RunStarted). Raises
    ConfigError for data that cannot be used, as the run would."""
    if config.num_examples * config.num_features > PREVIEW_MAX_DATA_VALUES:
        return None
    generator = make_generator(config.seed)
    train = make_dataset(config, generator) if config.kind == "synthetic" else make_run_data(config, generator)[1]
    return preview(train, column_names(config))


def conditioning_before(config: RunConfig) -> Conditioning:
    """A table's, a file's or poly's conditioning, exactly, from its data (as the run will compute it)."""
    return make_run_data(config, make_generator(config.seed))[0].conditions
