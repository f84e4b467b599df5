"""conditioning_for: the condition number and the stability bound from the form's values alone, against
the data's own (landscape.conditioning on ZᵀZ of a drawn data set) for a large n."""

from __future__ import annotations

import pytest

from linreg_tui.run.config import RunConfig
from linreg_tui.training.conditioning import conditioning_for
from linreg_tui.training.data import make_dataset, make_generator
from linreg_tui.training.statistics import conditioning, sufficient_statistics


@pytest.mark.parametrize(
    "values",
    [
        {},  # the book's round data: condition number 1, bound 2 (scratch's ½ scale)
        {"scales": (1.0, 4.0)},  # the README's long valley
        {"true_w": (1.0, 2.0, 3.0), "scales": (1.0, 4.0, 0.5), "corr": 0.6, "impl": "concise"},
    ],
)
def test_the_estimate_is_the_datas_own_conditioning_for_a_large_n(values: dict[str, object]) -> None:
    config = RunConfig(num_examples=200_000, **values)  # type: ignore[arg-type]
    data = make_dataset(config, make_generator(config.seed))
    own = conditioning(sufficient_statistics(data), config.impl)
    estimate = conditioning_for(config)
    assert estimate.condition_number == pytest.approx(own.condition_number, rel=0.03)
    assert estimate.max_stable_lr == pytest.approx(own.max_stable_lr, rel=0.03)


def test_the_estimate_has_the_runs_loss_scale() -> None:
    """concise's MSELoss has twice scratch's curvature: half its bound (the scales give the number)."""
    scratch = conditioning_for(RunConfig(scales=(1.0, 4.0)))
    assert scratch.max_stable_lr == pytest.approx(2 / 16)
    assert conditioning_for(RunConfig(scales=(1.0, 4.0), impl="concise")).max_stable_lr == pytest.approx(1 / 16)
