"""What the tour runs on: CPU, memory, and the accelerator torch can see.

The Welcome chapter's hardware panel, the report card and the training run's device line
all name the accelerator with :func:`accelerator_name`, so a machine reads the same
everywhere.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass

from engine import settings


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


def accelerator_name(kind: str, index: int = 0) -> str:
    """The accelerator in words: the GPU's own name for CUDA, "Apple GPU (MPS)", or "CPU"."""
    if kind == "cuda":
        import torch

        return torch.cuda.get_device_name(index)
    if kind == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


def describe() -> Hardware:
    """Look at the machine. Imports torch, so call it off the UI thread."""
    import torch

    accelerator, gpu = "cpu", None
    if torch.cuda.is_available():
        accelerator = "cuda"
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        accelerator = "mps"
    if accelerator != "cpu":
        gpu = accelerator_name(accelerator)
    return Hardware(_cpu_name(), settings.usable_cores(), _memory_gb(), accelerator, gpu,
                    torch.__version__)
