"""Real web pages nobody here wrote, through every way a page can enter the dataset.

    python benchmarks/real_pages.py --pages DIR

DIR is a folder of saved pages, searched recursively for ``*.html``, ``*.htm`` and
``*.html.gz``: for instance the test pages of trafilatura (``tests/cache/`` and the
HTML files of ``tests/resources/`` in https://github.com/adbar/trafilatura). They are
not shipped with the tour: they are other people's web pages.

Each page goes three ways, each way in a process of its own (so its peak memory is
its own) and with a fresh workspace:

- own page, file: what ``prepare data --add-page FILE`` and the Data chapter's box run
  (``engine.data.ownpage.check_page``), every kept page added to the dataset;
- own page, HTTP: the same with ``http://127.0.0.1:PORT/...``, each page served the
  way a plain web server serves a saved file: ``Content-Type: text/html`` with no
  charset, a ``.gz`` file with ``Content-Encoding: gzip``;
- dataset pipeline: ``engine.data.pipeline.run``, the code of ``prepare data``,
  crawling every page from a local web (extraction, every pass, deduplication
  across the pages, the store); each page's fate is read back from the stored
  ``dataset.parquet`` and ``dropped.parquet``.

It prints, per way: pages, kept, rejected, errors (exceptions that are not a message
for the user), pages without a reason, pages whose text holds a replacement character
(U+FFFD) its file did not, the process's peak memory (and, +MB, how much it grew after
the first page, which loads the language model, the tokenizer and the stored dataset),
seconds and the slowest page; then the rejections by step and reason, and each page
whose bytes are not UTF-8 (the encoding it was read in, and the replacement characters
a UTF-8 reading would have made); ``--list`` adds every page's fate. Errors, pages
without a reason and pages with a replacement character must be 0, and a way's stored
rows must be its kept pages: the exit status is 1 when one is not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's engine

WAYS = ("file", "http", "pipeline")
TITLES = {"file": "own page, file", "http": "own page, HTTP 127.0.0.1",
          "pipeline": "dataset pipeline (crawl)"}
SITE = "real-pages.example"
FFFD = "\ufffd"


def find_pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and
                  p.name.lower().endswith((".html", ".htm", ".html.gz")))


def served(path: Path) -> tuple[bytes, dict[str, str]]:
    """The bytes a plain web server sends for a saved page, and its extra headers."""
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        return data, {"Content-Encoding": "gzip"}
    return data, {}


def source_fffd(path: Path) -> int:
    """Replacement characters the page itself holds (some real pages do, in UTF-8)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.count(FFFD.encode("utf-8"))


def legacy_pages(pages: list[Path]) -> dict[Path, tuple[str, int]]:
    """The pages whose bytes are not UTF-8: the encoding the tour reads them in, and
    how many replacement characters a UTF-8 reading would have put in them."""
    from engine.data.charset import EncodingError, decode_html

    found = {}
    for page in pages:
        data = page.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                encoding = decode_html(data)[1]
            except EncodingError:
                encoding = "(none)"
            found[page] = (encoding, data.decode("utf-8", "replace").count(FFFD))
    return found


