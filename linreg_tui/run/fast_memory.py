"""The fast engine's memory: what one pass of `FastEngine._pass` (training/engines/fast.py) holds at its peak.

Pure Python and outside the engines package (whose __init__ imports torch), so that run/memory.py's
estimate, parsing and `--help` stay torch-free. The engine sizes its passes with `pass_steps`, the
estimate counts `epoch_pass_bytes`, and tests/test_fast.py measures a pass's allocations against
`step_bytes`: a buffer added to the pass without this model is seen there.

Per step of a pass, with d features, D = d + 1 parameters and B the batch size, a pass holds its rows
Zy = [X, 1, y] in float64 all along, plus the largest of what its phases add:
- the gather: the float32 rows of X taken from the data, before they are copied into Zy;
- the scan (d ≤ SCAN_MAX_FEATURES): the maps [A | c] of D×(D+1) float64 three times over (the maps,
  the prefixes, and at the top level of the scan the pairs' prefixes and one batch of compositions);
  with momentum the maps act on [θ; v] and are 2D×(2D+1), about 4× sgd's;
  stepping one by one instead: θ before each step (v is one vector, whatever the steps);
- the losses: θ before each step and the −1 column, then either [θ; −1] with the float64 residuals, or
  the residuals with their float32 halved squares, each step's sum and loss.
"""

from __future__ import annotations

#: Passes hold about this many bytes; a chunk of the training loop is taken in as many passes as needed.
PASS_BYTES = 64 << 20
#: Up to this many features the engine scans (one D×(D+1) map per step); beyond, it steps one by one.
SCAN_MAX_FEATURES = 32

FLOAT64 = 8
FLOAT32 = 4


def step_bytes(num_features: int, batch_size: int, optimizer: str = "sgd") -> int:
    """The bytes one step adds to a pass's peak (a pass of K steps peaks at about K times this);
    `optimizer` sgd or momentum, whose scanned state [θ; v] is twice θ's size."""
    d, size = num_features, batch_size
    D = d + 1
    state = 2 * D if optimizer == "momentum" else D
    rows = FLOAT64 * size * (d + 2)
    gather = FLOAT32 * size * d
    # The scan's maps, or θ before each step when it steps one by one.
    middle = 3 * FLOAT64 * state * (state + 1) if d <= SCAN_MAX_FEATURES else FLOAT64 * D
    before = FLOAT64 * (D + 1)  # θ before the step and its −1
    residuals = FLOAT64 * size
    losses = before + max(FLOAT64 * (D + 1) + residuals, residuals + FLOAT32 * size + 2 * FLOAT32)
    return rows + max(gather, middle, losses)


def pass_steps(num_features: int, batch_size: int, optimizer: str = "sgd") -> int:
    """How many steps one pass takes: about PASS_BYTES, and at least one step, whatever it costs."""
    return max(1, PASS_BYTES // step_bytes(num_features, batch_size, optimizer))


def epoch_pass_bytes(num_features: int, batch_size: int, steps_per_epoch: int, optimizer: str = "sgd") -> int:
    """The largest pass of a run: passes go one at a time and never span two epochs."""
    steps = min(pass_steps(num_features, batch_size, optimizer), steps_per_epoch)
    return steps * step_bytes(num_features, batch_size, optimizer)
