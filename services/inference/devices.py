"""What compute this machine has: NVML when a GPU is present, psutil for the CPU. Never invented."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psutil

from services.common.metrics import cpu_percent

T = TypeVar("T")


@dataclass(frozen=True)
class DeviceFacts:
    """One device as measured."""

    id: str
    name: str
    memory_total_bytes: int
    memory_used_bytes: int
    utilization_percent: float | None = None
    compute_capability: str = ""
    temperature_celsius: float | None = None
    #: NVIDIA driver and the CUDA version it supports (None on the CPU or when NVML cannot say).
    driver_version: str | None = None
    cuda_version: str | None = None
    #: Power draw and enforced limit in watts (None when not measurable).
    power_usage_watts: float | None = None
    power_limit_watts: float | None = None


@dataclass(frozen=True)
class MachineFacts:
    """Every device, CPU first."""

    cuda_available: bool
    devices: list[DeviceFacts] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One human line."""
        gpus = [d for d in self.devices if d.id.startswith("cuda")]
        if not gpus:
            return "no GPU, running on CPU"
        return f"{len(gpus)} GPU(s): " + ", ".join(d.name for d in gpus)


def cpu_facts() -> DeviceFacts:
    """The CPU and system memory."""
    memory = psutil.virtual_memory()
    name = platform.processor() or platform.machine()
    return DeviceFacts(
        id="cpu",
        name=f"{name} ({os.cpu_count()} cores)",
        memory_total_bytes=memory.total,
        memory_used_bytes=memory.total - memory.available,
        utilization_percent=cpu_percent(),
    )


def gpu_facts() -> list[DeviceFacts]:
    """NVIDIA GPUs through NVML; empty when there is no driver or no GPU."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except Exception:  # no driver, no GPU: the common case on CPU machines
        return []
    try:
        driver = _measured(lambda: _text(pynvml.nvmlSystemGetDriverVersion()))
        cuda = _measured(lambda: cuda_version_text(pynvml.nvmlSystemGetCudaDriverVersion()))
        facts = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            facts.append(
                DeviceFacts(
                    id=f"cuda:{index}",
                    name=_text(name),
                    memory_total_bytes=int(memory.total),
                    memory_used_bytes=int(memory.used),
                    utilization_percent=float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                    compute_capability=f"{major}.{minor}",
                    temperature_celsius=float(
                        pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
                    ),
                    driver_version=driver,
                    cuda_version=cuda,
                    # NVML reports milliwatts.
                    power_usage_watts=_watts(pynvml.nvmlDeviceGetPowerUsage, handle),
                    power_limit_watts=_watts(pynvml.nvmlDeviceGetEnforcedPowerLimit, handle),
                )
            )
        return facts
    finally:
        pynvml.nvmlShutdown()


def cuda_version_text(version: int) -> str:
    """NVML's CUDA driver version integer (12020) as "12.2"."""
    return f"{version // 1000}.{version % 1000 // 10}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _measured(read: Callable[[], T]) -> T | None:
    """A value NVML may not support on a device (power on some boards): None rather than a guess."""
    try:
        return read()
    except Exception:  # pynvml.NVMLError_NotSupported and friends
        return None


def _watts(read: Callable[[Any], float], handle: Any) -> float | None:
    """A power reading in watts (NVML reports milliwatts), or None where the board has none."""
    milliwatts = _measured(lambda: read(handle))
    return None if milliwatts is None else milliwatts / 1000


def machine_facts() -> MachineFacts:
    """CPU and GPUs of this machine."""
    gpus = gpu_facts()
    return MachineFacts(cuda_available=bool(gpus), devices=[cpu_facts(), *gpus])
