"""The concise engine's optimizers: the optimization chapter's (d2l 12.4–12.10) as torch.optim has them,
and where torch's formulas differ from the book's (docs/fidelity.md, "The optimization chapter's
optimizers", checks each against torch's source; tests/test_optimizers.py checks each in numbers).

torch.optim has no Yogi: run/optimizers.check_training refuses it with the concise engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from linreg_tui.run.config import RunConfig

#: torch.optim's names for an optimizer's per-parameter state, by the book's names: v is momentum's
#: velocity or Adam's first moment, s the (average) squared gradient, delta Adadelta's average squared step.
BOOK_NAMES: dict[str, str] = {
    "momentum_buffer": "v",
    "exp_avg": "v",
    "sum": "s",
    "square_avg": "s",
    "exp_avg_sq": "s",
    "acc_delta": "delta",
}
#: The order the book's names are shown in.
BOOK_ORDER = ("v", "s", "delta")

_CLASSES = {
    "sgd": "SGD",
    "momentum": "SGD",
    "adagrad": "Adagrad",
    "rmsprop": "RMSprop",
    "adadelta": "Adadelta",
    "adam": "Adam",
}


def torch_class(config: RunConfig) -> str:
    """The torch.optim class that takes this run's steps."""
    return "torch.optim." + _CLASSES[config.optimizer]


def make_trainer(config: RunConfig, params: Iterable[Any]) -> torch.optim.Optimizer:
    """The book's `trainer` for this run's optimizer, with the run's constants; `params` is the
    parameters or the weight-decay param groups."""
    name, lr, eps = config.optimizer, config.lr, config.eps
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum)
    if name == "adagrad":
        # initial_accumulator_value=0 (torch's default too): the book's s starts at 0.
        return torch.optim.Adagrad(params, lr=lr, eps=eps, initial_accumulator_value=0)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=config.gamma, eps=eps)
    if name == "adadelta":
        # The book's adadelta has no learning rate; torch's multiplies its step by lr, so lr = 1.0 is the book's.
        return torch.optim.Adadelta(params, lr=1.0, rho=config.rho, eps=eps)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(config.beta1, config.beta2), eps=eps)
    raise ValueError(
        f"optimizer {name!r} has no torch.optim class (torch has no Yogi); allowed with impl concise: "
        + ", ".join(_CLASSES)
    )


def book_state(trainer: torch.optim.Optimizer, weight: torch.Tensor, bias: torch.Tensor) -> tuple[tuple[str, Any], ...]:
    """The optimizer's per-parameter state by the book's names, as (name, (weight's, bias's)) pairs in
    BOOK_ORDER; the tensors are torch's live ones (the caller copies)."""
    found: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    weight_state, bias_state = trainer.state.get(weight, {}), trainer.state.get(bias, {})
    for torch_name, book_name in BOOK_NAMES.items():
        w, b = weight_state.get(torch_name), bias_state.get(torch_name)
        if isinstance(w, torch.Tensor) and isinstance(b, torch.Tensor):
            found[book_name] = (w, b)
    return tuple((name, found[name]) for name in BOOK_ORDER if name in found)


#: Each optimizer's trainer.step() in torch's own names (from torch/optim/*.py, single-tensor path).
_STEPS = {
    "momentum": "buf = grad on the first step, then buf = momentum · buf + grad; param -= lr · buf",
    "adagrad": "sum += grad²; param -= lr · grad / (√sum + eps)",
    "rmsprop": "square_avg = alpha · square_avg + (1 − alpha) · grad²; param -= lr · grad / (√square_avg + eps)",
    "adadelta": "square_avg = rho · square_avg + (1 − rho) · grad²; delta = √(acc_delta + eps) / "
    "√(square_avg + eps) · grad; param -= lr · delta with lr = 1.0; acc_delta = rho · acc_delta + (1 − rho) · delta²",
    "adam": "exp_avg = beta1 · exp_avg + (1 − beta1) · grad; exp_avg_sq = beta2 · exp_avg_sq + (1 − beta2) · grad²; "
    "param -= lr / (1 − beta1ᵗ) · exp_avg / (√exp_avg_sq / √(1 − beta2ᵗ) + eps), t from 1",
}

