"""How many CPU threads torch gets, for every part of the tour: one policy, in one place.

A tiny model spends its time in small matmuls and Python, so extra threads buy little, and
threads that outnumber the free cores cost a lot: a thread that waits for a descheduled
sibling at every matmul stalls the whole step. Measured by ``benchmarks/threads.py`` (the
same sampling and training with one and with two threads, as found and beside two busy
processes, best of 3 rounds) on two cores: sampling on two threads ran 1.13x as fast as on
one when quiet, but beside the busy processes one thread kept 0.78x of its quiet speed and
two threads 0.48x; training the default preset on two threads ran 1.53x as fast as on one
when quiet, but beside the busy processes one thread kept 0.64x of its quiet speed and two
threads 0.32x (slower than one). So the policy is:

``headless-training``
    ``llm-tour prepare`` / ``llm-tour train``: the cores it finds free when a run starts
    (every usable core on a quiet machine; one fewer for each core other processes keep
    busy, at least one).
``tour-training-child``
    the training child of the tour (``engine.training.child``): every core but one, which
    stays with the screen, so keys answer while it trains (on two cores: one thread).
``inference``
    sampling, chatting and quizzing the tiny model: one thread (nearly the fastest when
    quiet, and far faster than two under load).
``visitor``
    each SSH or browser visitor's process: one, so a room of visitors shares the cores.

Whoever runs the tour may cap every role with ``LLM_TOUR_THREADS`` (a shared server does).
This module imports nothing heavy: the app and the CLI ask it before torch is loaded.
"""

from __future__ import annotations

import os

from engine import settings

THREADS_ENV = settings.THREADS  # a cap set by whoever runs the tour (a shared server)
ROLES = ("headless-training", "tour-training-child", "inference", "visitor")


usable_cores = settings.usable_cores
thread_cap = settings.threads_cap


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) clock ticks of every CPU since boot, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and waiting for I/O
    return sum(fields) - idle, sum(fields)


def busy_cores(seconds: float = 0.2) -> float:
    """How many cores other processes keep busy now, measured over ``seconds`` while this one
    waits (0 where the system does not say: then every usable core counts as free)."""
    import time

    first = _cpu_times()
    if first is None:
        return 0.0
    time.sleep(seconds)
    second = _cpu_times()
    if second is None or second[1] <= first[1]:
        return 0.0
    share = (second[0] - first[0]) / (second[1] - first[1])
    return share * (os.cpu_count() or 1)


def threads_for(role: str) -> int:
    """Torch threads for ``role`` (one of :data:`ROLES`), within the ``LLM_TOUR_THREADS`` cap."""
    cores = usable_cores()
    if role == "headless-training":
        threads = max(1, cores - round(busy_cores()))
    elif role == "tour-training-child":
        threads = max(1, cores - 1)
    elif role in ("inference", "visitor"):
        threads = 1
    else:
        raise ValueError(f"unknown thread role {role!r}; choose one of {', '.join(ROLES)}")
    cap = thread_cap()
    return min(threads, cap) if cap else threads


def use_threads(role: str) -> int:
    """Give torch the threads of ``role`` (this imports torch) and return how many."""
    import torch

    threads = threads_for(role)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def before_torch(role: str) -> None:
    """For a process that has not imported torch yet (the tour's screen process): have torch
    start with the threads of ``role``, without importing it now. torch reads OpenMP's
    variable when it starts; one the user set is left alone."""
    import sys

    if "torch" in sys.modules:
        use_threads(role)
    else:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads_for(role)))
