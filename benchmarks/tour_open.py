"""What opening a viewer's tour of their own costs a room's one event loop, and what each of
the tour's ways of making it cheaper buys, against the reference in the same run
(``--compare``):

- ``stylesheet``: the tours' CSS parsed once for the process (``tui.styles.SharedStylesheet``)
  against Textual's own stylesheet (each tour parses the tour's CSS again);
- ``keys-bar``: the keys bar drawn by one widget (``screens.widgets.keys_bar.KeysBar``)
  against Textual's compact Footer (a widget for every key, composed again when they change);
- ``candidates`` (at Preferences): the chat model's answers to rank sampled once per
  checkpoint for the process (``engine.preference.prompts.sample_candidates_from``) against
  sampling them for each tour;
- ``prose``: the chapter's Markdown rendered once per width for the process
  (``screens.widgets.prose``) against Rich rendering it for each tour, twice (its height, its
  lines).

A room serves every viewer's tour from one process; each viewer who steps away opens one,
and thirty stepping away together queue behind each other on the loop. Tours are opened one
after another in that process, at a chapter, each drawn to a terminal of 100x30 that
discards what it is sent, alternating the reference and the tour's way so that both share
the machine's state. For each: the CPU time of the process until the tour's first frame is out, and until
its chapter is on screen with its widgets (``RoomTourApp.settled``) and its loading is done.
The first tour of the run is left out (it imports the chapter's modules).

    python benchmarks/tour_open.py [--tours 15] [--chapter training] [--compare keys-bar]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.workspace import Workspace

# what each comparison sets up: the reference (Textual's way), then the tour's
COMPARISONS = {
    "stylesheet": ("Textual's own (each tour parses)", "shared (parsed once)"),
    "keys-bar": ("Textual's Footer (a widget a key)", "KeysBar (one widget)"),
    "prose": ("Rich's Markdown (each tour renders)", "shared (rendered once)"),
    "candidates": ("sampled for each tour", "sampled once per checkpoint"),
}


@contextlib.contextmanager
def reference(compare: str, app) -> Iterator[None]:
    """Make ``app`` (not yet running) the reference of ``compare``: what Textual or Rich
    does by itself."""
    from rich.markdown import Markdown
    from textual.css.stylesheet import Stylesheet
    from textual.widgets import Footer, Static

    import screens.base
    from engine.preference import prompts
    from screens.widgets import prose

    if compare == "stylesheet":
        app.stylesheet = Stylesheet(variables=app.get_css_variables())
        yield
        return
    if compare == "keys-bar":
        target, name = screens.base, "KeysBar"
        plain = lambda: Footer(compact=True, show_command_palette=False)
    elif compare == "candidates":
        target, name = prompts, "sample_candidates_from"
        plain = lambda _path, *args, **options: prompts.sample_candidates(*args, **options)
    else:
        target, name = prose, "markdown_static"
        plain = lambda text, **kwargs: Static(Markdown(text), **kwargs)
    ours = getattr(target, name)
    setattr(target, name, plain)
    try:
        yield
    finally:
        setattr(target, name, ours)


async def open_tour(room, chapter: int, ours: bool, compare: str = "stylesheet",
                    ) -> tuple[float, float]:
    """(CPU ms until the first frame, CPU ms until the chapter has loaded) for one tour."""
    from tui.room import RoomTourApp, run_viewer

    app = RoomTourApp(Workspace(tempfile.mkdtemp()), room, role="viewer", start=chapter)
    app.following = False
    with contextlib.nullcontext() if ours else reference(compare, app):
        started = time.process_time()
        task = asyncio.create_task(run_viewer(app, (100, 30), lambda data: None,
                                              lambda d: None))
        await app.first_frame.wait()
        first = time.process_time() - started
        await app.settled()
        while len(app.running_workers()) > app.waiting_runs:
            await asyncio.sleep(0.005)
        loaded = time.process_time() - started
    app.exit()
    await task
    return first * 1000, loaded * 1000


async def measure(tours: int, chapter: int, compare: str,
                  ) -> dict[bool, list[tuple[float, float]]]:
    from tui.room import Room

    room = Room()
    times: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
    for ours in (True, False):  # imports what the chapter needs, both ways
        await open_tour(room, chapter, ours, compare)
    for i in range(2 * tours):
        ours = i % 2 == 0
        times[ours].append(await open_tour(room, chapter, ours, compare))
        await asyncio.sleep(0.05)
    return times


def main() -> None:
    from screens.registry import CHAPTERS, find_chapter
    from tui.room import room_environment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tours", type=int, default=15, help="tours of each kind")
    parser.add_argument("--chapter", default="training",
                        help=f"the chapter the tours open at ({', '.join(c.slug for c in CHAPTERS)})")
    parser.add_argument("--compare", choices=COMPARISONS, default="stylesheet",
                        help="what differs between the reference and the tour's way")
    args = parser.parse_args()
    os.environ.update(room_environment(Workspace(tempfile.mkdtemp())))
    chapter = find_chapter(args.chapter)
    times = asyncio.run(measure(args.tours, chapter, args.compare))
    medians = {ours: [statistics.median(t[i] for t in times[ours]) for i in (0, 1)]
               for ours in times}
    print(f"Opening a viewer's own tour at {CHAPTERS[chapter].title}, median CPU ms of "
          f"{args.tours} each, one process")
    names = COMPARISONS[args.compare]
    print(f"{args.compare:<38}{'first frame':>12}{'loaded':>9}")
    for ours, name in ((False, names[0]), (True, names[1])):
        first, loaded = medians[ours]
        print(f"{name:<38}{first:>12.1f}{loaded:>9.1f}")
    (ref_first, ref_loaded), (first, loaded) = medians[False], medians[True]
    print(f"{'ratio (tour / reference)':<38}{first / ref_first:>12.2f}{loaded / ref_loaded:>9.2f}")


if __name__ == "__main__":
    main()