#: How each differs from the book's from-scratch function (the same words as docs/fidelity.md).
_DIFFERENCES = {
    "momentum": "the book's v = βv + g, p −= η·v from v = 0 (torch's first buf = grad is βv + g with v = 0)",
    "adagrad": "the book puts ε inside the root, g/√(s + ε); torch outside, g/(√s + ε): the same once √s ≫ ε, "
    "a different step while the squared gradients are tiny",
    "rmsprop": "the book puts ε inside the root, g/√(s + ε); torch outside, g/(√s + ε): the same once √s ≫ ε, "
    "a different step while the squared gradients are tiny",
    "adadelta": "the book's adadelta, ε inside both roots; torch's lr (1.0 here) would scale the step, "
    "the book's has none",
    "adam": "the book's adam: ε outside √ŝ, bias correction by t from 1",
}


def _constants(config: RunConfig) -> str:
    name = config.optimizer
    if name == "momentum":
        return f"momentum={config.momentum:g}"
    if name == "adagrad":
        return f"eps={config.eps:g}, initial_accumulator_value=0"
    if name == "rmsprop":
        return f"alpha={config.gamma:g}, eps={config.eps:g}"
    if name == "adadelta":
        return f"lr=1.0, rho={config.rho:g}, eps={config.eps:g}"
    return f"betas=({config.beta1:g}, {config.beta2:g}), eps={config.eps:g}"


def gradient_scale_words(config: RunConfig) -> str:
    """What the 2× of MSELoss's gradient (against scratch's ½(ŷ−y)²) does to this optimizer's steps."""
    if config.loss != "squared" or config.reduction != "mean":
        return ""
    effect = {
        "momentum": "twice scratch's step at the same lr",
        "adagrad": "torch's step on scratch's g with ε/2 (2g/(√(4s) + ε) = g/(√s + ε/2)): the 2 cancels but for ε",
        "rmsprop": "torch's step on scratch's g with ε/2 (2g/(√(4s) + ε) = g/(√s + ε/2)): the 2 cancels but for ε",
        "adadelta": "scratch's step with ε/4 in the squared-gradient root (√(Δ + ε)/√(4s + ε)·2g = "
        "√(Δ + ε)/√(s + ε/4)·g): the 2 cancels but for that ε",
        "adam": "scratch's step with ε/2 (2v̂/(√(4ŝ) + ε) = v̂/(√ŝ + ε/2)): the 2 cancels but for ε",
    }[config.optimizer]
    return f"; nn.MSELoss's gradient is 2× scratch's ½(ŷ−y)² one: {effect}"


def optimizer_rule(config: RunConfig) -> str:
    """trainer.step() for an optimizer other than plain sgd, in torch's names (grad = param.grad, with the
    weight decay added first), and how it differs from the book's."""
    name = config.optimizer
    return (
        f"{torch_class(config)}(params, {'' if name == 'adadelta' else 'lr, '}{_constants(config)}): "
        f"trainer.step(): {_STEPS[name]} ({_DIFFERENCES[name]})"
    )


def optimizer_words(config: RunConfig) -> str:
    """For the log's loss line: the optimizer and what differs from the book's (nothing for plain sgd)."""
    if config.optimizer == "sgd":
        return ""
    short_batch = ""
    if config.training_examples % config.batch_size and config.reduction == "mean":
        short_batch = (
            "; its grad is the minibatch's mean, also on the short last minibatch (scratch's g there is the "
            "summed gradient / batch_size, smaller)"
        )
    return (
        f"; optimizer {torch_class(config)}({_constants(config)}): {_DIFFERENCES[config.optimizer]}"
        f"{gradient_scale_words(config)}{short_batch}"
    )
