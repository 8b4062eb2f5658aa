"""Fault corpus, the tour's terminal: what a page holds is shown, never obeyed.

The tour runs on a real driver (the one that serves a viewer of a room: every frame is
written out as the bytes a terminal would get), crawls a page full of escape sequences
(a window title, a screen clear, a C1 control sequence introducer) and shows its raw
HTML and its text. The bytes written hold the page's words with each control character
in a visible form, and none of the page's sequences.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from engine.data import pipeline
from engine.data.crawler import CrawlConfig
from engine.data.web.server import Route, SampleWeb
from screens.data import DataScreen, RawHtml
from screens.registry import find_chapter
from tui.app import TourApp
from tui.room import run_viewer

TITLE = "\x1b]0;pwned\x07"  # retitles the terminal's window
CLEAR = "\x1b[2J"  # clears the screen
C1_CSI = "\x9b2J"  # the same, with the one-character C1 control sequence introducer
PARAGRAPHS = [
    ("The old harbour town sits at the mouth of a wide river, and its market has sold fish, "
    "bread and cheese to travellers for more than three hundred years."),
    ("The owner opens at six every morning, before the first boats come in, and she knows "
    "most of the fishermen by name."),
    ("In the afternoon the square fills with people who come to watch the boats unload. "
    "Children run between the stalls while their parents argue about the price of crabs."),
]
PAGE = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Harbour{TITLE}Market"
        f"</title></head><body><article><h1>Harbour {CLEAR}Market{C1_CSI}</h1>"
        + "".join(f"<p>{p}{CLEAR}{TITLE}{C1_CSI}</p>" for p in PARAGRAPHS)
        + "</article></body></html>")
SIZE = (120, 40)
WAIT_S = 60.0


@pytest.fixture
def hostile_web(tmp_path, monkeypatch):
    """The Data chapter's crawl over one page of escapes, on a web server on 127.0.0.1."""
    sites = tmp_path / "sites"
    (sites / "escapes.example").mkdir(parents=True)
    with SampleWeb(sites) as web:
        url = web.add_route("escapes.example", "/harbour.html", Route(body=PAGE.encode()))
        real_run = pipeline.run
        monkeypatch.setattr(pipeline, "run", lambda ws, config: real_run(
            ws, dataclasses.replace(config, web=web)))
        monkeypatch.setattr(DataScreen, "crawl_config", staticmethod(
            lambda: CrawlConfig(seeds=[url], max_pages=3, politeness=0.0)))
        yield url


async def until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come within {WAIT_S:.0f} s")
        await asyncio.sleep(0.05)


async def test_fault_page_escapes_are_shown_not_sent_to_the_terminal(workspace, hostile_web):
    written: list[str] = []
    app = TourApp(workspace, start=find_chapter("data"))
    app.animation_level = "none"
    tour = asyncio.create_task(run_viewer(app, SIZE, written.append, lambda driver: None))
    try:
        def crawled() -> bool:
            screen = app.screen_stack[-1] if app.screen_stack else None
            return (isinstance(screen, DataScreen) and bool(screen.run_state.pages)
                    and not screen.run_state.running)

        await until(crawled, "the crawl of the page")
        screen = app.screen
        assert TITLE in screen.run_state.pages[0].html  # the page's bytes, as they came
        for step in (3, 4):  # the raw HTML, then the HTML beside the text taken from it
            mark = len(written)
            app.call_later(setattr, screen, "step", step)  # in the app's own context
            await until(lambda mark=mark: "Harbour" in "".join(written[mark:]),
                        f"step {step + 1} on the terminal")
            await asyncio.sleep(0.3)  # a few frames more
        assert screen.query_one(RawHtml)  # the views that hold the page's bytes were shown
    finally:
        app.exit()
        await asyncio.wait_for(tour, WAIT_S)
    out = "".join(written)
    assert "pwned" in out and "fishermen" in out  # the page is on screen
    assert "\x1b]0;" not in out, "the page retitled the window"
    assert CLEAR not in out, "the page cleared the screen"
    assert "\x9b" not in out and "\x85" not in out, "a C1 control reached the terminal"
    assert "\u241b]0;pwned" in out or "\u241b" in out  # ESC as its control picture, ␛
