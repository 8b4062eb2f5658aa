"""`llm-tour prepare data` and a viewer's own page, from the command line."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.data.crawler import extract_links
from engine.data.extract import Extractor
from engine.data.ownpage import OwnPageError, check_page
from engine.data.store import read_rows
from tui.cli import cli

PAGE = (
    "<html><head><title>My Week In Lisbon</title></head><body><nav><a href='/'>Home</a></nav>"
    "<article><h1>My Week In Lisbon</h1>"
    "<p>The capital of Portugal is Lisbon. I spent a week there last spring and walked up and "
    "down its hills every day, which was tiring but worth it. Write to me at me@mail.example.</p>"
    "<p>The trams are old and slow, and they are also the best way to see the city. I rode the "
    "yellow tram to the castle twice and still want to go again.</p>"
    "<p>The food was simple and good: grilled fish, bread, olives and custard tarts, with a view "
    "of the river almost every evening.</p></article><footer>Me</footer></body></html>")


def test_prepare_data_prints_the_funnel(workspace):
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "prepare", "data"])
    assert result.exit_code == 0, result.output
    assert "Web page to dataset row" in result.output
    assert "MinHash near-deduplication" in result.output
    assert "Kept " in result.output
    rows = read_rows(workspace.path("dataset"))
    assert any(r["url"] == "travel-notes.example/europe/capitals" for r in rows)
    assert workspace.path("funnel").exists() and workspace.path("dropped").exists()


def test_own_page_is_added(workspace, tmp_path):
    page = tmp_path / "lisbon.html"
    page.write_text(PAGE)
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "prepare", "data",
                                      "--add-page", str(page)])
    assert result.exit_code == 0, result.output
    assert "kept" in result.output
    rows = read_rows(workspace.path("dataset"))
    mine = next(r for r in rows if r["title"] == "My Week In Lisbon")
    assert "email@example.com" in mine["content"] and "me@mail.example" not in mine["content"]
    again = list(check_page(workspace, str(page), add=False))  # the same page: kept again
    assert type(again[-1]).__name__ == "Kept"


def test_own_page_dropped_for_a_reason(workspace, tmp_path):
    page = tmp_path / "short.html"
    page.write_text("<html><body><article><p>Just a few words here.</p></article></body></html>")
    events = list(check_page(workspace, str(page), add=False))
    assert type(events[-1]).__name__ == "Dropped"


def test_own_page_offline_says_so(workspace, monkeypatch):
    def refuse(self, request):
        raise httpx.ConnectError("Name or service not known", request=request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", refuse)
    with pytest.raises(OwnPageError, match="offline"):
        list(check_page(workspace, "https://en.wikipedia.org/wiki/Paris"))
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "prepare", "data",
                                      "--add-page", "https://en.wikipedia.org/wiki/Paris"])
    assert result.exit_code != 0 and "offline" in result.output


def test_own_page_not_a_file_nor_url(workspace):
    with pytest.raises(OwnPageError, match="There is no file"):
        list(check_page(workspace, "no/such/file.html"))


@given(st.text(max_size=3000))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_html_parsers_never_raise(text):
    for html in (text, f"<html><body><article><p>{text}</p><a href='{text}'>x</a></article>"):
        links = extract_links(html, "http://a.example/")
        assert all(u.startswith(("http://", "https://")) for u in links)
        doc = Extractor()("http://a.example/", html)
        assert doc is None or isinstance(doc.text, str)
