"""A viewer's own page, sent through the same steps as the crawl.

A local HTML file always works. A URL works when the machine is online; offline,
the error says so plainly. The page is compared with the stored dataset for
duplicates, and, if it survives every pass, added to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from engine import settings
from engine.data.crawler import CrawlConfig, Crawler
from engine.data.events import Dropped, Extracted, Kept, StepDone
from engine.data.extract import Extractor
from engine.data.pipeline import Funnel, apply_passes, corpus_passes, page_passes, to_row
from engine.data.urlfilter import BLOCKED_EXTENSIONS, URLFilter
from engine.workspace import Workspace


class OwnPageError(Exception):
    """The page could not be read at all (no such file, offline, not a URL)."""


MAX_FILE_BYTES = CrawlConfig().max_bytes  # the same cap as for a page from the crawl
HTML_SUFFIXES = {".html", ".htm", ".xhtml", ".shtml", ".php", ".asp", ".aspx", ".jsp", ""}
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz",
               b"PK\x03\x04": "zip", b"\x28\xb5\x2f\xfd": "zstd"}
_TEXT_BYTES = bytes([9, 10, 12, 13, *range(0x20, 0x100)])  # what is left are control bytes
# Files that are known by their first bytes whatever their name says (a PDF saved as
# page.html): named as what they are instead of being read as a page with no text.
_NOT_PAGES = {b"%PDF-": "a PDF document", b"\x89PNG\r\n\x1a\n": "a PNG image",
              b"\xff\xd8\xff": "a JPEG image", b"GIF87a": "a GIF image", b"GIF89a": "a GIF image",
              b"RIFF": "a RIFF file (WebP image, WAV sound or AVI video)",
              b"\x7fELF": "a program (ELF)", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
              "an old Microsoft Office document", b"SQLite format 3\x00": "an SQLite database"}
ADD_HTML = "Add a web page saved as .html (in a browser: Save Page As, Web Page, HTML only)."


def _decompress(data: bytes, kind: str, name: str) -> bytes:
    """A gzip, bzip2 or xz file's content, cut off past the size cap."""
    import bz2
    import gzip
    import lzma

    opener = {"gzip": lambda f: gzip.GzipFile(fileobj=f), "bzip2": bz2.BZ2File,
              "xz": lzma.LZMAFile}.get(kind)
    if opener is None:
        raise OwnPageError(f"{name} is a {kind} archive, not a web page. Unpack it and add "
                           "the HTML file inside.")
    import io

    try:
        with opener(io.BytesIO(data)) as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
    except (OSError, EOFError, lzma.LZMAError) as error:
        raise OwnPageError(f"{name} looks {kind}-compressed but can't be unpacked: "
                           f"{error}.") from None
    if len(content) > MAX_FILE_BYTES:
        raise OwnPageError(f"{name} unpacks to more than {MAX_FILE_BYTES:,} bytes, the size "
                           "cap for a page. Save a smaller page.")
    return content


