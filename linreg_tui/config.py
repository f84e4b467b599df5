"""The run configuration: parsing and validation with a reason per field, and the memory estimate.

Pure Python on purpose: `linreg-tui --help`, bad flags and the form's on-the-spot checks must not wait
for torch to import. Text is parsed, never evaluated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

IMPLS: tuple[str, ...] = ("scratch", "concise", "fast")

#: What each field is called in messages, in the order of the form.
FIELD_LABELS: dict[str, str] = {
    "true_w": "true w",
    "true_b": "true b",
    "num_examples": "examples",
    "noise": "noise",
    "batch_size": "batch size",
    "lr": "learning rate",
    "epochs": "epochs",
    "impl": "implementation",
    "device": "device",
    "seed": "seed",
}

# Bounds that keep float32 arithmetic meaningful; past them the book's experiment stops being one.
MAX_ABS_PARAM = 1e6
#: The closed-form optimum solves a (d+1)² system: 0.4 s at d = 1,000 on a laptop, minutes at 10,000.
MAX_FEATURES = 1_000
MAX_EXAMPLES = 1_000_000_000
MAX_EPOCHS = 100_000
MAX_LR = 1e6
MAX_SEED = 2**63 - 1
_DEVICE_RE = re.compile(r"^(cpu|auto|cuda(:\d+)?)$")


@dataclass(frozen=True)
class FieldError:
    """One refused field: which one, the text that was given, and what is allowed."""

    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 40 else self.value[:37] + "..."
        return f"{FIELD_LABELS.get(self.field, self.field)}: {shown!r} {self.reason}"


class ConfigError(ValueError):
    """Raised with every field error found, so the form can mark all of them at once."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class RunConfig:
    """One training run. The defaults are the book's (d2l 3.2 / 3.3)."""

    true_w: tuple[float, ...] = (2.0, -3.4)
    true_b: float = 4.2
    num_examples: int = 1000
    noise: float = 0.01
    batch_size: int = 10
    lr: float = 0.03
    epochs: int = 3
    impl: str = "scratch"
    device: str = "cpu"
    seed: int = 0

    @property
    def num_features(self) -> int:
        return len(self.true_w)

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.num_examples / self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["true_w"] = list(self.true_w)
        return data

    def as_texts(self) -> dict[str, str]:
        """The configuration as the form shows it (and as `parse_config` reads it back)."""
        return {
            "true_w": ", ".join(format_number(v) for v in self.true_w),
            "true_b": format_number(self.true_b),
            "num_examples": str(self.num_examples),
            "noise": format_number(self.noise),
            "batch_size": str(self.batch_size),
            "lr": format_number(self.lr),
            "epochs": str(self.epochs),
            "impl": self.impl,
            "device": self.device,
            "seed": str(self.seed),
        }


