"""What compute this machine has: NVML when a GPU is present, psutil for the CPU. Never invented."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

import psutil


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
        utilization_percent=psutil.cpu_percent(interval=None),
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
        facts = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            facts.append(
                DeviceFacts(
                    id=f"cuda:{index}",
                    name=name.decode() if isinstance(name, bytes) else str(name),
                    memory_total_bytes=int(memory.total),
                    memory_used_bytes=int(memory.used),
                    utilization_percent=float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                    compute_capability=f"{major}.{minor}",
                    temperature_celsius=float(
                        pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)
                    ),
                )
            )
        return facts
    finally:
        pynvml.nvmlShutdown()


def machine_facts() -> MachineFacts:
    """CPU and GPUs of this machine."""
    gpus = gpu_facts()
    return MachineFacts(cuda_available=bool(gpus), devices=[cpu_facts(), *gpus])
