"""A viewer's own page, sent through the same steps as the crawl.

A local HTML file always works. A URL works when the machine is online; offline,
the error says so plainly. The page is compared with the stored dataset for
duplicates, and, if it survives every pass, added to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from engine.data.crawler import CrawlConfig, Crawler
from engine.data.events import Dropped, Extracted, Kept, StepDone
from engine.data.extract import Extractor
from engine.data.pipeline import Funnel, apply_passes, corpus_passes, page_passes, to_row
from engine.data.urlfilter import URLFilter
from engine.workspace import Workspace

REMOTE_ENV = "LLM_TOUR_REMOTE"  # "1": this process serves a remote visitor


class OwnPageError(Exception):
    """The page could not be read at all (no such file, offline, not a URL)."""


def _load(source: str) -> tuple[str, str, str]:
    """(url, html, fetched_at) for a file path or an http(s) URL."""
    if os.environ.get(REMOTE_ENV) == "1":  # a visitor of a tour served over SSH or the web
        raise OwnPageError("Adding your own page is switched off in a shared tour: it would read "
                           "a file or fetch a URL on the machine that serves it.")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    path = Path(source).expanduser()
    if path.is_file():
        data = path.read_bytes()
        return f"file://{path.resolve()}", data.decode("utf-8", errors="replace"), now
    if not source.startswith(("http://", "https://")):
        raise OwnPageError(f"{source!r} is neither a local HTML file nor an http(s) URL.")
    verdict = URLFilter()(source)
    if not verdict.keep:
        raise OwnPageError(f"The URL filter skips {source}: {verdict.reason}.")
    with Crawler(CrawlConfig(seeds=[], timeout=10.0), port=None) as crawler:
        fetched, page = crawler.fetch(source)
    if page is None:
        if fetched.reason in ("connect_error", "network_error"):
            raise OwnPageError(
                f"This machine looks offline: {source} could not be reached "
                f"({fetched.detail or fetched.reason}). Save the page as an HTML file and "
                "add the file instead.")
        raise OwnPageError(f"Fetching {source} failed: {fetched.reason} {fetched.detail}".strip())
    return page.url, page.html, page.fetched_at


def check_page(ws: Workspace, source: str, *, add: bool = True) -> Iterator[object]:
    """Yield the page's way through extraction and every pass; add it to the dataset if kept."""
    from engine.data.store import DATASET_COLUMNS, read_rows, write_table

    url, html, fetched_at = _load(source)
    doc = Extractor()(url, html, fetched_at)
    if doc is None:
        yield Dropped(url, "extract", "no_main_text", "trafilatura found no article text")
        return
    yield StepDone("extract", 1, 0)
    yield Extracted(url, doc.title, doc.source, html, doc.text)
    funnel = Funnel()
    drops: list[dict] = []
    dataset = ws.find("dataset")
    rows = read_rows(dataset.path) if dataset is not None else []
    late = corpus_passes()
    exact, near = late[0], late[1]
    mine = url.split("://", 1)[-1]  # rows store URLs without the scheme
    for row in rows:  # what is already stored counts as seen; the page itself does not
        if row["url"] == mine:
            continue
        stored_url = row["url"]
        exact.seen.setdefault(_key(exact, row["content"]), stored_url)
        signature = near.signature(row["content"])
        near._lsh.insert(stored_url, signature)
        near._hashes[stored_url] = signature
    for step in page_passes() + late:
        dropped = list(apply_passes(doc, [step], funnel, drops))
        if dropped:
            yield from dropped
            return
        yield StepDone(step.name, 1, 0)
    row = to_row(doc)
    if add:
        rows = [r for r in rows if r["url"] != row["url"]] + [row]
        write_table(rows, DATASET_COLUMNS, ws.path("dataset"))
    yield Kept(row)


def _key(exact, text: str) -> str:
    import hashlib

    return hashlib.sha1(" ".join(text.split()).lower().encode("utf-8")).hexdigest()
