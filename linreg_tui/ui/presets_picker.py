"""The preset picker: the form's first line, the book's exercises (linreg_tui/presets.py) by name.

Choosing one fills the whole form: the preset's values, every other field back to its default (the
device stays the one chosen: a preset is an experiment, not a machine). The screen logs the preset's
question and what to look for.
"""

from __future__ import annotations

from textual.message import Message
from textual.widgets import Select

from linreg_tui.presets import PRESETS, Preset, apply_preset


class PresetPicker(Select[str]):
    """A select of the presets' names; "(none)" until one is chosen."""

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

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()  # the form's own fields are not changed by this select itself
        if isinstance(event.value, str):
            preset = PRESETS[event.value]
            self.post_message(self.Chosen(preset, apply_preset(preset.name)))
