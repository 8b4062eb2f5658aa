"""Start-up times: the tour's first frame against a minimal Textual app, and the headless
commands' first token against ``import torch``, measured in the same run.

Everything runs in a real pseudo-terminal (100x32). For the app the clock stops when the
first frame's text reaches the terminal (for llm-tour: the header, "1/N · Welcome"); the
tour paints its frame first and fills in the chapter's text right after, so the time until
that text is on screen is printed too. For ``llm-tour sample`` and ``llm-tour chat -p`` it
stops at the first character the model writes (after the prompt, or after "assistant> ").
The floor for a command that runs the model is ``python -c "import torch"``, timed until
it prints a line after the import (an ending interpreter spends a while taking torch apart,
which no command waits for before its first token).

With ``--against DIR`` (another checkout of llm-tour, e.g. ``git worktree add /tmp/before
main``) every llm-tour row is measured for that tree too, in the same rounds, and a row
gives this tree's median as a ratio to that tree's: a change is timed against what it
changes on a shared machine. Rounds run every command once, in an order that turns each
round, and the medians are compared. Beside each wall-clock time is the CPU time the process
had used by then (from /proc): on a busy machine the clock also counts the other work, the
CPU time much less so, and on a quiet one the two are close (start-up is one thread).

    python benchmarks/startup.py [--runs 7] [--against DIR] [--workdir DIR]
                                 [--skip-app] [--skip-commands]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shlex
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # the tree this benchmark belongs to

MINIMAL = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("minimal app ready")

Minimal().run()
"""
TORCH_ONLY = "import torch; print('torch imported')"
TOUR = "from tui.cli import main; main()"  # run in a tree's root: its own tui, screens, engine
PROMPT = "The capital of France is"


