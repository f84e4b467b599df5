"""The benchmark's tables: a line per case, µs per step, what it was timed over, and the speed-up against
its baseline with the rounds' lowest and highest ratio; and the machine they were measured on."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence

import torch

from linreg_tui.commands.bench.harness import Row
from linreg_tui.training.devices import describe_device

HEADER = ("device", "examples", "batch", "engine", "µs/step", "timed over", "compared with", "speed-up")


def format_table(rows: Sequence[Row]) -> list[str]:
    """A Markdown table (it reads as plain text too), one line per row."""
    cells = [
        (
            r.case.device,
            f"{r.case.examples:,}",
            str(r.case.batch_size),
            r.case.name,
            _us(r.timing.us_per_step) if r.timing else "failed",
            r.timing.describe() if r.timing else r.error,
            r.case.baseline or "",
            _speedup(r),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADER)]
    right = {1, 2, 4, 5, 7}

    def line(values: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return [line(HEADER), rule, *(line(c) for c in cells)]


def _us(us_per_step: float) -> str:
    """One decimal, two below 10 µs (the fast engine's steps: 1.1 and 1.4 would hide a 1.13 and 1.36)."""
    return f"{us_per_step:,.2f}" if us_per_step < 10 else f"{us_per_step:,.1f}"


def _speedup(row: Row) -> str:
    """The median ratio, and the rounds' lowest and highest when they differ: "1.05× (0.98–1.12)"."""
    if row.speedup is None:
        return ""
    low, high = row.speedup_range or (row.speedup, row.speedup)
    spread = f" ({low:,.2f}–{high:,.2f})" if f"{low:,.2f}" != f"{high:,.2f}" else ""
    return f"{row.speedup:,.2f}×{spread}"


def machine() -> str:
    """The machine in one line: CPU model and cores, torch, and each GPU."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    parts = [
        f"{model}, {os.cpu_count()} cores (torch uses {torch.get_num_threads()} threads)",
        f"torch {torch.__version__}",
    ]
    if torch.cuda.is_available():
        parts += [describe_device(torch.device("cuda", i)) for i in range(torch.cuda.device_count())]
    return "; ".join(parts)
