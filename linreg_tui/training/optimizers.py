"""The optimization chapter's optimizers from scratch (d2l 12.6–12.10), as the book writes them.

Each takes the parameters, their states (every state starts at 0, as the book's init_*_states make them)
and the hyperparameters, updates in place and zeroes the gradients. One difference, the app's on purpose:
the book's train_ch11 differentiates the minibatch's *mean* loss, the app's scratch engine (d2l 3.2)
its *sum*, and 3.2's `sgd` divides by the batch size. So every function here first takes
g = param.grad / batch_size: on every full minibatch that is the chapter's mean gradient; on a short
last minibatch it is smaller than the mean (divided by the nominal size, as 3.2's sgd does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

#: One optimizer's step: (params, states, hyperparams, batch_size) → None, in place.
Update = Callable[[list[torch.Tensor], list[tuple[torch.Tensor, ...]], "Hyperparams", int], None]


@dataclass
class Hyperparams:
    """The book's `hyperparams` dict, typed: the learning rate of this step, the constants, and Adam's t."""

    lr: float
    momentum: float = 0.9
    gamma: float = 0.9
    rho: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-6
    t: int = field(default=1)  #: Adam's and Yogi's step count, from 1 (bias correction)


def sgd_momentum(
    params: list[torch.Tensor], states: list[tuple[torch.Tensor, ...]], hyperparams: Hyperparams, batch_size: int
) -> None:
    """v ← βv + g; p ← p − ηv."""
    for p, (v,) in zip(params, states, strict=True):
        with torch.no_grad():
            v[:] = hyperparams.momentum * v + p.grad / batch_size
            p[:] -= hyperparams.lr * v
        p.grad.data.zero_()


def adagrad(
    params: list[torch.Tensor], states: list[tuple[torch.Tensor, ...]], hyperparams: Hyperparams, batch_size: int
) -> None:
    """s ← s + g²; p ← p − η·g/√(s + ε)."""
    eps = hyperparams.eps
    for p, (s,) in zip(params, states, strict=True):
        with torch.no_grad():
            g = p.grad / batch_size
            s[:] += torch.square(g)
            p[:] -= hyperparams.lr * g / torch.sqrt(s + eps)
        p.grad.data.zero_()


def rmsprop(
    params: list[torch.Tensor], states: list[tuple[torch.Tensor, ...]], hyperparams: Hyperparams, batch_size: int
) -> None:
    """s ← γs + (1 − γ)g²; p ← p − η·g/√(s + ε)."""
    gamma, eps = hyperparams.gamma, hyperparams.eps
    for p, (s,) in zip(params, states, strict=True):
        with torch.no_grad():
            g = p.grad / batch_size
            s[:] = gamma * s + (1 - gamma) * torch.square(g)
            p[:] -= hyperparams.lr * g / torch.sqrt(s + eps)
        p.grad.data.zero_()


def adadelta(
    params: list[torch.Tensor], states: list[tuple[torch.Tensor, ...]], hyperparams: Hyperparams, batch_size: int
) -> None:
    """s ← ρs + (1 − ρ)g²; g′ ← √(Δ + ε)/√(s + ε)·g; p ← p − g′; Δ ← ρΔ + (1 − ρ)g′². No learning rate."""
    rho, eps = hyperparams.rho, hyperparams.eps
    for p, (s, delta) in zip(params, states, strict=True):
        with torch.no_grad():
            g = p.grad / batch_size
            s[:] = rho * s + (1 - rho) * torch.square(g)
            g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * g
            p[:] -= g
            delta[:] = rho * delta + (1 - rho) * g * g
        p.grad.data.zero_()


def adam(
    params: list[torch.Tensor], states: list[tuple[torch.Tensor, ...]], hyperparams: Hyperparams, batch_size: int
) -> None:
    """v ← β1v + (1 − β1)g; s ← β2s + (1 − β2)g²; p ← p − η·v̂/(√ŝ + ε), v̂ and ŝ bias-corrected by t."""
    _adam_like(params, states, hyperparams, batch_size, yogi=False)


def yogi(
    params: list[torch.Tensor], states: list[tuple[torch.Tensor, ...]], hyperparams: Hyperparams, batch_size: int
) -> None:
    """Adam with s ← s + (1 − β2)·sign(g² − s)·g² (and the book's ε = 1e-3)."""
    _adam_like(params, states, hyperparams, batch_size, yogi=True)


def _adam_like(
    params: list[torch.Tensor],
    states: list[tuple[torch.Tensor, ...]],
    hyperparams: Hyperparams,
    batch_size: int,
    *,
    yogi: bool,
) -> None:
    beta1, beta2, eps = hyperparams.beta1, hyperparams.beta2, hyperparams.eps
    for p, (v, s) in zip(params, states, strict=True):
        with torch.no_grad():
            g = p.grad / batch_size
            v[:] = beta1 * v + (1 - beta1) * g
            if yogi:
                s[:] = s + (1 - beta2) * torch.sign(torch.square(g) - s) * torch.square(g)
            else:
                s[:] = beta2 * s + (1 - beta2) * torch.square(g)
            v_bias_corr = v / (1 - beta1**hyperparams.t)
            s_bias_corr = s / (1 - beta2**hyperparams.t)
            p[:] -= hyperparams.lr * v_bias_corr / (torch.sqrt(s_bias_corr) + eps)
        p.grad.data.zero_()
    hyperparams.t += 1


#: Each optimizer's update and the names of its states per parameter (v: momentum's velocity or
#: Adam's first moment; s: the average of squared gradients; delta: Adadelta's average of squared steps).
UPDATES: dict[str, tuple[Update, tuple[str, ...]]] = {
    "momentum": (sgd_momentum, ("v",)),
    "adagrad": (adagrad, ("s",)),
    "rmsprop": (rmsprop, ("s",)),
    "adadelta": (adadelta, ("s", "delta")),
    "adam": (adam, ("v", "s")),
    "yogi": (yogi, ("v", "s")),
}


def init_states(params: list[torch.Tensor], names: tuple[str, ...]) -> list[tuple[torch.Tensor, ...]]:
    """Zeros shaped like each parameter, one per state name (the book's init_*_states)."""
    return [tuple(torch.zeros_like(p.detach()) for _ in names) for p in params]


#: Each update in the book's code (d2l 12.6–12.10, with its p.grad written g = p.grad / batch_size).
BOOK_CODE: dict[str, str] = {
    "momentum": "v[:] = hyperparams['momentum'] * v + g; p[:] -= hyperparams['lr'] * v",
    "adagrad": "s[:] += torch.square(g); p[:] -= hyperparams['lr'] * g / torch.sqrt(s + eps)",
    "rmsprop": "s[:] = gamma * s + (1 - gamma) * torch.square(g); p[:] -= hyperparams['lr'] * g / torch.sqrt(s + eps)",
    "adadelta": "s[:] = rho * s + (1 - rho) * torch.square(g); "
    "g = (torch.sqrt(delta + eps) / torch.sqrt(s + eps)) * g; p[:] -= g; "
    "delta[:] = rho * delta + (1 - rho) * g * g (no learning rate)",
    "adam": "v[:] = beta1 * v + (1 - beta1) * g; s[:] = beta2 * s + (1 - beta2) * torch.square(g); "
    "v_bias_corr = v / (1 - beta1 ** hyperparams['t']); s_bias_corr = s / (1 - beta2 ** hyperparams['t']); "
    "p[:] -= hyperparams['lr'] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps); hyperparams['t'] += 1 (t from 1)",
    "yogi": "v[:] = beta1 * v + (1 - beta1) * g; s[:] = s + (1 - beta2) * torch.sign(torch.square(g) - s) * "
    "torch.square(g); v_bias_corr = v / (1 - beta1 ** hyperparams['t']); s_bias_corr = s / (1 - beta2 ** "
    "hyperparams['t']); p[:] -= hyperparams['lr'] * v_bias_corr / (torch.sqrt(s_bias_corr) + eps); "
    "hyperparams['t'] += 1 (t from 1)",
}
