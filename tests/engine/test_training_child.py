"""The training child never outlives its parent, and a hang-up keeps the steps done.

A small program starts a training run through engine.training.child.StageRunner and
reports the child's pid and every step; the test then ends that program the hard way
(SIGKILL) or with a hang-up (SIGHUP) and looks at what is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import engine
from engine.model.checkpoint import read_meta
from engine.training import loop as train
from engine.training.child import StageRunner, TrainFailed, pretrain_job

DEADLINE_S = 60.0  # the longest the test waits for a step, or for a process to end
ROOT = Path(__file__).resolve().parents[2]

PARENT = """
import sys
from engine.training import loop
from engine.training.child import StageRunner, pretrain_job

config = loop.preset("tiny", max_steps=1_000_000, checkpoint_interval=0, eval_interval=0,
                     probe_interval=0, sample_interval=0, threads=1)
runner = StageRunner(pretrain_job, sys.argv[1], config, False, False).start()
print("child", runner.pid, flush=True)
for event in runner.events():
    if isinstance(event, loop.TrainStep):
        print("step", event.step, flush=True)
    elif isinstance(event, loop.TrainDone):
        print("done", event.step, event.cancelled, flush=True)
"""

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")


def gone(pid: int) -> bool:
    """No such process, or only its exit status is left (a zombie nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"after {DEADLINE_S:.0f} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def shards(workspace):
    """The shipped tokenizer and token shards, copied into the test's workspace."""
    bundled = Path(engine.__file__).parent / "bundled"
    workspace.ensure()
    for name in ("tokenizer", "train_shard", "val_shard"):
        shutil.copy(bundled / workspace.path(name).name, workspace.path(name))
    return workspace


class Parent:
    """The program above, started as its own process; ``line()`` reads what it says."""

    def __init__(self, workspace) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-c", PARENT, str(workspace.root)],
                                        stdout=subprocess.PIPE, text=True, env=env)
        self.child = int(self.expect("child")[1])
        self.last_step = 0

    def expect(self, word: str) -> list[str]:
        while True:
            line = self.process.stdout.readline()
            if not line:
                pytest.fail(f"the parent ended before it said {word!r}")
            parts = line.split()
            if parts and parts[0] == "step":
                self.last_step = int(parts[1])
            if parts and parts[0] == word:
                return parts

    def steps_until(self, step: int) -> None:
        while self.last_step < step:
            self.expect("step")

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(DEADLINE_S)
        self.process.stdout.close()
        if not gone(self.child):
            os.kill(self.child, signal.SIGKILL)


def test_fault_a_killed_parent_leaves_no_child_behind(shards):
    parent = Parent(shards)
    try:
        parent.steps_until(3)
        # The child is the parent's only process: no multiprocessing helper to linger.
        assert children_of(parent.process.pid) == {parent.child}
        parent.process.send_signal(signal.SIGKILL)
        parent.process.wait(DEADLINE_S)
        wait_until(lambda: gone(parent.child),
                   f"the training child {parent.child} outlived its killed parent")
    finally:
        parent.end()
    # On its way out it kept what it had learned.
    assert read_meta(shards.path("base")).step >= parent.last_step >= 3


def test_fault_a_hang_up_of_the_parent_checkpoints_the_steps_done(shards):
    parent = Parent(shards)
    try:
        parent.steps_until(3)
        parent.process.send_signal(signal.SIGHUP)  # the terminal was closed
        parent.process.wait(DEADLINE_S)
        wait_until(lambda: gone(parent.child), "the training child outlived the hang-up")
    finally:
        parent.end()
    assert read_meta(shards.path("base")).step >= parent.last_step >= 3


def test_fault_a_hang_up_of_the_child_stops_the_run_with_a_checkpoint(shards):
    parent = Parent(shards)
    try:
        parent.steps_until(3)
        os.kill(parent.child, signal.SIGHUP)  # the whole foreground group gets it
        done = parent.expect("done")
        assert parent.process.wait(DEADLINE_S) == 0
    finally:
        parent.end()
    assert done[2] == "True"  # cancelled, not finished
    assert read_meta(shards.path("base")).step == int(done[1]) >= parent.last_step


@pytest.mark.parametrize("where", ["process", "thread"])
def test_both_runners_stream_the_same_events_and_stop_between_steps(shards, where):
    config = train.preset("tiny", max_steps=1_000_000, checkpoint_interval=0, threads=1)
    runner = StageRunner(pretrain_job, str(shards.root), config, False, False, where=where)
    kinds: list[str] = []
    for event in runner.events():
        assert not isinstance(event, TrainFailed), event.message
        kinds.append(type(event).__name__)
        if kinds.count("TrainStep") == 2:
            runner.stop()
    assert kinds[0] == "TrainStart" and "Probe" in kinds
    assert kinds[-2:] == ["TrainDone", "ProcessEnded"]
    assert not runner.alive
    assert read_meta(shards.path("base")).step >= 2


def test_fault_a_child_that_dies_is_reported_not_waited_for(shards):
    config = train.preset("tiny", max_steps=1_000_000, checkpoint_interval=0, threads=1)
    runner = StageRunner(pretrain_job, str(shards.root), config, False, False)
    events = runner.events()
    assert type(next(events)).__name__ == "TrainStart"
    runner.kill()
    rest = list(events)
    assert isinstance(rest[-1], TrainFailed) and "stopped unexpectedly" in rest[-1].message


def test_fault_the_tour_killed_while_it_trains_leaves_no_child(shards):
    """The tour itself on a terminal, in the Training chapter: s starts the run, then the
    tour is ended with SIGKILL and its training child must end too."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TEXTUAL_ANIMATIONS": "none"}
    tour = subprocess.Popen([sys.executable, "-m", "tui.cli", "--workdir", str(shards.root),
                             "--chapter", "training"],
                            stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True)
    os.close(slave)
    os.set_blocking(master, False)
    trainers: set[int] = set()

    def training() -> bool:
        try:  # read on, as a terminal does: a full PTY would block the tour's writes
            while os.read(master, 65536):
                pass
        except (BlockingIOError, OSError):
            pass
        trainers.update(pid for pid in children_of(tour.pid)
                        if b"engine.training.child" in _cmdline(pid))
        if not trainers:
            os.write(master, b"s")  # until the chapter is up and has started its run
        return bool(trainers)

    try:
        wait_until(training, "the Training chapter never started its training child")
        tour.send_signal(signal.SIGKILL)
        tour.wait(DEADLINE_S)
        for pid in trainers:
            wait_until(lambda pid=pid: gone(pid), f"the training child {pid} outlived the killed tour")
    finally:
        if tour.poll() is None:
            tour.kill()
            tour.wait(DEADLINE_S)
        for pid in trainers:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)
        os.close(master)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""
