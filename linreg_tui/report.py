"""How a run is written down: the book's printed lines, one JSON object, or JSON-lines metrics."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO

from linreg_tui.config import ConfigError, FieldError
from linreg_tui.results import RunResult
from linreg_tui.training import EpochEnded, RunEnded, RunStarted, TrainingEvent


def format_vector(values: Sequence[float], digits: int = 6) -> str:
    return "[" + ", ".join(f"{v:.{digits}g}" for v in values) + "]"


def epoch_line(event: EpochEnded) -> str:
    """Exactly the book's line: print(f'epoch {epoch + 1}, loss {float(train_l.mean()):f}')."""
    return f"epoch {event.epoch}, loss {event.loss:f}"


def start_lines(event: RunStarted) -> list[str]:
    config = event.config
    return [
        f"linreg-tui · {config.impl} · {event.device} · seed {config.seed} · "
        f"{config.num_examples:,} examples × {config.num_features} features",
        f"loss: {event.loss_formula}",
        f"features: {format_vector(event.first_features, 4)}  label: {event.first_label:.4f}  (first example)",
    ]


def end_lines(result: RunResult) -> list[str]:
    lines = [
        f"error in estimating w: {format_vector(result.w_error)}",
        f"error in estimating b: {result.b_error:.6g}",
        f"closed-form optimum: w = {format_vector(result.optimum.w)}, b = {result.optimum.b:.6g} "
        f"(largest gap to learned: {result.gap_to_optimum:.2g})",
    ]
    if result.message:
        lines.append(result.message)
    lines.append(
        f"{result.status}: {result.steps:,} steps in {result.train_seconds:.3f} s "
        f"({result.steps_per_second:,.0f} steps/s) on {result.device}"
    )
    return lines


def event_lines(event: TrainingEvent) -> list[str]:
    """The book-style text for one event (step losses print nothing)."""
    if isinstance(event, RunStarted):
        return start_lines(event)
    if isinstance(event, EpochEnded):
        return [epoch_line(event)]
    if isinstance(event, RunEnded):
        return end_lines(event.result)
    return []


class MetricsWriter:
    """Appends a run as JSON lines: a header with the configuration, one record per epoch, the result.

    Opened (and so checked) before training; flushed per record, so an interrupted run leaves a valid
    file of whole lines.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self.file: IO[str] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives as long as the run
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigError(
                [FieldError("metrics", path, f"cannot be written ({reason}); give a writable file path")]
            ) from None

    def __call__(self, event: TrainingEvent) -> None:
        record: dict[str, object] | None = None
        if isinstance(event, RunStarted):
            record = {
                "type": "run",
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
                "device": event.device,
                "config": event.config.as_dict(),
            }
        elif isinstance(event, EpochEnded):
            record = {
                "type": "epoch",
                "epoch": event.epoch,
                "loss": event.loss,
                "steps": event.steps,
                "w": list(event.w),
                "b": event.b,
            }
        elif isinstance(event, RunEnded):
            record = {"type": "result", **result_record(event.result)}
        if record is not None:
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()

    def close(self) -> None:
        self.file.close()


def result_record(result: RunResult) -> dict[str, object]:
    """The result as JSON-safe data (non-finite floats become null, which JSON can carry)."""
    return _json_safe(result.as_dict())


def result_json(result: RunResult) -> str:
    return json.dumps(result_record(result), indent=2)


def _json_safe(value: object) -> object:
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value
