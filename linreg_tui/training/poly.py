"""The book's polynomial data (d2l 4.4, model selection, underfitting and overfitting).

x ~ N(0, 1); the labels are always the cubic y = 5 + 1.2·x − 3.4·x²/2! + 5.6·x³/3! + ε with ε ~ N(0, noise²);
the model sees the features x^i/i! for i = 1…degree (the book's constant x⁰ column is the model's bias).
Degree 1 underfits (the truth is not in the model), 3 is right, 19 (the book's 20 columns with x⁰)
overfits 100 examples. The columns' sizes span 8 to 12 orders of magnitude (x¹⁹/19! has an RMS of 1e-12
to 1e-8, by the largest |x| drawn), which is why the closed form works on the float64 rows by orthogonal
factorizations (closed_form.py).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from linreg_tui.training.prepared import Prepared, Rows, to_dataset
from linreg_tui.training.scaling import Scaling

MAX_DEGREE = 19
#: The book's sizes and noise.
NUM_TRAIN, NUM_VAL, NOISE = 100, 100, 0.1
TRUE_B = 5.0
#: The weights of x/1!, x²/2!, x³/3!; every higher power's is 0.
CUBIC_W = (1.2, -3.4, 5.6)


def true_weights(degree: int) -> tuple[float, ...]:
    """The truth on the model's `degree` features (for degree < 3 the cubic's higher terms are left out:
    the model cannot represent them)."""
    return tuple(CUBIC_W[i] if i < len(CUBIC_W) else 0.0 for i in range(degree))


def poly_features(x: np.ndarray, degree: int) -> np.ndarray:
    """x^i/i! for i = 1…degree, float64 (n, degree)."""
    return np.stack([x**i / math.factorial(i) for i in range(1, degree + 1)], axis=1)


def poly_data(
    degree: int,
    num_train: int,
    num_val: int,
    noise: float,
    generator: torch.Generator,
    *,
    standardize: str = "none",
) -> Prepared:
    """The book's data from the run's generator: all num_train + num_val values of x first, then all of
    the noise (float64 draws), the first num_train examples for training, the rest for validation. The
    features and labels are computed in float64 (kept for the closed form) and rounded to float32 for
    training, as the book computes in numpy's float64 and converts. `standardize` as for files (the
    training rows' statistics)."""
    if not 1 <= degree <= MAX_DEGREE:
        raise ValueError(f"degree: {degree} is out of range; allowed 1 to {MAX_DEGREE}")
    if num_train < 1 or num_val < 0:
        raise ValueError(f"examples: {num_train} training and {num_val} validation; need at least 1 and 0")
    if not (noise >= 0 and math.isfinite(noise)):
        raise ValueError(f"noise: {noise} must be a finite number ≥ 0")
    count = num_train + num_val
    x = torch.normal(0.0, 1.0, size=(count,), generator=generator, dtype=torch.float64).numpy()
    epsilon = torch.normal(0.0, noise, size=(count,), generator=generator, dtype=torch.float64).numpy()
    labels = poly_features(x, len(CUBIC_W)) @ np.array(CUBIC_W) + TRUE_B + epsilon
    features = poly_features(x, degree)
    names = tuple(f"x^{i}/{i}!" for i in range(1, degree + 1))
    scaling = Scaling.of(features[:num_train], labels[:num_train], standardize, names, "y")
    train64 = Rows(*scaling.apply(features[:num_train], labels[:num_train]))
    validation64 = Rows(*scaling.apply(features[num_train:], labels[num_train:])) if num_val else None
    return Prepared(
        source="poly",
        feature_names=names,
        target_name="y",
        train=to_dataset(train64),
        validation=None if validation64 is None else to_dataset(validation64),
        train64=train64,
        validation64=validation64,
        scaling=scaling,
        true_w=true_weights(degree),
        true_b=TRUE_B,
    )
