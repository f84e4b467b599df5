"""What every engine provides to the training loop, so that the loop (events, cancellation, divergence)
is written once and each engine stays as close to its chapter of the book as possible."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.run.surface import TRACKED_WEIGHTS
from linreg_tui.training.data import Dataset

Batch = Any  # whatever an engine's epoch iterator yields and its run_steps takes back


@dataclass(frozen=True)
class Params:
    """Parameters as flat tensors on the engine's device: w of shape (d,), b of shape (1,)."""

    w: torch.Tensor
    b: torch.Tensor

    def clone(self) -> Params:
        return Params(self.w.detach().clone(), self.b.detach().clone())

    def all_finite(self) -> torch.Tensor:
        """A 0-d bool tensor on the device: asking it does not synchronise."""
        return torch.isfinite(self.w).all() & torch.isfinite(self.b).all()

    def to_lists(self) -> tuple[tuple[float, ...], float]:
        return tuple(self.w.detach().double().cpu().tolist()), float(self.b.detach().double().cpu()[0])


@dataclass(frozen=True)
class Checkpoint:
    """The parameters and the optimizer's state at one moment: what a replay rewinds to, so that the
    steps it takes again are the same steps (momentum's v, Adam's v, s and t go back with the parameters)."""

    params: Params
    optimizer_state: object = None


@dataclass(frozen=True)
class StepExplanation:
    """One step an engine took, and what made it, as tensors on its device (the loop reads them in one
    transfer): the minibatch, its loss before the update, the gradient the engine's rule used and the
    update that rule gives. `rule` says the rule in the engine's own (the book's) code."""

    loss: torch.Tensor  #: (1,), on this engine's loss scale
    indices: torch.Tensor  #: the minibatch's example indices, in the order the step used them
    grad: Params
    update: Params
    rule: str
    #: The optimizer's state after the step, by the book's names (v, s, delta); empty for plain sgd.
    state: tuple[tuple[str, Params], ...] = ()


def tracked_count(num_features: int) -> int:
    """How many weights the path follows (then the bias)."""
    return min(num_features, TRACKED_WEIGHTS)


class ShuffleMemory:
    """Which examples a minibatch holds, without touching the book's iterator: the generator's state
    just before the epoch's shuffle (so the permutation can be drawn again, once, when asked) and how
    many minibatches were handed out. Costs a state copy per epoch and a counter per minibatch; the
    permutation is made only when a step is explained.

    It relies on the book's iterator drawing the epoch's permutation, `randperm(n)` from the run's
    generator, as its first draw when the first minibatch is asked for (tests/test_step_mode.py checks
    the indices against the rows of each minibatch)."""

    def __init__(self, generator: torch.Generator, num_examples: int, batch_size: int) -> None:
        self.generator = generator
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.state: torch.Tensor | None = None
        self.order: torch.Tensor | None = None
        self.handed_out = 0

    def follow(self, batches: Iterator[Batch]) -> Iterator[Batch]:
        self.state = self.generator.get_state()  # runs at the first next(), just before the shuffle
        self.order = None
        self.handed_out = 0
        for batch in batches:
            self.handed_out += 1
            yield batch

    def last_indices(self) -> torch.Tensor:
        """The example indices of the minibatch handed out last (on the CPU)."""
        if self.state is None or self.handed_out == 0:
            raise RuntimeError("no minibatch has been handed out in this epoch")
        if self.order is None:
            again = torch.Generator().set_state(self.state)
            self.order = torch.randperm(self.num_examples, generator=again)
        start = (self.handed_out - 1) * self.batch_size
        return self.order[start : start + self.batch_size]


class Engine(ABC):
    """One implementation of minibatch SGD for linear regression.

    The data, the initial weights and the shuffle order all come from the run's one CPU generator,
    drawn in the same order by every engine, so that engines can be compared step for step.
    """

    name: ClassVar[str]
    #: How this engine defines its loss, shown in the log and the help screen.
    loss_formula: ClassVar[str]
    #: The most steps the training loop hands to run_steps at once.
    max_chunk: ClassVar[int] = 1024

    def __init__(self, data: Dataset, config: RunConfig, generator: torch.Generator) -> None:
        self.data = data
        self.config = config
        self.generator = generator
        #: The learning rate of the next steps: the loop changes it between chunks (set_lr).
        self.lr = config.lr
        #: The tracked parameters (w1..w_k, b) after each step of the last run_steps call.
        self._path = torch.empty(0, tracked_count(config.num_features) + 1)

    @abstractmethod
    def epoch_batches(self) -> Iterator[Batch]:
        """One epoch of shuffled minibatches (the last one may be short)."""

    @abstractmethod
    def run_steps(self, batches: Sequence[Batch], lrs: Sequence[float] | None = None) -> torch.Tensor:
        """Take one optimizer step per batch, step i with learning rate lrs[i] (None: self.lr for every
        step, as a constant schedule gives); return each step's minibatch loss (before its update) as a
        1-d tensor on the device, on this engine's loss scale. Must not synchronise the device."""

    @abstractmethod
    def explain_step(self, batch: Batch, lr: float | None = None) -> StepExplanation:
        """Take one step, as run_steps would take it (with learning rate `lr`, None: self.lr), and say
        what it did and why."""

    def last_path(self) -> torch.Tensor:
        """(steps, k + 1) on the device: w1..w_k and b after each step of the last run_steps call."""
        return self._path

    def set_lr(self, lr: float) -> None:
        """Use `lr` from the next step on; the loop calls it between chunks only."""
        self.lr = lr

    def describe_loss(self) -> str:
        """How this run's loss is defined, for the log: the engine's formula and the options that change it."""
        return self.loss_formula

    @abstractmethod
    def loss_on(self, data: Dataset) -> torch.Tensor:
        """The run's own loss (without a weight-decay penalty), its mean over `data` (on the engine's
        device): the book's `evaluate_loss`. 0-d, on the device."""

    def epoch_loss(self) -> torch.Tensor:
        """The full-data loss the way the book prints it at the end of an epoch (0-d, on the device)."""
        return self.loss_on(self.data)

    @abstractmethod
    def parameters(self) -> Params:
        """The live parameters (views, not copies)."""

    def snapshot(self) -> Params:
        return self.parameters().clone()

    def optimizer_state(self) -> object:
        """A copy of the optimizer's state (None: plain sgd keeps none)."""
        return None

    def load_optimizer_state(self, state: object) -> None:
        """Put back a state optimizer_state() returned (plain sgd has none to put back)."""
        del state

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.snapshot(), self.optimizer_state())

    def rewind(self, checkpoint: Checkpoint) -> None:
        self.restore(checkpoint.params)
        self.load_optimizer_state(checkpoint.optimizer_state)

    def restore(self, params: Params) -> None:
        live = self.parameters()
        with torch.no_grad():
            live.w.copy_(params.w)
            live.b.copy_(params.b)
