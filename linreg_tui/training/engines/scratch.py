"""d2l 3.2, linear regression from scratch: the book's functions, kept as the book writes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch.nn import functional

from linreg_tui.run.config import RunConfig
from linreg_tui.run.optimizers import CONSTANTS
from linreg_tui.training.data import Dataset, initial_weights
from linreg_tui.training.engines.base import Batch, Engine, Params, ShuffleMemory, StepExplanation, tracked_count
from linreg_tui.training.optimizers import BOOK_CODE, UPDATES, Hyperparams, Update, init_states

SCRATCH_RULE = (
    "sgd: param -= lr * param.grad / batch_size, with param.grad the gradient of l.sum() (the minibatch's "
    "summed ½(ŷ−y)²), so the step divides by the batch size"
)
WEIGHT_DECAY_RULE = (
    "; with weight decay l = loss(net(X), y) + lambd * l2_penalty(w), so w.grad also holds "
    "lambd · w once per example (b is not penalised)"
)


def scratch_rule(config: RunConfig) -> str:
    """SCRATCH_RULE for this run's loss (or the optimization chapter's update for another optimizer), with
    the penalty's term when there is weight decay."""
    names = {"squared": "½(ŷ−y)²", "huber": f"huber_loss (delta {config.huber_delta:g})", "absolute": "|ŷ−y|"}
    rule = SCRATCH_RULE if config.optimizer == "sgd" else optimizer_rule(config)
    return rule.replace("½(ŷ−y)²", names[config.loss]) + (WEIGHT_DECAY_RULE if config.wd else "")


def optimizer_rule(config: RunConfig) -> str:
    """The book's from-scratch update (training/optimizers.py) in its code, with g = p.grad / batch_size."""
    name = config.optimizer
    return (
        f"{name}(params, states, hyperparams): g = p.grad / batch_size, with p.grad the gradient of l.sum() "
        f"(the minibatch's summed ½(ŷ−y)², so g is the chapter's mean gradient on a full minibatch); "
        f"{BOOK_CODE[name]} ({optimizer_constants(config)}){short_batch_note(config)}"
    )


def optimizer_constants(config: RunConfig) -> str:
    """`lr 0.03, beta1 0.9, beta2 0.999, eps 1e-06`: the run's hyperparams for its optimizer."""
    names = CONSTANTS[config.optimizer] if config.optimizer == "adadelta" else ("lr", *CONSTANTS[config.optimizer])
    return ", ".join(f"{name} {getattr(config, name):g}" for name in names)


def short_batch_note(config: RunConfig) -> str:
    """Where the epoch ends in a short minibatch, what g is there (the book's train_ch11 takes the mean)."""
    last = config.training_examples % config.batch_size
    if not last:
        return ""
    return (
        f"; the last minibatch holds {last} of {config.batch_size} examples: its g is the summed gradient / "
        f"{config.batch_size}, {last}/{config.batch_size} of its mean (the chapter's train_ch11 takes the mean)"
    )


LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def data_iter(
    batch_size: int, features: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The book shuffles a Python list with `random.shuffle`; we draw the same kind of permutation from
    the run's generator (on the CPU, moved once) so that every engine sees the same minibatch order."""
    num_examples = len(features)
    indices = torch.randperm(num_examples, generator=generator).to(features.device)
    for i in range(0, num_examples, batch_size):
        batch_indices = indices[i : min(i + batch_size, num_examples)]
        yield features[batch_indices], labels[batch_indices]


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.matmul(X, w) + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def huber(delta: float) -> LossFunction:
    """The Huber loss per example, torch's: ½(ŷ−y)² within delta (the book's squared loss there), then
    delta·(|ŷ−y| − ½delta)."""

    def huber_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return functional.huber_loss(y_hat, y.reshape(y_hat.shape), reduction="none", delta=delta)

    return huber_loss


def absolute_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (y_hat - y.reshape(y_hat.shape)).abs()


def l2_penalty(w: torch.Tensor) -> torch.Tensor:
    """The book's weight-decay section: the penalty λ multiplies."""
    return torch.sum(w.pow(2)) / 2


def example_loss(config: RunConfig) -> LossFunction:
    """The run's loss per example, as scratch (and fast, for squared) computes it."""
    if config.loss == "huber":
        return huber(config.huber_delta)
    if config.loss == "absolute":
        return absolute_loss
    return squared_loss


def loss_words(config: RunConfig) -> str:
    """What a loss other than the book's squared loss is, and the weight decay, in scratch's words."""
    words = {
        "squared": "",
        "huber": f"; the loss is torch's huber_loss(delta={config.huber_delta:g}) per example instead: ½(ŷ−y)² "
        "within delta, delta·(|ŷ−y| − ½delta) beyond",
        "absolute": "; the loss is |ŷ−y| per example instead",
    }[config.loss]
    if config.wd:
        words += (
            f"; weight decay: l = loss(net(X), y) + lambd * l2_penalty(w) with lambd = {config.wd:g} and "
            "l2_penalty(w) = sum(w**2) / 2, b not penalised; losses shown leave the penalty out"
        )
    if config.optimizer != "sgd":
        words += (
            f"; optimizer {config.optimizer} (d2l 12.6–12.10, every state from 0): g = p.grad / batch_size; "
            f"{BOOK_CODE[config.optimizer]} ({optimizer_constants(config)}){short_batch_note(config)}"
        )
    return words


def sgd(params: list[torch.Tensor], lr: float, batch_size: int) -> None:
    """Divides by the nominal batch size, as the book does, also for a short last batch."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


class ScratchEngine(Engine):
    name = "scratch"
    loss_formula = (
        "scratch (d2l 3.2): loss ½(ŷ−y)² per example, summed over the minibatch for backward(); "
        "sgd divides the gradient by the batch size; losses shown are means of ½(ŷ−y)²"
    )

    def __init__(self, data: Dataset, config: RunConfig, generator: torch.Generator) -> None:
        super().__init__(data, config, generator)
        device = data.features.device
        self.w = initial_weights(config.num_features, generator, config.init_std).to(device).requires_grad_(True)
        self.b = torch.zeros(1, device=device, requires_grad=True)
        # Views of the parameters the path follows; sgd updates in place, so they stay live.
        self.tracked = (self.w.detach().view(-1)[: tracked_count(config.num_features)], self.b.detach())
        self.shuffle = ShuffleMemory(generator, data.num_examples, config.batch_size)
        self.loss = example_loss(config)
        self.lambd = config.wd
        # The optimization chapter's optimizers (training/optimizers.py); plain sgd stays 3.2's `sgd`.
        self.update: Update | None = None
        if config.optimizer != "sgd":
            self.update, self.state_names = UPDATES[config.optimizer]
            self.states = init_states([self.w, self.b], self.state_names)
            self.hyperparams = Hyperparams(
                lr=config.lr,
                momentum=config.momentum,
                gamma=config.gamma,
                rho=config.rho,
                beta1=config.beta1,
                beta2=config.beta2,
                eps=config.eps,
            )

    def describe_loss(self) -> str:
        return self.loss_formula + loss_words(self.config)

    def _objective(self, l: torch.Tensor) -> torch.Tensor:  # noqa: E741 (the book's name)
        """What backward() differentiates: the summed loss, with the book's penalty when there is weight decay."""
        if self.lambd:
            l = l + self.lambd * l2_penalty(self.w)  # noqa: E741 (the book's line)
        return l.sum()

    def epoch_batches(self) -> Iterator[Batch]:
        return self.shuffle.follow(
            data_iter(self.config.batch_size, self.data.features, self.data.labels, self.generator)
        )

    def run_steps(self, batches: Sequence[Batch], lrs: Sequence[float] | None = None) -> torch.Tensor:
        batch_size = self.config.batch_size
        sums = []
        path = []
        for step, (X, y) in enumerate(batches):
            lr = self.lr if lrs is None else lrs[step]
            l = self.loss(linreg(X, self.w, self.b), y)  # noqa: E741 (the book's name)
            total = l.sum()  # reported without the penalty
            (self._objective(l) if self.lambd else total).backward()
            if self.update is None:
                sgd([self.w, self.b], lr, batch_size)
            else:
                self.hyperparams.lr = lr
                self.update([self.w, self.b], self.states, self.hyperparams, batch_size)
            sums.append(total.detach())
            path.append(torch.cat(self.tracked))  # one small copy per step; read once per chunk
        self._path = torch.stack(path)
        # Report each step's mean loss; dividing once per chunk keeps the step itself the book's.
        sizes = [len(X) for X, _ in batches]
        stacked = torch.stack(sums)
        if all(size == batch_size for size in sizes):
            return stacked / batch_size
        return stacked / torch.tensor(sizes, dtype=stacked.dtype).to(stacked.device, non_blocking=True)

    def explain_step(self, batch: Batch, lr: float | None = None) -> StepExplanation:
        X, y = batch
        # The gradient backward() is about to leave in w.grad and b.grad, taken without touching them,
        # so that the step itself is run_steps' (the book's lines).
        grad_w, grad_b = torch.autograd.grad(self._objective(self.loss(linreg(X, self.w, self.b), y)), [self.w, self.b])
        lr = self.lr if lr is None else lr
        if self.update is not None:
            before = self.snapshot()
            loss = self.run_steps([batch], [lr])
            after = self.parameters()
            # The optimizer's step is not −lr · g: it is what the parameters did.
            return StepExplanation(
                loss=loss,
                indices=self.shuffle.last_indices(),
                grad=Params(grad_w.view(-1), grad_b.view(-1)),
                update=Params(after.w - before.w, after.b - before.b),
                rule=scratch_rule(self.config),
                state=tuple(
                    (name, Params(w_state.detach().view(-1).clone(), b_state.detach().view(-1).clone()))
                    for name, w_state, b_state in zip(self.state_names, *self.states, strict=True)
                ),
            )
        scale = -lr / self.config.batch_size
        loss = self.run_steps([batch], [lr])
        return StepExplanation(
            loss=loss,
            indices=self.shuffle.last_indices(),
            grad=Params(grad_w.view(-1), grad_b.view(-1)),
            update=Params(scale * grad_w.view(-1), scale * grad_b.view(-1)),
            rule=scratch_rule(self.config),
        )

    def optimizer_state(self) -> object:
        if self.update is None:
            return None
        return [tuple(tensor.clone() for tensor in state) for state in self.states], self.hyperparams.t

    def load_optimizer_state(self, state: object) -> None:
        if self.update is None or state is None:
            return
        saved, t = state  # type: ignore[misc]
        for live, kept in zip(self.states, saved, strict=True):
            for tensor, copy in zip(live, kept, strict=True):
                tensor.copy_(copy)
        self.hyperparams.t = t

    def loss_on(self, data: Dataset) -> torch.Tensor:
        with torch.no_grad():
            return self.loss(linreg(data.features, self.w, self.b), data.labels).mean()

    def parameters(self) -> Params:
        return Params(self.w.detach().view(-1), self.b.detach().view(-1))