def url_path(index: int, path: Path) -> str:
    """``/pages/<n>/<name>``, the name without ``.gz`` (the URL filter skips archives)."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return f"/pages/{index:03d}/{quote(name)}"


def _fate(events: list) -> tuple[str, int]:
    """("kept" or "step: reason", U+FFFD in the text) for one own-page run; "" when the
    run ended without saying what became of the page."""
    from engine.data.events import Dropped, Extracted, Kept

    fffd = max([e.text.count(FFFD) for e in events if isinstance(e, Extracted)] or [0])
    last = events[-1] if events else None
    if isinstance(last, Kept):
        return "kept", max(fffd, last.row["content"].count(FFFD))
    if isinstance(last, Dropped) and last.reason:
        return f"{last.step}: {last.reason}", fffd
    return "", fffd


def own_pages(pages: list[Path], over_http: bool) -> dict:
    from engine.data.ownpage import OwnPageError, check_page
    from engine.data.store import read_rows
    from engine.data.web.server import Route, SampleWeb
    from engine.workspace import Workspace

    results: list[dict] = []
    first_mb = 0.0
    with tempfile.TemporaryDirectory() as root, SampleWeb(Path(root)) as web:
        ws = Workspace(Path(root) / "workspace")
        found = ws.find("dataset")  # the bundled dataset, which a viewer's page joins
        before = len(read_rows(found.path)) if found is not None else 0
        for index, page in enumerate(pages):
            source = str(page)
            if over_http:
                body, headers = served(page)
                path = url_path(index, page)
                web.add_route("127.0.0.1", path, Route(body=body, content_type="text/html",
                                                       headers=headers))
                source = f"http://127.0.0.1:{web.port}{path}"
            start = time.perf_counter()
            result = {"page": page.name, "fate": "", "fffd": 0, "error": ""}
            try:
                result["fate"], result["fffd"] = _fate(list(check_page(ws, source, add=True)))
            except OwnPageError as error:  # a plain message for the user: a reason
                message = str(error)
                result["fate"] = f"refused: {message[:70]}" if message else ""
            except Exception as error:  # noqa: BLE001 -- what the benchmark is looking for
                result["error"] = "".join(traceback.format_exception_only(error)).strip()
            result["seconds"] = time.perf_counter() - start
            result["fffd"] = max(0, result["fffd"] - source_fffd(page))
            results.append(result)
            first_mb = first_mb or peak_mb()
        stored = read_rows(ws.path("dataset")) if ws.path("dataset").exists() else []
    kept = sum(r["fate"] == "kept" for r in results)
    return {"results": results, "stored": len(stored) - before, "kept": kept,
            "first_mb": first_mb}


def pipeline(pages: list[Path]) -> dict:
    from engine.data.crawler import CrawlConfig
    from engine.data.events import Extracted, Kept
    from engine.data.pipeline import DataConfig, run
    from engine.data.store import read_rows
    from engine.data.web.server import Route, SampleWeb
    from engine.workspace import Workspace

    results: list[dict] = []
    with tempfile.TemporaryDirectory() as root:
        sites = Path(root) / "sites"
        (sites / SITE).mkdir(parents=True)
        ws = Workspace(Path(root) / "workspace")
        urls: dict[str, Path] = {}
        with SampleWeb(sites) as web:
            for index, page in enumerate(pages):
                body, headers = served(page)
                path = url_path(index, page)
                urls[web.add_route(SITE, path, Route(body=body, content_type="text/html",
                                                     headers=headers))] = page
            crawl = CrawlConfig(seeds=list(urls), max_pages=len(urls), timeout=10.0)
            fffd: Counter = Counter()
            start = time.perf_counter()
            error = ""
            try:
                for event in run(ws, DataConfig(crawl=crawl, web=web)):
                    if isinstance(event, Extracted):
                        fffd[event.url] = max(fffd[event.url], event.text.count(FFFD))
                    elif isinstance(event, Kept):
                        url = "http://" + event.row["url"]
                        fffd[url] = max(fffd[url], event.row["content"].count(FFFD))
            except Exception as failure:  # noqa: BLE001 -- what the benchmark is looking for
                error = "".join(traceback.format_exception_only(failure)).strip()
            seconds = time.perf_counter() - start
        rows = read_rows(ws.path("dataset")) if ws.path("dataset").exists() else []
        drops = read_rows(ws.path("dropped"), "dropped") if ws.path("dropped").exists() else []
    fates: dict[str, list[str]] = {}
    for row in rows:
        fates.setdefault("http://" + row["url"], []).append("kept")
    for drop in drops:
        if drop["reason"]:
            fates.setdefault(drop["url"], []).append(f"{drop['step']}: {drop['reason']}")
    for url, page in urls.items():
        said = fates.get(url, [])
        results.append({"page": page.name, "fate": said[0] if len(said) == 1 else "",
                        "fffd": max(0, fffd[url] - source_fffd(page)),
                        "error": error, "seconds": 0.0})
    kept = sum(r["fate"] == "kept" for r in results)  # every stored row is one of the pages
    return {"results": results, "stored": len(rows), "kept": kept, "seconds": seconds,
            "error": error}


def one_way(way: str, folder: Path) -> dict:
    pages = find_pages(folder)
    start = time.perf_counter()
    report = pipeline(pages) if way == "pipeline" else own_pages(pages, way == "http")
    report.setdefault("seconds", time.perf_counter() - start)
    report["peak_mb"] = peak_mb()
    return report


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary(way: str, report: dict) -> dict:
    results = report["results"]
    slowest = max(results, key=lambda r: r["seconds"], default=None)
    return {
        "pages": len(results),
        "kept": sum(r["fate"] == "kept" for r in results),
        "rejected": sum(bool(r["fate"]) and r["fate"] != "kept" for r in results),
        "errors": sum(bool(r["error"]) for r in results) if way != "pipeline"
        else int(bool(report.get("error"))),
        "no_reason": sum(not r["fate"] for r in results),
        "fffd": sum(r["fffd"] > 0 for r in results),
        "peak_mb": report["peak_mb"],
        "growth_mb": report["peak_mb"] - report["first_mb"] if report.get("first_mb") else None,
        "seconds": report["seconds"],
        "slowest": (f"{slowest['seconds']:.2f} s {slowest['page']}"
                    if slowest and way != "pipeline" else "-"),
        "stored_ok": report["stored"] == report["kept"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, required=True, help="a folder of saved pages")
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)  # one way, as JSON
    parser.add_argument("--list", action="store_true", help="print every page's fate too")
    args = parser.parse_args()
    if not args.pages.is_dir():
        parser.error(f"{args.pages} is not a folder")
    if args.way:
        print(json.dumps(one_way(args.way, args.pages)))
        return 0
    pages = find_pages(args.pages)
    if not pages:
        parser.error(f"{args.pages} holds no .html, .htm or .html.gz file")
    env = {**os.environ, "LLM_TOUR_THREADS": os.environ.get("LLM_TOUR_THREADS", "1")}
    reports = {}
    for way in WAYS:
        done = subprocess.run([sys.executable, __file__, "--pages", str(args.pages),
                               "--way", way], capture_output=True, text=True, env=env,
                              check=False)
        if done.returncode != 0:
            print(f"{TITLES[way]}: the run failed\n{done.stderr}", file=sys.stderr)
            return 1
        reports[way] = json.loads(done.stdout.strip().splitlines()[-1])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{len(pages)} pages from {args.pages}; load average {load:.2f} on "
          f"{os.cpu_count()} CPUs")
    head = (f"{'':<27}{'pages':>6}{'kept':>6}{'rejected':>9}{'errors':>7}{'no reason':>10}"
            f"{'U+FFFD':>7}{'peak MB':>8}{'+MB':>5}{'seconds':>8}  slowest page")
    print(head)
    failed = False
    sums = {}
    for way in WAYS:
        s = sums[way] = summary(way, reports[way])
        failed |= bool(s["errors"] or s["no_reason"] or s["fffd"] or not s["stored_ok"])
        growth = "-" if s["growth_mb"] is None else f"{s['growth_mb']:.0f}"
        print(f"{TITLES[way]:<27}{s['pages']:>6}{s['kept']:>6}{s['rejected']:>9}"
              f"{s['errors']:>7}{s['no_reason']:>10}{s['fffd']:>7}{s['peak_mb']:>8.0f}"
              f"{growth:>5}{s['seconds']:>8.1f}  {s['slowest']}")
    print()
    reasons = {way: Counter(r["fate"] for r in reports[way]["results"]
                            if r["fate"] and r["fate"] != "kept") for way in WAYS}
    every = sorted(set().union(*reasons.values()),
                   key=lambda k: -sum(reasons[w][k] for w in WAYS))
    print(f"{'rejected by step: reason':<48}" + "".join(f"{w:>10}" for w in WAYS))
    for reason in every:
        print(f"{reason[:47]:<48}" + "".join(f"{reasons[w][reason]:>10}" for w in WAYS))
    legacy = legacy_pages(pages)
    if legacy:
        print(f"\n{'pages not in UTF-8':<40}{'read as':<9}{'as UTF-8':>10}"
              f"{'U+FFFD (file/http/pipeline)':>30}  fate")
        fates = {way: {r["page"]: r for r in reports[way]["results"]} for way in WAYS}
        for page, (encoding, spoilt) in legacy.items():
            kept_fffd = "/".join(str(fates[w][page.name]["fffd"]) for w in WAYS)
            said = sorted({fates[w][page.name]["fate"] or "(no reason)" for w in WAYS})
            print(f"{page.name[:39]:<40}{encoding:<9}{f'{spoilt} U+FFFD':>10}"
                  f"{kept_fffd:>30}  {' | '.join(said)}")
    for way in WAYS:
        if not sums[way]["stored_ok"]:
            print(f"{TITLES[way]}: {reports[way]['stored']} rows stored for "
                  f"{sums[way]['kept']} pages kept")
        for r in reports[way]["results"]:
            if r["error"] or not r["fate"] or r["fffd"] or args.list:
                print(f"{way:<9}{r['page'][:50]:<51}{r['fate'] or '(no reason)'}"
                      f"{'  U+FFFD x%d' % r['fffd'] if r['fffd'] else ''}"
                      f"{'  ' + r['error'] if r['error'] else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
