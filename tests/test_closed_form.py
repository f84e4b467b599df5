"""The closed form and the conditioning in float64 by orthogonal factorizations (training/closed_form.py):
NIST's certified Longley coefficients, the book's airfoil figures, the map between standardized units and
the file's, and the agreement with statistics.py where the Gram matrix is good enough."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from linreg_tui.training import closed_form, statistics
from linreg_tui.training.closed_form import (
    condition_number,
    conditioning,
    factor,
    fit_quality,
    least_squares,
    residual_sum_of_squares,
)
from linreg_tui.training.data import Dataset
from linreg_tui.training.poly import poly_data
from linreg_tui.training.prepared import Prepared, prepare, prepare_airfoil
from linreg_tui.training.scaling import Scaling
from linreg_tui.training.tables import load_table, longley_table

#: NIST StRD, Longley (https://www.itl.nist.gov/div898/strd/lls/data/LINKS/DATA/Longley.dat): the certified
#: coefficients of TOTEMP on GNPDEFL, GNP, UNEMP, ARMED, POP, YEAR, the intercept last; the residual
#: standard deviation (√(SS_res/(n − 7))) and R².
NIST_W = (
    15.0618722713733,
    -0.358191792925910e-01,
    -2.02022980381683,
    -1.03322686717359,
    -0.511041056535807e-01,
    1829.15146461355,
)
NIST_B = -3482258.63459582
NIST_RESIDUAL_SD = 304.854073561965
NIST_R2 = 0.995479004577296


def correct_digits(estimates: tuple[float, ...], certified: tuple[float, ...]) -> float:
    """NIST's log relative error, the fewest over the values: how many significant digits agree (15 when
    a value is exactly the certified one: as many as the certified values carry)."""
    digits = [
        15.0 if estimate == value else -math.log10(abs(estimate - value) / abs(value))
        for estimate, value in zip(estimates, certified, strict=True)
    ]
    return min(digits)


def optimum_in_file_units(prepared: Prepared) -> tuple[tuple[float, ...], float]:
    best = least_squares(factor(prepared.train64.features, prepared.train64.target))
    assert best.unique
    return prepared.scaling.to_file_units(best.w, best.b)


@pytest.mark.parametrize("standardize", ["none", "features", "all"])
def test_longley_agrees_with_nists_certified_values_in_the_files_units(standardize: str) -> None:
    """The issue asks for 9 significant digits; measured here: 11.9 on the raw data, 13.6 standardized and
    mapped back. The test asks for 10, a digit to spare for another LAPACK."""
    prepared = prepare(longley_table(), standardize=standardize)
    w, b = optimum_in_file_units(prepared)
    assert correct_digits((*w, b), (*NIST_W, NIST_B)) >= 10
    quality = prepared.fit_quality(*prepared.scaling.to_training_units(w, b))
    assert quality.r2 == pytest.approx(NIST_R2, rel=1e-10)
    assert quality.rmse * math.sqrt(16 / (16 - 7)) == pytest.approx(NIST_RESIDUAL_SD, rel=1e-10)


def test_the_float32_gram_path_gets_no_digit_of_longley_right() -> None:
    """Why the closed form keeps a file's data in float64 and never forms ZᵀZ: the path the synthetic data
    takes (statistics.py: float32 data, ZᵀZ, lstsq) gets −0.85 correct digits on Longley; even in
    float64 the normal equations keep only about 6 of the 9 asked for."""
    table = longley_table()
    data = Dataset(
        torch.tensor(table.features, dtype=torch.float32), torch.tensor(table.target, dtype=torch.float32)[:, None]
    )
    gram_path = statistics.least_squares(statistics.sufficient_statistics(data))
    assert correct_digits((*gram_path.w, gram_path.b), (*NIST_W, NIST_B)) < 3
    Z = np.column_stack([table.features, np.ones(table.rows)])
    normal_equations = np.linalg.solve(Z.T @ Z, Z.T @ table.target)
    assert correct_digits(tuple(normal_equations), (*NIST_W, NIST_B)) < 9


def test_airfoil_has_the_books_optimum_and_conditioning() -> None:
    """shared/data/README.md, to the digits given: on the book's standardized 1,500 rows the optimum of the
    ½-squared mean loss is 0.24169; its Hessian (with the bias) has condition number 12.08, 2/λmax 0.9531."""
    prepared = prepare_airfoil()
    qr = factor(prepared.train64.features, prepared.train64.target)
    best = least_squares(qr)
    assert best.unique
    assert round(residual_sum_of_squares(qr, best.w, best.b) / (2 * qr.count), 5) == 0.24169
    shape = conditioning(qr, "scratch")
    assert round(shape.condition_number, 2) == 12.08
    assert round(shape.max_stable_lr, 4) == 0.9531
    assert conditioning(qr, "concise").max_stable_lr == pytest.approx(shape.max_stable_lr / 2, rel=1e-15)


def test_the_condition_number_comes_from_singular_values_not_the_gram_matrix() -> None:
    """Two features at a relative distance of 1e-9: cond(ZᵀZ) is about 4e18, past float64's 1/ε, so the
    eigenvalues of ZᵀZ/n lose λmin entirely (eigvalsh gives 2e15; statistics.conditioning says inf). The
    singular values of Z keep it: checked against 60-digit arithmetic."""
    mpmath = pytest.importorskip("mpmath")  # comes with torch (through sympy)
    rng = np.random.default_rng(0)
    x, nudge, other = rng.normal(size=(3, 200))
    features = np.column_stack([x, x + 1e-9 * nudge, other])
    target = features @ [1.0, 2.0, 3.0] + 1 + 0.1 * rng.normal(size=200)
    mpmath.mp.dps = 60
    scaled = mpmath.matrix([[*map(mpmath.mpf, row), 1] for row in features.tolist()]) / mpmath.sqrt(200)
    singular = mpmath.svd_r(scaled, compute_uv=False)
    exact = float((max(singular) / min(singular)) ** 2)
    assert condition_number(factor(features, target)) == pytest.approx(exact, rel=1e-5)


@pytest.mark.parametrize(
    ("impl", "loss", "wd", "summed_over"),
    [
        ("scratch", "squared", 0.0, 1),
        ("concise", "squared", 0.0, 1),
        ("fast", "huber", 0.0, 1),
        ("scratch", "absolute", 0.0, 1),
        ("scratch", "squared", 0.5, 1),
        ("concise", "squared", 3.0, 10),
    ],
)
def test_the_conditioning_is_statistics_own_where_the_gram_matrix_is_good(
    impl: str, loss: str, wd: float, summed_over: int
) -> None:
    """Same curvature for each engine, loss, weight decay (on w, not b) and summed minibatch as
    statistics.conditioning, which the synthetic runs use: only the route to the numbers differs."""
    generator = torch.Generator().manual_seed(0)
    features = torch.normal(0.0, 1.0, size=(500, 3), generator=generator) * torch.tensor([1.0, 3.0, 0.5]) + 2
    labels = features @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    ours = conditioning(factor(features.double().numpy(), labels[:, 0].double().numpy()), impl, loss, wd, summed_over)
    theirs = statistics.conditioning(
        statistics.sufficient_statistics(Dataset(features, labels)), impl, loss, wd, summed_over
    )
    assert ours.condition_number == pytest.approx(theirs.condition_number, rel=1e-10)
    assert ours.max_stable_lr == pytest.approx(theirs.max_stable_lr, rel=1e-10)


def test_singular_data_is_said_to_be_singular() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 2))
    twice = np.column_stack([x, x[:, 0]])  # a column repeated
    target = x @ [1.0, 2.0] + 3
    qr = factor(twice, target)
    best = least_squares(qr)
    assert not best.unique and condition_number(qr) == math.inf
    assert best.w[0] + best.w[2] == pytest.approx(1.0, rel=1e-12) and best.b == pytest.approx(3.0, rel=1e-12)
    few = factor(x[:2], target[:2])  # two rows, three unknowns
    assert not least_squares(few).unique and condition_number(few) == math.inf


def test_the_chunked_factorization_is_the_whole_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(2)
    features = rng.normal(size=(1000, 4)) * [1, 10, 100, 1000]
    target = features @ [1.0, -1.0, 0.5, 0.25] + 7 + rng.normal(size=1000)
    whole = least_squares(factor(features, target))
    monkeypatch.setattr(closed_form, "CHUNK_ROWS", 1)  # 24 rows a chunk: 42 chunks
    chunked = least_squares(factor(features, target))
    assert chunked.w == pytest.approx(whole.w, rel=1e-12) and chunked.b == pytest.approx(whole.b, rel=1e-12)
    Z = np.column_stack([features, np.ones(1000)])
    direct = np.linalg.lstsq(Z, target, rcond=None)[0]
    assert [*whole.w, whole.b] == pytest.approx(direct, rel=1e-12)
    theta = rng.normal(size=5)
    residual = Z @ theta - target
    assert residual_sum_of_squares(factor(features, target), tuple(theta[:4]), theta[4]) == pytest.approx(
        residual @ residual, rel=1e-12
    )


def test_coefficients_map_between_standardized_and_file_units() -> None:
    rng = np.random.default_rng(3)
    features = rng.normal(size=(200, 3)) * [5.0, 0.01, 300.0] + [100.0, -2.0, 1e4]
    target = features @ [0.5, 40.0, 0.01] - 80 + rng.normal(size=200)
    scaling = Scaling.of(features, target, "all", ["a", "b", "c"], "y")
    w, b = (0.3, -1.5, 2.0), 0.7
    back = scaling.to_training_units(*scaling.to_file_units(w, b))
    assert back[0] == pytest.approx(w, rel=1e-14) and back[1] == pytest.approx(b, rel=1e-13)
    raw = least_squares(factor(features, target))
    for mode in ("features", "all"):
        scaled = Scaling.of(features, target, mode, ["a", "b", "c"], "y")
        standardized = least_squares(factor(*scaled.apply(features, target)))
        mapped_w, mapped_b = scaled.to_file_units(standardized.w, standardized.b)
        assert mapped_w == pytest.approx(raw.w, rel=1e-12) and mapped_b == pytest.approx(raw.b, rel=1e-12)


def test_fit_quality_is_in_the_targets_units(tmp_path: Path) -> None:
    """R² and RMSE of the same model are the same whether computed on the standardized rows (with the
    target's std) or on the file's own rows."""
    rng = np.random.default_rng(4)
    rows = np.column_stack([rng.normal(size=(50, 2)) * [3, 7] + [1, 2], np.zeros(50)])
    rows[:, 2] = rows[:, :2] @ [2.0, -1.0] + 40 + 5 * rng.normal(size=50)
    path = tmp_path / "fit.csv"
    np.savetxt(path, rows, delimiter=",", header="a,b,y", comments="", fmt="%.17g")
    table = load_table(path)
    prepared = prepare(table, standardize="all")
    best = least_squares(factor(prepared.train64.features, prepared.train64.target))
    standardized = prepared.fit_quality(best.w, best.b)
    in_file_units = fit_quality(*prepared.scaling.to_file_units(best.w, best.b), table.features, table.target)
    assert standardized.r2 == pytest.approx(in_file_units.r2, rel=1e-12)
    assert standardized.rmse == pytest.approx(in_file_units.rmse, rel=1e-12)
    assert 3 < in_file_units.rmse < 7  # the noise's 5, in the target's units
    exact = fit_quality((2.0, -1.0), 40.0, table.features, table.features @ [2.0, -1.0] + 40)
    assert (exact.r2, exact.rmse) == (1.0, 0.0)


# The book's polynomial data (poly.py).


def test_poly_data_has_the_books_shapes_and_truth() -> None:
    data = poly_data(3, 100, 100, 0.1, torch.Generator().manual_seed(0))
    assert data.train.features.shape == (100, 3) and data.train.features.dtype == torch.float32
    assert data.train.labels.shape == (100, 1) and data.train.labels.dtype == torch.float32
    assert data.validation is not None and data.validation.features.shape == (100, 3)
    assert data.train64.features.dtype == np.float64 and data.validation64 is not None
    assert data.feature_names == ("x^1/1!", "x^2/2!", "x^3/3!") and data.target_name == "y"
    assert (data.true_w, data.true_b, data.source) == ((1.2, -3.4, 5.6), 5.0, "poly")
    assert poly_data(19, 10, 0, 0.1, torch.Generator()).true_w == (1.2, -3.4, 5.6, *[0.0] * 16)
    assert poly_data(1, 10, 0, 0.1, torch.Generator()).true_w == (1.2,)  # the model cannot hold the cubic
    assert poly_data(2, 10, 0, 0.1, torch.Generator()).validation is None
    x = data.train64.features[:, 0]
    assert data.train64.features[:, 2] == pytest.approx(x**3 / 6, rel=1e-15)
    assert torch.equal(data.train.features, torch.from_numpy(data.train64.features.astype(np.float32)))


def test_poly_labels_are_the_cubic_plus_the_noise_drawn_from_the_seed() -> None:
    def draw(seed: int, noise: float, count: int = 4000) -> Prepared:
        return poly_data(3, count, 0, noise, torch.Generator().manual_seed(seed))

    clean = draw(5, 0.0)
    x = clean.train64.features[:, 0]
    assert clean.train64.target == pytest.approx(5 + 1.2 * x - 3.4 * x**2 / 2 + 5.6 * x**3 / 6, rel=1e-14)
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1) < 0.05  # x ~ N(0, 1)
    noisy = draw(5, 0.1)
    assert np.array_equal(noisy.train64.features, clean.train64.features)  # x first, then the noise
    assert (noisy.train64.target - clean.train64.target).std() == pytest.approx(0.1, rel=0.05)
    assert np.array_equal(draw(5, 0.1).train64.target, noisy.train64.target)
    assert not np.array_equal(draw(6, 0.1).train64.target, noisy.train64.target)
    with pytest.raises(ValueError, match="degree: 20 is out of range; allowed 1 to 19"):
        poly_data(20, 100, 100, 0.1, torch.Generator())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_degree_19_recovers_the_true_weights_on_noise_free_data(seed: int) -> None:
    """Without noise the labels are exactly the cubic, so the float64 optimum is the truth: (1.2, −3.4, 5.6,
    0, …) and b = 5. The columns' RMS spans 1 (x) to 1e-12…1e-8 (x¹⁹/19!, by the largest |x| drawn), so
    each weight is held to what its column can show: the first three and b within 1e-10, every weight's
    error times its column's RMS within 1e-6 (measured: 1e-13 and 3e-8). The Gram path on the float32 data
    (statistics.py) takes the data for rank deficient and misses the first three by about 1e-6."""
    data = poly_data(19, 100, 100, 0.0, torch.Generator().manual_seed(seed))
    best = least_squares(factor(data.train64.features, data.train64.target))
    assert best.unique
    truth = np.array(data.true_w)
    assert best.w[:3] == pytest.approx(truth[:3], abs=1e-10) and best.b == pytest.approx(5.0, abs=1e-10)
    column_rms = np.sqrt((data.train64.features**2).mean(axis=0))
    assert np.max(np.abs(np.array(best.w) - truth) * column_rms) < 1e-6
    gram_path = statistics.least_squares(statistics.sufficient_statistics(data.train))
    assert not gram_path.unique or np.max(np.abs(np.array(gram_path.w[:3]) - truth[:3])) > 1e-8
