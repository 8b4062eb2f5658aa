"""A handout of the tour: every chapter's screen as the workspace's run left it, with the
figures its stage measured, in one HTML file that needs nothing from the internet.

The real app runs headless (Textual's ``run_test`` and its Pilot, as the UI tests drive
it) in handout mode (``ChapterScreen.handout``): each chapter opens at the step that shows
what it measured, shows the workspace's dataset, tokenizer and current models (else the
bundled ones), and starts nothing that crawls, trains or writes. Its screen is kept as
SVG (``App.export_screenshot``) once its workers are done. The votes are read from a copy,
so the Preferences chapter's freshly sampled answers land there, not in the workspace.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine import settings
from engine.prepare import handout as figures
from engine.prepare.stages import Figure, Section
from engine.workspace import Workspace
from screens.registry import CHAPTERS
from tui.app import TourApp

# The figures printed under each chapter's screen: topics of engine.prepare.handout.
CHAPTER_TOPICS: dict[str, tuple[str, ...]] = {
    "welcome": ("machine",),
    "data": ("dataset",),
    "tokens": ("tokenizer",),
    "training": ("training",),
    "inside": ("parameters",),
    "sampling": ("sampling",),
    "conversations": ("fine-tuning",),
    "tools": ("tools",),
    "preferences": ("votes",),
    "summary": ("what ran",),
}
SETTLE_S = 120.0  # the longest a chapter's loading and measuring may take before it is shown
QUIET_FRAMES = 3  # frames in a row with no worker running: the chapter has drawn what it found


class HandoutApp(TourApp):
    """The tour as a handout sees it: every chapter in handout mode, nothing remembered
    (no state.json), and presenter mode, so no keys bar and no passing notifications."""

    handout = True

    def _remember(self, **changes: object) -> None:
        """A handout leaves the viewer's place in the workspace as it was."""


@dataclass
class Shot:
    """One chapter's screen in a handout."""

    index: int
    slug: str
    title: str
    blurb: str
    step: int
    steps: int
    svg: str
    unfinished: list[str] = field(default_factory=list)  # workers still running when taken


@dataclass
class Handout:
    shots: list[Shot]
    sections: dict[str, list[Section]]  # chapter slug -> its figures
    made_at: str
    workspace: Path
    artifacts: list[Figure]  # what is on show, and where it came from
    size: tuple[int, int]
    version: str
    seconds: float = 0.0


class ChapterFailed(RuntimeError):
    """A chapter raised while the handout was being made."""


def make(ws: Workspace, chapters: Sequence[int], size: tuple[int, int], *,
         theme: str | None = None, version: str = "",
         say: Callable[[str], None] = lambda line: None) -> Handout:
    """The handout of ``chapters`` (indices into CHAPTERS): the workspace checked, its
    figures measured, each chapter drawn. Raises BrokenArtifact or NoModel for an artifact
    that cannot be used, ChapterFailed for a chapter that stopped on an error."""
    start = time.perf_counter()
    with votes_copy(ws) as (source, votes):
        figures.check(ws, votes)
        made = figures.made(ws, source)
        say(f"Making a handout of {ws.root}:")
        for item in made.artifacts:
            say(f"  {item.label}: {item.value}")
        sections: dict[str, list[Section]] = {}
        measured: dict[str, Section] = {}
        for index in chapters:
            slug = CHAPTERS[index].slug
            for topic in CHAPTER_TOPICS.get(slug, ()):
                if topic not in measured:
                    measured[topic] = figures.section(ws, topic, votes)
                sections.setdefault(slug, []).append(measured[topic])

        def drawing(index: int, chapter) -> None:
            say(f"  {index + 1:>2}/{len(CHAPTERS)} {chapter.title}")

        shots = asyncio.run(capture(ws, chapters, size, theme=theme, progress=drawing))
    return Handout(shots, sections, made.at, ws.root, made.artifacts, size, version,
                   time.perf_counter() - start)


@contextmanager
def votes_copy(ws: Workspace) -> Iterator[tuple[Path | None, Path | None]]:
    """The votes the tour reads (the workspace's, or the store a tour server shares), copied,
    and the tour pointed at the copy (``LLM_TOUR_VOTES``) while the handout is made: the
    Preferences chapter samples its candidates into the copy. Yields (the votes file, its
    copy), both None when there are no votes yet; the tour then gets an empty store."""
    from engine.preference.votes import copy_votes

    source = settings.shared_votes() or ws.path("votes")
    previous = os.environ.get(settings.VOTES)
    with tempfile.TemporaryDirectory(prefix="llm-tour-handout-") as scratch:
        copy = Path(scratch) / "votes.sqlite"
        found = source.exists()
        if found:
            copy_votes(source, copy)
        os.environ[settings.VOTES] = str(copy)
        try:
            yield (source, copy) if found else (None, None)
        finally:
            if previous is None:
                os.environ.pop(settings.VOTES, None)
            else:
                os.environ[settings.VOTES] = previous


def clean_svg(svg: str) -> str:
    """An SVG that fetches nothing: Rich's screenshot names a web font (Fira Code from a CDN)
    and its own site in a comment; the font falls back to the reader's monospace (every
    run of text is stretched to its cells, so the columns still line up)."""
    svg = re.sub(r"@font-face\s*\{[^}]*\}\s*", "", svg)
    svg = re.sub(r"<!--.*?-->\s*", "", svg, flags=re.S)
    return svg.replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)


