"""Which devices exist (with torch), turning the device field into a torch.device, and how much memory a
device has free."""

from __future__ import annotations

import torch

from linreg_tui.run.config import ConfigError, FieldError
from linreg_tui.run.devices import DeviceChoice


def cuda_status() -> str:
    """Why CUDA can or cannot be used, in one line."""
    if torch.version.cuda is None:
        return f"this torch {torch.__version__} is a CPU-only build"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} (CUDA {torch.version.cuda}) found no usable GPU"
    return f"{torch.cuda.device_count()} CUDA device(s), CUDA {torch.version.cuda}"


def available_devices() -> list[DeviceChoice]:
    choices = [DeviceChoice("cpu", "cpu")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            props = torch.cuda.get_device_properties(index)
            gib = props.total_memory / 2**30
            choices.append(DeviceChoice(f"cuda:{index}", f"cuda:{index} · {props.name} ({gib:.0f} GiB)"))
    return choices


def resolve_device(text: str) -> torch.device:
    """'auto' picks the first GPU if there is one; 'cuda' means the current GPU. Raises ConfigError."""
    if text == "cpu":
        return torch.device("cpu")
    if text == "auto":
        return torch.device("cuda", torch.cuda.current_device()) if torch.cuda.is_available() else torch.device("cpu")
    if not torch.cuda.is_available():
        raise ConfigError([FieldError("device", text, f"is not available: {cuda_status()}; allowed: cpu, auto")])
    count = torch.cuda.device_count()
    index = torch.cuda.current_device() if text == "cuda" else int(text.split(":", 1)[1])
    if index >= count:
        allowed = ", ".join(["cpu", *(f"cuda:{i}" for i in range(count))])
        raise ConfigError([FieldError("device", text, f"does not exist ({count} CUDA device(s)); allowed: {allowed}")])
    return torch.device("cuda", index)


def describe_device(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def device_free_bytes(device: torch.device) -> int | None:
    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    return free
