"""Peak resident memory of the whole tour, training included, against references.

The tour runs in a real pseudo-terminal (100x32). The script starts training in the
Training chapter, lets it run, then walks through every chapter, giving each a few
seconds for its live work. Every 0.1 s it adds up the resident memory (VmRSS) of the
tour's process and all its children (training runs in a child process). In the same
run it measures two references the same way: a minimal Textual app, and a bare Python
process that imports torch. Budget: 1.5 GB for the whole tour.

    python benchmarks/memory.py [--train-seconds 40] [--chapter-seconds 4]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

BUDGET_MB = 1536


def tree_rss_kb(pid: int) -> int:
    """VmRSS of ``pid`` and every descendant, in kB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next((int(line.split()[1]) for line in status.splitlines()
                           if line.startswith("VmRSS:")), 0)
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


class Terminal:
    """A process on a PTY whose output is drained so it never blocks."""

    def __init__(self, argv: list[str], env: dict) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 0, 0))
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.peak_kb = 0

    def run_for(self, seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    os.read(self.master, 65536)
                except OSError:
                    pass
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.proc.pid))

    def press(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self.master)


def peak_of(argv: list[str], env: dict, script: list[tuple[str, float]]) -> float:
    term = Terminal(argv, env)
    try:
        for keys, seconds in script:
            if keys:
                term.press(keys)
            term.run_for(seconds)
        return term.peak_kb / 1024
    finally:
        term.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", help="a prepared workspace (default: a fresh one)")
    parser.add_argument("--train-seconds", type=float, default=40.0)
    parser.add_argument("--chapter-seconds", type=float, default=4.0)
    args = parser.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="llm-tour-memory-")
    env = {**os.environ, "TERM": "xterm-256color", "LLM_TOUR_HOME": workdir,
           "TEXTUAL_ANIMATIONS": "none"}
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from screens.registry import CHAPTERS, find_chapter

    training = find_chapter("training")
    tour = [sys.executable, "-m", "tui.cli", "--chapter", "1"]
    # Training first (s starts it), then every chapter in turn with the training running.
    script = [("", 3.0), (str(training + 1), 3.0), ("s", args.train_seconds)]
    script += [("1", args.chapter_seconds)]
    script += [("n", args.chapter_seconds) for _ in range(len(CHAPTERS) - 1)]
    minimal_app = ("from textual.app import App\nfrom textual.widgets import Static\n"
                   "class M(App):\n    def compose(self):\n        yield Static('hi')\nM().run()")
    minimal = [sys.executable, "-c", minimal_app]
    bare_torch = [sys.executable, "-c", "import time, torch; torch.ones(1); time.sleep(60)"]

    tour_mb = peak_of(tour, env, script)
    minimal_mb = peak_of(minimal, env, [("", 3.0)])
    torch_mb = peak_of(bare_torch, env, [("", 6.0)])
    print(f"{'process tree':<44}{'peak RSS (MB)':>14}{'ratio':>8}")
    print(f"{'minimal Textual app':<44}{minimal_mb:>14.0f}{minimal_mb / minimal_mb:>7.2f}x")
    print(f"{'python + import torch':<44}{torch_mb:>14.0f}{torch_mb / minimal_mb:>7.2f}x")
    print(f"{'llm-tour, training + every chapter':<44}{tour_mb:>14.0f}{tour_mb / minimal_mb:>7.2f}x")
    print(f"budget {BUDGET_MB} MB: the tour used {tour_mb / BUDGET_MB:.0%} of it "
          f"({'within' if tour_mb <= BUDGET_MB else 'OVER'} budget)")


if __name__ == "__main__":
    main()