async def _settle(app: TourApp, pilot, timeout: float) -> list[str]:
    """Wait until no worker has run for a few frames (at most ``timeout`` seconds); the
    names of any still running."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < QUIET_FRAMES:
        await pilot.pause()
        running = [w for w in app.workers if not w.is_finished]
        if running:
            quiet = 0
            if time.monotonic() > deadline:
                return [w.name or w.group for w in running]
            await pilot.pause(0.05)
        else:
            quiet += 1
    return []


async def capture(workspace: Workspace, chapters: Sequence[int], size: tuple[int, int],
                  theme: str | None = None, timeout: float = SETTLE_S,
                  progress=None) -> list[Shot]:
    """Each chapter's screen, in handout mode, at its handout step."""
    app = HandoutApp(workspace, start=chapters[0], theme=theme, presenting=True)
    app.animation_level = "none"
    shots: list[Shot] = []
    current = ""
    try:
        async with app.run_test(size=size) as pilot:
            for index in chapters:
                chapter = CHAPTERS[index]
                current = chapter.title
                if progress is not None:
                    progress(index, chapter)
                app.goto(index)
                await pilot.pause()
                screen = app.screen
                screen.step = screen.handout_step()
                unfinished = await _settle(app, pilot, timeout)
                if screen.HANDOUT_KEYS and not unfinished:
                    await pilot.press(*screen.HANDOUT_KEYS)
                    unfinished = await _settle(app, pilot, timeout)
                if app.failure is not None:
                    break
                title = f"{index + 1}/{len(CHAPTERS)} · {chapter.title}"
                shots.append(Shot(index, chapter.slug, chapter.title, chapter.blurb,
                                  screen.step, screen.step_count,
                                  clean_svg(app.export_screenshot(title=title)), unfinished))
            await asyncio.sleep(0)
    except Exception as error:  # noqa: BLE001 - said with the chapter it happened in
        raise ChapterFailed(_failure(current, error, app)) from error
    if app.failure is not None:
        raise ChapterFailed(_failure(current, app.failure, app))
    return shots


def _failure(chapter: str, error: BaseException, app: TourApp) -> str:
    where = f"; the traceback is in {app.error_log}" if app.error_log else ""
    return f"The {chapter} chapter stopped with {type(error).__name__}: {error}{where}"


# -- the page ---------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; }
body { margin: 0 auto; max-width: 68rem; padding: 1.5rem 2rem 4rem;
       font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1b1d21; background: #fbfbfa; }
h1 { margin: 0 0 .25rem; font-size: 2rem; }
h2 { margin: 0 0 .25rem; font-size: 1.45rem; }
h3 { margin: 1.25rem 0 .35rem; font-size: 1.05rem; }
.lead, .blurb { margin: 0 0 1rem; color: #4a4f57; }
.made { border-collapse: collapse; margin: .5rem 0 1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem;
         border-bottom: 1px solid #e3e4e6; }
th { width: 32%; font-weight: 600; color: #2f3339; }
td { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
nav ol { columns: 2; padding-left: 1.5rem; }
section.chapter { margin: 3rem 0 0; break-inside: avoid-page; }
figure { margin: .5rem 0 0; }
figure svg { display: block; width: 100%; height: auto; border-radius: 8px;
             box-shadow: 0 1px 4px rgba(0, 0, 0, .18); }
figcaption { margin-top: .35rem; font-size: .85rem; color: #5c6169; }
.note { color: #9a4b00; }
footer { margin-top: 3rem; font-size: .85rem; color: #5c6169; }
@media print { body { background: #fff; max-width: none; padding: 0; }
               section.chapter { break-before: page; } nav { display: none; } }
"""


def _rows(figures) -> str:
    return "".join(f"<tr><th>{html.escape(f.label)}</th><td>{html.escape(f.value)}</td></tr>"
                   for f in figures)


def render(handout: Handout) -> str:
    """The handout as one self-contained HTML page."""
    e = html.escape
    width, height = handout.size
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>llm-tour handout · {e(handout.made_at)}</title>",
        f"<style>{STYLE}</style></head><body>",
        "<header><h1>How a large language model is made</h1>",
        '<p class="lead">A handout of <strong>llm-tour</strong>, the terminal tour of Andrej '
        "Karpathy's talk <em>Deep Dive into LLMs like ChatGPT</em>. Each chapter's screen is "
        "the tour as it ran on the artifacts below (each says where it came from), and the "
        "figures under it were measured from the same artifacts.</p>",
        '<table class="made">',
        _rows(_made_rows(handout)),
        "</table>",
        "<nav><ol>",
    ]
    for shot in handout.shots:
        parts.append(f'<li><a href="#chapter-{e(shot.slug)}">{e(shot.title)}</a></li>')
    parts.append("</ol></nav></header><main>")
    for shot in handout.shots:
        parts.append(f'<section class="chapter" id="chapter-{e(shot.slug)}">')
        parts.append(f"<h2>{shot.index + 1} · {e(shot.title)}</h2>")
        parts.append(f'<p class="blurb">{e(shot.blurb)}</p>')
        caption = (f"Step {shot.step + 1} of {shot.steps}, at {width}×{height} "
                   "characters, as the tour drew it.")
        if shot.unfinished:
            caption += (f' <span class="note">Still working when taken: '
                        f"{e(', '.join(shot.unfinished))}.</span>")
        parts.append(f"<figure>{shot.svg}<figcaption>{caption}</figcaption></figure>")
        for section in handout.sections.get(shot.slug, []):
            parts.append(f"<h3>{e(section.title)}</h3><table>{_rows(section.figures)}</table>")
        parts.append("</section>")
    parts.append(f"</main><footer>Made by llm-tour {e(handout.version)} with "
                 f"<code>llm-tour export</code> in {handout.seconds:.0f} s. Nothing on this "
                 "page is fetched from the internet.</footer></body></html>")
    return "\n".join(parts) + "\n"


def _made_rows(handout: Handout) -> list[Figure]:
    return [Figure("made", handout.made_at), Figure("workspace", str(handout.workspace)),
            *handout.artifacts]
