"""The first rows of a run's data as plain floats, for the scatter plot: the widgets never touch torch."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataPreview:
    """Plain floats for the scatter plot, so that widgets never touch torch."""

    columns: tuple[tuple[float, ...], ...]  # one tuple per feature
    labels: tuple[float, ...]
    total: int  # how many examples the run has

    @property
    def downsampled(self) -> bool:
        return len(self.labels) < self.total
