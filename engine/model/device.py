"""Where the model runs: CUDA, then Apple's MPS, then the CPU; and in which number format.

bf16 is chosen only where it was measured to pay off: on a GPU it does; on a CPU a tiny model
spends its time in small matmuls and Python, where bf16 autocast only adds casts (see
``benchmarks/train.py``), so the CPU default stays fp32.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from engine import settings

DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "float32", "bfloat16")


from engine.threads import threads_for


def choose_device(name: str | None = "auto") -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU. A named device that is missing is an error."""
    name = (name or "auto").lower()
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    if name == "auto":
        return torch.device("cuda" if cuda else "mps" if mps else "cpu")
    if name == "cuda" and not cuda:
        raise ValueError("no CUDA GPU is visible to torch on this machine")
    if name == "mps" and not mps:
        raise ValueError("Apple's MPS backend is not available on this machine")
    return torch.device(name)


def choose_dtype(device: torch.device, name: str | None = "auto") -> torch.dtype:
    """``auto``: bf16 on a GPU that supports it, fp32 elsewhere."""
    name = (name or "auto").lower()
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r}; choose one of {', '.join(DTYPES)}")
    if name == "float32":
        return torch.float32
    if name == "bfloat16":
        return torch.bfloat16
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def set_threads(threads: int | None = None) -> int:
    """Give torch's CPU kernels ``threads`` threads; without a number, the thread policy's
    for a training run (engine.threads: the cores free when it starts, within
    ``LLM_TOUR_THREADS``)."""
    threads = threads or threads_for("headless-training")
    torch.set_num_threads(threads)
    return threads


@contextmanager
def one_thread() -> Iterator[None]:
    """Evaluate on one thread: a tiny model's small matmuls gain nothing from more, and on a
    busy machine extra threads only wait for each other (measured: 5x slower under load)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def autocast(device: torch.device, dtype: torch.dtype) -> Iterator[None]:
    """Mixed precision for the forward pass when ``dtype`` is not fp32; weights stay fp32."""
    if dtype == torch.float32:
        with contextlib.nullcontext():
            yield
    else:
        with torch.autocast(device_type=device.type, dtype=dtype):
            yield


def describe(device: torch.device, dtype: torch.dtype) -> str:
    """A short label for the screen and the CLI, e.g. ``CPU, 2 threads · float32``.

    The accelerator is named as the hardware panel names it (``engine.model.hardware``)."""
    from engine.model.hardware import accelerator_name

    where = accelerator_name(device.type, device.index or 0)
    if device.type == "cpu":
        threads = torch.get_num_threads()
        where = f"{where}, {threads} thread{'s' if threads > 1 else ''}"
    return f"{where} · {str(dtype).removeprefix('torch.')}"
