"""What a viewer over SSH costs the link: the slow-link settings against full frame rate.

Both runs use the real server (``tui.ssh``) on 127.0.0.1 and a real client with a PTY,
side by side in one process: connect, wait for the first chapter, then walk the same
keys through the tour (next chapter, steps, back) with the same pauses, and count the
bytes the client received and the time to the first frame. The slow-link run uses 10
frames a second, no animation and 256 colours; the reference is Textual's default (60
frames a second, full animation, the client's truecolor).

    .venv/bin/python benchmarks/ssh_link.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import asyncssh

from engine.workspace import Workspace
from tui.ssh import SSHConfig, TourSSHServer

KEYS = ["n", " ", " ", " ", "n", " ", " ", "p", "p", "n", "n", "n"]
PAUSE = 0.6  # seconds between keys, as a presenter might press them


async def one_session(slow_link: bool) -> tuple[float, int]:
    """(seconds to the first frame, bytes received over the whole walk)."""
    with tempfile.TemporaryDirectory() as root:
        server = TourSSHServer(Workspace(root), SSHConfig(host="127.0.0.1", port=0,
                                                          open_demo=True, slow_link=slow_link))
        await server.start()
        received = 0
        try:
            async with asyncssh.connect("127.0.0.1", server.port, username="bench",
                                        client_keys=None, known_hosts=None,
                                        agent_path=None) as conn:
                start = time.perf_counter()
                process = await conn.create_process(
                    term_type="xterm-256color", term_size=(100, 32), encoding=None,
                    env={"COLORTERM": "truecolor"})
                seen = b""
                while b"Welcome" not in seen:
                    seen += await process.stdout.read(65536)
                first_frame = time.perf_counter() - start
                received = len(seen)

                async def drain() -> None:
                    nonlocal received
                    while chunk := await process.stdout.read(65536):
                        received += len(chunk)

                reader = asyncio.create_task(drain())
                for key in KEYS:
                    process.stdin.write(key.encode())
                    await asyncio.sleep(PAUSE)
                await asyncio.sleep(1.0)
                process.close()
                reader.cancel()
        finally:
            await server.close()
        return first_frame, received


async def main(repeat: int) -> None:
    results: dict[str, list[tuple[float, int]]] = {"slow link": [], "full (reference)": []}
    await one_session(True)  # warm-up: imports, file caches
    for _ in range(repeat):
        results["slow link"].append(await one_session(True))
        results["full (reference)"].append(await one_session(False))
    print(f"{'settings':<18} {'first frame s':>14} {'bytes received':>15}   ({len(KEYS)} keys, "
          f"{PAUSE} s apart, median of {repeat})")
    medians = {}
    for name, runs in results.items():
        frame = statistics.median(r[0] for r in runs)
        sent = statistics.median(r[1] for r in runs)
        medians[name] = (frame, sent)
        print(f"{name:<18} {frame:>14.2f} {sent:>15,.0f}")
    slow, full = medians["slow link"], medians["full (reference)"]
    print(f"ratio slow/full: bytes {slow[1] / full[1]:.2f}, first frame {slow[0] / full[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    asyncio.run(main(parser.parse_args().repeat))
