"""Training stages in a child process, their events streamed back through a pipe.

torch keeps every core busy while it trains, and the Python half of each step holds the
interpreter lock; a screen that trains in a thread of its own process answers keys late. A
child process has its own interpreter, and the parent only waits on a pipe. Pretraining,
fine-tuning and the preference nudge all run this way (:class:`StageRunner`); their events
are the engine's own dataclasses, pickled across.

The child is a plain ``python`` started with :mod:`subprocess`, not :mod:`multiprocessing`:
no semaphores, so no resource-tracker process that could outlive us. Two pipes join the
two: events flow up, control (pause, resume, stop) flows down. The control pipe also tells
the child that its parent is gone, however the parent ended (SIGKILL included): the kernel
closes the parent's end and the child reads end-of-file. The child then stops after the
current step, writes its checkpoint and leaves; a hang-up (SIGHUP, the terminal closed) or
SIGTERM does the same, and a child that cannot finish within :data:`ORPHAN_GRACE` seconds
ends anyway.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import Any

POLL = 0.05  # seconds between looks at the pause flag
PARENT_CHECK = 1.0  # seconds between checks that the parent is still there
ORPHAN_GRACE = 30.0  # seconds an orphaned child may take to checkpoint before it ends anyway
NICENESS = 5  # the child yields the CPU to the screen when both want it (keys answer sooner)
WHERE = ("process", "thread")


@dataclass(frozen=True)
class TrainFailed:
    """The run ended with an error; ``message`` says what went wrong, for the viewer."""

    message: str
    kind: str  # the exception's class name


@dataclass(frozen=True)
class ProcessEnded:
    """The child has sent its last event."""


# -- the jobs: module-level generators, so the child can find them by name ------------------

def pretrain_job(root: str, config: Any, resume: bool = True, evaluate: bool = True, *,
                 stop: Callable[[], bool]) -> Iterator[Any]:
    """``engine.training.loop.pretrain`` on the workspace at ``root``."""
    from engine.training import loop
    from engine.workspace import Workspace

    yield from loop.pretrain(Workspace(root), config, resume=resume, stop=stop,
                             evaluate=evaluate)


def sft_job(root: str, config: Any = None, *, stop: Callable[[], bool]) -> Iterator[Any]:
    """``engine.training.sft.fine_tune`` on the workspace at ``root``."""
    from engine.training import sft
    from engine.workspace import Workspace

    yield from sft.fine_tune(Workspace(root), config, stop=stop)


def nudge_job(root: str, prompts: list[Any], config: Any = None, question: str | None = None,
              *, stop: Callable[[], bool]) -> Iterator[Any]:
    """``engine.preference.dpo.nudge_chat`` with the workspace's votes; a stop ends it between
    events (a nudge is a few steps: what it did so far is not saved)."""
    from engine.preference.dpo import nudge_chat
    from engine.preference.votes import VoteStore
    from engine.workspace import Workspace

    ws = Workspace(root)
    events = nudge_chat(ws, VoteStore.open(ws, prompts=prompts), config,
                        sample_question=question)
    try:
        for event in events:
            if stop():
                return
            yield event
    finally:
        events.close()


# -- the parent's side --------------------------------------------------------------------------

class StageRunner:
    """A job (one of the generators above) run in a child process, or with
    ``where="thread"`` in a thread of this process: the same pipes and the same events
    either way, so the two differ only in who runs the Python half of each step.

    ``runner.events(cancelled)`` yields the job's events until it has ended; ``pause``,
    ``resume`` and ``stop`` steer it between steps (a stopped run checkpoints first).
    """

    def __init__(self, job: Callable[..., Iterator[Any]], *args: Any,
                 where: str = "process") -> None:
        if where not in WHERE:
            raise ValueError(f"unknown runner {where!r}; choose one of {', '.join(WHERE)}")
        self.job, self.args, self.where = job, args, where
        self.ended = False
        self.paused = False
        self.pid: int | None = None
        self._process: subprocess.Popen | None = None
        self._thread: threading.Thread | None = None
        self._stderr: Any = None
        self._events: Connection | None = None
        self._control: Connection | None = None

    def start(self) -> StageRunner:
        from engine import workspace

        events_in, events_out = Pipe(duplex=False)
        control_in, control_out = Pipe(duplex=False)
        if self.where == "process":
            self._stderr = tempfile.TemporaryFile()
            self._process = subprocess.Popen(
                [sys.executable, "-c", "from engine.training.child import main; main()",
                 str(events_out.fileno()), str(control_in.fileno())],
                pass_fds=(events_out.fileno(), control_in.fileno()), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self._stderr, env=_child_env())
            self.pid = self._process.pid
            events_out.close()  # the child's ends: its exit is then our end-of-file
            control_in.close()
        else:
            self._thread = threading.Thread(target=_serve, args=(events_out, control_in, False),
                                            name="llm-tour-training", daemon=True)
            self._thread.start()
        self._events, self._control = events_in, control_out
        self._send((self.job, self.args, str(workspace.BUNDLED_DIR)))
        return self

    def get(self, timeout: float = 0.1) -> Any | None:
        """The next event, or None if none came within ``timeout`` seconds."""
        if self.ended or self._events is None:
            return None
        try:
            if not self._events.poll(timeout):
                return None
            event = self._events.recv()
        except (EOFError, OSError):  # the child ended without its last word (killed)
            self.ended = True
            return TrainFailed(self._why_ended(), "ProcessError")
        if isinstance(event, ProcessEnded):
            self.ended = True
        return event

    def events(self, cancelled: Callable[[], bool] = lambda: False) -> Iterator[Any]:
        """Start the job and yield its events until it has ended. Closing this stream, or
        ``cancelled()`` turning true, stops the job (it checkpoints first)."""
        if self._events is None:
            self.start()
        try:
            while not self.ended:
                event = self.get(timeout=0.1)
                if event is None:
                    if cancelled():
                        return
                    continue
                yield event
        finally:
            if not self.ended:
                self.stop()
            if not self.join(ORPHAN_GRACE):  # checkpoints are written atomically: no harm
                self.kill()
            self.close()

    @property
    def alive(self) -> bool:
        if self._process is not None:
            return self._process.poll() is None
        return self._thread is not None and self._thread.is_alive()

    def pause(self) -> None:
        self.paused = True
        self._send("pause")

    def resume(self) -> None:
        self.paused = False
        self._send("resume")

    def stop(self) -> None:
        """Ask the job to end after the current step (it checkpoints first)."""
        self.paused = False
        self._send("stop")

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to finish; True if it did."""
        if self._process is not None:
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.alive

    def kill(self) -> None:
        if self._process is not None and self.alive:
            self._process.kill()
            self._process.wait(5)

    def close(self) -> None:
        """Let go of the pipes; a child still running reads end-of-file and stops."""
        for connection in (self._control, self._events):
            if connection is not None:
                connection.close()
        self._control = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def _send(self, message: Any) -> None:
        try:
            if self._control is not None:
                self._control.send(message)
        except (BrokenPipeError, OSError):
            pass  # the child is gone already; get() says so

    def _why_ended(self) -> str:
        if self._process is None:
            return "the training thread stopped unexpectedly"
        try:
            code = self._process.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        said = ""
        if self._stderr is not None:
            self._stderr.seek(0)
            lines = self._stderr.read().decode(errors="replace").strip().splitlines()
            said = f": {lines[-1]}" if lines else ""
        return f"the training process stopped unexpectedly (exit {code}){said}"


