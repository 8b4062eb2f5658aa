"""Step 2: fetch pages over real HTTP, following links from a few seeds.

A small, polite crawler in the spirit of the ones that feed Common Crawl: a frontier
of URLs per host, robots.txt read before a host's first page, a pause between two
requests to the same host, and limits on time, size, redirects and content type.
Every URL it meets gets a verdict from the URL filter before any request is made.

Hosts ending in ``.example`` are served by the local sample web: the transport sends
those requests to 127.0.0.1 with the original ``Host`` header, so the rest of the
crawler sees ordinary URLs.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from engine.data.urlfilter import URLFilter, UrlVerdict

if TYPE_CHECKING:
    from typing_extensions import Self

OFFLINE_ENV = "LLM_TOUR_OFFLINE"  # "1": only the sample web, never the internet

SEEDS_FILE = Path(__file__).parent / "web" / "seeds.txt"
USER_AGENT = "llm-tour-crawler/0.1 (+https://example.org/llm-tour)"
HTML_TYPES = ("text/html", "application/xhtml+xml")


def load_seeds(path: Path = SEEDS_FILE) -> list[str]:
    lines = path.read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@dataclass
class CrawlConfig:
    seeds: list[str] = field(default_factory=load_seeds)
    max_pages: int = 500  # successful page fetches before the crawl stops
    max_bytes: int = 1_000_000  # a page larger than this is cut off and skipped
    timeout: float = 3.0  # seconds for connect and for each read
    max_redirects: int = 5
    politeness: float = 0.005  # seconds between two requests to one host (local web: tiny)
    max_crawl_delay: float = 0.05  # cap on a robots.txt Crawl-delay, to keep the tour fast
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class UrlChecked:
    """A URL met for the first time, with the URL filter's verdict."""

    verdict: UrlVerdict
    found_on: str | None


@dataclass(frozen=True)
class Fetched:
    """One request and its outcome. ``reason`` is "ok" or why the page was not kept."""

    url: str
    status: int | None
    reason: str
    detail: str
    size: int
    elapsed: float
    queued: int  # URLs waiting in the frontier after this fetch
    kind: str = "page"  # "page" or "robots"


@dataclass(frozen=True)
class Page:
    """A fetched HTML document, ready for extraction."""

    url: str
    html: str
    status: int
    fetched_at: str
    links: int


