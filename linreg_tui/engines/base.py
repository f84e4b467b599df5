"""What every engine provides to the training loop, so that the loop (events, cancellation, divergence)
is written once and each engine stays as close to its chapter of the book as possible."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from linreg_tui.config import RunConfig
from linreg_tui.data import Dataset

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

    @abstractmethod
    def epoch_batches(self) -> Iterator[Batch]:
        """One epoch of shuffled minibatches (the last one may be short)."""

    @abstractmethod
    def run_steps(self, batches: Sequence[Batch]) -> torch.Tensor:
        """Take one SGD step per batch; return each step's minibatch loss (before its update) as a
        1-d tensor on the device, on this engine's loss scale. Must not synchronise the device."""

    @abstractmethod
    def epoch_loss(self) -> torch.Tensor:
        """The full-data loss the way the book prints it at the end of an epoch (0-d, on the device)."""

    @abstractmethod
    def parameters(self) -> Params:
        """The live parameters (views, not copies)."""

    def snapshot(self) -> Params:
        return self.parameters().clone()

    def restore(self, params: Params) -> None:
        live = self.parameters()
        with torch.no_grad():
            live.w.copy_(params.w)
            live.b.copy_(params.b)
