"""What opening a viewer's tour of their own costs a room's one event loop: the tours' CSS
parsed once for the process (``tui.styles.SharedStylesheet``, what every tour uses) against
Textual's own stylesheet (each tour parses the tour's CSS again), in the same run.

A room serves every viewer's tour from one process; each viewer who steps away opens one,
and thirty stepping away together queue behind each other on the loop. Tours are opened one
after another in that process, at a chapter, each drawn to a terminal of 100x30 that
discards what it is sent, alternating the two stylesheets so that both share the machine's
state. For each: the CPU time of the process until the tour's first frame is out, and until
its chapter is on screen with its widgets (``RoomTourApp.settled``) and its loading is done.
The first tour of the run is left out (it imports the chapter's modules).

    python benchmarks/tour_open.py [--tours 15] [--chapter training]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.workspace import Workspace


async def open_tour(room, chapter: int, shared: bool) -> tuple[float, float]:
    """(CPU ms until the first frame, CPU ms until the chapter has loaded) for one tour."""
    from textual.css.stylesheet import Stylesheet

    from tui.room import RoomTourApp, run_viewer

    app = RoomTourApp(Workspace(tempfile.mkdtemp()), room, role="viewer", start=chapter)
    if not shared:
        app.stylesheet = Stylesheet(variables=app.get_css_variables())
    app.following = False
    started = time.process_time()
    task = asyncio.create_task(run_viewer(app, (100, 30), lambda data: None, lambda d: None))
    await app.first_frame.wait()
    first = time.process_time() - started
    await app.settled()
    while len(app.running_workers()) > app.waiting_runs:
        await asyncio.sleep(0.005)
    loaded = time.process_time() - started
    app.exit()
    await task
    return first * 1000, loaded * 1000


async def measure(tours: int, chapter: int) -> dict[bool, list[tuple[float, float]]]:
    from tui.room import Room

    room = Room()
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    await open_tour(room, chapter, True)  # imports what the chapter needs
    for i in range(2 * tours):
        shared = i % 2 == 0
        times[shared].append(await open_tour(room, chapter, shared))
        await asyncio.sleep(0.05)
    return times


def main() -> None:
    from screens.registry import CHAPTERS, find_chapter
    from tui.room import room_environment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tours", type=int, default=15, help="tours of each kind")
    parser.add_argument("--chapter", default="training",
                        help=f"the chapter the tours open at ({', '.join(c.slug for c in CHAPTERS)})")
    args = parser.parse_args()
    os.environ.update(room_environment(Workspace(tempfile.mkdtemp())))
    chapter = find_chapter(args.chapter)
    times = asyncio.run(measure(args.tours, chapter))
    medians = {shared: [statistics.median(t[i] for t in times[shared]) for i in (0, 1)]
               for shared in times}
    print(f"Opening a viewer's own tour at {CHAPTERS[chapter].title}, median CPU ms of "
          f"{args.tours} each, one process")
    print(f"{'stylesheet':<34}{'first frame':>12}{'loaded':>9}")
    for shared, name in ((False, "Textual's own (each tour parses)"),
                         (True, "shared (parsed once)")):
        first, loaded = medians[shared]
        print(f"{name:<34}{first:>12.1f}{loaded:>9.1f}")
    (ref_first, ref_loaded), (first, loaded) = medians[False], medians[True]
    print(f"{'shared / own':<34}{first / ref_first:>12.2f}{loaded / ref_loaded:>9.2f}")


if __name__ == "__main__":
    main()
