"""Step 2: fetch pages over real HTTP, following links from a few seeds.

A small, polite crawler in the spirit of the ones that feed Common Crawl: a frontier
of URLs per host, robots.txt read before a host's first page, a pause between two
requests to the same host, and limits on time, size, redirects and content type.
Every URL it meets gets a verdict from the URL filter before any request is made.

Hosts ending in ``.example`` are served by the local sample web: the transport sends
those requests to 127.0.0.1 with the original ``Host`` header, so the rest of the
crawler sees ordinary URLs.

What a page cannot make it do: leave the sites it was given (links and redirects to
other hosts are skipped unless ``any_host`` is set), connect to a private, link-local
or metadata address (checked on the URL and again on what a name resolves to), get
past robots.txt with a redirect (every hop is checked), hold it longer than
``deadline`` seconds per URL (however slowly it drips its bytes), send it more than
``max_bytes`` (robots.txt too, counted after decompression), or spend more than
``max_requests`` requests on a crawl.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpcore
import httpx

from engine import settings
from engine.data.charset import EncodingError, decode_html
from engine.data.urlfilter import URLFilter, UrlVerdict, address_problem

if TYPE_CHECKING:
    from typing_extensions import Self


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
    max_requests: int | None = None  # every request counts, robots.txt too; None: 4 per page + 20
    max_bytes: int = 1_000_000  # a page larger than this is cut off and skipped
    max_robots_bytes: int = 500_000  # robots.txt larger than this (decompressed) is ignored
    timeout: float = 3.0  # seconds for connect and for each read
    deadline: float = 10.0  # seconds for one URL in all: redirects, headers and body
    max_redirects: int = 5
    politeness: float = 0.005  # seconds between two requests to one host (local web: tiny)
    max_crawl_delay: float = 0.05  # cap on a robots.txt Crawl-delay, to keep the tour fast
    user_agent: str = USER_AGENT
    allowed_hosts: tuple[str, ...] = ()  # besides the seeds' hosts; see Crawler
    any_host: bool = False  # True: follow links and redirects to any host
    allow_private: bool = False  # True: private and link-local addresses may be fetched

    @property
    def request_budget(self) -> int:
        return self.max_requests if self.max_requests is not None else 4 * self.max_pages + 20


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

    @property
    def tally(self) -> tuple[str, ...]:  # engine.events.StageState counts the pages asked for
        return ("fetched",) if self.kind == "page" else ()


@dataclass(frozen=True)
class Page:
    """A fetched HTML document, ready for extraction."""

    url: str
    html: str
    status: int
    fetched_at: str
    links: int


# The moment the URL being fetched must be done by (time.monotonic()), per thread.
_DEADLINE = threading.local()


class _DeadlineStream(httpcore.NetworkStream):
    """A socket whose every read waits at most until the fetch's deadline, so a server
    that drips a byte at a time cannot hold a URL past it."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    @staticmethod
    def _left(timeout: float | None) -> float | None:
        deadline = getattr(_DEADLINE, "at", None)
        if deadline is None:
            return timeout
        left = deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("the URL's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self._left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self._left(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname,
                                                    self._left(timeout)))

    def get_extra_info(self, info: str):
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """Connections that keep to the deadline, and refuse addresses the policy forbids
    (a public name can resolve to a private address)."""

    def __init__(self, allow_private: bool) -> None:
        self.inner = httpcore.SyncBackend()
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        if not self.allow_private:
            try:
                infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as error:
                raise httpcore.ConnectError(f"{host}: {error}") from None
            for info in infos:
                problem = address_problem(info[4][0], port, resolved=True)
                if problem is not None:
                    raise httpcore.ConnectError(f"refused: {host} resolves to {problem}")
        stream = self.inner.connect_tcp(host, port, _DeadlineStream._left(timeout),
                                        local_address, socket_options)
        return _DeadlineStream(stream)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise httpcore.ConnectError("the crawler does not use unix sockets")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class LocalTransport(httpx.BaseTransport):
    """Send requests for ``*.example`` hosts to a local server; others go out as usual,
    through connections that keep to the fetch's deadline and the address policy."""

    def __init__(self, port: int | None, suffix: str = ".example", *,
                 allow_private: bool = False) -> None:
        self.port, self.suffix = port, suffix
        self.inner = httpx.HTTPTransport()
        self.inner._pool = httpcore.ConnectionPool(
            network_backend=_DeadlineBackend(allow_private), max_connections=10)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if self.port is not None and host.endswith(self.suffix):
            request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
            request.headers["Host"] = host
        elif settings.offline():  # a shared server: visitors fetch no real URL
            raise httpx.ConnectError(f"{host} is outside the sample web, and this tour is "
                                     f"offline ({settings.OFFLINE}=1)", request=request)
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
    """The crawl of ``config.seeds``. It keeps to the seeds' hosts, ``hosts`` (the sample
    web's, say) and ``config.allowed_hosts``, unless ``config.any_host`` is set.
    ``transport`` replaces the network (a test records every request with it)."""

    def __init__(self, config: CrawlConfig | None = None, *, port: int | None = None,
                 url_filter: URLFilter | None = None, hosts: Iterable[str] = (),
                 transport: httpx.BaseTransport | None = None) -> None:
        self.config = config or CrawlConfig()
        self.filter = url_filter or URLFilter(allow_private=self.config.allow_private)
        self.client = httpx.Client(
            transport=transport or LocalTransport(port, allow_private=self.config.allow_private),
            follow_redirects=False, timeout=httpx.Timeout(self.config.timeout),
            headers={"User-Agent": self.config.user_agent}, trust_env=False)
        self.hosts = {h.lower() for h in (*hosts, *self.config.allowed_hosts)}
        for seed in self.config.seeds:
            self.hosts.add(_host(seed))
        self.robots: dict[str, RobotFileParser | None] = {}
        self.delays: dict[str, float] = {}
        self.seen: set[str] = set()
        self.requests = 0  # every request made, robots.txt included
        self._pending: list[Fetched] = []  # robots.txt fetches made during a page's fetch

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
        budget = self.config.request_budget
        while len(frontier) and pages < self.config.max_pages:
            url, wait = frontier.pop()
            if url is None:
                time.sleep(wait)
                continue
            if self.requests >= budget:
                yield Fetched(url, None, "request_budget",
                              f"the crawl's {budget:,} requests are spent", 0, 0.0,
                              len(frontier))
                break
            host = urlsplit(url).netloc.lower()
            if host not in self.robots:
                self._robots_for(url)
                yield from self._flush(len(frontier))
            rules = self.robots.get(host)
            if rules is not None and not rules.can_fetch(self.config.user_agent, url):
                yield Fetched(url, None, "robots", "disallowed by robots.txt", 0, 0.0,
                              len(frontier))
                continue
            frontier.visited(host, self.delays.get(host, self.config.politeness))
            fetched, page = self.fetch(url, queued=len(frontier))
            yield from self._flush(len(frontier))
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

    def verdict(self, url: str) -> UrlVerdict:
        """The URL filter's verdict, then whether the URL stays on the crawl's sites."""
        verdict = self.filter(url)
        if verdict.keep and not self.config.any_host and _host(url) not in self.hosts:
            return UrlVerdict(url, False, "off_site",
                              f"{_host(url)} is not one of the sites this crawl was given")
        return verdict

    def _offer(self, url: str, found_on: str | None, frontier: Frontier) -> Iterator[UrlChecked]:
        if url in self.seen:
            return
        self.seen.add(url)
        verdict = self.verdict(url)
        yield UrlChecked(verdict, found_on)
        if verdict.keep:
            frontier.push(url)

    def _flush(self, queued: int) -> Iterator[Fetched]:
        pending, self._pending = self._pending, []
        for event in pending:
            yield Fetched(event.url, event.status, event.reason, event.detail, event.size,
                          event.elapsed, queued, kind="robots")

    def allowed(self, url: str) -> bool:
        """robots.txt's answer for ``url``, reading the host's robots.txt the first time."""
        rules = self._robots_for(url)
        return rules is None or rules.can_fetch(self.config.user_agent, url)

    def _robots_for(self, url: str) -> RobotFileParser | None:
        parts = urlsplit(url)
        host = parts.netloc.lower()
        if host in self.robots:
            return self.robots[host]
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        start = time.perf_counter()
        rules: RobotFileParser | None = None
        status: int | None = None
        reason, size = "ok", 0
        cap = self.config.max_robots_bytes
        _DEADLINE.at = time.monotonic() + self.config.deadline
        try:
            self.requests += 1
            with self.client.stream("GET", robots_url) as response:
                status = response.status_code
                if status == 200:
                    body = bytearray()
                    for chunk in response.iter_bytes():  # decompressed, so the cap holds
                        body += chunk
                        if len(body) > cap:
                            break
                    size = len(body)
                    if size > cap:
                        reason = "too_large"  # ignored, as Google ignores what is past 500 KiB
                    else:
                        rules = RobotFileParser(robots_url)
                        rules.parse(bytes(body).decode("utf-8", "replace").splitlines())
                        delay = rules.crawl_delay(self.config.user_agent)
                        if delay is not None:
                            self.delays[host] = min(float(delay), self.config.max_crawl_delay)
                else:
                    reason = f"http_{status}"  # no robots.txt: everything is allowed
        except (httpx.HTTPError, httpx.StreamError, ValueError) as error:
            reason = _error_reason(error)
        finally:
            _DEADLINE.at = None
        self.robots[host] = rules
        self._pending.append(Fetched(robots_url, status, reason, "robots.txt", size,
                                     time.perf_counter() - start, 0, kind="robots"))
        return rules

    def fetch(self, url: str, queued: int = 0) -> tuple[Fetched, Page | None]:
        """One page with redirects, limits and checks. Never raises for network trouble."""
        start = time.perf_counter()
        seen = [url]
        current = url
        status: int | None = None

        def done(reason: str, detail: str = "", size: int = 0) -> tuple[Fetched, None]:
            return Fetched(url, status, reason, detail, size,
                           time.perf_counter() - start, queued), None

        if not self.hosts:  # a page fetched on its own: its site is the one it may stay on
            self.hosts.add(_host(url))
        deadline = time.monotonic() + self.config.deadline
        for _hop in range(self.config.max_redirects + 1):
            if time.monotonic() >= deadline:
                return done("timeout", f"over the {self.config.deadline:g} s deadline")
            if current != url and not self.allowed(current):  # the first URL: the caller's
                return done("robots", f"redirected to {current}, disallowed by robots.txt")
            if self.requests >= self.config.request_budget:
                return done("request_budget", "the crawl's requests are spent")
            try:
                self.requests += 1
                _DEADLINE.at = deadline
                with self.client.stream("GET", current) as response:
                    status = response.status_code
                    if status in (301, 302, 303, 307, 308):
                        location = response.headers.get("Location", "")
                        target = urldefrag(urljoin(current, location))[0]
                        if not location:
                            return done("bad_redirect", "redirect without a Location")
                        if target in seen:
                            return done("redirect_loop", f"{current} -> {target}")
                        verdict = self.verdict(target)
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
                    try:
                        declared = int(response.headers.get("Content-Length") or 0)
                    except ValueError:
                        return done("bad_response", "Content-Length is not a number")
                    if declared > self.config.max_bytes:
                        return done("too_large", f"{declared:,} bytes declared", declared)
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > self.config.max_bytes:
                            return done("too_large", f"over {self.config.max_bytes:,} bytes",
                                        len(body))
                    try:
                        html, _encoding = decode_html(bytes(body), response.charset_encoding)
                    except EncodingError as error:
                        return done("bad_encoding", str(error)[:160], len(body))
                    fetched_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
                    fetched = Fetched(current, status, "ok", "", len(body),
                                      time.perf_counter() - start, queued)
                    return fetched, Page(current, html, status, fetched_at, 0)
            except (httpx.HTTPError, httpx.StreamError, ValueError) as error:
                if "location header" in str(error).lower():  # httpx checks it on arrival
                    return done("bad_redirect", str(error)[:120])
                return done(_error_reason(error), str(error)[:120])
            finally:
                _DEADLINE.at = None
        return done("too_many_redirects", f"more than {self.config.max_redirects}")


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _error_reason(error: Exception) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timeout"
    if isinstance(error, httpx.ConnectError):
        return "connect_error"
    if isinstance(error, (httpx.DecodingError, httpx.RemoteProtocolError)):
        return "bad_response"  # not HTTP, cut short, or a body that does not decode
    return "network_error"
