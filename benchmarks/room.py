"""A room under load: N real SSH viewers with PTYs follow a presenter on 127.0.0.1.

The server (``llm-tour ssh --room``: the hub, every viewer's tour in this process, the
presenter's tour headless) runs here; the viewers run in a child process, each an
asyncssh client with a PTY from its own loopback address (127.0.0.10, .11, ...). For
each N it prints the server's memory (RSS and PSS, from /proc, and the RSS of the processes
it started: a training run), the lag from the
presenter's move to the moment every viewer's screen shows it (steps inside the first
chapter, then new chapters, which each viewer builds on first sight), and the key round
trip (every viewer presses j, steps away and gets a tour of their own, then j again and
is back on the room's mirror: the server's word that their tour is opening, the tour's own
header, the mirror again), all at once at rest in the first chapter, and after the walk
(Data's crawl and Tokens' training, the room's runs, still drawing on every screen): every
viewer in a tour of their own pressing ? (the keys, a screen of its own) three times each
at random moments of ``--key-spread`` seconds; one viewer alone in a quiet room (five
times); all of them spread over ``--key-spread`` seconds; all at once. With ``--train``,
all of it again while the room trains (``measured_while_training`` says which of them
ended before the run did). Beside each key measurement, what held the server's one event
loop meanwhile (``loop_*``: how often and how long it stalled over 50 ms, the garbage
collector's pauses by generation, and the room's own sweeps of everything); ``--stalls``
prints where the loop was while it stalled over 0.3 s, sampled from another thread.

Then a flood: many half-open TCP connections (connected, never a byte) and ``ssh -N``
style connections (logged in, no terminal), from two other addresses, and one more
viewer, whose time to the first frame of the tour is printed (the goal: under 3 s); then
how long until the server holds no more sockets than before the flood.

    python benchmarks/room.py --viewers 1,5,10,30 [--chapters 2] [--steps 2]
    python benchmarks/room.py --viewers 30 --chapters 3 --train   # keys while the room trains

Bounded: every wait ends after ``--timeout`` seconds with a line saying what was not seen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|[=>78])")
SIZE = (100, 30)
SHOW_STALLS = False


class LoopWatch:
    """What held the server's one event loop: every time a 10 ms sleep woke more than
    50 ms late (a stall: some callback ran that long), and every garbage collection's pause,
    by generation. ``take()`` returns what was seen since the last call."""

    def __init__(self) -> None:
        import gc

        self.stalls: list[float] = []
        self.gc: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._gc_started = 0.0
        self._task: asyncio.Task | None = None
        self.where: Counter = Counter()  # stack -> samples taken while the loop stalled
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc[info["generation"]].append(time.perf_counter() - self._gc_started)

    def _sample(self, loop_thread: int) -> None:
        """From another thread: while the loop is stalled over 0.3 s, what it is running
        (the innermost frames), counted per place (``--stalls`` prints them)."""
        import traceback

        while True:  # a daemon thread: it ends with the benchmark
            time.sleep(0.05)
            if time.perf_counter() - self._beat > 0.3:
                frame = sys._current_frames().get(loop_thread)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-14:]
                    self.where[" < ".join(f"{Path(f.filename).name}:{f.lineno}:{f.name}"
                                          for f in reversed(stack))] += 1

    async def _watch(self) -> None:
        while True:
            start = self._beat = time.perf_counter()
            await asyncio.sleep(0.01)
            late = time.perf_counter() - start - 0.01
            if late > 0.05:
                self.stalls.append(late)

    def start(self) -> None:
        import threading

        self._beat = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._watch())
        threading.Thread(target=self._sample, args=(threading.get_ident(),),
                         daemon=True).start()

    def take(self) -> dict:
        stalls, self.stalls = sorted(self.stalls), []
        out = {"stalls_over_50ms": len(stalls),
               "stall_p50_s": round(pct(stalls, 0.5), 3) if stalls else 0.0,
               "stall_max_s": round(stalls[-1], 3) if stalls else 0.0,
               "stalled_s": round(sum(stalls), 2)}
        for generation, pauses in self.gc.items():
            out[f"gc{generation}"] = {"n": len(pauses), "s": round(sum(pauses), 3),
                                      "max_s": round(max(pauses, default=0.0), 3)}
            self.gc[generation] = []
        return out


def memory() -> dict[str, float]:
    """This process's resident and proportional set sizes, in MB."""
    status = Path("/proc/self/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    try:
        rollup = Path("/proc/self/smaps_rollup").read_text()
        pss = int(re.search(r"Pss:\s+(\d+)", rollup).group(1)) / 1024
    except (OSError, AttributeError):
        pss = float("nan")
    return {"rss_mb": round(rss, 1), "pss_mb": round(pss, 1),
            "children_rss_mb": round(children_rss(), 1)}


CLIENT_PIDS: set[int] = set()  # the viewers' process: not the server's


def children_rss() -> float:
    """Resident MB of the processes the server started (a training run), not the viewers'."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    mine, grew = {os.getpid()}, True
    while grew:
        more = {pid for pid, parent in parents.items()
                if parent in mine and pid not in mine and pid not in CLIENT_PIDS}
        mine |= more
        grew = bool(more)
    total = 0.0
    for pid in mine - {os.getpid()}:
        with contextlib.suppress(OSError, AttributeError):
            total += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
                         .group(1)) / 1024
    return total


def open_sockets() -> int:
    """How many sockets this process holds open (its file descriptors that are sockets)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            continue
    return count


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# -- the viewers (a child process) ----------------------------------------------------------

class Screen:
    def __init__(self, process) -> None:
        self.process = process
        self.text = ""
        self.changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while chunk := await self.process.stdout.read(65536):
            self.text += ANSI.sub("", chunk)
            self.changed.set()

    async def until(self, word: str, since: int, timeout: float) -> float:
        """Seconds until ``word`` shows after ``since`` characters (of the kept tail)."""
        while word not in self.text[since:]:
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), timeout)
        return time.monotonic()


