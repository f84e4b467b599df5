"""`linreg-tui presets`: the book's experiments, a line each, or one preset's question and what to look for."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Sequence

from linreg_tui.commands.common import EXIT_FINISHED, refuse
from linreg_tui.run.config import FIELDS, ConfigError
from linreg_tui.run.presets import PRESETS, Preset, preset_named


def main(argv: Sequence[str], write: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(
        prog="linreg-tui presets",
        description="The book's experiments as presets: a line each, or one preset's question and what to look for.",
        epilog="Run one with `linreg-tui --headless --preset NAME` (a sweep: `linreg-tui sweep --preset NAME`), "
        "or pick it in the app; flags after the preset override its values.",
    )
    parser.add_argument("name", nargs="?", help="the preset to describe")
    args = parser.parse_args(list(argv))
    if args.name is None:
        width = max(len(name) for name in PRESETS)
        for preset in PRESETS.values():
            write(f"{preset.name.ljust(width)}  {preset.summary}")
        return EXIT_FINISHED
    try:
        preset = preset_named(args.name)
    except ConfigError as exc:
        return refuse(exc)
    for line in describe_preset(preset):
        write(line)
    return EXIT_FINISHED


def describe_preset(preset: Preset) -> list[str]:
    """The preset's paragraph: its question, what to look for, its values and the command that runs it."""

    def paragraph(label: str, text: str) -> list[str]:
        return textwrap.wrap(f"{label}: {text}", width=100, subsequent_indent="  ")

    values = " ".join(f"{FIELDS[name].flag} {_shown(text)}" for name, text in {**preset.values, **preset.sweep}.items())
    return [
        f"{preset.name}: {preset.summary}",
        *paragraph("question", preset.question),
        *paragraph("look for", preset.look_for),
        *paragraph("values", values),
        f"run: {preset.command}",
    ]


def _shown(text: str) -> str:
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > 12:  # the weight-decay preset's 200 weights
        return f"{','.join(parts[:3])},… ({len(parts)} values)"
    return ",".join(parts)
