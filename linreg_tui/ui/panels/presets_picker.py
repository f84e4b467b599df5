"""The preset picker: the form's first line, the book's exercises (linreg_tui/run/presets.py) by name.

Choosing one fills the whole form: the preset's values, every other field back to its default (the
device stays the one chosen: a preset is an experiment, not a machine). The screen logs the preset's
question and what to look for.
"""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Select

from linreg_tui.run.presets import PRESETS, Preset, apply_preset


class PresetPicker(Select[str]):
    """A select of the presets' names; "(none)" until one is chosen."""

    # The list may be wider than the form's field (it overlays the panels): names are not wrapped.
    DEFAULT_CSS = """
    PresetPicker > SelectOverlay {
        width: 20;
    }
    """

    class Chosen(Message):
        """A preset was chosen: the form's texts to fill in, and the preset (its question to log)."""

        def __init__(self, preset: Preset, texts: dict[str, str]) -> None:
            super().__init__()
            self.preset = preset
            self.texts = texts

    def __init__(self) -> None:
        super().__init__(
            [(name, name) for name in PRESETS],
            prompt="(none)",
            allow_blank=True,
            compact=True,
            id="preset",
            tooltip="the book's exercises: choosing one fills the form and the log says what to look for",
        )

    def show_chosen(self, name: str) -> None:
        """Name the preset the form started from (`linreg-tui --preset NAME`) without filling the form
        again: flags given with the preset are already in it."""
        with self.prevent(Select.Changed):
            self.value = name

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()  # the form's own fields are not changed by this select itself
        if isinstance(event.value, str):
            preset = PRESETS[event.value]
            self.post_message(self.Chosen(preset, apply_preset(preset.name)))


EXPERIMENTS_HELP = """\
## Experiments from the book: presets, validation, sweeps

* **Presets** (the form's first line, or `f8`): the book's exercises. Choosing one fills the form (every
  other field back to its default; the device stays) and the log prints its question and what to look
  for. `linreg-tui --headless --preset NAME` runs one without the app.
* **Validation** (`val`): that many more examples, held out. The loss chart draws their loss after each
  epoch (`v`) beside the training loss: the book's `evaluate_loss`.
* **Sweeps**: comma-separated values in lr, batch, examples, wd, init std or the optimizer's constants
  (e.g. lr `0.01, 0.03, 0.1`), or a range (lr `1e-4..10:100 log`), make a sweep; the form's border says
  how many runs. `ctrl+r` trains them: points that differ only in lr, wd, init std, the constants and
  the seed train together as one tensor program (each takes its own run's steps), the others one after
  another. Up to 12 runs, each curve stays on the loss chart (a batched run's by its epochs' losses).
  `f9` shows the table (swept values, status, final loss, validation loss, max |w error|, |b error|,
  steps, time) filling as runs end and, for batched runs, at each epoch's end. `esc` stops the run in
  progress and the sweep with it. After a sweep over examples, `f9` also plots max |w error| against n
  on log-log axes with the fitted slope (about −0.5: the error falls like 1/√n); after a sweep over lr,
  the final loss against lr beside the bound 2/λmax.
"""


def experiments_help() -> str:
    """The help's section on presets and sweeps, with each preset's question and what to look for."""
    presets = [f"* **{p.name}**: {p.question}\n  *Look for:* {p.look_for}" for p in PRESETS.values()]
    return "\n".join([EXPERIMENTS_HELP, "### The presets", "", *presets, ""])
