"""The data stage from URL to dataset row, as one stream of events.

    for event in run(Workspace()):
        ...

1. filter URLs, 2. crawl the sample web over HTTP, 3-4. extract the text of each
page, 5. run the cleaning passes (per page while the crawl runs; deduplication once
the crawl is over, since a copy can only be recognised next to its original),
6. store the rows, the drops and the funnel in the workspace.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from engine.data.crawler import CrawlConfig, Crawler, Fetched, Page, UrlChecked
from engine.data.document import Document, Drop
from engine.data.events import Dropped, Extracted, Finished, Kept, StepDone, StepStarted
from engine.data.extract import Extractor
from engine.data.passes.c4 import C4QualityFilter
from engine.data.passes.exact_dedup import ExactDedup
from engine.data.passes.fineweb import FineWebQualityFilter
from engine.data.passes.gopher_quality import GopherQualityFilter
from engine.data.passes.gopher_repetition import GopherRepetitionFilter
from engine.data.passes.language import LanguageFilter
from engine.data.passes.minhash import MinHashDedup
from engine.data.passes.normalise import Normaliser
from engine.data.passes.pii import EmailAnonymiser
from engine.data.web.server import SITES_DIR, SampleWeb
from engine.workspace import Workspace

STEPS = {
    "url_filter": "Filter URLs",
    "crawl": "Crawl",
    "extract": "Extract text",
    "normalise": "Normalise Unicode and whitespace",
    "language": "Language ID (English, score ≥ 0.65)",
    "gopher_repetition": "Gopher repetition rules",
    "gopher_quality": "Gopher quality rules",
    "c4": "C4 line and page rules",
    "fineweb": "FineWeb custom rules",
    "exact_dedup": "Exact deduplication",
    "minhash": "MinHash near-deduplication",
    "anonymise": "Anonymise e-mail addresses",
    "store": "Store",
}


def page_passes() -> list:
    """The passes that judge one page on its own, in FineWeb's order."""
    return [Normaliser(), LanguageFilter(), GopherRepetitionFilter(), GopherQualityFilter(),
            C4QualityFilter(), FineWebQualityFilter()]


def corpus_passes() -> list:
    """The passes that compare pages with each other, then the one that edits them."""
    return [ExactDedup(), MinHashDedup(), EmailAnonymiser()]


@dataclass
class DataConfig:
    crawl: CrawlConfig = field(default_factory=CrawlConfig)
    sites_dir: Path = SITES_DIR
    write: bool = True  # False: run everything but leave the workspace alone
    web: SampleWeb | None = None  # a web already serving (with routes of its own); None: sites_dir


class Funnel:
    """Counts in and out of every step, and the reasons for drops."""

    def __init__(self) -> None:
        self.steps: dict[str, dict] = {
            name: {"step": name, "label": label, "in": 0, "out": 0, "edited": 0,
                   "dropped": Counter()}
            for name, label in STEPS.items()}

    def passed(self, step: str) -> None:
        self.steps[step]["in"] += 1
        self.steps[step]["out"] += 1

    def dropped(self, step: str, reason: str) -> None:
        self.steps[step]["in"] += 1
        self.steps[step]["dropped"][reason] += 1

    def as_list(self) -> list[dict]:
        return [{**s, "dropped": dict(s["dropped"].most_common())} for s in self.steps.values()]


def apply_passes(doc: Document, passes: list, funnel: Funnel,
                 drops: list[dict]) -> Iterator[Dropped]:
    """Run ``doc`` through ``passes``; record and yield a drop, or leave ``doc`` kept."""
    for step in passes:
        before = doc.text
        verdict: Drop | None = step(doc)
        if verdict is not None:
            funnel.dropped(step.name, verdict.reason)
            drops.append({"url": doc.url, "step": step.name, "reason": verdict.reason,
                          "detail": verdict.detail})
            yield Dropped(doc.url, step.name, verdict.reason, verdict.detail, before)
            doc.metadata["dropped"] = True
            return
        funnel.passed(step.name)
        if doc.text != before:
            funnel.steps[step.name]["edited"] += 1


@contextmanager
def in_background(produce, size: int = 256) -> Iterator[Iterator]:
    """Run a generator in a thread, ahead of its consumer: the crawler waits on the network
    while the main thread extracts and cleans. Leaving the block stops the thread."""
    items: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in produce():
                if not put((None, item)):
                    return
        except Exception as error:  # noqa: BLE001 -- handed to the consumer, which raises it
            put((error, None))
        put((None, end))

    def consume() -> Iterator:
        while True:
            error, item = items.get()
            if error is not None:
                raise error
            if item is end:
                return
            yield item

    thread = threading.Thread(target=work, name="crawler", daemon=True)
    thread.start()
    try:
        yield consume()
    finally:
        stop.set()
        thread.join(timeout=10)


