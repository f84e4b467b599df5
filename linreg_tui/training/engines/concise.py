"""d2l 3.3, the concise implementation: TensorDataset + DataLoader, nn.Linear, nn.MSELoss, optim.SGD, and
the optimization chapter's optimizers as torch.optim has them (training/engines/concise_optim.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.utils import data

from linreg_tui.run.config import RunConfig
from linreg_tui.training.data import Dataset
from linreg_tui.training.engines.base import Batch, Engine, Params, ShuffleMemory, StepExplanation, tracked_count
from linreg_tui.training.engines.concise_optim import (
    book_state,
    make_trainer,
    optimizer_rule,
    optimizer_words,
    torch_class,
)

CONCISE_RULE = (
    "trainer.step(): param -= lr * param.grad, with net[0].weight.grad and net[0].bias.grad the gradients "
    "of nn.MSELoss (already a mean over the minibatch, so nothing more is divided)"
)


def concise_rule(config: RunConfig) -> str:
    """CONCISE_RULE for this run's loss, reduction and weight decay."""
    names = {"squared": "nn.MSELoss", "huber": "nn.HuberLoss", "absolute": "nn.L1Loss"}
    rule = CONCISE_RULE.replace("nn.MSELoss", names[config.loss])
    if config.reduction == "sum":
        rule = rule.replace(
            "(already a mean over the minibatch, so nothing more is divided)",
            "(reduction='sum': summed over the minibatch and never divided)",
        )
    if config.wd:
        rule += f"; for the weight, trainer.step() first adds weight_decay · w ({config.wd:g} · w) to the gradient"
    if config.optimizer != "sgd":
        # The same gradient, then the optimizer's own step instead of param -= lr * param.grad.
        gradient = rule.replace("trainer.step(): param -= lr * param.grad, with ", "grad = ")
        rule = optimizer_rule(config) + "; " + gradient.replace("bias.grad the gradients", "bias.grad, the gradients")
    return rule


