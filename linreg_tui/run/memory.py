"""How much memory a run needs, estimated before anything is allocated, and the refusal of one that
cannot fit. Pure Python (the fast engine's own model is run/fast_memory.py): the form checks it as
the fields change, and `train` before it makes the data."""

from __future__ import annotations

import os
from dataclasses import dataclass

from linreg_tui.run import fast_memory
from linreg_tui.run.config import ConfigError, FieldError, RunConfig


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs at its peak, on the host (data is generated there) and on the device."""

    host_bytes: int
    device_bytes: int

    def describe(self) -> str:
        return f"needs about {human_bytes(self.host_bytes)} of RAM" + (
            f" and {human_bytes(self.device_bytes)} on the device" if self.device_bytes else ""
        )


#: The closed-form optimum reads the data in chunks of about this many float64 values.
OPTIMUM_CHUNK_VALUES = 1 << 22


def optimum_rows_per_chunk(num_features: int) -> int:
    return max(1, OPTIMUM_CHUNK_VALUES // (num_features + 1))


def optimum_bytes(num_features: int) -> int:
    """The normal equations (a few (d+1)² float64 matrices, for lstsq's work) and one chunk of rows."""
    return 8 * 4 * (num_features + 1) ** 2 + 8 * 2 * OPTIMUM_CHUNK_VALUES


def estimate_memory(config: RunConfig, on_cuda: bool) -> MemoryEstimate:
    """A deliberately generous estimate of the run's peak memory, made before anything is allocated.

    Host: X (n×d) and y plus the noise draw, in float32, the shuffled order (int64), and the
    closed-form optimum's float64 normal equations and row chunk. Device: the same data again, the
    full-data loss temporaries, the fast engine's largest pass (run/fast_memory.py), and on
    CUDA the epoch's order, which the engines move there.
    """
    n, d = config.num_examples, config.num_features
    data = 4 * (n + config.val) * (d + 1)  # the validation set lives beside the training data
    order = 8 * n + optimum_bytes(d)
    temporaries = 4 * n * 3
    scan = 0
    if config.impl == "fast":
        scan = fast_memory.epoch_pass_bytes(d, config.batch_size, config.steps_per_epoch, config.optimizer)
    # Scaled or correlated features are made as a product of the book's X: one more copy of X for a while.
    mixing = 4 * max(n, config.val) * d if config.corr != 0 or any(scale != 1 for scale in config.scales) else 0
    host = data + 4 * n + order + mixing
    device = data + temporaries + scan
    if on_cuda:
        return MemoryEstimate(host_bytes=host + data, device_bytes=device + 8 * n)
    return MemoryEstimate(host_bytes=host + device, device_bytes=0)


def check_memory(config: RunConfig, estimate: MemoryEstimate, host_free: int, device_free: int | None) -> None:
    """Refuse, with the estimate, a run that cannot fit (we keep 20% headroom)."""
    too_big = estimate.host_bytes > 0.8 * host_free or (
        device_free is not None and estimate.device_bytes > 0.8 * device_free
    )
    if too_big:
        free = f"{human_bytes(host_free)} RAM free" + (
            f", {human_bytes(device_free)} free on the device" if device_free is not None else ""
        )
        raise ConfigError(
            [
                FieldError(
                    "num_examples",
                    str(config.num_examples),
                    f"with {config.num_features} features {estimate.describe()}, more than fits ({free}); "
                    "use fewer examples or features",
                )
            ]
        )


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(count) < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


def host_free_bytes() -> int:
    """MemAvailable where Linux tells it (it counts reclaimable cache), else free physical pages."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 40  # unknown: do not refuse on a guess
