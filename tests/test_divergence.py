"""Where a diverging run stops and what it keeps, each checked against a computation that does not go
through the training loop: the engine stepped one minibatch at a time, or the arithmetic of the step."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

import pytest
import torch

from linreg_tui.commands.main import main
from linreg_tui.run.config import RunConfig
from linreg_tui.run.events import RunStarted, StepLosses, TrainingEvent
from linreg_tui.training.data import make_dataset, make_generator
from linreg_tui.training.engines import Engine, make_engine
from linreg_tui.training.loop import train

FLOAT32_MAX = float(torch.finfo(torch.float32).max)


def fresh_engine(config: RunConfig) -> Engine:
    """The engine as train() makes it: the same generator draws the data, the weights and the order."""
    generator = make_generator(config.seed)
    return make_engine(config, make_dataset(config, generator), generator)


# --- parameters that overflow while the loss is still finite ------------------------------------------

#: Weight decay λ = 1e6 at lr 1 multiplies w by (1 − lr·λ) ≈ −1e6 each step, while the feature's scale
#: 1e-30 keeps w·x, and so every loss, small: w leaves float32's range in a step whose loss (taken before
#: the update) is finite. Only a check of the parameters stops the run there; the loss sees it a step later.
WEIGHTS_OVERFLOW = RunConfig(
    true_w=(2.0,), scales=(1e-30,), wd=1e6, lr=1.0, init_std=1.0, num_examples=100, batch_size=10, epochs=1
)


def overflow_step(w0: float, config: RunConfig) -> int:
    """The first step after which |w| = |w0|·|1 − lr·λ|^k is beyond float32 (the data's pull on w is
    about 1e-30 of the decay's)."""
    factor = abs(1 - config.lr * config.wd)
    return next(k for k in itertools.count(1) if abs(w0) * factor**k > FLOAT32_MAX)


@pytest.mark.parametrize("impl", ["scratch", "concise", "fast"])
def test_weights_that_overflow_while_the_loss_is_finite_stop_the_run_at_that_step(impl: str) -> None:
    config = replace(WEIGHTS_OVERFLOW, impl=impl)
    events: list[TrainingEvent] = []
    result = train(config, events.append)
    w0 = next(e for e in events if isinstance(e, RunStarted)).initial[0]
    bad = overflow_step(w0, config)
    assert 1 < bad < config.steps_per_epoch  # a step inside the run, with finite steps before it

    # The premise, on the engine alone: the bad step's loss is finite and only its parameters are not.
    engine = fresh_engine(config)
    batches = engine.epoch_batches()
    losses = [float(engine.run_steps([next(batches)])[0]) for _ in range(bad)]
    assert all(map(math.isfinite, losses)) and not bool(engine.parameters().all_finite())

    assert result.status == "diverged" and result.diverged_at == (1, bad) and result.steps == bad - 1
    assert f"at step {bad}:" in result.message
    reported = [loss for e in events if isinstance(e, StepLosses) for loss in e.losses]
    assert reported == pytest.approx(losses[:-1], rel=1e-6)  # every step before it, none after
    # The last finite parameters, where the path left them after step bad − 1.
    path = [e.tracked[i] for e in events if isinstance(e, StepLosses) for i in range(len(e.losses))]
    assert (*result.w, result.b) == path[-1]
    assert abs(result.w[0]) == pytest.approx(abs(w0) * abs(1 - config.lr * config.wd) ** (bad - 1), rel=1e-3)
    assert all(map(math.isfinite, (*result.w, result.b)))


# --- diverged_at: the epoch and the step ----------------------------------------------------------------


def first_non_finite(config: RunConfig) -> tuple[int, int, str]:
    """(epoch, step, where) of the first value that is not finite, found by stepping the engine one
    minibatch at a time: a step's loss or the parameters after it, else the full-data loss at the end of
    an epoch (then `step` is the epoch's last step)."""
    engine = fresh_engine(config)
    step = 0
    for epoch in range(1, config.epochs + 1):
        for batch in engine.epoch_batches():
            step += 1
            loss = engine.run_steps([batch])
            if not (bool(torch.isfinite(loss).all()) and bool(engine.parameters().all_finite())):
                return epoch, step, f"at step {step}:"
        if not math.isfinite(float(engine.epoch_loss())):
            return epoch, step, "at the end of the epoch"
    raise AssertionError(f"{config} does not diverge")


@pytest.mark.parametrize(
    ("impl", "lr"),
    [("scratch", 2.2), ("scratch", 2.05), ("concise", 1.1), ("concise", 1.05)],
    ids=["scratch-in-an-epoch", "scratch-at-an-epochs-end", "concise-in-an-epoch", "concise-at-an-epochs-end"],
)
def test_diverged_at_is_the_epoch_and_the_step_of_the_first_non_finite_value(
    impl: str, lr: float, capsys: pytest.CaptureFixture[str]
) -> None:
    """Slowly diverging runs (ten steps an epoch), so that the epoch and the step differ."""
    config = RunConfig(impl=impl, lr=lr, num_examples=100, epochs=50)
    epoch, step, where = first_non_finite(config)
    assert 1 < epoch < step
    result = train(config)
    assert result.diverged_at == (epoch, step) and result.steps == (step - 1 if where.startswith("at step") else step)
    assert f"diverged in epoch {epoch} {where}" in result.message
    flags = ["--impl", impl, "--lr", str(lr), "--num-examples", "100", "--epochs", "50"]
    assert main(["--headless", "--json", *flags]) == 3
    assert json.loads(capsys.readouterr().out)["diverged_at"] == {"epoch": epoch, "step": step}
