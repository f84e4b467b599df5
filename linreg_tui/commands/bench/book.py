"""The baselines: d2l 3.2's and 3.3's training loops as the book prints them, with a stopwatch per step."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import torch
from torch import nn
from torch.utils import data

from linreg_tui.training.engines.scratch import linreg, sgd, squared_loss

# --- the baselines: the book's code as printed (d2l 3.2 and 3.3), with a stopwatch per step -------------
# scratch.py keeps the book's linreg, squared_loss and sgd unchanged; only the book's data_iter (a Python
# list shuffled by `random`) differs from ours, so that is the one written out again here.


def book_data_iter(
    batch_size: int, features: torch.Tensor, labels: torch.Tensor
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def book_scratch(
    features: torch.Tensor, labels: torch.Tensor, batch_size: int, lr: float, tick: Callable[[], bool]
) -> None:
    """d2l 3.2's training loop; `tick()` after every step says when to stop. The book prints each
    epoch's loss; we compute it the same way (float() included) but print nothing."""
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), requires_grad=True, device=features.device)
    b = torch.zeros(1, requires_grad=True, device=features.device)
    net, loss = linreg, squared_loss
    while True:
        for X, y in book_data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)  # noqa: E741 (the book's name)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
            if tick():
                return
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            f"{float(train_l.mean()):f}"  # the book prints it; we only format it


def book_concise(
    features: torch.Tensor, labels: torch.Tensor, batch_size: int, lr: float, tick: Callable[[], bool]
) -> None:
    """d2l 3.3's training loop: DataLoader(TensorDataset, shuffle=True) with its default per-sample
    collation, nn.Linear, nn.MSELoss, torch.optim.SGD."""
    data_iter = data.DataLoader(data.TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1)).to(features.device)
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    while True:
        for X, y in data_iter:
            l = loss(net(X), y)  # noqa: E741 (the book's name)
            trainer.zero_grad()
            l.backward()
            trainer.step()
            if tick():
                return
        with torch.no_grad():  # the book prints it; without no_grad, torch warns about reading a grad tensor
            l = loss(net(features), labels)  # noqa: E741
            f"{l:f}"  # formatted as the book prints it, shown nowhere