async def viewers_main(port: int, n: int, timeout: float) -> None:
    import asyncssh

    def say(**fields) -> None:
        print(json.dumps(fields), flush=True)

    async def connect(address: str):
        conn = await asyncssh.connect("127.0.0.1", port, username="bench", client_keys=None,
                                      known_hosts=None, agent_path=None,
                                      local_addr=(address, 0))
        process = await conn.create_process(term_type="xterm-256color", term_size=SIZE)
        return conn, Screen(process)

    pairs = await asyncio.gather(*(connect(f"127.0.0.{10 + i}") for i in range(n)))
    screens = [screen for _, screen in pairs]
    await asyncio.gather(*(s.until("following", 0, timeout) for s in screens))
    say(event="ready")
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "expect":  # the presenter moves once this is acknowledged
            marks = [len(s.text) for s in screens]
            say(event="armed")  # a fast frame must not arrive before the marks are taken
            command["t0"] = json.loads(sys.stdin.readline())["t0"]
            # the header's "N/M · Title" appears on each screen
            word = command["word"]
            seen = await asyncio.gather(*(s.until(word, 0 if command.get("any") else m, timeout)
                                          for s, m in zip(screens, marks)),
                                        return_exceptions=True)
            lags = [t - command["t0"] for t in seen if isinstance(t, float)]
            say(event="lag", lags=lags, missing=sum(1 for t in seen if not isinstance(t, float)))
        elif command["do"] == "keys":
            chosen = screens[:command["only"]] if command.get("only") else screens
            say(event="keys", **await press_j(chosen, command.get("spread", 0.0), timeout))
        elif command["do"] == "help":
            say(event="help", **await press_help(screens, command["spread"], timeout))
        elif command["do"] == "flood":
            say(event="flood", **await flood(port, command["half_open"], command["no_session"],
                                             timeout))
        elif command["do"] == "quit":
            break
    for conn, _ in pairs:
        conn.close()


