"""run.theory against brute force, and the theory presets behaving as predicted and as the book says."""

from __future__ import annotations

import dataclasses
import json
import math
import random

import pytest
import torch
from textual.widgets import Static

from linreg_tui.commands.main import main
from linreg_tui.run.config import RunConfig, parse_config
from linreg_tui.run.momentum_presets import (
    KAPPA100_GD_LR,
    KAPPA100_MOMENTUM_BETA,
    KAPPA100_MOMENTUM_LR,
    MOMENTUM_PRESETS,
)
from linreg_tui.run.presets import PRESETS, apply_preset
from linreg_tui.run.report import end_lines, lr_warning
from linreg_tui.run.result import RunResult
from linreg_tui.run.theory import (
    gd_optimal_lr,
    gd_optimal_rate,
    momentum_optimal,
    momentum_stable_lr,
    observed_rate,
    observed_steps_to,
    predicted_rate,
    steps_to,
)
from linreg_tui.training import closed_form, statistics
from linreg_tui.training.conditioning import conditioning_for
from linreg_tui.training.data import Dataset, make_dataset, make_generator
from linreg_tui.training.loop import train
from linreg_tui.training.statistics import sufficient_statistics
from linreg_tui.ui.app import LinregApp
from tests.apptools import log_text, run_to_end, type_into, wait_ready


def random_hessian(seed: int, d: int = 4) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    A = torch.randn(d, d, generator=generator, dtype=torch.float64)
    return A @ A.T + 0.1 * torch.eye(d, dtype=torch.float64)


def iteration_radius(optimizer: str, lr: float, beta: float, H: torch.Tensor) -> float:
    """The spectral radius of the full-batch step on e = θ − θ*, written as the book's update: gd
    e ← e − ηHe; momentum on (e, v): v ← βv + He, e ← e − ηv."""
    d = H.shape[0]
    eye = torch.eye(d, dtype=torch.float64)
    if optimizer == "sgd":
        M = eye - lr * H
    else:
        M = torch.cat([torch.cat([eye - lr * H, -lr * beta * eye], 1), torch.cat([H, beta * eye], 1)], 0)
    return float(torch.linalg.eigvals(M).abs().max())


@pytest.mark.parametrize("seed", range(6))
def test_the_predicted_rate_is_the_iterations_spectral_radius(seed: int) -> None:
    H = random_hessian(seed)
    low, high = (float(v) for v in torch.linalg.eigvalsh(H)[[0, -1]])
    rng = random.Random(seed)
    for _ in range(20):
        beta = rng.uniform(0.0, 0.99)
        lr = rng.uniform(0.0, 1.2) * momentum_stable_lr(beta, high)
        for optimizer in ("sgd", "momentum"):
            expected = iteration_radius(optimizer, lr, beta, H)
            assert predicted_rate(optimizer, lr, beta, low, high) == pytest.approx(expected, rel=1e-6, abs=1e-9)
    assert predicted_rate("adam", 0.1, 0.9, low, high) is None


def test_the_optimal_constants_minimise_the_rate_over_a_grid() -> None:
    low, high = 0.5, 40.0
    lrs = [i / 2000 * 3 / high for i in range(1, 2001)]
    gd_rates = [predicted_rate("sgd", lr, 0.0, low, high) or math.inf for lr in lrs]
    best = min(range(len(lrs)), key=gd_rates.__getitem__)
    assert gd_rates[best] == pytest.approx(gd_optimal_rate(low, high), abs=1e-3)
    assert lrs[best] == pytest.approx(gd_optimal_lr(low, high), rel=2e-3)
    assert gd_optimal_rate(low, high) == pytest.approx((80 - 1) / (80 + 1))

    optimum = momentum_optimal(low, high)
    momentum_lrs = [optimum.lr * (0.5 + i / 400) for i in range(401)]  # the rate is steep around the optimum
    grid = [(lr, beta) for lr in momentum_lrs for beta in (j / 400 for j in range(400))]
    rates = {pair: predicted_rate("momentum", pair[0], pair[1], low, high) or math.inf for pair in grid}
    (lr, beta), rate = min(rates.items(), key=lambda item: item[1])
    assert optimum.rate - 1e-12 <= rate < optimum.rate + 5e-3
    assert (lr, beta) == pytest.approx((optimum.lr, optimum.beta), rel=0.03)
    assert optimum.rate == pytest.approx((math.sqrt(80) - 1) / (math.sqrt(80) + 1))
    assert predicted_rate("momentum", optimum.lr, optimum.beta, low, high) == pytest.approx(optimum.rate)


def test_momentums_bound_is_where_its_rate_reaches_one() -> None:
    for beta in (0.0, 0.5, 0.9):
        bound = momentum_stable_lr(beta, 10.0)
        assert bound == pytest.approx((2 + 2 * beta) / 10)
        assert (predicted_rate("momentum", bound * 0.999, beta, 1.0, 10.0) or 2) < 1
        assert (predicted_rate("momentum", bound * 1.001, beta, 1.0, 10.0) or 0) > 1


