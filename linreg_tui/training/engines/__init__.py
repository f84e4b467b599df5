"""The engines: one per way of writing the book's minibatch SGD, all behind `Engine`."""

from __future__ import annotations

import torch

from linreg_tui.run.config import RunConfig
from linreg_tui.training.data import Dataset
from linreg_tui.training.engines.base import Engine, Params
from linreg_tui.training.engines.concise import ConciseEngine
from linreg_tui.training.engines.fast import FastEngine
from linreg_tui.training.engines.scratch import ScratchEngine

ENGINES: dict[str, type[Engine]] = {
    ScratchEngine.name: ScratchEngine,
    ConciseEngine.name: ConciseEngine,
    FastEngine.name: FastEngine,
}


def make_engine(config: RunConfig, data: Dataset, generator: torch.Generator) -> Engine:
    """The engine named by `config.impl`, training on `data` (already on its device)."""
    return ENGINES[config.impl](data, config, generator)


__all__ = ["ENGINES", "ConciseEngine", "Engine", "FastEngine", "Params", "ScratchEngine", "make_engine"]
