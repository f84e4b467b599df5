"""Watching full-batch gradient descent become unstable: its loss rising epoch after epoch, faster each time.

On the squared loss, full-batch gradient descent below the stability bound 2/λmax only lowers the loss:
its excess over the optimum is a sum of terms (1 − ηλᵢ)^2k, each shrinking. Above the bound the term of
the steepest direction grows by the factor (1 − ηλmax)² > 1 a step, so once it dominates, the loss rises
by more each epoch. The book's own gradient-descent example on the airfoil data (lr 1, just above that
data's bound of 0.953) is such a run: its loss bottoms out at epoch 6 and then rises by more each epoch,
long before it overflows (at epoch 473). Minibatch runs are not watched: near the optimum their loss
goes up and down with the minibatches' noise, rises in a row included (the airfoil data at lr 0.05,
batch 10 rises four times in a row, by more each time, in its first five epochs and is stable).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

#: Rises in a row, each larger than the one before, that make a run unstable.
RISES = 4
#: ... and the loss must be this much (relative) above the lowest it has been: a flat tail is not a rise.
MARGIN = 1e-3


def watched(full_batch: bool, squared_loss: bool) -> bool:
    """Whether a run's loss says anything about its stability: full-batch steps on the squared loss
    without weight decay (the penalty's pull can raise the unpenalized loss that the epochs show)."""
    return full_batch and squared_loss


def keeps_rising(losses: Sequence[float]) -> bool:
    """Whether the last RISES epochs' full-data losses each rose, by more than the rise before, to a
    loss at least MARGIN above the lowest so far."""
    if len(losses) < RISES + 1:
        return False
    tail = losses[-(RISES + 1) :]
    rises = [after - before for before, after in itertools.pairwise(tail)]
    growing = all(rise > 0 for rise in rises) and all(b > a for a, b in itertools.pairwise(rises))
    return growing and losses[-1] > min(losses) * (1 + MARGIN)


def unstable_line(epoch: int, low: float, loss: float) -> str:
    """The log's line when a run is seen to be unstable: its lowest full-data loss and its latest."""
    return (
        f"unstable: the full-data loss has risen {RISES} epochs in a row, by more each time "
        f"(from {low:.6g} at its lowest to {loss:.6g} at epoch {epoch}): each step overshoots the "
        "minimum by more than the last, and the loss will grow until it overflows; a smaller lr converges"
    )


def smaller_lr(lr: float, max_stable_lr: float) -> float:
    """The learning rate a diverged run's message suggests: a tenth of its own, or half the stability
    bound when that tenth is still above it (Longley's bound is 1.2e-11: a tenth of 0.03 would diverge too).
    Two significant digits: a scheduled run's rate is any number (a tenth of 40·0.9¹⁴ is 0.915072…)."""
    tenth = float(f"{lr / 10:.2g}")
    if math.isfinite(max_stable_lr) and max_stable_lr > 0 and tenth >= max_stable_lr:
        return float(f"{max_stable_lr / 2:.2g}")
    return tenth


def divergence_message(epoch: int, where: str, lr: float, max_stable_lr: float) -> str:
    """What a run that diverged says: where, what is kept, and a smaller learning rate to try."""
    return (
        f"diverged in epoch {epoch} at {where}: the loss or a parameter stopped being a finite number. "
        f"The parameters shown are the last finite ones. Try a smaller learning rate, "
        f"e.g. {smaller_lr(lr, max_stable_lr):g}."
    )
