"""Synthetic data exactly as d2l's `synthetic_data`, made reproducible and device-independent."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from linreg_tui.run.config import OUTLIER_INDEX, RunConfig
from linreg_tui.run.preview import DataPreview


@dataclass(frozen=True)
class Dataset:
    features: torch.Tensor  # (n, d) float32
    labels: torch.Tensor  # (n, 1) float32

    @property
    def num_examples(self) -> int:
        return self.features.shape[0]

    def to(self, device: torch.device) -> Dataset:
        return Dataset(self.features.to(device), self.labels.to(device))


def make_generator(seed: int) -> torch.Generator:
    """One CPU generator per run drives data, initial parameters and shuffling, in that order.

    Everything random is drawn on the CPU, so a CUDA run sees the same numbers as a CPU run.
    """
    return torch.Generator(device="cpu").manual_seed(seed)


def synthetic_data(
    true_w: torch.Tensor,
    true_b: float,
    num_examples: int,
    noise: float,
    generator: torch.Generator,
    mixing: torch.Tensor | None = None,
) -> Dataset:
    """y = Xw + b + ε with X ~ N(0, 1) and ε ~ N(0, noise²) (the book fixes noise at 0.01).

    With `mixing` A the rows of X are drawn as A·x (x ~ N(0, I)), so that their covariance is AAᵀ; without
    it X is the book's, bit for bit."""
    X = torch.normal(0.0, 1.0, size=(num_examples, len(true_w)), generator=generator)
    if mixing is not None:
        X = X @ mixing.T
    y = torch.matmul(X, true_w) + true_b
    y += torch.normal(0.0, noise, y.shape, generator=generator)
    return Dataset(X, y.reshape((-1, 1)))


def feature_mixing(config: RunConfig) -> torch.Tensor | None:
    """A with AAᵀ = DRD: D the features' standard deviations (`scales`), R the correlation matrix with
    `corr` off the diagonal. None for the book's data (every scale 1, no correlation)."""
    scales = torch.tensor(config.feature_scales, dtype=torch.float64)
    if config.corr == 0 and bool((scales == 1).all()):
        return None
    d = config.num_features
    correlation = torch.full((d, d), config.corr, dtype=torch.float64)
    correlation.fill_diagonal_(1.0)
    return (scales.unsqueeze(1) * torch.linalg.cholesky(correlation)).to(torch.float32)


def make_dataset(config: RunConfig, generator: torch.Generator) -> Dataset:
    """The training data: the generator's first draws. With `outlier` set, label y[4] (the book's y₅)
    is replaced by it afterwards, so every other example stays as it was."""
    data = _draw(config, config.num_examples, generator)
    if config.outlier != 0:
        data.labels[OUTLIER_INDEX, 0] = config.outlier
    return data


def make_validation_set(config: RunConfig, generator: torch.Generator) -> Dataset | None:
    """`val` more examples from the same distribution, drawn right after the training data (so the
    training data, and every run without a validation set, stay as they were); None when val is 0."""
    return _draw(config, config.val, generator) if config.val > 0 else None


def _draw(config: RunConfig, count: int, generator: torch.Generator) -> Dataset:
    true_w = torch.tensor(config.true_w, dtype=torch.float32)
    return synthetic_data(true_w, config.true_b, count, config.noise, generator, mixing=feature_mixing(config))


def initial_weights(num_features: int, generator: torch.Generator, std: float = 0.01) -> torch.Tensor:
    """w ~ N(0, std²) of shape (d, 1), as `torch.normal(0, 0.01, size=(2, 1))` in d2l 3.2. std 0 (zero
    init) still draws, so the generator moves on as for any std and the minibatch order is the same."""
    return torch.normal(0.0, std, size=(num_features, 1), generator=generator)


#: At most this many points are drawn in the scatter (fewer with many features: every column is kept,
#: so ctrl+n can show any of them); training always uses all of them.
PREVIEW_POINTS = 2000
PREVIEW_VALUES = 200_000
#: Above this many values (examples × features) the data is drawn only when the run makes it: the book's
#: generator draws all of X before the noise, so even 2,000 rows cost making the whole data set.
PREVIEW_MAX_DATA_VALUES = 20_000_000


def preview(data: Dataset, names: tuple[tuple[str, ...], str] | None = None) -> DataPreview:
    """The first rows (synthetic rows are i.i.d., so the first k are a fair sample; a file's are its
    first rows), and the columns' names where the data has its own."""
    d = data.features.shape[1]
    k = min(PREVIEW_POINTS, max(200, PREVIEW_VALUES // d), data.num_examples)
    head = data.features[:k].cpu().T
    return DataPreview(
        columns=tuple(tuple(column) for column in head.tolist()),
        labels=tuple(data.labels[:k, 0].cpu().tolist()),
        total=data.num_examples,
        names=names,
    )
