"""The first rows of a run's data as plain floats, for the scatter plot: the widgets never touch torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataPreview:
    """Plain floats for the scatter plot, so that widgets never touch torch."""

    columns: tuple[tuple[float, ...], ...]  # one tuple per feature
    labels: tuple[float, ...]
    total: int  # how many examples the run has
    #: A table's or a file's column names and its target's; None: x₁, x₂, … and y (synthetic, poly).
    names: tuple[tuple[str, ...], str] | None = None

    @property
    def downsampled(self) -> bool:
        return len(self.labels) < self.total
