"""Fault corpus, pages: the hard cases of real saved pages, written here by hand.

Real pages nobody here wrote (trafilatura's test pages, say) are run by
``benchmarks/real_pages.py``; they are other people's pages, so none is copied into
the tour. These pages reproduce what makes them hard: a windows-1252 page whose only
charset is a ``<meta>`` (ISO-8859-1, as old pages say, past a long head), byte-order
marks, compression, a ``<meta>`` that names UTF-16 in an ASCII page, stray NUL bytes,
broken and absurdly deep markup, a page past the size cap.

Each page goes the ways a page enters the dataset: a local file and a URL on a real
server on 127.0.0.1 (``prepare data --add-page`` and the Data chapter's box), and the
crawl of ``prepare data`` (``engine.data.pipeline.run``). Every case ends with the page
kept or with a named reason; a kept page's text holds no replacement character.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import tracemalloc

import pytest

from engine.data.charset import decode_html
from engine.data.crawler import CrawlConfig
from engine.data.events import Dropped, Extracted, Kept
from engine.data.ownpage import MAX_FILE_BYTES, OwnPageError, check_page
from engine.data.pipeline import DataConfig, run
from engine.data.store import read_rows
from engine.data.web.server import Route, SampleWeb

MB = 1 << 20
FFFD = "\ufffd"
# What a windows-1252 page has and UTF-8 read of it would spoil: accents, the curly
# quotes and dashes of bytes 0x80-0x9f (not in ISO-8859-1, though pages say it).
ACCENTED = "Crème brûlée at the café costs 4 € – a “naïve” price, they say… Œuvre."
ARTICLE = [
    "The old harbour town sits at the mouth of a wide river, and its market has sold fish, "
    "bread and cheese to travellers for more than three hundred years.",
    f"{ACCENTED} The owner opens at six every morning, before the first boats come in, and "
    "she knows most of the fishermen by name.",
    "In the afternoon the square fills with people who come to watch the boats unload. "
    "Children run between the stalls while their parents argue about the price of crabs.",
    "The town hall keeps a record of every ship that entered the harbour since the great "
    "storm, written by hand in thick books that anyone may ask to read on a weekday.",
]


def html(head: str = "", body: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE)
    return (f"<!DOCTYPE html><html><head>{head}<title>The Harbour Market</title></head>"
            f"<body><nav><a href='/'>Home</a></nav><article><h1>The Harbour Market</h1>"
            f"{paragraphs}{body}</article><footer>Town notes</footer></body></html>")


LONG_HEAD = "<script>var settings = {};</script>" * 70  # the <meta> past byte 2,000
WINDOWS_1252 = html('<meta charset="windows-1252">').encode("cp1252")
ISO_8859_1 = html(LONG_HEAD + '<meta http-equiv="Content-Type" '
                  'content="text/html; charset=ISO-8859-1">').encode("cp1252")
# No </head> nor <body>, unquoted attributes, <p> never closed, closing tags never
# opened, a bare "<" and "&", NUL bytes, the end cut off: as a browser still shows it.
BROKEN = ("<html><head><title>The Harbour Market</title><div class=page id=x><article>"
          "<h1>The Harbour Market" + "".join(f"<p class=text>{p}</span>" for p in ARTICLE)
          + "</div></table><p>3 < 4 && 5 > 2 \x00\x00</b><i><b>unclosed").encode("utf-8")

# name: (bytes a file holds, the same page as a web server sends it: body, headers)
KEPT = {
    "windows-1252-meta-only.html": WINDOWS_1252,
    "iso-8859-1-meta-late.html": ISO_8859_1,
    "utf-16-le-bom.html": html().encode("utf-16"),
    "utf-16-be-bom.html": b"\xfe\xff" + html().encode("utf-16-be"),
    "utf-16-le-no-bom.html": html().encode("utf-16-le"),
    "utf-8-bom.html": b"\xef\xbb\xbf" + html('<meta charset="windows-1252">').encode(),
    "meta-says-utf-16.html": html('<meta charset="utf-16">').encode("utf-8"),
    "gzip.html.gz": gzip.compress(WINDOWS_1252),
    "bzip2.html.bz2": bz2.compress(WINDOWS_1252),
    "xz.html.xz": lzma.compress(WINDOWS_1252),
    "broken-markup.html": BROKEN,
}


def served(name: str, data: bytes) -> tuple[str, bytes, dict[str, str]]:
    """(URL path, body, headers) a plain web server sends for a saved file: text/html with
    no charset; a gzip file with Content-Encoding; bzip2 and xz unpacked (no browser
    reads them)."""
    if name.endswith(".gz"):
        return "/" + name[:-3], data, {"Content-Encoding": "gzip"}
    if name.endswith((".bz2", ".xz")):
        unpack = bz2.decompress if name.endswith(".bz2") else lzma.decompress
        return "/" + name.rsplit(".", 1)[0], unpack(data), {}
    return "/" + name, data, {}


@pytest.fixture
def web(tmp_path):
    with SampleWeb(tmp_path / "sites") as server:
        yield server


def own_page(workspace, tmp_path, web, name: str, data: bytes, way: str) -> list:
    if way == "file":
        source = tmp_path / name
        source.write_bytes(data)
        return list(check_page(workspace, str(source), add=False))
    path, body, headers = served(name, data)
    web.add_route("127.0.0.1", path, Route(body=body, content_type="text/html",
                                           headers=headers))
    return list(check_page(workspace, f"http://127.0.0.1:{web.port}{path}", add=False))


@pytest.mark.parametrize("way", ["file", "http"])
@pytest.mark.parametrize("name", list(KEPT))
def test_fault_a_hard_page_is_kept_whole(workspace, tmp_path, web, name, way):
    events = own_page(workspace, tmp_path, web, name, KEPT[name], way)
    assert isinstance(events[-1], Kept), events[-1]
    text = events[-1].row["content"]
    assert FFFD not in text and FFFD not in next(e for e in events
                                                 if isinstance(e, Extracted)).html
    assert ACCENTED in text and ARTICLE[-1] in text


def test_fault_charset_labels_are_read_as_the_html_standard_reads_them():
    """Read as UTF-8, the windows-1252 page would hold replacement characters; read by
    its <meta>, it holds none. ISO-8859-1 means windows-1252; a <meta> that names UTF-16
    means UTF-8; an HTTP label of UTF-16 on an ASCII page is not taken."""
    assert WINDOWS_1252.decode("utf-8", "replace").count(FFFD) >= 10
    assert decode_html(WINDOWS_1252) == (WINDOWS_1252.decode("cp1252"), "cp1252")
    assert decode_html(ISO_8859_1)[1] == "cp1252"  # ISO-8859-1 means windows-1252
    ascii_page = html('<meta charset="utf-16">').encode("ascii", "xmlcharrefreplace")
    for http in (None, "utf-16", "utf-16le"):  # a UTF-16 reading of ASCII has no tags
        assert decode_html(ascii_page + b" " * (len(ascii_page) % 2), http)[1] == "utf-8"


def deep(levels: int) -> bytes:
    return html(body="<div>" * levels + "<p>Deep inside.</p>" + "</div>" * levels).encode()


# name: (bytes, what a file says (part of the message), what a URL says: its step: reason)
REFUSED = {
    "empty.html": (b"", "that is empty", "extract: no_main_text"),
    "binary.html": (bytes(range(256)) * 8, "binary file", "crawl: bad_encoding"),
    # Over HTTP, what arrives before the cut is read (as a browser shows it).
    "truncated.html.gz": (gzip.compress(WINDOWS_1252)[:80], "can't be unpacked",
                          "extract: no_main_text"),
    "page.zip": (b"PK\x03\x04" + b"\x00" * 60, "zip archive", "url_filter: file_type"),
    "gzip-bomb.html.gz": (gzip.compress(b"<p>" + b"a" * (8 * MB)), "unpacks to more than",
                          "crawl: too_large"),
    "too-big.html": (b"<html><body><p>" + b"word " * (MAX_FILE_BYTES // 5) + b"</p>",
                     "bytes; a page may have at most", "crawl: too_large"),
}


def url_reason(events_or_error) -> str:
    """"step: reason" for what became of a URL given as one's own page."""
    if isinstance(events_or_error, OwnPageError):
        message = str(events_or_error)
        if message.startswith("The URL filter skips"):
            return "url_filter: file_type" if "(archive)" in message else message
        return "crawl: " + message.split(" failed: ", 1)[1].split()[0]
    last = events_or_error[-1]
    assert isinstance(last, Dropped) and last.reason, last
    return f"{last.step}: {last.reason}"


