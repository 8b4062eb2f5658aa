"""What the tour runs on: CPU, memory, and the accelerator torch can see."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass


@dataclass(frozen=True)
class Hardware:
    cpu: str
    cores: int
    memory_gb: float | None
    accelerator: str  # "cuda", "mps" or "cpu"
    gpu_name: str | None
    torch_version: str

    def summary(self) -> str:
        gpu = self.gpu_name or "no GPU (training runs on the CPU)"
        memory = f", {self.memory_gb:.0f} GB memory" if self.memory_gb else ""
        return f"{self.cores} CPU cores{memory}; {gpu}"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
        return pages * size / 1e9
    except (ValueError, OSError, AttributeError):
        return None


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe() -> Hardware:
    """Look at the machine. Imports torch, so call it off the UI thread."""
    import torch

    accelerator, gpu = "cpu", None
    if torch.cuda.is_available():
        accelerator, gpu = "cuda", torch.cuda.get_device_name(0)
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        accelerator, gpu = "mps", "Apple GPU (Metal)"
    return Hardware(_cpu_name(), _usable_cores(), _memory_gb(), accelerator, gpu,
                    torch.__version__)
