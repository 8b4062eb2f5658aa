"""Votes per second into votes.sqlite: one voter, then several voting at once.

The store opens a connection per vote and commits each one with ``synchronous=FULL`` in
WAL mode. Reference, in the same run: a bare ``sqlite3`` insert per commit on one open
connection in the default rollback journal (what a first version would do). The ratio
says what the safety costs; the concurrent row says the lock waits lose nothing.

    .venv/bin/python benchmarks/votes.py [--votes 200] [--processes 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import tempfile
import time
from pathlib import Path

from engine.preference.votes import VoteStore

RANKING = ["step-by-step", "answer-only", "wrong"]


def store_votes(path: str, count: int, session: str) -> None:
    store = VoteStore(path)
    for _ in range(count):
        store.vote("apples", RANKING, session)


def bare_inserts(path: str, count: int) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TABLE votes (id INTEGER PRIMARY KEY, prompt TEXT, ranking TEXT)")
    for _ in range(count):
        con.execute("INSERT INTO votes (prompt, ranking) VALUES (?, ?)", ("apples", "a>b>c"))
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=200)
    parser.add_argument("--processes", type=int, default=4)
    args = parser.parse_args()
    n, p = args.votes, args.processes
    rows = []
    with tempfile.TemporaryDirectory() as root:
        bare = str(Path(root) / "bare.sqlite")
        start = time.perf_counter()
        bare_inserts(bare, n)
        bare_rate = n / (time.perf_counter() - start)
        rows.append(("bare sqlite3, 1 connection", 1, n, bare_rate))

        one = str(Path(root) / "one.sqlite")
        VoteStore(one)
        start = time.perf_counter()
        store_votes(one, n, "solo")
        rows.append(("VoteStore, 1 process", 1, VoteStore(one).counts()[0],
                     n / (time.perf_counter() - start)))

        many = str(Path(root) / "many.sqlite")
        VoteStore(many)
        context = multiprocessing.get_context("spawn")
        workers = [context.Process(target=store_votes, args=(many, n, f"voter-{i}"))
                   for i in range(p)]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - start  # includes starting the processes
        kept = VoteStore(many).counts()[0]
        rows.append((f"VoteStore, {p} processes at once", p, kept, kept / elapsed))

    print(f"{'writer':<34} {'procs':>5} {'votes kept':>10} {'votes/s':>9} {'vs bare':>8}")
    for name, procs, kept, rate in rows:
        print(f"{name:<34} {procs:>5} {kept:>10} {rate:>9.0f} {rate / bare_rate:>8.2f}")


if __name__ == "__main__":
    main()