async def press_j(screens: list[Screen], spread: float, timeout: float) -> dict:
    """Every viewer presses j (step away), each at a random moment within ``spread``
    seconds (0: all at once), then j again (rejoin). Seconds from each viewer's own press
    to: the server's word that the tour is opening ("ack"), their own tour's header
    ("tour": "exploring · j rejoins"), and, after the second j, the room's mirror
    ("back": "following")."""
    import random

    rng = random.Random(len(screens))
    out: dict[str, list[float]] = {"ack": [], "tour": [], "back": []}

    async def one(screen: Screen, delay: float) -> None:
        await asyncio.sleep(delay)
        for key, words in (("j", (("ack", "opening your own tour"), ("tour", "j rejoins"))),
                           ("j", (("back", "following"),))):
            mark = len(screen.text)
            start = time.monotonic()
            screen.process.stdin.write(key)
            for name, word in words:
                with contextlib.suppress(asyncio.TimeoutError):
                    out[name].append(await screen.until(word, mark, timeout) - start)
            await asyncio.sleep(0.5 + rng.random() * spread if spread else 0)

    await asyncio.gather(*(one(s, rng.random() * spread) for s in screens))
    return out


async def press_help(screens: list[Screen], spread: float, timeout: float,
                     rounds: int = 3) -> dict:
    """Every viewer steps away (j); once all their tours are up, each presses ? (the keys)
    at a random moment within each ``spread`` seconds, ``rounds`` times, Esc after each;
    then j back to the room's mirror. Seconds from each ? to its help on screen ("help")."""
    import random

    rng = random.Random(len(screens) + 1)
    out: dict[str, list[float]] = {"help": [], "missing": []}

    async def press(screen: Screen, key: str, word: str) -> None:
        mark = len(screen.text)
        screen.process.stdin.write(key)
        with contextlib.suppress(asyncio.TimeoutError):
            await screen.until(word, mark, timeout)

    async def one(screen: Screen) -> None:
        for _ in range(rounds):
            await asyncio.sleep(rng.random() * spread)
            mark = len(screen.text)
            start = time.monotonic()
            screen.process.stdin.write("?")
            try:
                out["help"].append(await screen.until("Esc closes", mark, timeout) - start)
            except asyncio.TimeoutError:
                out["missing"].append(1.0)
            screen.process.stdin.write("\x1b")
            await asyncio.sleep(0.5)

    await asyncio.gather(*(press(s, "j", "j rejoins") for s in screens))
    await asyncio.sleep(3.0)  # every tour is up, its chapter loaded
    await asyncio.gather(*(one(s) for s in screens))
    await asyncio.gather(*(press(s, "j", "following") for s in screens))
    return out


async def flood(port: int, half_open: int, no_session: int, timeout: float) -> dict:
    import asyncssh

    held = []
    for _ in range(half_open):  # connected, never a byte: the login timeout ends them
        try:
            held.append(await asyncio.open_connection("127.0.0.1", port,
                                                      local_addr=("127.0.0.2", 0)))
        except OSError:
            pass
    logged_in = []

    async def idle_login():
        try:
            return await asyncssh.connect("127.0.0.1", port, username="flood", client_keys=None,
                                          known_hosts=None, agent_path=None,
                                          local_addr=("127.0.0.3", 0))
        except (OSError, asyncssh.Error):
            return None

    logged_in = [c for c in await asyncio.gather(*(idle_login() for _ in range(no_session)))
                 if c is not None]
    start = time.monotonic()
    import asyncssh as _a

    async with _a.connect("127.0.0.1", port, username="late", client_keys=None,
                          known_hosts=None, agent_path=None,
                          local_addr=("127.0.0.4", 0)) as conn:
        process = await conn.create_process(term_type="xterm-256color", term_size=SIZE)
        screen = Screen(process)
        seen = await screen.until("following", 0, timeout)
    for _, writer in held:
        writer.close()
    for conn in logged_in:
        conn.close()
    return {"late_viewer_s": round(seen - start, 2), "half_open_held": len(held),
            "no_session_logged_in": len(logged_in)}


# -- the server and the presenter (this process) ----------------------------------------------

