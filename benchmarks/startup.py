"""Time from process start to the first painted frame: llm-tour vs a minimal Textual app.

Both run in a real pseudo-terminal (100x32); the clock stops when the first frame's
text reaches the terminal (for llm-tour: the header, "1/N · Welcome"). The tour paints
its frame first and fills in the chapter's text right after, so the time until that
text is on screen is printed too. Runs alternate, and the medians are compared.

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

MINIMAL = """
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    def compose(self):
        yield Static("minimal app ready")

Minimal().run()
"""


def first_frame_seconds(argv: list[str], marker: bytes, env: dict, timeout: float = 60.0) -> float:
    """Start ``argv`` on a fresh PTY and return seconds until ``marker`` is printed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 32, 100, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                seen += chunk
                if marker in seen:
                    return time.perf_counter() - start
            if proc.poll() is not None:
                break
        raise RuntimeError(f"{argv[-1]!r} never showed {marker!r}: {seen[-400:]!r}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        os.close(master)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="llm-tour-startup-")
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
           "LLM_TOUR_HOME": workdir, "TEXTUAL_ANIMATIONS": "none"}
    tour = [sys.executable, "-c", "from tui.cli import main; main()", "--chapter", "1"]
    minimal = [sys.executable, "-c", MINIMAL]

    # one warm-up each so both read their files from the page cache
    first_frame_seconds(tour, b"Welcome", env)
    first_frame_seconds(minimal, b"minimal app ready", env)
    tour_times, text_times, minimal_times = [], [], []
    for _ in range(args.runs):
        minimal_times.append(first_frame_seconds(minimal, b"minimal app ready", env))
        tour_times.append(first_frame_seconds(tour, b"Welcome", env))
        text_times.append(first_frame_seconds(tour, b"How a large language model", env))

    m = statistics.median(minimal_times)
    print(f"{'seconds from start':<34}{'median':>8}{'min':>8}{'max':>8}{'ratio':>8}"
          f"   ({args.runs} runs)")
    for name, times in [("minimal Textual app, first frame", minimal_times),
                        ("llm-tour, first frame", tour_times),
                        ("llm-tour, chapter text shown", text_times)]:
        med = statistics.median(times)
        print(f"{name:<34}{med:>8.3f}{min(times):>8.3f}{max(times):>8.3f}{med / m:>7.2f}x")
    print(f"first frame ratio llm-tour / minimal: {statistics.median(tour_times) / m:.2f}x "
          "(target at most 1.5x)")


if __name__ == "__main__":
    main()