class LocalTransport(httpx.BaseTransport):
    """Send requests for ``*.example`` hosts to a local server; others go out as usual."""

    def __init__(self, port: int | None, suffix: str = ".example") -> None:
        self.port, self.suffix = port, suffix
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if self.port is not None and host.endswith(self.suffix):
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
            request.headers["Host"] = host
        elif os.environ.get(OFFLINE_ENV) == "1":  # a shared server: visitors fetch no real URL
            raise httpx.ConnectError(f"{host} is outside the sample web, and this tour is "
                                     f"offline ({OFFLINE_ENV}=1)", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def extract_links(html: str, base: str) -> list[str]:
    """Absolute http(s) links of <a href>, without fragments, in page order, no repeats."""
    import lxml.html

    try:
        doc = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    seen: dict[str, None] = {}
    for element in doc.iter("a"):
        href = (element.get("href") or "").strip()
        if not href or href.startswith(("#", "mailto:", "javascript:", "tel:")):
            continue
        try:
            url = urldefrag(urljoin(base, href))[0]
        except ValueError:
            continue
        if url.startswith(("http://", "https://")):
            seen.setdefault(url, None)
    return list(seen)


class Frontier:
    """URLs waiting to be fetched, one queue per host, served round-robin."""

    def __init__(self) -> None:
        self.queues: dict[str, deque[str]] = {}
        self.next_time: dict[str, float] = {}

    def __len__(self) -> int:
        return sum(len(q) for q in self.queues.values())

    def push(self, url: str) -> None:
        self.queues.setdefault(urlsplit(url).netloc.lower(), deque()).append(url)

    def pop(self) -> tuple[str | None, float]:
        """The next URL whose host may be visited now, else (None, seconds to wait)."""
        now = time.monotonic()
        wait = float("inf")
        for host, queue in self.queues.items():
            if not queue:
                continue
            ready = self.next_time.get(host, 0.0)
            if ready <= now:
                return queue.popleft(), 0.0
            wait = min(wait, ready - now)
        return None, (0.0 if wait == float("inf") else wait)

    def visited(self, host: str, delay: float) -> None:
        self.next_time[host] = time.monotonic() + delay


class Crawler:
    def __init__(self, config: CrawlConfig | None = None, *, port: int | None = None,
                 url_filter: URLFilter | None = None) -> None:
        self.config = config or CrawlConfig()
        self.filter = url_filter or URLFilter()
        self.client = httpx.Client(
            transport=LocalTransport(port), follow_redirects=False,
            timeout=httpx.Timeout(self.config.timeout),
            headers={"User-Agent": self.config.user_agent})
        self.robots: dict[str, RobotFileParser | None] = {}
        self.delays: dict[str, float] = {}
        self.seen: set[str] = set()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------------------------
    def crawl(self) -> Iterator[UrlChecked | Fetched | Page]:
        frontier = Frontier()
        for url in self.config.seeds:
            yield from self._offer(url, None, frontier)
        pages = 0
        while len(frontier) and pages < self.config.max_pages:
            url, wait = frontier.pop()
            if url is None:
                time.sleep(wait)
                continue
            host = urlsplit(url).netloc.lower()
            if host not in self.robots:
                yield from self._load_robots(url, frontier)
            rules = self.robots.get(host)
            if rules is not None and not rules.can_fetch(self.config.user_agent, url):
                yield Fetched(url, None, "robots", "disallowed by robots.txt", 0, 0.0,
                              len(frontier))
                continue
            frontier.visited(host, self.delays.get(host, self.config.politeness))
            fetched, page = self.fetch(url, queued=len(frontier))
            if page is not None:
                pages += 1
                links = extract_links(page.html, page.url)
                page = Page(page.url, page.html, page.status, page.fetched_at, len(links))
                for link in links:
                    yield from self._offer(link, url, frontier)
            yield Fetched(fetched.url, fetched.status, fetched.reason, fetched.detail,
                          fetched.size, fetched.elapsed, len(frontier))
            if page is not None:
                yield page

    def _offer(self, url: str, found_on: str | None, frontier: Frontier) -> Iterator[UrlChecked]:
        if url in self.seen:
            return
        self.seen.add(url)
        verdict = self.filter(url)
        yield UrlChecked(verdict, found_on)
        if verdict.keep:
            frontier.push(url)

    def _load_robots(self, url: str, frontier: Frontier) -> Iterator[Fetched]:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        start = time.perf_counter()
        rules: RobotFileParser | None = None
        status: int | None = None
        reason = "ok"
        try:
            response = self.client.get(robots_url)
            status = response.status_code
            if status == 200:
                rules = RobotFileParser(robots_url)
                rules.parse(response.text.splitlines())
                delay = rules.crawl_delay(self.config.user_agent)
                if delay is not None:
                    self.delays[host] = min(float(delay), self.config.max_crawl_delay)
            else:
                reason = f"http_{status}"  # no robots.txt: everything is allowed
        except httpx.HTTPError as error:
            reason = _error_reason(error)
        self.robots[host] = rules
        yield Fetched(robots_url, status, reason, "robots.txt", 0,
                      time.perf_counter() - start, len(frontier), kind="robots")

    def fetch(self, url: str, queued: int = 0) -> tuple[Fetched, Page | None]:
        """One page with redirects, limits and checks. Never raises for network trouble."""
        start = time.perf_counter()
        seen = [url]
        current = url
        status: int | None = None

        def done(reason: str, detail: str = "", size: int = 0) -> tuple[Fetched, None]:
            return Fetched(url, status, reason, detail, size,
                           time.perf_counter() - start, queued), None

        for _hop in range(self.config.max_redirects + 1):
            try:
                with self.client.stream("GET", current) as response:
                    status = response.status_code
                    if status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location", "")
                        target = urldefrag(urljoin(current, location))[0]
                        if not location:
                            return done("bad_redirect", "redirect without a Location")
                        if target in seen:
                            return done("redirect_loop", f"{current} -> {target}")
                        verdict = self.filter(target)
                        if not verdict.keep:
                            return done("redirect_blocked", verdict.reason)
                        seen.append(target)
                        current = target
                        continue
                    if status >= 400:
                        return done(f"http_{status}", response.reason_phrase)
                    ctype = response.headers.get("Content-Type", "").lower()
                    if not ctype.startswith(HTML_TYPES):
                        return done("content_type", ctype or "no content type")
                    declared = int(response.headers.get("Content-Length") or 0)
                    if declared > self.config.max_bytes:
                        return done("too_large", f"{declared:,} bytes declared", declared)
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > self.config.max_bytes:
                            return done("too_large", f"over {self.config.max_bytes:,} bytes",
                                        len(body))
                    charset = response.charset_encoding or "utf-8"
                    try:
                        html = bytes(body).decode(charset)
                    except (UnicodeDecodeError, LookupError) as error:
                        return done("bad_encoding", f"{charset}: {error}"[:120], len(body))
                    fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
                    fetched = Fetched(current, status, "ok", "", len(body),
                                      time.perf_counter() - start, queued)
                    return fetched, Page(current, html, status, fetched_at, 0)
            except httpx.HTTPError as error:
                return done(_error_reason(error), str(error)[:120])
        return done("too_many_redirects", f"more than {self.config.max_redirects}")


def _error_reason(error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        return "connect_error"
    return "network_error"