def format_number(value: float) -> str:
    """Shortest text that reads back to the same float: 2.0 -> '2', -3.4 -> '-3.4'."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def parse_float(name: str, text: str, *, low: float, high: float, low_open: bool = False) -> float:
    stripped = text.strip()
    if not stripped:
        raise _error(name, text, f"is empty; enter a number{_range(low, high, low_open)}")
    try:
        value = float(stripped)
    except ValueError:
        raise _error(name, text, f"is not a number{_range(low, high, low_open)}") from None
    if math.isnan(value):
        raise _error(name, text, f"is not a number (nan){_range(low, high, low_open)}")
    if math.isinf(value):
        raise _error(name, text, f"is infinite or overflows; enter a finite number{_range(low, high, low_open)}")
    if value < low or (low_open and value == low) or value > high:
        raise _error(name, text, f"is out of range{_range(low, high, low_open)}")
    return value


def parse_int(name: str, text: str, *, low: int, high: int) -> int:
    """Whole numbers, also written as 1e6 or 1_000_000 (large n are easier to type that way)."""
    stripped = text.strip()
    allowed = f"a whole number from {low:,} to {high:,}"
    if not stripped:
        raise _error(name, text, f"is empty; enter {allowed}")
    try:
        value = int(stripped)
    except ValueError:
        try:
            as_float = float(stripped)
        except ValueError:
            raise _error(name, text, f"is not a whole number; enter {allowed}") from None
        if not math.isfinite(as_float):
            raise _error(name, text, f"is not finite; enter {allowed}") from None
        if as_float != int(as_float):
            raise _error(name, text, f"is a fraction; enter {allowed}") from None
        value = int(as_float)
    if not low <= value <= high:
        raise _error(name, text, f"is out of range; enter {allowed}")
    return value


def parse_weights(text: str) -> tuple[float, ...]:
    """'2, -3.4' (optionally in brackets, as the book writes torch.tensor([2, -3.4]))."""
    stripped = text.strip()
    if stripped.startswith("[") and stripped.endswith("]"):
        stripped = stripped[1:-1]
    how = "enter numbers separated by commas, e.g. 2, -3.4"
    if not stripped.strip():
        raise _error("true_w", text, f"is empty; {how}")
    parts = stripped.split(",")
    if len(parts) > MAX_FEATURES:
        raise _error("true_w", text, f"has {len(parts)} numbers; at most {MAX_FEATURES:,} features are allowed")
    values = []
    for position, part in enumerate(parts, start=1):
        if not part.strip():
            raise _error("true_w", text, f"has an empty entry at position {position}; {how}")
        try:
            value = float(part)
        except ValueError:
            raise _error("true_w", text, f"entry {position} ({part.strip()!r}) is not a number; {how}") from None
        if not math.isfinite(value):
            raise _error("true_w", text, f"entry {position} is not finite; enter finite numbers")
        if abs(value) > MAX_ABS_PARAM:
            raise _error("true_w", text, f"entry {position} is out of range; allowed -1e6 to 1e6")
        values.append(value)
    return tuple(values)


def parse_device(text: str) -> str:
    device = text.strip().lower()
    if not _DEVICE_RE.match(device):
        raise _error("device", text, "is not a device; allowed: cpu, cuda, cuda:N (N = 0, 1, ...), auto")
    return device


def parse_impl(text: str) -> str:
    impl = text.strip().lower()
    if impl not in IMPLS:
        raise _error("impl", text, f"is not an implementation; allowed: {', '.join(IMPLS)}")
    return impl


FIELD_PARSERS: dict[str, Callable[[str], object]] = {
    "true_w": parse_weights,
    "true_b": lambda t: parse_float("true_b", t, low=-MAX_ABS_PARAM, high=MAX_ABS_PARAM),
    "num_examples": lambda t: parse_int("num_examples", t, low=1, high=MAX_EXAMPLES),
    "noise": lambda t: parse_float("noise", t, low=0.0, high=MAX_ABS_PARAM),
    "batch_size": lambda t: parse_int("batch_size", t, low=1, high=MAX_EXAMPLES),
    "lr": lambda t: parse_float("lr", t, low=0.0, high=MAX_LR, low_open=True),
    "epochs": lambda t: parse_int("epochs", t, low=1, high=MAX_EPOCHS),
    "impl": parse_impl,
    "device": parse_device,
    "seed": lambda t: parse_int("seed", t, low=0, high=MAX_SEED),
}


def parse_field(name: str, text: str) -> object:
    """One field on its own (the form checks each as it is typed). Raises ConfigError."""
    return FIELD_PARSERS[name](text)


def parse_config(texts: Mapping[str, str], base: RunConfig | None = None) -> RunConfig:
    """Build a RunConfig from field texts (missing fields keep `base`'s values).

    Raises ConfigError listing every bad field, each with the value given and what is allowed.
    """
    base = base or RunConfig()
    values: dict[str, object] = {}
    errors: list[FieldError] = []
    for name in FIELD_PARSERS:
        if name not in texts:
            continue
        try:
            values[name] = parse_field(name, texts[name])
        except ConfigError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ConfigError(errors)
    config = RunConfig(**{**base.as_dict(), **values, "true_w": tuple(values.get("true_w", base.true_w))})
    validate(config, raw=texts)
    return config


def validate(config: RunConfig, raw: Mapping[str, str] | None = None) -> None:
    """Checks that need several fields at once; raises ConfigError."""
    raw = raw or {}
    if config.batch_size > config.num_examples:
        raise ConfigError(
            [
                FieldError(
                    "batch_size",
                    raw.get("batch_size", str(config.batch_size)),
                    f"is larger than the number of examples; allowed 1 to {config.num_examples:,}",
                )
            ]
        )


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs at its peak, on the host (data is generated there) and on the device."""

    host_bytes: int
    device_bytes: int

    def describe(self) -> str:
        return f"needs about {human_bytes(self.host_bytes)} of RAM" + (
            f" and {human_bytes(self.device_bytes)} on the device" if self.device_bytes else ""
        )


#: The fast engine (engines/fast.py) takes a chunk of steps in passes that hold about this many bytes.
FAST_PASS_BYTES = 64 << 20
#: Up to this many features the fast engine scans (one (d+1)×(d+2) map per step); beyond, it steps one by one.
FAST_SCAN_MAX_FEATURES = 32


def fast_step_bytes(num_features: int, batch_size: int) -> int:
    """What one step of a fast-engine pass holds at the pass's peak: its rows as [X, 1, y] in float64,
    plus whichever is larger of their float32 gather and a contiguous copy of Z for a batched product,
    plus residuals and their squares; and, when it scans, its map [A | c] about four times over (the
    maps, the scan's pair products and prefixes) and its parameter vectors."""
    d = num_features
    rows = batch_size * (8 * (d + 2) + 8 * (d + 1) + 16)
    if d > FAST_SCAN_MAX_FEATURES:
        return rows + 8 * (d + 2)
    return rows + 4 * 8 * (d + 1) * (d + 2) + 3 * 8 * (d + 2)


def fast_pass_steps(num_features: int, batch_size: int) -> int:
    """How many steps one pass of the fast engine takes (at least one, whatever it costs)."""
    return max(1, FAST_PASS_BYTES // fast_step_bytes(num_features, batch_size))


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
    full-data loss temporaries, and the fast engine's chunked scan buffers.
    """
    n, d = config.num_examples, config.num_features
    data = 4 * n * (d + 1)
    order = 8 * n + optimum_bytes(d)
    temporaries = 4 * n * 3
    scan = 0
    if config.impl == "fast":  # one pass at a time; a pass never spans two epochs
        steps = min(fast_pass_steps(d, config.batch_size), config.steps_per_epoch)
        scan = steps * fast_step_bytes(d, config.batch_size)
    host = data + 4 * n + order
    device = data + temporaries + scan
    if on_cuda:
        return MemoryEstimate(host_bytes=host + data, device_bytes=device)
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


def _range(low: float, high: float, low_open: bool) -> str:
    lower = f"greater than {_short(low)}" if low_open else f"from {_short(low)}"
    return f" (allowed: {lower} to {_short(high)})"


def _short(value: float) -> str:
    """1e6 rather than 1000000 or 1e+06."""
    return f"{value:.0e}".replace("e+0", "e").replace("e+", "e") if abs(value) >= 1e5 else format_number(value)


def _error(name: str, text: str, reason: str) -> ConfigError:
    return ConfigError([FieldError(name, text, reason)])
