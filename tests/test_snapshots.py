"""Snapshot tests of the idle, finished and error states (pytest-textual-snapshot).

Deterministic: the run is seeded, the training loop gets a fake clock (so times and chunking repeat),
and the lines naming the machine's devices and CUDA are fixed. Update after a deliberate change with
`python -m pytest tests/test_snapshots.py --snapshot-update`, then look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from linreg_tui.run.devices import DeviceChoice
from linreg_tui.ui.app import LinregApp
from tests import scenes
from tests.apptools import fake_clock


@pytest.fixture(autouse=True)
def repeatable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("linreg_tui.training.loop.perf_counter", fake_clock())
    monkeypatch.setattr("linreg_tui.training.devices.cuda_status", lambda: scenes.FIXED_CUDA_STATUS)
    monkeypatch.setattr("linreg_tui.training.devices.available_devices", lambda: [DeviceChoice("cpu", "cpu")])


Scene = Callable[[Pilot], Awaitable[None]]


@pytest.mark.parametrize(
    ("scene", "size"),
    [
        (scenes.idle, (120, 36)),
        (scenes.trained, (120, 36)),
        (scenes.refused, (120, 36)),
        (scenes.diverged, (120, 36)),
        (scenes.landscape, (120, 36)),
        (scenes.narrow_loss, (80, 24)),
    ],
    ids=["idle", "finished", "refused", "diverged", "landscape", "narrow-80x24"],
)
def test_snapshot(snap_compare: Callable[..., bool], scene: Scene, size: tuple[int, int]) -> None:
    assert snap_compare(LinregApp(), terminal_size=size, run_before=scene)