def cpu_seconds(pid: int) -> float | None:
    """CPU time the process has used so far (all its threads), where /proc tells."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def first_frame_seconds(argv: list[str], marker: bytes, env: dict, timeout: float = 60.0,
                        after: bool = False, cwd: Path | None = None,
                        cpu: list[float] | None = None) -> float:
    """Start ``argv`` on a fresh PTY and return seconds until ``marker`` is printed (with
    ``after``: until a visible character follows it; an empty marker waits for the process
    to end). With ``cpu``, the CPU seconds the process had used by then are appended to it
    (for a marker: the machine's other work slows the clock, not this)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the process closed the terminal: it has ended
                    if not marker and proc.wait() == 0:
                        return time.perf_counter() - start
                    break
                seen += chunk
                if marker and marker in seen and (
                        not after or seen.split(marker, 1)[1].strip()):
                    elapsed = time.perf_counter() - start
                    used = cpu_seconds(proc.pid)
                    if cpu is not None and used is not None:
                        cpu.append(used)
                    return elapsed
            if proc.poll() is not None:
                if not marker and proc.returncode == 0:
                    return time.perf_counter() - start
                break
        raise RuntimeError(f"{argv[-1]!r} never showed {marker!r}: {seen[-400:]!r}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        os.close(master)


class Row:
    """One thing timed: a command line, in a tree, until a marker."""

    def __init__(self, name: str, argv: list[str], marker: bytes, *, after: bool = False,
                 cwd: Path | None = None) -> None:
        self.name, self.argv, self.marker, self.after, self.cwd = name, argv, marker, after, cwd
        self.times: list[float] = []
        self.cpu: list[float] = []  # CPU seconds at the marker, where the system tells

    def time(self, env: dict, cpu: list[float] | None = None) -> float:
        return first_frame_seconds(self.argv, self.marker, env, after=self.after, cwd=self.cwd,
                                   cpu=cpu)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def cpu_median(self) -> float | None:
        return statistics.median(self.cpu) if self.cpu else None


def measure(rows: list[Row], env: dict, runs: int) -> None:
    """One warm-up each (so all read their files from the page cache), then ``runs``
    rounds; each round starts one row further on, so no row always follows another."""
    for row in rows:
        row.time(env)
    for round_ in range(runs):
        for i in range(len(rows)):
            row = rows[(round_ + i) % len(rows)]
            row.times.append(row.time(env, row.cpu))


def table(rows: list[Row], reference: Row, runs: int) -> None:
    width = max(40, *(len(r.name) + 2 for r in rows))
    print(f"{'seconds from start':<{width}}{'median':>8}{'min':>8}{'max':>8}{'ratio':>8}"
          f"{'CPU s':>8}{'ratio':>8}   ({runs} runs; ratios to {reference.name})")
    for row in rows:
        cpu, ref = row.cpu_median, reference.cpu_median
        cpu_cols = (f"{cpu:>8.3f}{cpu / ref:>7.2f}x" if cpu is not None and ref else "")
        print(f"{row.name:<{width}}{row.median:>8.3f}{min(row.times):>8.3f}"
              f"{max(row.times):>8.3f}{row.median / reference.median:>7.2f}x{cpu_cols}")


def against_rows(pairs: list[tuple[Row, Row]], against: Path) -> None:
    """This tree's medians as a ratio to the other tree's, for each pair of rows."""
    for new, old in pairs:
        cpu = (f"; CPU {new.cpu_median:.3f} s against {old.cpu_median:.3f} s "
               f"({new.cpu_median / old.cpu_median:.2f}x)"
               if new.cpu_median and old.cpu_median else "")
        print(f"{new.name}: {new.median:.3f} s here, {old.median:.3f} s in {against} "
              f"({new.median / old.median:.2f}x){cpu}")


def commands(env: dict, runs: int, trees: list[tuple[str, Path]]) -> None:
    """``llm-tour sample`` and ``llm-tour chat -p``: seconds to the first token the model
    writes, against ``import torch`` alone (the floor for anything that runs the model)."""
    torch_only = Row('python -c "import torch"', [sys.executable, "-c", TORCH_ONLY],
                     b"torch imported")

    def rows_for(label: str, tree: Path) -> list[Row]:
        base = [sys.executable, "-c", TOUR]
        sample = base + ["sample", PROMPT, "--seed", "1", "-n", "5"]
        chat = base + ["chat", "-p", "What is the capital of France?", "--seed", "1"]
        return [Row(f"llm-tour sample, first token{label}", sample, PROMPT.encode(),
                    after=True, cwd=tree),
                Row(f"llm-tour chat -p, first token{label}", chat, b"assistant> ",
                    after=True, cwd=tree)]

    per_tree = [rows_for(label, tree) for label, tree in trees]
    rows = [torch_only, *(row for tree_rows in per_tree for row in tree_rows)]
    measure(rows, env, runs)
    table(rows, torch_only, runs)
    for row in per_tree[0]:
        cpu = (f" (CPU: {row.cpu_median - torch_only.cpu_median:+.3f} s)"
               if row.cpu_median and torch_only.cpu_median else "")
        print(f"{row.name}: {row.median - torch_only.median:+.3f} s beyond import torch{cpu} "
              "(target: first token within 1.5 s on a quiet machine)")
    if len(per_tree) > 1:
        against_rows(list(zip(per_tree[0], per_tree[1])), trees[1][1])


def app(env: dict, runs: int, trees: list[tuple[str, Path]]) -> None:
    """The tour's first frame (its header) and its chapter text, against a minimal app."""
    minimal = Row("minimal Textual app, first frame", [sys.executable, "-c", MINIMAL],
                  b"minimal app ready")

    def rows_for(label: str, tree: Path) -> list[Row]:
        tour = [sys.executable, "-c", TOUR, "--chapter", "1"]
        return [Row(f"llm-tour, first frame{label}", tour, b"Welcome", cwd=tree),
                Row(f"llm-tour, chapter text shown{label}", tour,
                    b"How a large language model", cwd=tree)]

    per_tree = [rows_for(label, tree) for label, tree in trees]
    rows = [minimal, *(row for tree_rows in per_tree for row in tree_rows)]
    measure(rows, env, runs)
    table(rows, minimal, runs)
    print(f"first frame ratio llm-tour / minimal: {per_tree[0][0].median / minimal.median:.2f}x "
          "(target at most 1.5x)")
    if len(per_tree) > 1:
        against_rows(list(zip(per_tree[0], per_tree[1])), trees[1][1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", type=Path, default=None, metavar="DIR",
                        help="another llm-tour checkout, timed in the same rounds")
    parser.add_argument("--workdir", default=None,
                        help="the workspace the commands use [default: a new, empty one: "
                             "the bundled models]")
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--skip-commands", action="store_true")
    args = parser.parse_args()

    workdir = args.workdir or tempfile.mkdtemp(prefix="llm-tour-startup-")
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
           "LLM_TOUR_HOME": workdir, "TEXTUAL_ANIMATIONS": "none"}
    trees = [("", HERE)]
    if args.against is not None:
        against = args.against.resolve()
        if not (against / "tui" / "cli.py").exists():
            parser.error(f"{against} is not an llm-tour checkout (it has no tui/cli.py)")
        trees.append((f" ({against.name})", against))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; "
          f"workspace {workdir}")
    if not args.skip_commands:
        commands(env, args.runs, trees)
    if not args.skip_app:
        app(env, args.runs, trees)
    print("reproduce: " + shlex.join([Path(sys.executable).name, "benchmarks/startup.py",
                                      *sys.argv[1:]]))


if __name__ == "__main__":
    main()
