"""Headless commands, one module per stage. Each imports its engine stage lazily."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from engine.events import StageState
from engine.workspace import Workspace

# Subcommands receive the workspace chosen by ``--workdir`` / LLM_TOUR_HOME.
pass_workspace = click.make_pass_decorator(Workspace, ensure=True)


@contextmanager
def stop_on_ctrl_c() -> Iterator[threading.Event]:
    """The first Ctrl+C sets the event (a training run stops after its step and keeps a
    checkpoint); a second one interrupts at once."""
    stop = threading.Event()

    def on_interrupt(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def show_state(progress: Any, task: Any, state: StageState, **fields: Any) -> None:
    """Move a Rich progress bar to where the stage's events say it is."""
    where = state.progress
    if where is not None and where.total:
        progress.update(task, completed=where.done, total=where.total, **fields)
    else:
        progress.update(task, **fields)