async def one_room(n: int, chapters: int, timeout: float, flood_args: tuple[int, int] | None,
                   steps: int = 2, key_spread: float = 10.0, train: bool = False):
    from engine.workspace import Workspace
    from screens.registry import CHAPTERS
    from tui.room import Room, RoomTourApp
    from tui.ssh import SSHConfig, TourSSHServer

    with tempfile.TemporaryDirectory() as root:
        workspace = Workspace(root)
        room = Room(settles=True)
        server = TourSSHServer(workspace, SSHConfig(
            host="127.0.0.1", port=0, open_demo=True, max_sessions=max(30, n + 2)), room=room)
        await server.start()
        presenter = RoomTourApp(workspace, room, role="presenter")
        result: dict = {"viewers": n}
        watch = LoopWatch()
        async with presenter.run_test(size=SIZE) as pilot:
            await pilot.pause()
            watch.start()
            before = memory()
            child = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--client", str(server.port), str(n),
                "--timeout", str(timeout), stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, env={**os.environ})
            CLIENT_PIDS.add(child.pid)

            async def reply() -> dict:
                line = await asyncio.wait_for(child.stdout.readline(), timeout * 3)
                if not line:
                    raise RuntimeError("the viewers' process ended")
                return json.loads(line)

            def send(**command) -> None:
                child.stdin.write((json.dumps(command) + "\n").encode())

            async def keys(spread: float, only: int = 0) -> dict:
                send(do="keys", spread=spread, only=only)
                times = await reply()
                return {"spread_s": spread, "viewers": only or n} | {
                    name: {"p50": round(pct(times[name], 0.5), 3),
                           "p95": round(pct(times[name], 0.95), 3), "n": len(times[name])}
                    for name in ("ack", "tour", "back")}

            started = time.monotonic()
            assert (await reply())["event"] == "ready"
            result["all_in_s"] = round(time.monotonic() - started, 2)
            await asyncio.sleep(1.0)
            result["memory_mb_before"] = before
            result["memory_mb_in"] = memory()
            lags: list[float] = []
            missing = 0
            for step in range(1, steps + 1):  # steps inside the first chapter: nothing to build
                send(do="expect", word=f"step {step + 1}/")
                assert (await reply())["event"] == "armed"
                t0 = time.monotonic()
                send(t0=t0)
                await pilot.press("space")
                answer = await reply()
                lags += answer["lags"]
                missing += answer["missing"]
            if steps:
                result["step_lag_s"] = {"p50": round(pct(lags, 0.5), 3),
                                        "p95": round(pct(lags, 0.95), 3),
                                        "max": round(max(lags, default=float("nan")), 3)}
                result["keys_at_rest"] = await keys(0.0)
            lags = []
            for chapter in range(1, chapters + 1):
                send(do="expect", word=f"{chapter + 1}/{len(CHAPTERS)} · "
                                       f"{CHAPTERS[chapter].title}")
                assert (await reply())["event"] == "armed"
                t0 = time.monotonic()
                send(t0=t0)
                await pilot.press("n")
                answer = await reply()
                lags += answer["lags"]
                missing += answer["missing"]
            result["lag_s"] = {"p50": round(pct(lags, 0.5), 3), "p95": round(pct(lags, 0.95), 3),
                               "max": round(max(lags, default=float("nan")), 3),
                               "missing": missing}
            async def key_round_trips(when: str, still: Callable[[], bool]) -> None:
                """Keys in tours of their own (spread), every viewer stepping away (spread over
                ``key_spread`` seconds, then all at once), then one viewer alone (5 times, 5 s
                apart), the bursts first so that they fall within a training run; ``still()``
                says whether what is measured (a training run) was still going after each."""
                through = result.setdefault(f"measured{when}", [])
                watch.take()
                send(do="help", spread=key_spread)
                times = await reply()
                result[f"loop_in_own_tours{when}"] = watch.take() | {
                    "room_sweeps": room.sweeps.sweeps}
                result[f"keys_in_own_tours{when}"] = {
                    "spread_s": key_spread, "missing": len(times["missing"]),
                    "help": {"p50": round(pct(times["help"], 0.5), 3),
                             "p95": round(pct(times["help"], 0.95), 3),
                             "n": len(times["help"])}}
                result[f"memory_mb{when}"] = memory()
                through.append(["keys_in_own_tours", still()])
                watch.take()
                result[f"keys{when}_spread"] = await keys(key_spread)
                result[f"loop{when}_spread"] = watch.take()
                through.append(["keys_spread", still()])
                result[f"keys{when}"] = await keys(0.0)
                result[f"loop{when}"] = watch.take()
                through.append(["keys_at_once", still()])
                alone: dict[str, list[float]] = {}
                for _ in range(5):
                    await asyncio.sleep(5.0)
                    one = await keys(0.0, only=1)
                    for name in ("ack", "tour", "back"):
                        alone.setdefault(name, []).append(one[name]["p50"])
                result[f"keys_one_viewer{when}"] = {
                    name: {"p50": round(pct(v, 0.5), 3), "max": round(max(v), 3), "n": len(v)}
                    for name, v in alone.items()}
                through.append(["keys_one_viewer", still()])

            await asyncio.sleep(5.0)  # a quiet room: then the keys
            await key_round_trips("_after_walk", lambda: True)
            if train:  # the presenter (on the Training chapter) starts the room's run
                training = presenter.screen
                await pilot.press("s")
                deadline = time.monotonic() + timeout
                while not getattr(training, "running", False):
                    if time.monotonic() > deadline:
                        raise RuntimeError("the room's training run never started")
                    await asyncio.sleep(0.1)
                await asyncio.sleep(3.0)  # under way: its events reach every screen
                await key_round_trips("_while_training", lambda: bool(training.running))
                await pilot.press("x")
            if flood_args is not None:
                before_flood = open_sockets()
                send(do="flood", half_open=flood_args[0], no_session=flood_args[1])
                answer = await reply()
                answer.pop("event")
                left = time.monotonic()  # the attacker has closed every connection
                while open_sockets() > before_flood and time.monotonic() - left < timeout:
                    await asyncio.sleep(0.1)
                result["flood"] = answer | {
                    "refused_at_the_door": server.refused, "sockets_before": before_flood,
                    "sockets_after": open_sockets(),
                    "back_to_before_s": round(time.monotonic() - left, 2)}
            send(do="quit")
            await child.wait()
        await server.close()
        if SHOW_STALLS:
            print("where the loop was while it stalled over 0.3 s (samples, 50 ms apart):",
                  file=sys.stderr)
            for place, count in watch.where.most_common(15):
                print(f"{count:5d}  {place}", file=sys.stderr)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="1,5,10")
    parser.add_argument("--chapters", type=int, default=2,
                        help="how many chapters the presenter moves on (2: Data, Tokens)")
    parser.add_argument("--steps", type=int, default=2,
                        help="steps the presenter takes in the first chapter before moving on")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--flood", default="200,20",
                        help="half-open connections and logged-in ones without a terminal")
    parser.add_argument("--client", nargs=2, type=int, metavar=("PORT", "N"))
    parser.add_argument("--one", type=int, metavar="N", help="one room of N, in this process")
    parser.add_argument("--with-flood", action="store_true")
    parser.add_argument("--train", action="store_true",
                        help="after the walk (--chapters 3 or more: it ends on Training), the "
                             "presenter starts the room's training run and the keys are timed "
                             "again while it trains")
    parser.add_argument("--key-spread", type=float, default=10.0,
                        help="seconds over which the viewers' keys are spread in the second "
                             "key test after the walk (the first: all at once)")
    parser.add_argument("--stalls", action="store_true",
                        help="print where the server's loop was while it stalled")
    args = parser.parse_args()
    global SHOW_STALLS
    SHOW_STALLS = args.stalls
    if args.client:
        asyncio.run(viewers_main(args.client[0], args.client[1], args.timeout))
        return
    half_open, no_session = (int(x) for x in args.flood.split(","))
    if args.one is None:  # each N in a fresh process, so memory is that room's alone
        counts = [int(x) for x in args.viewers.split(",")]
        for i, n in enumerate(counts):
            extra = ["--with-flood"] if i == len(counts) - 1 else []
            import subprocess

            subprocess.run([sys.executable, __file__, "--one", str(n), "--chapters",
                            str(args.chapters), "--steps", str(args.steps),
                            "--timeout", str(args.timeout), "--flood", args.flood,
                            "--key-spread", str(args.key_spread), *extra,
                            *(["--stalls"] if args.stalls else []),
                            *(["--train"] if args.train else [])], check=False)
        return
    os.environ.setdefault("TEXTUAL_FPS", "10")  # the room's slow-link settings
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    os.environ.setdefault("LLM_TOUR_OFFLINE", "1")
    os.environ.setdefault("LLM_TOUR_REMOTE", "1")
    flood_args = (half_open, no_session) if args.with_flood else None
    print(json.dumps(asyncio.run(one_room(args.one, args.chapters, args.timeout, flood_args,
                                          args.steps, args.key_spread, args.train))),
          flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
