"""Start-up times: the tour's first frame against a minimal Textual app, and the headless
commands' first token against ``python -c "import torch"``, measured in the same run.

Everything runs in a real pseudo-terminal (100x32). For the app the clock stops when the
first frame's text reaches the terminal (for llm-tour: the header, "1/N · Welcome"); the
tour paints its frame first and fills in the chapter's text right after, so the time until
that text is on screen is printed too. For ``llm-tour sample`` and ``llm-tour chat -p`` it
stops at the first character the model writes (after the prompt, or after "assistant> ").
Runs alternate, and the medians are compared.

    python benchmarks/startup.py [--runs 7] [--skip-app] [--skip-commands]
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


def first_frame_seconds(argv: list[str], marker: bytes, env: dict, timeout: float = 60.0,
                        after: bool = False) -> float:
    """Start ``argv`` on a fresh PTY and return seconds until ``marker`` is printed (with
    ``after``: until a visible character follows it; an empty marker waits for the process
    to end)."""
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
                except OSError:  # the process closed the terminal: it has ended
                    if not marker and proc.wait() == 0:
                        return time.perf_counter() - start
                    break
                seen += chunk
                if marker and marker in seen and (
                        not after or seen.split(marker, 1)[1].strip()):
                    return time.perf_counter() - start
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


def _table(rows: list[tuple[str, list[float]]], reference: float, runs: int,
           reference_name: str) -> None:
    print(f"{'seconds from start':<40}{'median':>8}{'min':>8}{'max':>8}{'ratio':>8}"
          f"   ({runs} runs; ratio to {reference_name})")
    for name, times in rows:
        med = statistics.median(times)
        print(f"{name:<40}{med:>8.3f}{min(times):>8.3f}{max(times):>8.3f}"
              f"{med / reference:>7.2f}x")


def commands(env: dict, runs: int) -> None:
    """``llm-tour sample`` and ``llm-tour chat -p``: seconds to the first token the model
    writes, against ``import torch`` alone (the floor for anything that runs the model)."""
    base = [sys.executable, "-c", "from tui.cli import main; main()"]
    torch_only = [sys.executable, "-c", "import torch"]
    prompt = "The capital of France is"
    sample = base + ["sample", prompt, "--seed", "1", "-n", "5"]
    chat = base + ["chat", "-p", "What is the capital of France?", "--seed", "1"]
    for argv, marker, after in ((torch_only, b"", False), (sample, prompt.encode(), True),
                                (chat, b"assistant> ", True)):
        first_frame_seconds(argv, marker, env, after=after)  # warm the page cache
    times: dict[str, list[float]] = {"torch": [], "sample": [], "chat": []}
    for _ in range(runs):
        times["torch"].append(first_frame_seconds(torch_only, b"", env))
        times["sample"].append(first_frame_seconds(sample, prompt.encode(), env, after=True))
        times["chat"].append(first_frame_seconds(chat, b"assistant> ", env, after=True))
    reference = statistics.median(times["torch"])
    _table([('python -c "import torch"', times["torch"]),
            ("llm-tour sample, first token", times["sample"]),
            ("llm-tour chat -p, first token", times["chat"])], reference, runs, "import torch")
    for name in ("sample", "chat"):
        print(f"{name}: {statistics.median(times[name]) - reference:+.3f} s beyond import torch "
              "(target: first token within 1.5 s on a quiet machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-app", action="store_true")
    parser.add_argument("--skip-commands", action="store_true")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="llm-tour-startup-")
    env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor",
           "LLM_TOUR_HOME": workdir, "TEXTUAL_ANIMATIONS": "none"}
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not args.skip_commands:
        commands(env, args.runs)
    if args.skip_app:
        return
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
