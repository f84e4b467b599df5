"""A device the form offers, as plain values: the app shows its form before torch, which finds the
devices (training/devices.py), has loaded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeviceChoice:
    value: str  # what the device field takes: "cpu", "cuda:0", ...
    label: str  # what a person reads: "cuda:0 · NVIDIA H200 (139 GiB)"
