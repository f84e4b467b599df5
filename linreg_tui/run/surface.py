"""The loss over the tracked parameters and how hard it is for gradient descent, as plain floats: what
the Landscape panel draws and the log and results report, without torch (train.statistics makes them
from the data's ZᵀZ, Zᵀy and yᵀy)."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The landscape and the parameters-over-time view follow the first few weights and the bias; with
#: more features the rest are held at the optimum (and the view says so).
TRACKED_WEIGHTS = 4


def loss_scale(impl: str) -> float:
    """The factor in front of the mean squared error: ½ for the book's squared_loss, 1 for MSELoss."""
    return 1.0 if impl == "concise" else 0.5


@dataclass(frozen=True)
class Conditioning:
    """How hard the problem is for gradient descent, before any step is taken."""

    #: λmax / λmin of ZᵀZ/n (inf when fewer examples than unknowns make it singular).
    condition_number: float
    #: 2 / λmax of the Hessian of the run's own loss: full-batch gradient descent converges below it
    #: and diverges above it. Minibatch SGD is noisier and can diverge below it.
    max_stable_lr: float
    #: The smallest and largest eigenvalues of that Hessian (the bias column included; λmin is 0 when it is
    #: singular): the ends of the spectrum run.theory's rates and optimal constants come from.
    hessian_min: float = math.nan
    hessian_max: float = math.nan


@dataclass(frozen=True)
class LossSurface:
    """The full-data loss over the tracked parameters (the first few weights and the bias), the others
    held at the optimum; plain floats, so the UI draws it without torch.

    The loss is L(θ* + Δ) = floor + ½ ΔᵀHΔ exactly (θ* is a minimum, H the Hessian), on the run's own scale.
    """

    names: tuple[str, ...]  #: "w1", "w2", …, "b"
    optimum: tuple[float, ...]
    #: The true values, where the data was made from them (None: a table's or a file's data).
    truth: tuple[float, ...] | None
    hessian: tuple[tuple[float, ...], ...]
    floor: float  #: the loss at the optimum
    held: int  #: how many weights are not tracked (held at the optimum)

    def loss(self, i: int, j: int, x: float, y: float) -> float:
        """The loss with tracked parameter i at x, j at y, and every other parameter at the optimum."""
        dx, dy = x - self.optimum[i], y - self.optimum[j]
        H = self.hessian
        return self.floor + 0.5 * (H[i][i] * dx * dx + 2 * H[i][j] * dx * dy + H[j][j] * dy * dy)

    def grid(self, i: int, j: int, xs: list[float], ys: list[float]) -> list[list[float]]:
        """Rows for ys (top row first: the largest y), columns for xs."""
        return [[self.loss(i, j, x, y) for x in xs] for y in reversed(ys)]

    def pairs(self) -> list[tuple[int, int]]:
        """The pairs a key cycles through: w1×w2 first (w1×b with one feature)."""
        count = len(self.names)
        return [(i, j) for i in range(count) for j in range(i + 1, count)]
