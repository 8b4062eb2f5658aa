"""Training in a child process, its events streamed back through a queue.

torch keeps every core busy while it trains, and the Python half of each step holds the
interpreter lock; a screen that trains in a thread of its own process answers keys late. A
child process (started with ``spawn``, so no threads or locks are inherited) has its own
interpreter, and the parent only waits on a queue. Pause and stop are flags the child checks
between steps; a stopped run writes its checkpoint before it ends, so nothing is lost.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

POLL = 0.05  # seconds between looks at the pause flag


@dataclass(frozen=True)
class TrainFailed:
    """The run ended with an error; ``message`` says what went wrong, for the viewer."""

    message: str
    kind: str  # the exception's class name


@dataclass(frozen=True)
class ProcessEnded:
    """The child has sent its last event."""


class TrainingProcess:
    """``engine.training.loop.pretrain`` for one workspace, run in a child process."""

    def __init__(self, workspace_root: str | os.PathLike[str], config: Any, *,
                 resume: bool = True, evaluate: bool = True) -> None:
        context = mp.get_context("spawn")
        with _real_stderr():  # the queue's locks start multiprocessing's resource tracker
            self._events = context.Queue()
            self._stop = context.Event()
            self._pause = context.Event()
        self.process = context.Process(
            target=_run, name="llm-tour-training", daemon=True,
            args=(str(workspace_root), config, resume, evaluate, self._events, self._stop,
                  self._pause))
        self.ended = False

    def start(self) -> TrainingProcess:
        with _real_stderr():
            self.process.start()
        return self

    def get(self, timeout: float = 0.1) -> Any | None:
        """The next event, or None if none came within ``timeout`` seconds."""
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            if not self.process.is_alive() and not self.ended:
                self.ended = True  # died without a word (killed)
                code = self.process.exitcode
                return TrainFailed(f"the training process stopped unexpectedly (exit {code})",
                                   "ProcessError")
            return None
        if isinstance(event, ProcessEnded):
            self.ended = True
        return event

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self) -> None:
        """Ask the run to end after the current step (it checkpoints first)."""
        self._stop.set()
        self._pause.clear()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the child to finish; True if it did."""
        self.process.join(timeout)
        return not self.process.is_alive()

    def kill(self) -> None:
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)


class TrainingThread:
    """The same interface as :class:`TrainingProcess`, in a thread of this process: no start-up
    cost, but the Python half of every step competes with the caller for the interpreter."""

    def __init__(self, workspace_root: str | os.PathLike[str], config: Any, *,
                 resume: bool = True, evaluate: bool = True) -> None:
        import threading

        self._events: queue.Queue = queue.Queue()
        self._stop, self._pause = threading.Event(), threading.Event()
        self.thread = threading.Thread(
            target=_run, name="llm-tour-training", daemon=True,
            args=(str(workspace_root), config, resume, evaluate, self._events, self._stop,
                  self._pause, False))
        self.ended = False

    def start(self) -> TrainingThread:
        self.thread.start()
        return self

    def get(self, timeout: float = 0.1) -> Any | None:
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return None
        self.ended = self.ended or isinstance(event, ProcessEnded)
        return event

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self) -> None:
        self._stop.set()
        self._pause.clear()

    def join(self, timeout: float | None = None) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()


@contextmanager
def _real_stderr() -> Iterator[None]:
    """multiprocessing hands its helper processes our stderr's file descriptor; a UI that
    captured sys.stderr (Textual does) has none, so lend it the real one meanwhile."""
    saved = sys.stderr
    try:
        fileno = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        fileno = -1
    try:
        if fileno < 0 and sys.__stderr__ is not None:
            sys.stderr = sys.__stderr__
        yield
    finally:
        sys.stderr = saved


def _run(root: str, config: Any, resume: bool, evaluate: bool, events: Any, stop: Any,
         pause: Any, child: bool = True) -> None:
    if child:
        # A terminal's Ctrl+C and a parent's terminate() both mean "stop after this step".
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        # The terminal belongs to the parent's screen: keep stray warnings off it.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    from engine.training import loop as train
    from engine.workspace import Workspace

    def should_stop() -> bool:
        while pause.is_set() and not stop.is_set():
            time.sleep(POLL)
        return stop.is_set()

    try:
        for event in train.pretrain(Workspace(root), config, resume=resume, stop=should_stop,
                                    evaluate=evaluate):
            events.put(event)
    except Exception as error:  # noqa: BLE001 -- shown to the viewer inside the chapter
        events.put(TrainFailed(str(error), type(error).__name__))
    finally:
        events.put(ProcessEnded())
        if child:
            events.close()
            events.join_thread()
