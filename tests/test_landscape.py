"""The loss surface from sufficient statistics, the conditioning and the stability bound, each checked
against a computation that does not share the code under test: direct passes over the data, singular
values instead of eigenvalues, and training itself."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from linreg_tui.run.config import ConfigError, RunConfig, parse_config
from linreg_tui.training.data import make_dataset, make_generator
from linreg_tui.training.loop import train
from linreg_tui.training.statistics import conditioning, least_squares, loss_surface, sufficient_statistics


def data_for(config: RunConfig) -> tuple[torch.Tensor, torch.Tensor]:
    data = make_dataset(config, make_generator(config.seed))
    return data.features.double(), data.labels.double()


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_the_surface_is_the_full_data_loss_with_the_others_at_the_optimum(impl: str) -> None:
    config = RunConfig(true_w=(2.0, -3.4, 1.0), num_examples=500, scales=(1.0, 4.0, 0.5), corr=0.3)
    X, y = data_for(config)
    stats = sufficient_statistics(make_dataset(config, make_generator(0)))
    best = least_squares(stats)
    surface = loss_surface(stats, best, (config.true_w, config.true_b), impl)
    optimum = torch.tensor([*best.w, best.b], dtype=torch.float64)
    scale = 0.5 if impl == "scratch" else 1.0  # the book's ½(ŷ−y)², MSELoss's (ŷ−y)²
    generator = torch.Generator().manual_seed(1)
    for i, j in surface.pairs():
        for _ in range(3):
            theta = optimum.clone()
            x_value, y_value = (torch.randn(2, generator=generator, dtype=torch.float64) * 3).tolist()
            where = [0, 1, 2, 3]  # tracked parameters w1, w2, w3, b sit at θ's positions 0..3
            theta[where[i]], theta[where[j]] = x_value, y_value
            direct = scale * float(((X @ theta[:3] + theta[3] - y[:, 0]) ** 2).mean())
            assert surface.loss(i, j, x_value, y_value) == pytest.approx(direct, rel=1e-9)
    assert surface.names == ("w1", "w2", "w3", "b")
    residual = X @ optimum[:3] + optimum[3] - y[:, 0]
    assert surface.floor == pytest.approx(scale * float((residual**2).mean()), rel=1e-9)


def test_many_features_track_the_first_few_and_hold_the_rest() -> None:
    config = RunConfig(true_w=tuple(float(i) for i in range(10)), num_examples=200)
    stats = sufficient_statistics(make_dataset(config, make_generator(0)))
    surface = loss_surface(stats, least_squares(stats), (config.true_w, config.true_b), "scratch")
    assert surface.names == ("w1", "w2", "w3", "w4", "b") and surface.held == 6
    assert surface.truth == (0.0, 1.0, 2.0, 3.0, 4.2)


@pytest.mark.parametrize(("scales", "corr"), [((1.0,), 0.0), ((1.0, 10.0), 0.0), ((1.0,), 0.9), ((0.5, 3.0), -0.6)])
def test_condition_number_and_bound_match_the_singular_values_of_the_data(
    scales: tuple[float, ...], corr: float
) -> None:
    config = RunConfig(num_examples=2000, scales=scales, corr=corr)
    X, _ = data_for(config)
    Z = torch.cat([X, torch.ones(len(X), 1, dtype=torch.float64)], dim=1) / math.sqrt(len(X))
    singular = torch.linalg.svdvals(Z)  # σ² are the eigenvalues of ZᵀZ/n
    high, low = float(singular[0]) ** 2, float(singular[-1]) ** 2
    stats = sufficient_statistics(make_dataset(config, make_generator(0)))
    for impl, hessian_factor in (("scratch", 1.0), ("fast", 1.0), ("concise", 2.0)):
        found = conditioning(stats, impl)
        assert found.condition_number == pytest.approx(high / low, rel=1e-6)
        assert found.max_stable_lr == pytest.approx(2 / (hessian_factor * high), rel=1e-6)
    if scales == (1.0, 10.0):  # the long valley: λ ≈ 100 along w2, ≈ 1 along w1 and b
        assert 80 < conditioning(stats, "scratch").condition_number < 125


def test_fewer_examples_than_unknowns_make_the_condition_number_infinite() -> None:
    config = RunConfig(true_w=(1.0, 2.0, 3.0), num_examples=3, batch_size=1)
    stats = sufficient_statistics(make_dataset(config, make_generator(0)))
    assert conditioning(stats, "scratch").condition_number == math.inf


# fast takes scratch's steps (tests/test_fast.py), so it shares scratch's bound; one step per epoch is
# the case it is slowest at.
@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_full_batch_gradient_descent_finishes_under_the_bound_and_diverges_over_it(impl: str) -> None:
    config = RunConfig(num_examples=100, batch_size=100, epochs=1000, impl=impl, scales=(1.0, 3.0), corr=0.5)
    stats = sufficient_statistics(make_dataset(config, make_generator(0)))
    bound = conditioning(stats, impl).max_stable_lr
    under = train(dataclasses.replace(config, lr=0.95 * bound))
    over = train(dataclasses.replace(config, lr=1.05 * bound))
    assert under.status == "finished" and under.epoch_losses[-1] < 1e-3
    assert over.status == "diverged"


#: Features of scale 0.1 make the bias the stiffest direction of the data (ZᵀZ/n ≈ diag(0.01, 0.01, 1));
#: weight decay λ = 0.5 on the weights leaves it so (0.51 < 1). A λ wrongly added to b would make it 1.5.
BIAS_STIFFEST = RunConfig(num_examples=100, scales=(0.1,), wd=0.5)


@pytest.mark.parametrize(("impl", "scale"), [("scratch", 0.5), ("fast", 0.5), ("concise", 1.0)])
def test_the_bound_with_weight_decay_is_2_over_the_largest_curvature_of_the_runs_own_loss(
    impl: str, scale: float
) -> None:
    """The Hessian by autograd of the loss the run minimises: the mean of ½(ŷ−y)² (scratch, fast) or of
    (ŷ−y)² (MSELoss), plus the book's penalty λ‖w‖²/2 on the weights only (concise: weight_decay=λ on
    net[0].weight). The loss is quadratic, so its Hessian is the same everywhere."""
    config = dataclasses.replace(BIAS_STIFFEST, impl=impl, epochs=1)
    X, y = data_for(config)

    def loss(theta: torch.Tensor) -> torch.Tensor:
        w, b = theta[:2], theta[2]
        return scale * ((X @ w + b - y[:, 0]) ** 2).mean() + config.wd * (w**2).sum() / 2

    hessian = torch.autograd.functional.hessian(loss, torch.zeros(3, dtype=torch.float64))
    bound = 2 / float(torch.linalg.eigvalsh(hessian)[-1])
    assert bound > 1.8 / (2 * scale)  # the bias's curvature 2·scale bounds it, not 2·scale + λ
    assert train(config).max_stable_lr == pytest.approx(bound, rel=1e-9)


@pytest.mark.parametrize("impl", ["scratch", "concise"])
def test_with_weight_decay_full_batch_descent_finishes_under_the_bound_and_diverges_over_it(impl: str) -> None:
    """Over the bound it is the undecayed bias that runs away."""
    config = dataclasses.replace(BIAS_STIFFEST, impl=impl, batch_size=100, epochs=1000)
    bound = train(dataclasses.replace(config, epochs=1)).max_stable_lr
    under = train(dataclasses.replace(config, lr=0.95 * bound))
    over = train(dataclasses.replace(config, lr=1.05 * bound))
    assert under.status == "finished" and under.epoch_losses[-1] < 1
    assert over.status == "diverged" and abs(over.b) > 10 * over.w_norm


def test_scales_and_correlation_shape_the_features() -> None:
    X, _ = data_for(RunConfig(num_examples=20_000, scales=(1.0, 10.0), corr=0.8))
    std = X.std(dim=0)
    assert std[0] == pytest.approx(1.0, rel=0.05) and std[1] == pytest.approx(10.0, rel=0.05)
    assert float(torch.corrcoef(X.T)[0, 1]) == pytest.approx(0.8, abs=0.02)
    book, _ = data_for(RunConfig())
    assert float(torch.corrcoef(book.T)[0, 1]) == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"scales": "1, 2, 3"}, "feature scales: '1, 2, 3' has 3 values for 2 features; give one"),
        ({"scales": "1, 0"}, "entry 2 ('0') is out of range (allowed: greater than 0 to 1e6)"),
        ({"scales": "-1"}, "entry 1 ('-1') is out of range"),
        ({"corr": "1"}, "feature correlation: '1' is out of range (allowed: greater than -1 to less than 1)"),
        ({"corr": "-1"}, "is out of range"),
        ({"true_w": "1, 2, 3", "corr": "-0.6"}, "must be greater than −1/(d − 1) = -0.5"),
    ],
)
def test_bad_scales_and_correlations_are_refused_with_the_reason(texts: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(texts)
    assert message in str(caught.value)


def test_one_scale_applies_to_every_feature() -> None:
    config = parse_config({"true_w": "1, 2, 3", "scales": "2"})
    assert config.feature_scales == (2.0, 2.0, 2.0)