class ShuffledIndexBatches(data.Sampler[torch.Tensor]):
    """What `DataLoader(dataset, batch_size, shuffle=True)` iterates over, as whole index batches.

    The order is the same as the book's RandomSampler (one `torch.randperm(n)` per epoch, from the run's
    generator), but each minibatch is one index tensor, so the dataset gathers it in one operation
    instead of `batch_size` single samples being fetched and collated. (RandomSampler also draws an
    unused trailing permutation per epoch; not drawing it keeps the generator in step with scratch.)
    """

    def __init__(self, num_examples: int, batch_size: int, generator: torch.Generator, device: torch.device) -> None:
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.generator = generator
        self.device = device

    def __len__(self) -> int:
        return -(-self.num_examples // self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        # One slice at a time: order.split() would make all n/B views up front (~600 bytes each).
        order = torch.randperm(self.num_examples, generator=self.generator).to(self.device)
        for start in range(0, self.num_examples, self.batch_size):
            yield order[start : start + self.batch_size]


def make_loss(config: RunConfig, reduction: str) -> nn.Module:
    """The book's nn.MSELoss, or the exercise's nn.HuberLoss / nn.L1Loss, reducing a minibatch by `reduction`."""
    if config.loss == "huber":
        return nn.HuberLoss(reduction=reduction, delta=config.huber_delta)
    if config.loss == "absolute":
        return nn.L1Loss(reduction=reduction)
    return nn.MSELoss(reduction=reduction)


def concise_words(config: RunConfig) -> str:
    """What differs from the book's 3.3 loss and trainer, in its words."""
    words = {
        "squared": "",
        "huber": f"; the loss is nn.HuberLoss(delta={config.huber_delta:g}) instead: ½(ŷ−y)² within delta (half "
        "MSELoss there), delta·(|ŷ−y| − ½delta) beyond",
        "absolute": "; the loss is nn.L1Loss() instead: |ŷ−y|",
    }[config.loss]
    if config.reduction == "sum":
        words += (
            "; reduction='sum': the minibatch's loss is summed, so each step is batch-size times the mean's "
            "(lr / batch size takes the mean's steps); losses shown are still means"
        )
    if config.wd:
        words += (
            f"; weight decay: {torch_class(config)}([{{'params': net[0].weight, 'weight_decay': {config.wd:g}}}, "
            "{'params': net[0].bias}]) adds wd · w to the weight's gradient (the penalty wd·‖w‖²/2 on this "
            "loss's scale, so with MSELoss it weighs half what scratch's lambd does)"
        )
    return words + optimizer_words(config)


def load_array(data_arrays: tuple[torch.Tensor, ...], batch_size: int, generator: torch.Generator) -> data.DataLoader:
    """The book's `load_array`: a TensorDataset in a shuffling DataLoader, whose sampler draws from the
    run's generator and hands the dataset whole index batches (automatic batching off)."""
    dataset = data.TensorDataset(*data_arrays)
    features = data_arrays[0]
    sampler = ShuffledIndexBatches(len(features), batch_size, generator, features.device)
    return data.DataLoader(dataset, batch_size=None, sampler=sampler)


class ConciseEngine(Engine):
    name = "concise"
    loss_formula = (
        "concise (d2l 3.3): nn.MSELoss, the mean of (ŷ−y)² over the minibatch with no ½; "
        "torch.optim.SGD; its losses are twice scratch's for the same fit"
    )

    def __init__(self, dataset: Dataset, config: RunConfig, generator: torch.Generator) -> None:
        super().__init__(dataset, config, generator)
        self.net = nn.Sequential(nn.Linear(config.num_features, 1))
        # Drawn on the CPU from the run's generator before moving: the same numbers as scratch's init.
        self.net[0].weight.data.normal_(0, config.init_std, generator=generator)
        self.net[0].bias.data.fill_(0)
        self.net.to(dataset.features.device)
        self.loss = make_loss(config, config.reduction)
        #: The loss as evaluate_loss averages it (the same loss as `self.loss` with reduction='mean').
        self.mean_loss = self.loss if config.reduction == "mean" else make_loss(config, "mean")
        self.summed = config.reduction == "sum"
        self.wd = config.wd
        if config.wd:
            # The book's weight-decay section: only the weight decays, the bias is in a group of its own.
            groups = [{"params": self.net[0].weight, "weight_decay": config.wd}, {"params": self.net[0].bias}]
            self.trainer = make_trainer(config, groups)
        else:
            self.trainer = make_trainer(config, self.net.parameters())
        #: Adadelta has no learning rate (the book's takes none): torch's lr multiplies its step, and stays
        #: 1.0 whatever set_lr or a schedule says, so that the step is the book's.
        self.fixed_lr = config.optimizer == "adadelta"
        self.data_iter = load_array((dataset.features, dataset.labels), config.batch_size, generator)
        # Views of the parameters the path follows; trainer.step() updates in place, so they stay live.
        layer = self.net[0]
        self.tracked = (layer.weight.detach().view(-1)[: tracked_count(config.num_features)], layer.bias.detach())
        self.shuffle = ShuffleMemory(generator, dataset.num_examples, config.batch_size)

    def epoch_batches(self) -> Iterator[Batch]:
        return self.shuffle.follow(iter(self.data_iter))

    def describe_loss(self) -> str:
        return self.loss_formula.replace("torch.optim.SGD", torch_class(self.config)) + concise_words(self.config)

    def set_lr(self, lr: float) -> None:
        super().set_lr(lr)
        self._use_lr(lr)

    def _use_lr(self, lr: float) -> None:
        if not self.fixed_lr:
            for group in self.trainer.param_groups:
                group["lr"] = lr

    def run_steps(self, batches: Sequence[Batch], lrs: Sequence[float] | None = None) -> torch.Tensor:
        losses = []
        path = []
        for step, (X, y) in enumerate(batches):
            if lrs is not None:
                self._use_lr(lrs[step])
            l = self.loss(self.net(X), y)  # noqa: E741 (the book's name)
            self.trainer.zero_grad()
            l.backward()
            self.trainer.step()
            # A summed minibatch loss is reported as its mean, so that the chart compares with mean's.
            losses.append(l.detach() / len(X) if self.summed else l.detach())
            path.append(torch.cat(self.tracked))  # one small copy per step; read once per chunk
        self._path = torch.stack(path)
        return torch.stack(losses)

    def explain_step(self, batch: Batch, lr: float | None = None) -> StepExplanation:
        before = self.snapshot()
        loss = self.run_steps([batch], None if lr is None else [lr])
        # The book's 3.3 exercise: after the step the gradients are still in net[0].weight.grad and
        # net[0].bias.grad (zero_grad() clears them only at the start of the next step).
        layer = self.net[0]
        grad = Params(layer.weight.grad.detach().view(-1).clone(), layer.bias.grad.detach().view(-1).clone())
        if self.config.optimizer == "sgd":
            lr = self.trainer.param_groups[0]["lr"]
            # trainer.step() adds weight_decay · w (before the step) to the weight's gradient itself.
            step_w = grad.w + self.wd * before.w if self.wd else grad.w
            update = Params(-lr * step_w, -lr * grad.b)
        else:
            # torch's step is not −lr · grad for these: the step is what the parameters did.
            after = self.parameters()
            update = Params(after.w - before.w, after.b - before.b)
        state = tuple(
            (name, Params(w.detach().view(-1).clone(), b.detach().view(-1).clone()))
            for name, (w, b) in book_state(self.trainer, layer.weight, layer.bias)
        )
        return StepExplanation(
            loss=loss,
            indices=self.shuffle.last_indices(),
            grad=grad,
            update=update,
            rule=concise_rule(self.config),
            state=state,
        )

    def optimizer_state(self) -> object:
        """A deep copy of trainer.state_dict(): v, s, delta and Adam's step count t (None for plain sgd)."""
        if self.config.optimizer == "sgd":
            return None
        return copy.deepcopy(self.trainer.state_dict())

    def load_optimizer_state(self, state: object) -> None:
        if state is None:
            return
        # load_state_dict keeps the tensors it is given (same device and dtype): a copy, so the checkpoint
        # stays as it was for another rewind. It also puts back the checkpoint's lr, so this run's goes back on.
        self.trainer.load_state_dict(copy.deepcopy(state))  # type: ignore[arg-type]
        self._use_lr(self.lr)

    def loss_on(self, data: Dataset) -> torch.Tensor:
        with torch.no_grad():
            return self.mean_loss(self.net(data.features), data.labels)

    def parameters(self) -> Params:
        layer = self.net[0]
        return Params(layer.weight.detach().view(-1), layer.bias.detach().view(-1))
