"""What a training run tells its listeners, one frozen dataclass per event, in plain values (no torch):
the headless report, the metrics files and the app's panels all read the same events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from linreg_tui.run.config import RunConfig
from linreg_tui.run.path import TrackedPath
from linreg_tui.run.preview import DataPreview
from linreg_tui.run.result import Optimum, RunResult
from linreg_tui.run.surface import Conditioning, LossSurface

EMPTY_PATH = TrackedPath([], 1)


@dataclass(frozen=True)
class RunStarted:
    config: RunConfig
    device: str
    first_features: tuple[float, ...]
    first_label: float
    optimum: Optimum
    loss_formula: str
    preview: DataPreview
    #: The full-data loss over the tracked parameters (w1..w_k, b), on this engine's loss scale.
    surface: LossSurface
    conditioning: Conditioning
    #: The tracked parameters before step 1, where the path starts.
    initial: tuple[float, ...]
    #: Whether `surface` is the loss this run minimises: the squared loss without weight decay. With
    #: huber or absolute loss, or weight decay, it is still the squared loss's surface (say so beside it).
    surface_is_exact: bool = True


@dataclass(frozen=True)
class StepLosses:
    """The minibatch losses of consecutive steps; `first_step` counts from 1 over the whole run."""

    epoch: int
    first_step: int
    #: float64 values in an `array.array("d")`: a Python float is made only where one is read. Making
    #: them all (tolist()) cost the fast engine 28 ns a step of its 0.7–0.9 µs, on the training thread.
    losses: Sequence[float]
    #: The tracked parameters (w1..w_k, b, as in RunStarted.surface.names) after each of these steps:
    #: a tuple per step (`tracked[i]`), or one parameter over the steps (`tracked.column(j)`).
    tracked: TrackedPath = EMPTY_PATH


@dataclass(frozen=True)
class Paused:
    """The run waits (RunControl.pause or a single step taken): `step` steps are done, the next is step + 1."""

    epoch: int
    step: int


@dataclass(frozen=True)
class StepExplained:
    """One step taken in step mode, and what made it: the engine's own update rule with its numbers.

    The gradient is the one the engine's rule uses (scratch and fast: of the minibatch's summed ½(ŷ−y)²,
    divided by the batch size in the update; concise: net[0].weight.grad of MSELoss's mean, the update
    is −lr · grad). With another optimizer than plain sgd the update is the step the parameters took, and
    `state` holds the optimizer's state after it by the book's names (v, s, delta), each as (tracked
    weights, b). Weights are the tracked ones (w1..w_k)."""

    epoch: int
    step: int
    indices: tuple[int, ...]  #: the first (at most EXPLAINED_INDICES) example indices of the minibatch
    batch_size: int  #: how many examples the minibatch holds
    loss: float  #: the minibatch loss before the update, on this engine's scale
    lr: float
    grad_w: tuple[float, ...]
    grad_b: float
    update_w: tuple[float, ...]
    update_b: float
    rule: str
    #: (name, tracked weights' values, b's value) for each of the optimizer's states; empty for plain sgd.
    state: tuple[tuple[str, tuple[float, ...], float], ...] = ()


@dataclass(frozen=True)
class LearningRateChanged:
    """From step `step` on the run uses `lr` (set while it ran; applied at a chunk boundary)."""

    step: int
    lr: float


@dataclass(frozen=True)
class EpochEnded:
    epoch: int
    loss: float  # the full-data loss, as the book prints it
    steps: int
    w: tuple[float, ...]
    b: float
    #: The run's own loss (without the weight-decay penalty), its mean over the validation set: the
    #: book's evaluate_loss. None without a validation set.
    val_loss: float | None = None
    #: Set on the one epoch where the run is first seen to be unstable (run.stability): the lowest
    #: full-data loss it had reached. None on every other epoch.
    unstable_from: float | None = None
    #: The learning rate of the epoch's last step: the schedule's at that step, or the rate a live change
    #: set. None where the optimizer has no learning rate (adadelta), as the JSON's null and the CSV's
    #: empty cell say.
    lr: float | None = None


@dataclass(frozen=True)
class DataLoading:
    """A data file is being read before the run's first step: `done` of its `total` bytes so far."""

    name: str
    done: int
    total: int


@dataclass(frozen=True)
class RunEnded:
    result: RunResult


TrainingEvent = (
    DataLoading | RunStarted | StepLosses | EpochEnded | RunEnded | Paused | StepExplained | LearningRateChanged
)

#: A step explained shows this many of its minibatch's example indices.
EXPLAINED_INDICES = 64
