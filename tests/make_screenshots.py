"""Writes the README's screenshots from the real app: `python -m tests.make_screenshots`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from linreg_tui.ui.app import LinregApp
from tests import scenes

OUT = Path(__file__).resolve().parent.parent / "screenshots"
SHOTS = {
    "idle": (scenes.idle, (120, 36)),
    "trained": (scenes.trained, (120, 36)),
    "comparing-runs": (scenes.compared, (120, 36)),
    "error": (scenes.refused, (120, 36)),
    "diverged": (scenes.diverged, (120, 36)),
    "landscape": (scenes.landscape, (120, 36)),
    "step-mode": (scenes.stepping, (120, 36)),
    "narrow-80x24": (scenes.narrow_loss, (80, 24)),
    "sweep": (scenes.preset_sweep, (120, 36)),
    "lr-curve": (scenes.lr_curve, (120, 36)),
    "weight-decay": (scenes.weight_decay, (120, 36)),
    "airfoil-unstable": (scenes.airfoil_unstable, (120, 36)),
    "longley-raw": (scenes.longley_raw, (120, 36)),
}


async def shoot(name: str) -> None:
    scene, size = SHOTS[name]
    app = LinregApp()
    async with app.run_test(size=size) as pilot:
        await scene(pilot)
        app.save_screenshot(f"{name}.svg", path=str(OUT))


def main(names: list[str] | None = None) -> None:
    """Every screenshot, or those named: `python -m tests.make_screenshots airfoil-unstable`."""
    OUT.mkdir(exist_ok=True)
    for name in names or SHOTS:
        asyncio.run(shoot(name))
        print(OUT / f"{name}.svg")


if __name__ == "__main__":
    main(sys.argv[1:])