@pytest.mark.parametrize("name", list(REFUSED))
def test_fault_a_page_that_cannot_be_kept_says_why(workspace, tmp_path, web, name):
    data, file_says, url_says = REFUSED[name]
    tracemalloc.start()
    try:
        with pytest.raises(OwnPageError, match=file_says) as refused:
            own_page(workspace, tmp_path, web, name, data, "file")
        assert name in str(refused.value)  # the message names the file
        path, body, headers = served(name, data)
        ctype = "application/zip" if name.endswith(".zip") else "text/html"
        web.add_route("127.0.0.1", path, Route(body=body, content_type=ctype, headers=headers))
        try:
            outcome = list(check_page(workspace, f"http://127.0.0.1:{web.port}{path}",
                                      add=False))
        except OwnPageError as error:
            outcome = error
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert url_reason(outcome) == url_says
    assert peak < 300 * MB + len(data)  # the test's own bytes aside


@pytest.mark.parametrize("way", ["file", "http"])
def test_fault_absurdly_deep_markup_ends_with_a_reason(workspace, tmp_path, web, way):
    events = own_page(workspace, tmp_path, web, "deep.html", deep(50_000), way)
    assert isinstance(events[-1], (Kept, Dropped)) and (isinstance(events[-1], Kept)
                                                        or events[-1].reason)