def test_steps_and_the_observed_rate_of_a_geometric_sequence() -> None:
    assert steps_to(1e-4, 0.5) == math.ceil(math.log(1e-4) / math.log(0.5)) and steps_to(1e-4, 1.0) == math.inf
    distances = [(k, 3.0 * 0.9**k) for k in range(200)]  # falls below 1e-5 of its start at k = 110
    assert observed_rate(distances) == pytest.approx(0.9, rel=1e-12)
    stalled = [*distances[:120], *((k, 3.0 * 0.9**120) for k in range(120, 400))]  # float32's floor
    assert observed_rate(stalled) == pytest.approx(0.9, rel=1e-12)
    assert observed_steps_to(1e-4, distances) == 88  # 0.9**88 ≤ 1e-4 < 0.9**87
    assert observed_rate([(0, 1.0), (1, 2.0), (2, math.inf)]) == 2.0


def preset_run(name: str, **changes: object) -> RunResult:
    return train(dataclasses.replace(parse_config(apply_preset(name)), **changes))


def test_the_kappa100_presets_are_the_populations_optimum_and_near_the_runs_own() -> None:
    config = parse_config(apply_preset("kappa100-gd"))
    estimate = conditioning_for(config)
    assert (estimate.hessian_min, estimate.hessian_max) == pytest.approx((1.0, 100.0))
    best = momentum_optimal(1.0, 100.0)
    assert float(KAPPA100_GD_LR) == pytest.approx(gd_optimal_lr(1.0, 100.0), rel=1e-5)
    assert float(KAPPA100_MOMENTUM_LR) == pytest.approx(best.lr, rel=1e-5)
    assert float(KAPPA100_MOMENTUM_BETA) == pytest.approx(best.beta, rel=1e-5)
    own = train(dataclasses.replace(config, epochs=1)).theory
    assert own.momentum is not None and own.gd_lr is not None
    assert float(KAPPA100_GD_LR) == pytest.approx(own.gd_lr, rel=0.03)
    assert float(KAPPA100_MOMENTUM_LR) == pytest.approx(own.momentum.lr, rel=0.03)
    assert float(KAPPA100_MOMENTUM_BETA) == pytest.approx(own.momentum.beta, rel=0.03)
    assert 95 < own.hessian_max / own.hessian_min < 105


def test_gd_and_momentum_reach_1e_4_in_the_steps_predicted_momentum_about_root_kappa_fewer() -> None:
    gd, momentum = preset_run("kappa100-gd"), preset_run("kappa100-momentum")
    kappa = gd.hessian_max / gd.hessian_min
    gd_steps, momentum_steps = gd.theory.predicted_steps, momentum.theory.predicted_steps
    assert gd_steps is not None and momentum_steps is not None
    assert gd.observed_steps is not None and momentum.observed_steps is not None
    assert gd.observed_steps == pytest.approx(gd_steps, rel=0.10)  # 447 against 461
    assert gd.observed_rate == pytest.approx(gd.theory.predicted_rate, abs=2e-3)
    assert gd_steps / momentum_steps == pytest.approx(math.sqrt(kappa), rel=0.10)  # 461/47, √κ = 10
    # Measured: 60 steps; the double roots' k·ρᵏ makes it slower than ρᵏ, so about 7.5 times fewer, not 10.
    assert 0.5 * math.sqrt(kappa) < gd.observed_steps / momentum.observed_steps < 1.2 * math.sqrt(kappa)
    assert momentum_steps <= momentum.observed_steps < 1.5 * momentum_steps
    log = "\n".join(end_lines(momentum))
    assert f"observed rate {momentum.observed_rate:.4g} a step (predicted {momentum.theory.predicted_rate:.4g})" in log


def test_the_demo_has_the_books_hessian_and_behaves_as_the_book_says() -> None:
    config = parse_config(apply_preset("momentum-demo-gd-0.4"))
    stats = sufficient_statistics(make_dataset(config, make_generator(config.seed)))
    hessian = (stats.gram / stats.count)[:2, :2]  # ½-squared loss in w: ZᵀZ/n
    assert torch.allclose(hessian, torch.diag(torch.tensor([0.2, 4.0], dtype=torch.float64)), rtol=0.02, atol=0.006)

    slow, diverging, momentum = (preset_run(f"momentum-demo-{name}") for name in ("gd-0.4", "gd-0.6", "momentum"))
    w_star = slow.optimum.w
    assert 0.8 < w_star[0] - slow.w[0] < 1.1 and abs(w_star[1] - slow.w[1]) < 0.01  # the book: x1 −0.943, x2 ≈ 0
    assert abs(diverging.w[1] - w_star[1]) > 1000 and (diverging.observed_rate or 0) > 1.2  # the book: x2 −1673
    assert diverging.theory.predicted_rate == pytest.approx(1.4, abs=0.02)
    assert momentum.gap_to_optimum < 0.02  # the book: x1 0.007, x2 0.003
    assert momentum.theory.predicted_rate == pytest.approx(math.sqrt(0.5))
    assert all(result.status == "finished" for result in (slow, diverging, momentum))


