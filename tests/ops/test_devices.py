"""Device facts: NVML's driver and CUDA versions and power readings reach 004 /api/v1/system/gpu's
fields (a stand-in NVML module, since the build machines have no GPU); on this CPU machine they are
absent, never invented."""

from __future__ import annotations

import sys
import types

import pytest

from gateway.dashboard.views import gpu
from services.inference.devices import machine_facts
from services.inference.servicer import device_to_proto


class NotSupported(Exception):
    pass


def fake_nvml(power: bool) -> types.ModuleType:
    """The pynvml calls devices.py makes, answering like a one-GPU machine."""

    def power_usage(handle: object) -> int:
        if not power:
            raise NotSupported("power readings not supported on this board")
        return 380_250  # milliwatts

    module = types.ModuleType("pynvml")
    module.NVML_TEMPERATURE_GPU = 0  # type: ignore[attr-defined]
    for name, value in {
        "nvmlInit": lambda: None,
        "nvmlShutdown": lambda: None,
        "nvmlDeviceGetCount": lambda: 1,
        "nvmlDeviceGetHandleByIndex": lambda i: f"h{i}",
        "nvmlDeviceGetMemoryInfo": lambda h: types.SimpleNamespace(total=24 << 30, used=4 << 30),
        "nvmlDeviceGetCudaComputeCapability": lambda h: (8, 9),
        "nvmlDeviceGetName": lambda h: b"NVIDIA RTX 4090",
        "nvmlDeviceGetUtilizationRates": lambda h: types.SimpleNamespace(gpu=89),
        "nvmlDeviceGetTemperature": lambda h, sensor: 72,
        "nvmlSystemGetDriverVersion": lambda: "535.104.12",
        "nvmlSystemGetCudaDriverVersion": lambda: 12020,
        "nvmlDeviceGetPowerUsage": power_usage,
        "nvmlDeviceGetEnforcedPowerLimit": lambda h: 450_000,
    }.items():
        setattr(module, name, value)
    return module


def test_nvml_versions_and_power_reach_the_gpu_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(power=True))
    [_, card] = machine_facts().devices
    view = gpu(device_to_proto(card))
    assert (view["driver_version"], view["cuda_version"]) == ("535.104.12", "12.2")
    assert (view["power_usage"], view["power_limit"]) == (380.25, 450.0)  # watts


def test_unsupported_power_is_null_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_nvml(power=False))
    [_, card] = machine_facts().devices
    view = gpu(device_to_proto(card))
    assert view["power_usage"] is None and view["power_limit"] == 450.0


def test_the_cpu_has_no_driver_cuda_or_power() -> None:
    facts = machine_facts()
    cpu = facts.devices[0]
    assert cpu.id == "cpu" and cpu.driver_version is None and cpu.power_usage_watts is None
    message = device_to_proto(cpu)
    assert not message.HasField("driver_version") and not message.HasField("power_usage_watts")