def _child_env() -> dict[str, str]:
    """Our environment, with this checkout first on the path (so the child imports the same
    ``engine`` package, however this process found it)."""
    here = str(Path(__file__).resolve().parents[2])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (here, path) if p)}


# -- the child's side ---------------------------------------------------------------------------

def main() -> None:
    """The child process: serve one job over the pipes named on the command line.

    Every core but one trains (engine.threads, "tour-training-child"), at a lower priority:
    the screen's process keeps a core and wins a contended one, so keys stay quick."""
    from engine import threads

    events = Connection(int(sys.argv[1]), readable=False)
    control = Connection(int(sys.argv[2]), writable=False)
    try:
        os.nice(NICENESS)
    except (AttributeError, OSError):  # no nice() here: the same run, at the usual priority
        pass
    # The cap covers every stage the child runs (the trainer reads it, so does the nudge).
    os.environ[threads.THREADS_ENV] = str(threads.threads_for("tour-training-child"))
    _serve(events, control, True)


def _serve(events: Connection, control: Connection, child: bool) -> None:
    job, args, bundled = control.recv()
    stop, pause, orphaned = threading.Event(), threading.Event(), threading.Event()

    def leave_soon() -> None:
        orphaned.set()
        stop.set()
        pause.clear()
        if child:  # checkpoint if we can, but never outlive the parent for long
            timer = threading.Timer(ORPHAN_GRACE, os._exit, (1,))
            timer.daemon = True
            timer.start()

    if child:
        from engine import workspace

        workspace.BUNDLED_DIR = Path(bundled)  # look for shipped files where the parent does
        # Ctrl+C, terminate() and a hang-up (the terminal closed) all mean "stop after this
        # step", which keeps a checkpoint.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: stop.set())
    parent = os.getppid()

    def listen() -> None:
        while True:
            try:
                if not control.poll(PARENT_CHECK):
                    if child and os.getppid() != parent:  # reparented: the parent is gone
                        break
                    continue
                message = control.recv()
            except (EOFError, OSError):  # the parent closed its end, or ended
                break
            if message == "pause":
                pause.set()
            elif message == "resume":
                pause.clear()
            elif message == "stop":
                stop.set()
                pause.clear()
        leave_soon()

    threading.Thread(target=listen, name="llm-tour-control", daemon=True).start()

    def should_stop() -> bool:
        while pause.is_set() and not stop.is_set():
            time.sleep(POLL)
        return stop.is_set()

    def send(event: Any) -> None:
        if orphaned.is_set():
            return
        try:
            events.send(event)
        except (BrokenPipeError, OSError):
            leave_soon()

    try:
        if child:
            from engine.threads import use_threads

            use_threads("tour-training-child")
        for event in job(*args, stop=should_stop):
            send(event)
    except Exception as error:  # noqa: BLE001 -- shown to the viewer inside the chapter
        send(TrainFailed(str(error), type(error).__name__))
    finally:
        send(ProcessEnded())
        events.close()


if __name__ == "__main__":
    main()
