"""The whole data stage over the sample web: the talk's rows survive, every bad page
is dropped for the reason it was built for, and the files land in the workspace."""

from __future__ import annotations

import json

import pytest

from engine.data import events as ev
from engine.data.facts import load_capitals
from engine.data.pipeline import run
from engine.data.store import read_rows, stored_run
from engine.workspace import Workspace


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("data"))
    events = list(run(ws))
    rows = read_rows(ws.path("dataset"))
    dropped = {d["url"]: d for d in read_rows(ws.path("dropped"), name="dropped")}
    return ws, events, rows, dropped


def test_talk_rows(result):
    _ws, _events, rows, _dropped = result
    by_url = {r["url"]: r for r in rows}
    capitals = by_url["travel-notes.example/europe/capitals"]
    assert capitals["title"] == "A Quick Guide To European Capitals"
    assert capitals["source"] == "Public travel notes · Geography basics"
    assert capitals["content"].startswith(
        "Students often mix up cities, regions, and countries when learning geography.\n"
        "The capital of France is Paris. It appears in this toy document as ordinary web text")
    assert capitals["content"].endswith("stored alongside many other documents.")
    toast = by_url["small-events.example/blog/wedding-toast"]
    assert toast["title"] == "How To Give A Warm Wedding Toast"
    assert toast["source"] == "Personal blog · Reception advice"
    assert "A good wedding toast should be personal, brief, and kind." in toast["content"]
    assert toast["content"].endswith("deduplicate, and store pipeline.")
    assert capitals["language"] == "en" and capitals["language_score"] >= 0.65
    assert capitals["token_count"] > 0 and capitals["fetched_at"]


BAD = {
    "http://hot-singles-tonight.example/join": ("url_filter", {"adult"}),
    "http://xxx-video-world.example/free": ("url_filter", {"adult"}),
    "http://free-pc-cleaner-download.example/setup": ("url_filter", {"malware"}),
    "http://claim-your-prize-now.example/winner": ("url_filter", {"malware"}),
    "http://cheap-pills-online.example/buy": ("url_filter", {"spam"}),
    "http://casino-bonus-spam.example/spin": ("url_filter", {"spam"}),
    "http://travel-notes.example/files/europe-map.pdf": ("url_filter", {"file_type"}),
    "http://travel-notes.example/photos/paris-night.jpg": ("url_filter", {"file_type"}),
    "http://travel-notes.example/downloads/maps.zip": ("url_filter", {"file_type"}),
    "http://travel-notes.example/downloads/travel-reader.exe": ("url_filter", {"file_type"}),
    "http://travel-notes.example/drafts/arctic-capitals": ("crawl", {"robots"}),
    "http://small-events.example/private/guest-list": ("crawl", {"robots"}),
    "http://carnets-voyage.example/europe/capitales": ("language", {"not_english"}),
    "http://carnets-voyage.example/conseils/bagages": ("language", {"not_english"}),
    "http://reisetipps.example/europa/hauptstaedte": ("language", {"not_english"}),
    "http://notas-de-viaje.example/europa/capitales": ("language", {"not_english"}),
    "http://travel-mirror.example/guides/africa-1": ("exact_dedup", {"exact_duplicate"}),
    "http://travel-mirror.example/guides/africa-2": ("exact_dedup", {"exact_duplicate"}),
    "http://top-deals-hub.example/deals/cheap-flights": ("gopher_repetition", None),
    "http://top-deals-hub.example/deals/paris-hotels": ("gopher_repetition", None),
    "http://top-deals-hub.example/deals/sample-layout": ("c4", {"lorem_ipsum"}),
    "http://top-deals-hub.example/deals/template-page": ("c4", {"lorem_ipsum"}),
    "http://top-deals-hub.example/deals/soon": ("gopher_quality", {"gopher_short_doc"}),
    "http://top-deals-hub.example/deals/empty-offer": ("gopher_quality", {"gopher_short_doc"}),
}


