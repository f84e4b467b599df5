"""d2l 3.3, the concise implementation: TensorDataset + DataLoader, nn.Linear, nn.MSELoss, optim.SGD."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch import nn
from torch.utils import data

from linreg_tui.config import RunConfig
from linreg_tui.data import Dataset
from linreg_tui.engines.base import Batch, Engine, Params, ShuffleMemory, StepExplanation, tracked_count

CONCISE_RULE = (
    "trainer.step(): param -= lr * param.grad, with net[0].weight.grad and net[0].bias.grad the gradients "
    "of nn.MSELoss (already a mean over the minibatch, so nothing more is divided)"
)


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
        self.net[0].weight.data.normal_(0, 0.01, generator=generator)
        self.net[0].bias.data.fill_(0)
        self.net.to(dataset.features.device)
        self.loss = nn.MSELoss()
        self.trainer = torch.optim.SGD(self.net.parameters(), lr=config.lr)
        self.data_iter = load_array((dataset.features, dataset.labels), config.batch_size, generator)
        # Views of the parameters the path follows; trainer.step() updates in place, so they stay live.
        layer = self.net[0]
        self.tracked = (layer.weight.detach().view(-1)[: tracked_count(config.num_features)], layer.bias.detach())
        self.shuffle = ShuffleMemory(generator, dataset.num_examples, config.batch_size)

    def epoch_batches(self) -> Iterator[Batch]:
        return self.shuffle.follow(iter(self.data_iter))

    def set_lr(self, lr: float) -> None:
        super().set_lr(lr)
        self.trainer.param_groups[0]["lr"] = lr

    def run_steps(self, batches: Sequence[Batch]) -> torch.Tensor:
        losses = []
        path = []
        for X, y in batches:
            l = self.loss(self.net(X), y)  # noqa: E741 (the book's name)
            self.trainer.zero_grad()
            l.backward()
            self.trainer.step()
            losses.append(l.detach())
            path.append(torch.cat(self.tracked))  # one small copy per step; read once per chunk
        self._path = torch.stack(path)
        return torch.stack(losses)

    def explain_step(self, batch: Batch) -> StepExplanation:
        loss = self.run_steps([batch])
        # The book's 3.3 exercise: after the step the gradients are still in net[0].weight.grad and
        # net[0].bias.grad (zero_grad() clears them only at the start of the next step).
        layer = self.net[0]
        grad = Params(layer.weight.grad.detach().view(-1).clone(), layer.bias.grad.detach().view(-1).clone())
        lr = self.trainer.param_groups[0]["lr"]
        return StepExplanation(
            loss=loss,
            indices=self.shuffle.last_indices(),
            grad=grad,
            update=Params(-lr * grad.w, -lr * grad.b),
            rule=CONCISE_RULE,
        )

    def epoch_loss(self) -> torch.Tensor:
        with torch.no_grad():
            return self.loss(self.net(self.data.features), self.data.labels)

    def parameters(self) -> Params:
        layer = self.net[0]
        return Params(layer.weight.detach().view(-1), layer.bias.detach().view(-1))