def to_row(doc: Document) -> dict:
    from engine.tokenizer.cl100k import count_tokens

    return {
        "url": doc.url.split("://", 1)[-1],
        "title": doc.title,
        "source": doc.source,
        "content": doc.text,
        "language": doc.metadata.get("language", ""),
        "language_score": doc.metadata.get("language_score", 0.0),
        "token_count": count_tokens(doc.text),
        "fetched_at": doc.fetched_at,
    }


def run(ws: Workspace | None = None, config: DataConfig | None = None) -> Iterator[object]:
    """Crawl, extract, clean and store. Stop iterating to cancel; files are then untouched."""
    ws = ws if ws is not None else Workspace()
    config = config or DataConfig()
    start = time.perf_counter()
    funnel = Funnel()
    drops: list[dict] = []
    survivors: list[tuple[tuple, Document]] = []
    extractor = Extractor()
    extractor.reset()
    passes = page_passes()

    yield StepStarted("crawl", STEPS["crawl"])
    serving = nullcontext(config.web) if config.web is not None else SampleWeb(config.sites_dir)
    with serving as web, \
            Crawler(config.crawl, port=web.port, hosts=web.hosts) as crawler, \
            in_background(crawler.crawl) as crawl_events:
        for event in crawl_events:
            yield event
            if isinstance(event, UrlChecked):
                verdict = event.verdict
                if verdict.keep:
                    funnel.passed("url_filter")
                else:
                    funnel.dropped("url_filter", verdict.category)
                    drops.append({"url": verdict.url, "step": "url_filter",
                                  "reason": verdict.category, "detail": verdict.detail})
            elif isinstance(event, Fetched) and event.kind == "page":
                if event.reason == "ok":
                    funnel.passed("crawl")
                else:
                    funnel.dropped("crawl", event.reason)
                    drops.append({"url": event.url, "step": "crawl", "reason": event.reason,
                                  "detail": event.detail})
            elif isinstance(event, Page):
                doc = extractor(event.url, event.html, event.fetched_at)
                if doc is None:
                    funnel.dropped("extract", "no_main_text")
                    drops.append({"url": event.url, "step": "extract", "reason": "no_main_text",
                                  "detail": "trafilatura found no article text"})
                    yield Dropped(event.url, "extract", "no_main_text", "", "")
                    continue
                funnel.passed("extract")
                yield Extracted(doc.url, doc.title, doc.source, event.html, doc.text)
                yield from apply_passes(doc, passes, funnel, drops)
                if not doc.metadata.get("dropped"):
                    # Copies are judged after the crawl: the page that names itself as
                    # canonical, then the earlier one, is the original.
                    key = (doc.metadata.get("canonical") != doc.url, doc.date, len(survivors))
                    survivors.append((key, doc))
    for step in ("url_filter", "crawl", "extract") + tuple(p.name for p in passes):
        info = funnel.steps[step]
        yield StepDone(step, info["out"], info["in"] - info["out"])

    yield StepStarted("exact_dedup", STEPS["exact_dedup"])
    kept: list[Document] = []
    late = corpus_passes()
    for _key, doc in sorted(survivors, key=lambda item: item[0]):
        yield from apply_passes(doc, late, funnel, drops)
        if not doc.metadata.get("dropped"):
            kept.append(doc)
    for step in late:
        info = funnel.steps[step.name]
        yield StepDone(step.name, info["out"], info["in"] - info["out"])

    yield StepStarted("store", STEPS["store"])
    rows = []
    for doc in kept:
        row = to_row(doc)
        rows.append(row)
        funnel.passed("store")
        yield Kept(row)
    funnel_list = funnel.as_list()
    paths = write_outputs(ws, rows, drops, funnel_list) if config.write else {}
    yield StepDone("store", len(rows), 0)
    yield Finished(funnel_list, len(rows), len(drops), time.perf_counter() - start, paths)


def write_outputs(ws: Workspace, rows: list[dict], drops: list[dict],
                  funnel: list[dict]) -> dict[str, str]:
    from engine.data.store import write_all

    return write_all(ws, rows, drops, funnel)