@pytest.mark.parametrize("url", sorted(BAD))
def test_bad_pages_dropped_for_their_reason(result, url):
    _ws, _events, _rows, dropped = result
    step, reasons = BAD[url]
    assert url in dropped, url
    assert dropped[url]["step"] == step
    if reasons is not None:
        assert dropped[url]["reason"] in reasons


def test_near_duplicates_dropped_originals_kept(result):
    _ws, _events, rows, dropped = result
    copies = [u for u in dropped if u.startswith("http://copycat-news.example/trending/")]
    assert len(copies) >= 2
    kept = {r["url"] for r in rows}
    for url in copies:
        assert dropped[url]["reason"] == "near_duplicate"
        original = dropped[url]["detail"].split(" like http://", 1)[1]
        assert original in kept
    assert "travel-notes.example/guides/africa-1" in kept
    assert not any(u.startswith(("copycat-news", "travel-mirror")) for u in kept)


def test_link_pages_dropped_as_low_quality(result):
    _ws, _events, _rows, dropped = result
    for url in ("http://top-deals-hub.example/deals/all-offers",
                "http://top-deals-hub.example/deals/partner-links"):
        assert dropped[url]["step"] in ("language", "gopher_repetition", "gopher_quality", "c4",
                                        "fineweb")


def test_emails_anonymised(result):
    _ws, _events, rows, _dropped = result
    by_url = {r["url"]: r for r in rows}
    for url in ("geography-class.example/about/teachers", "small-events.example/about/maya"):
        assert "email@example.com" in by_url[url]["content"]
    assert not any("@geography-class.example" in r["content"] or "@small-events.example"
                   in r["content"] for r in rows)


def test_every_capital_in_kept_text(result):
    _ws, _events, rows, _dropped = result
    text = "\n".join(r["content"] for r in rows)
    assert len(text.encode("utf-8")) >= 300_000
    for item in load_capitals():
        assert text.count(item.sentence) >= 4, item  # travel guide, lesson, column, walk
        assert text.count(f"{item.capital} is the capital of {item.country}") + text.count(
            f"{item.country}'s capital, {item.capital}") >= 1, item


def test_funnel_and_events(result):
    ws, events, rows, dropped = result
    funnel = json.loads(ws.path("funnel").read_text())
    steps = [s["step"] for s in funnel]
    assert steps[:3] == ["url_filter", "crawl", "extract"] and steps[-1] == "store"
    for step in funnel:
        assert step["in"] == step["out"] + sum(step["dropped"].values())
    assert funnel[-1]["out"] == len(rows)
    finished = events[-1]
    assert isinstance(finished, ev.Finished) and finished.rows == len(rows)
    assert finished.dropped == len(dropped)
    assert sum(isinstance(e, ev.Page) for e in events) >= 80
    assert len({r["url"].split("/")[0] for r in rows}) >= 8


def test_cancelling_leaves_no_files(tmp_path):
    ws = Workspace(tmp_path)
    stream = run(ws)
    for event in stream:
        if isinstance(event, ev.Page):
            break
    stream.close()
    assert not ws.path("dataset").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_stored_run_reads_back_what_the_run_reported(result):
    """What a handout shows instead of crawling again: the same rows, drops and funnel."""
    ws, events, rows, dropped = result
    finished = next(e for e in events if isinstance(e, ev.Finished))
    again = list(stored_run(ws))
    stored = again[0]
    assert isinstance(stored, ev.Stored)
    assert (stored.file, stored.source, stored.rows, stored.dropped, stored.funnel) == (
        "dataset.parquet", "prepared in your workspace", len(rows), len(dropped), True)
    assert [e.row for e in again if isinstance(e, ev.Kept)] == rows
    assert {e.url for e in again if isinstance(e, ev.Dropped)} == set(dropped)
    assert again[-1].funnel == finished.funnel and again[-1].rows == finished.rows
