"""Scenes of the real app, shared by the snapshot tests and the screenshot script."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from linreg_tui.run.presets import PRESETS
from tests.apptools import run_to_end, set_field, wait_ready, wait_until

#: Fixed wording where the machine would show through (the torch build, the CUDA devices).
FIXED_CUDA_STATUS = "this torch is a CPU-only build"


async def ready(pilot: Pilot) -> None:
    """Started, preview drawn, and no blinking cursor to make two pictures differ."""
    await pilot.pause()  # the main screen is composed: its inputs exist
    for widget in pilot.app.query(Input):
        widget.cursor_blink = False
    await wait_ready(pilot)


async def idle(pilot: Pilot) -> None:
    await ready(pilot)
    await pilot.pause(0.3)


async def trained(pilot: Pilot) -> None:
    await ready(pilot)
    await run_to_end(pilot)
    await pilot.pause(0.3)


async def compared(pilot: Pilot) -> None:
    """scratch at lr 0.06 and concise at 0.03 take the same steps; a third run at a small lr lags."""
    await ready(pilot)
    await set_field(pilot, "lr", "0.005")
    await run_to_end(pilot)
    await set_field(pilot, "lr", "0.06")
    await run_to_end(pilot)
    await set_field(pilot, "lr", "0.03")
    pilot.app.query_one("#impl").value = "concise"
    await pilot.pause()
    await run_to_end(pilot)
    await pilot.press("ctrl+l")
    await pilot.pause(0.3)


async def refused(pilot: Pilot) -> None:
    await ready(pilot)
    await set_field(pilot, "lr", "1e999")
    await set_field(pilot, "true_w", "2; -3.4")
    await pilot.press("ctrl+r")
    await pilot.pause(0.3)


async def diverged(pilot: Pilot) -> None:
    await ready(pilot)
    await set_field(pilot, "lr", "3")
    await run_to_end(pilot)  # the chart switches itself to a log axis
    await pilot.pause(0.3)


async def landscape(pilot: Pilot) -> None:
    """Features of scales 1 and 4: a long valley (condition number 16, largest stable lr 0.115). lr 0.02
    creeps down and along it (the earlier run, dimmer); lr 0.11, just under the bound, overshoots the
    steep direction at its first step and zig-zags across the valley floor to the optimum."""
    await ready(pilot)
    await set_field(pilot, "scales", "1, 4")
    await set_field(pilot, "lr", "0.02")
    await run_to_end(pilot)
    await set_field(pilot, "lr", "0.11")
    await run_to_end(pilot)
    await pilot.pause(0.3)


async def stepping(pilot: Pilot) -> None:
    """Step mode: three ctrl+t from idle on the long valley; the log shows the third step, the book's
    update with its numbers, and the scatter marks its minibatch."""
    await ready(pilot)
    await set_field(pilot, "scales", "1, 4")
    await set_field(pilot, "lr", "0.11")
    status = pilot.app.main_screen.status_bar  # type: ignore[attr-defined]
    for step in (1, 2, 3):
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda step=step: status.text.startswith(f"paused · step {step}/"))
    await pilot.press("f4")  # the Log shares its place with the Landscape at 120 columns
    await pilot.pause(0.3)


async def narrow_loss(pilot: Pilot) -> None:
    await trained(pilot)
    await pilot.press("f3")
    await pilot.pause(0.3)


async def preset_sweep(pilot: Pilot) -> None:
    """The data-size preset from the picker (f8): a sweep over n = 5 … 10,000; f9 shows its table and the
    error against n on log-log axes."""
    await ready(pilot)
    await pilot.press("f8")
    await pilot.press(*["down"] * (list(PRESETS).index("data-size") + 1), "enter")
    await pilot.press("ctrl+r")
    await pilot.app.workers.wait_for_complete()
    await wait_until(pilot, lambda: not pilot.app.running)  # type: ignore[attr-defined]
    await pilot.press("f9")
    await pilot.pause(0.3)


async def lr_curve(pilot: Pilot) -> None:
    """100 learning rates from 1e-4 to 10 on a log grid, trained batched as one program; f9 shows the table
    and the final loss against lr beside 2/λmax."""
    await ready(pilot)
    await set_field(pilot, "lr", "1e-4..10:100 log")
    await pilot.press("ctrl+r")
    await pilot.app.workers.wait_for_complete()
    await wait_until(pilot, lambda: not pilot.app.running)  # type: ignore[attr-defined]
    await pilot.press("f9")
    await pilot.pause(0.5)


async def weight_decay(pilot: Pilot) -> None:
    """The weight-decay preset with λ = 0: the training loss falls towards 1e-5 while the validation loss
    stays near 1e2 (log y): 200 weights memorise 20 examples."""
    await ready(pilot)
    await pilot.press("f8")
    await pilot.press(*["down"] * (list(PRESETS).index("weight-decay") + 1), "enter")
    await set_field(pilot, "wd", "0")
    await run_to_end(pilot)
    if not pilot.app.main_screen.loss_panel.log_y:  # type: ignore[attr-defined]
        await pilot.press("ctrl+l")
    await pilot.press("f3")
    await pilot.pause(0.3)


async def choose_preset(pilot: Pilot, name: str) -> None:
    """A preset from the picker (f8), as a person picks it."""
    await pilot.press("f8")
    await pilot.press(*["down"] * (list(PRESETS).index(name) + 1), "enter")
    await pilot.pause()


async def airfoil_unstable(pilot: Pilot) -> None:
    """The book's gradient descent on the airfoil data (lr 1, just above its bound 0.953) for 50 epochs:
    the loss falls to epoch 6, then rises by more each epoch (log y), and the log says so at epoch 10."""
    await ready(pilot)
    await choose_preset(pilot, "airfoil-unstable")
    await run_to_end(pilot)
    if not pilot.app.main_screen.loss_panel.log_y:  # type: ignore[attr-defined]
        await pilot.press("ctrl+l")
    await pilot.press("f3")
    await pilot.pause(0.3)


async def longley_raw(pilot: Pilot) -> None:
    """Longley's table unstandardized: condition number 2.4e19, and 100 steps leave every coefficient
    where it started while the closed form has NIST's; the Results panel in the file's own units."""
    await ready(pilot)
    await choose_preset(pilot, "longley-raw")
    await run_to_end(pilot)
    await pilot.press("f5")
    await pilot.pause(0.3)