def test_every_theory_preset_is_registered_full_batch_on_the_squared_loss() -> None:
    for preset in MOMENTUM_PRESETS:
        assert PRESETS[preset.name] is preset
        config = parse_config(apply_preset(preset.name))
        assert config.batch_size == config.num_examples and config.minimises_squared_loss


def test_the_json_has_the_theorys_numbers_and_null_where_it_does_not_apply(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--headless", "--json", "--preset", "kappa100-momentum"]) == 0
    data = json.loads(capsys.readouterr().out)
    keys = ("gd_optimal_lr", "momentum_optimal_lr", "momentum_optimal_beta", "momentum_optimal_rate")
    for key in (*keys, "predicted_rate", "observed_rate", "predicted_steps", "observed_steps"):
        assert isinstance(data[key], float | int), key
    assert data["momentum_optimal_rate"] == pytest.approx(
        momentum_optimal(data["hessian_min"], data["hessian_max"]).rate
    )
    assert data["predicted_rate"] == pytest.approx(
        predicted_rate(
            "momentum",
            float(KAPPA100_MOMENTUM_LR),
            float(KAPPA100_MOMENTUM_BETA),
            data["hessian_min"],
            data["hessian_max"],
        )
    )

    assert main(["--headless", "--json", "--epochs", "1"]) == 0  # minibatches: the optimal pairs, no prediction
    data = json.loads(capsys.readouterr().out)
    assert data["gd_optimal_lr"] is not None and data["predicted_rate"] is None and data["observed_rate"] is None
    assert main(["--headless", "--json", "--optimizer", "adam", "--epochs", "1", "--batch-size", "1000"]) == 0
    data = json.loads(capsys.readouterr().out)  # the theory here is gradient descent's and the heavy ball's
    assert all(data[key] is None for key in (*keys, "predicted_rate", "observed_rate"))
    assert main(["--headless", "--epochs", "1"]) == 0
    assert "no predicted rate: minibatches of 10 of 1,000 examples" in capsys.readouterr().out


def test_the_warning_names_momentums_bound() -> None:
    assert lr_warning(0.25, 0.2, "sgd") is not None and lr_warning(0.25, 0.2, "momentum", 0.5) is None
    warning = lr_warning(0.31, 0.2, "momentum", 0.5)
    assert warning is not None and "(2 + 2β)/λmax = 0.3 with β 0.5" in warning


async def test_the_form_warns_of_an_lr_above_momentums_bound() -> None:
    # --scales 1,10: λmax(ZᵀZ/n) about 100, so 2/λmax is about 0.02 and momentum's bound with β 0.5 about 0.03.
    app = LinregApp(RunConfig(scales=(1.0, 10.0), optimizer="momentum", momentum=0.5, lr=0.04, epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await run_to_end(pilot)
        result = app.last_result
        assert result is not None
        bound = 1.5 * result.max_stable_lr
        assert bound < 0.04
        warning = f"warning: lr 0.04 is above momentum's largest stable lr (2 + 2β)/λmax = {bound:.3g} with β 0.5"
        assert warning in log_text(app)
        form_message = app.query_one("#form-message", Static)
        assert str(form_message.render()).startswith(warning)  # said under the form as the run started
        # Between the bounds: above gradient descent's, below momentum's, so no warning.
        await type_into(pilot, "lr", f"{1.2 * result.max_stable_lr:.4f}")
        assert str(form_message.render()) == ""
        await type_into(pilot, "lr", "0.05")
        assert str(form_message.render()).startswith("warning: lr 0.05 is above momentum's largest stable lr")


@pytest.mark.parametrize(("impl", "wd"), [("scratch", 0.0), ("concise", 0.0), ("scratch", 0.5)])
def test_both_routes_give_the_hessians_ends(impl: str, wd: float) -> None:
    """statistics (synthetic data) and closed_form (tables and files) against eigvalsh of the Hessian."""
    generator = torch.Generator().manual_seed(0)
    features = torch.normal(0.0, 1.0, size=(500, 3), generator=generator) * torch.tensor([1.0, 3.0, 0.5]) + 2
    labels = features @ torch.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    Z = torch.cat([features.double(), torch.ones(500, 1, dtype=torch.float64)], 1)
    hessian = (2 * (1.0 if impl == "concise" else 0.5)) * Z.T @ Z / 500 + wd * torch.diag(
        torch.tensor([1.0] * 3 + [0.0])
    )
    low, high = (float(v) for v in torch.linalg.eigvalsh(hessian.double())[[0, -1]])
    stats = statistics.conditioning(statistics.sufficient_statistics(Dataset(features, labels)), impl, "squared", wd)
    qr = closed_form.conditioning(
        closed_form.factor(features.double().numpy(), labels[:, 0].double().numpy()), impl, "squared", wd
    )
    for found in (stats, qr):
        assert (found.hessian_min, found.hessian_max) == pytest.approx((low, high), rel=1e-8)