def test_fault_the_crawl_reads_every_hard_page_and_names_each_fate(workspace, tmp_path):
    """The data stage's own crawl over a web of the hard pages: each page is in the stored
    dataset or in the stored drops, once. Every encoding of the article reads to the same
    text, so the first (windows-1252) is kept and every other is its exact duplicate."""
    sites = tmp_path / "sites"
    (sites / "hard-pages.example").mkdir(parents=True)
    fates: dict[str, str] = {}
    with SampleWeb(sites) as web:
        for name, data in {**KEPT, **{n: c[0] for n, c in REFUSED.items()},
                           "deep.html": deep(50_000)}.items():
            path, body, headers = served(name, data)
            ctype = "application/zip" if name.endswith(".zip") else "text/html"
            url = web.add_route("hard-pages.example", path,
                                Route(body=body, content_type=ctype, headers=headers))
            fates[url] = name
        crawl = CrawlConfig(seeds=list(fates), max_pages=len(fates))
        events = list(run(workspace, DataConfig(crawl=crawl, web=web)))
    rows = read_rows(workspace.path("dataset"))
    drops = read_rows(workspace.path("dropped"), "dropped")
    said: dict[str, list[str]] = {url: [] for url in fates}
    for row in rows:
        said["http://" + row["url"]].append("kept")
    for drop in drops:  # the pages', and those of links on them ("/" is a 404)
        assert drop["reason"], drop
        said.setdefault(drop["url"], []).append(f"{drop['step']}: {drop['reason']}")
    said = {url: said[url] for url in fates}
    assert all(len(fate) == 1 for fate in said.values()), said
    by_name = {fates[url]: fate[0] for url, fate in said.items()}
    assert by_name.pop("windows-1252-meta-only.html") == "kept"
    for name in [*KEPT, "deep.html"]:
        if name in by_name:
            assert by_name[name] == "exact_dedup: exact_duplicate", (name, by_name[name])
    for name, (_data, _file_says, url_says) in REFUSED.items():
        assert by_name[name] == url_says, (name, by_name[name])
    assert [r["content"].count(FFFD) for r in rows] == [0]
    assert ACCENTED in rows[0]["content"]
    assert not any(FFFD in e.text for e in events if isinstance(e, Extracted))