def _read_file(path: Path, source: str) -> str:
    """A local page's text: size-capped, unpacked when compressed, its charset found."""
    from engine.data.charset import EncodingError, decode_html, wide_without_bom

    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise OwnPageError(f"{source} is {size:,} bytes; a page may have at most "
                           f"{MAX_FILE_BYTES:,} (the same cap as for the crawl).")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise OwnPageError(f"Can't read {source}: {error.strerror or error}.") from None
    for magic, kind in _COMPRESSED.items():
        if data.startswith(magic):
            data = _decompress(data, kind, source)
            break
    suffixes = [part.lower() for part in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zip"):
        suffixes.pop()
    suffix = suffixes[-1] if suffixes else ""
    kind = BLOCKED_EXTENSIONS.get(suffix.lstrip("."))
    if kind is not None:
        raise OwnPageError(f"{source} is a {suffix} file ({kind}), not an HTML page. "
                           f"{ADD_HTML}")
    for magic, what in _NOT_PAGES.items():
        if data.startswith(magic):
            raise OwnPageError(f"{source} is {what}, not an HTML page. {ADD_HTML}")
    looks_html = b"<" in data[:4096] or data[:4].startswith((b"\xff\xfe", b"\xfe\xff"))
    if suffix not in HTML_SUFFIXES and not looks_html or not data.strip():
        raise OwnPageError(f"{source} is not an HTML page (a {suffix or 'nameless'} file "
                           f"{'that is empty' if not data.strip() else 'with no HTML tags'}). "
                           f"{ADD_HTML}")
    top = data[:4096]
    controls = len(top.translate(None, _TEXT_BYTES))
    if b"\x00" in top and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00")) and \
            wide_without_bom(top) is None and controls > len(top) // 100:
        # A few stray NUL bytes in a page are read past, as they are over HTTP; UTF-16
        # without a byte-order mark is read as UTF-16.
        raise OwnPageError(f"{source} is a binary file, not an HTML page. {ADD_HTML}")
    try:
        html, _encoding = decode_html(data)
    except EncodingError as error:
        raise OwnPageError(f"{source} can't be read as text: {error}.") from None
    if "<" not in html[:4096]:
        raise OwnPageError(f"{source} is not an HTML page (no HTML tags at its top). "
                           f"{ADD_HTML}")
    return html


def _load(source: str) -> tuple[str, str, str]:
    """(url, html, fetched_at) for a file path or an http(s) URL."""
    if settings.remote():  # a visitor of a tour served over SSH or the web
        raise OwnPageError("Adding your own page is switched off in a shared tour: it would read "
                           "a file or fetch a URL on the machine that serves it.")
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    source = source.strip()
    if not source:
        raise OwnPageError("No page given: name a local HTML file or an http(s) URL.")
    is_url = source.lower().startswith(("http://", "https://"))
    if not is_url:
        if "://" in source:
            raise OwnPageError(f"{source} is a {source.split('://', 1)[0]} URL; the crawler "
                               "fetches http and https only.")
        path = Path(source).expanduser()
        try:
            if path.is_dir():
                raise OwnPageError(f"{source} is a folder, not a page. Name one HTML file "
                                   f"inside it (such as {path / 'index.html'}).")
            if not path.exists():
                raise OwnPageError(f"There is no file {source} (looked in {Path.cwd()}). "
                                   "Check the path, or give an http(s) URL.")
            if not path.is_file():
                raise OwnPageError(f"{source} is not a regular file (a device, a pipe or a "
                                   "socket). Name an HTML file saved on disk.")
        except OSError as error:  # a name too long, a folder that can't be entered
            raise OwnPageError(f"Can't open {source}: {error.strerror or error}.") from None
        return f"file://{path.resolve()}", _read_file(path, source), now
    verdict = URLFilter()(source)
    if not verdict.keep:
        raise OwnPageError(f"The URL filter skips {source}: {verdict.reason}.")
    with Crawler(CrawlConfig(seeds=[source], timeout=10.0), port=None) as crawler:
        fetched, page = crawler.fetch(source)
    if page is None:
        if fetched.reason in ("connect_error", "network_error"):
            raise OwnPageError(
                f"This machine looks offline: {source} could not be reached "
                f"({fetched.detail or fetched.reason}). Save the page as an HTML file and "
                "add the file instead.")
        raise OwnPageError(f"Fetching {source} failed: {fetched.reason} {fetched.detail}"
                           .strip())
    return page.url, page.html, page.fetched_at


def check_page(ws: Workspace, source: str, *, add: bool = True) -> Iterator[object]:
    """Yield the page's way through extraction and every pass; add it to the dataset if kept."""
    from engine.data.store import DATASET_COLUMNS, own_source, read_rows, write_table

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
    row["source"] = own_source(row["source"])  # the training mix upweights the viewer's pages
    if add:
        rows = [r for r in rows if r["url"] != row["url"]] + [row]
        write_table(rows, DATASET_COLUMNS, ws.path("dataset"))
    yield Kept(row)


def _key(exact, text: str) -> str:
    import hashlib

    return hashlib.sha1(" ".join(text.split()).lower().encode("utf-8")).hexdigest()
