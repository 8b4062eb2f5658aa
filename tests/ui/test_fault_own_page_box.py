"""Fault corpus, your own page in the Data chapter's box (o): a folder, a file that is not
a web page (by its name or by its bytes), a missing file. Each is answered in the box
with a message that names what was typed and says what to add instead; the tour goes on
and the dataset is not touched."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from engine.data.crawler import CrawlConfig
from screens.data import DataScreen
from screens.registry import find_chapter
from tui.app import TourApp

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(17)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 8

# name (None: a folder), bytes, what the box says besides the name
CASES = [
    ("saved pages", None, ["is a folder", "Name one HTML file inside it"]),
    ("photo.png", PNG, [".png file (image)", "Add a web page saved as .html"]),
    ("paper.pdf", PDF, [".pdf file (document)", "Add a web page saved as .html"]),
    ("paper.html", PDF, ["a PDF document", "Add a web page saved as .html"]),
    ("notes.txt", b"The capital of France is Paris.\n" * 30,
     ["no HTML tags", "Add a web page saved as .html"]),
    ("data.json", b'{"capital": "Paris", "html": "<p>Paris</p>"}',
     [".json file", "Add a web page saved as .html"]),
    ("missing.html", b"", ["There is no file", "Check the path"]),
]


@pytest.fixture(autouse=True)
def short_crawl(monkeypatch):
    monkeypatch.setattr(DataScreen, "crawl_config",
                        staticmethod(lambda: CrawlConfig(max_pages=3, politeness=0.0)))


async def test_fault_own_page_box_names_a_folder_or_a_file_that_is_not_a_page(
        workspace, tmp_path, settle, wait_until):
    app = TourApp(workspace, start=find_chapter("data"))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DataScreen)
                         and not app.screen.run_state.running, what="the crawl")
        await settle(pilot)
        screen = app.screen
        rows = workspace.path("dataset").read_bytes()
        await pilot.press("o")
        await settle(pilot)
        box = screen.query_one("#own-page-input", Input)
        assert box.has_focus
        for name, data, says in CASES:
            path = tmp_path / name
            if data is None:
                path.mkdir()
                (path / "index.html").write_text("<html><body><p>Paris</p></body></html>")
            elif name != "missing.html":
                path.write_bytes(data)
            box.value = str(path)
            await pilot.press("enter")
            await settle(pilot)
            result = screen.query_one("#own-page-result", Static)
            shown = result.render()
            text = shown.plain
            assert str(path) in text, (name, text)  # names what was typed
            for words in says:
                assert words in text, (name, text)
            assert "Traceback" not in text and "Error:" not in text
            assert any("red" in str(span.style) for span in shown.spans), (name, shown)
        assert app.screen is screen and app.is_running  # the tour goes on
        assert workspace.path("dataset").read_bytes() == rows  # nothing added
