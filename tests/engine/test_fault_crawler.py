"""Fault corpus, HTTP: a misbehaving server on 127.0.0.1, and pages that try to lead the
crawler elsewhere.

Every request goes through a transport that records it, so each case can check that
nothing was asked of a host outside the allowed set. Slow cases are checked by what the
server managed to send before the crawler gave up (a dripping server that held a URL past
its deadline would have sent many more bytes), never by the clock.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import tracemalloc

import httpx
import pytest

from engine.data.crawler import CrawlConfig, Crawler, Fetched, LocalTransport, Page, UrlChecked
from engine.data.urlfilter import URLFilter

MB = 1 << 20
PAGE = (b"<html><head><title>t</title></head><body><p>" + b"A page of text. " * 20 +
        b"</p></body></html>")
ELSEWHERE = ("http://example.com/", "http://169.254.169.254/latest/meta-data/",
             "http://10.0.0.1/", "http://192.168.0.1:8080/", "http://[fe80::1]/",
             "http://metadata.google.internal/", "http://other-site.example/")


def response(status: int = 200, body: bytes = PAGE, ctype: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status} X", f"Content-Type: {ctype}", "Connection: close"]
    if headers is None or "Content-Length" not in headers:
        head.append(f"Content-Length: {len(body)}")
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class Misbehaving:
    """A raw HTTP server on 127.0.0.1: each path answers with a byte string, or drips it.

    ``routes[path]`` is bytes (sent at once) or ("drip", bytes) (one byte every
    ``drip_every`` seconds). ``sent[path]`` counts the bytes that went out."""

    def __init__(self) -> None:
        self.routes: dict[str, object] = {}
        self.sent: dict[str, int] = {}
        self.paths: list[str] = []
        self.drip_every = 0.25
        self.drip_after = 0  # bytes sent at once before the drip starts
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            path = data.split(b" ", 2)[1].decode("latin-1")
            self.paths.append(path)
            route = self.routes.get(path, response(404, b"<html>no</html>"))
            self.sent[path] = 0
            try:
                if isinstance(route, tuple):
                    for i in range(len(route[1])):
                        if self.stopping.is_set():
                            return
                        conn.sendall(route[1][i:i + 1])
                        self.sent[path] += 1
                        time.sleep(self.drip_every if i >= self.drip_after else 0.0)
                else:
                    conn.sendall(route)
                    self.sent[path] = len(route)
            except OSError:
                return

    def close(self) -> None:
        self.stopping.set()
        self.sock.close()


class Recording(httpx.BaseTransport):
    """Every request's host and path, before any rewriting, then the real transport."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append((request.url.host, request.url.path))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def server():
    web = Misbehaving()
    web.routes["/robots.txt"] = response(
        body=b"User-agent: *\nDisallow: /private/\n", ctype="text/plain")
    yield web
    web.close()


def crawler(server, **config) -> tuple[Crawler, Recording]:
    settings = {"seeds": [f"{server.base}/"], "timeout": 2.0, "deadline": 1.5,
                "politeness": 0.0, "max_pages": 20, **config}
    recorder = Recording(LocalTransport(None))
    return Crawler(CrawlConfig(**settings), transport=recorder), recorder


def crawl(server, allowed=("127.0.0.1",), **config) -> tuple[list, Recording]:
    spider, recorder = crawler(server, **config)
    with spider:
        events = list(spider.crawl())
    assert {host for host, _ in recorder.requests} <= set(allowed)  # never anywhere else
    return events, recorder


def fetched(events, path: str) -> Fetched:
    return next(e for e in events if isinstance(e, Fetched) and e.url.endswith(path))


def links(*targets: str) -> bytes:
    return b"<html><body>" + b"".join(f'<a href="{t}">{t}</a>'.encode() for t in targets) + \
        b"</body></html>"


# -- staying inside the sites it was given ------------------------------------------------

def test_fault_links_to_other_hosts_are_never_requested(server):
    server.routes["/"] = response(body=links(*ELSEWHERE, "/fine"))
    server.routes["/fine"] = response()
    events, recorder = crawl(server)
    verdicts = {e.verdict.url: e.verdict for e in events if isinstance(e, UrlChecked)}
    for url in ELSEWHERE:
        assert not verdicts[url].keep, url
    assert verdicts["http://example.com/"].category == "off_site"
    assert verdicts["http://169.254.169.254/latest/meta-data/"].category == "address"
    assert fetched(events, "/fine").reason == "ok"


@pytest.mark.parametrize("target", ELSEWHERE)
def test_fault_a_redirect_off_the_site_is_not_followed(server, target):
    server.routes["/"] = response(302, b"", headers={"Location": target})
    events, recorder = crawl(server)
    assert fetched(events, f"{server.port}/").reason == "redirect_blocked"
    assert recorder.requests == [("127.0.0.1", "/robots.txt"), ("127.0.0.1", "/")]


def test_fault_a_redirect_does_not_get_past_robots(server):
    server.routes["/"] = response(body=links("/to-robots-disallowed"))
    server.routes["/to-robots-disallowed"] = response(
        302, b"", headers={"Location": "/private/secret"})
    server.routes["/private/secret"] = response()
    events, _ = crawl(server)
    assert fetched(events, "/to-robots-disallowed").reason == "robots"
    assert "/private/secret" not in server.paths


def test_fault_robots_is_read_again_for_a_new_host_after_a_redirect(server):
    """Asked to follow any host, a redirect to another host reads that host's robots.txt
    before the page."""
    server.routes["/"] = response(
        302, b"", headers={"Location": f"http://localhost:{server.port}/private/x"})
    server.routes["/private/x"] = response()
    events, recorder = crawl(server, allowed=("127.0.0.1", "localhost"), any_host=True)
    assert fetched(events, f"{server.port}/").reason == "robots"
    assert ("localhost", "/robots.txt") in recorder.requests
    assert ("localhost", "/private/x") not in recorder.requests


def test_fault_private_addresses_are_refused_even_when_any_host_is_allowed():
    spider = Crawler(CrawlConfig(seeds=[], any_host=True))
    for url in ELSEWHERE[1:6]:
        assert spider.verdict(url).category == "address", url
    assert spider.verdict("http://127.0.0.1:8000/page.html").keep  # a local site with a port
    assert spider.verdict("http://127.0.0.1/page.html").category == "address"
    assert URLFilter(allow_private=True)("http://10.0.0.1/").keep  # when asked otherwise
    spider.close()


def test_fault_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    import engine.data.crawler as crawler_module

    def resolve(host, port, type=0):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr(crawler_module.socket, "getaddrinfo", resolve)
    with Crawler(CrawlConfig(seeds=[], timeout=0.5)) as spider:
        result, page = spider.fetch("http://innocent-looking.test/")
    assert page is None and result.reason == "connect_error"
    assert "10.1.2.3" in result.detail


# -- deadlines and size caps ---------------------------------------------------------------

@pytest.mark.parametrize("path,drip", [("/drip-headers", response()), ("/drip-body", None)],
                         ids=["headers", "body"])
def test_fault_a_dripping_server_cannot_hold_a_url_past_its_deadline(server, path, drip):
    if drip is None:  # headers at once, then the body a byte at a time
        head = response(body=b"", headers={"Content-Length": "5000"})
        server.routes[path] = ("drip", head + b"<html>" + b"x" * 4000)
        server.drip_after = len(head)
    server.routes.setdefault(path, ("drip", drip))
    with crawler(server)[0] as spider:
        result, page = spider.fetch(server.base + path)
    assert page is None and result.reason == "timeout"
    time.sleep(0.6)  # let the server notice the closed connection
    # 1.5 s at a byte every 0.25 s: a handful of bytes; a hang would have sent hundreds
    assert server.sent[path] - server.drip_after < 40


def test_fault_a_dripping_robots_txt_is_given_up_on(server):
    server.routes["/robots.txt"] = ("drip", response(body=b"User-agent: *\nDisallow:\n" * 50,
                                                     ctype="text/plain"))
    server.routes["/"] = response()
    events, _ = crawl(server)
    robots = next(e for e in events if isinstance(e, Fetched) and e.kind == "robots")
    assert robots.reason == "timeout"
    assert fetched(events, f"{server.port}/").reason == "ok"
    time.sleep(0.6)
    assert server.sent["/robots.txt"] < 40


def test_fault_a_gzip_bomb_robots_txt_stays_small(server):
    bomb = gzip.compress(b"Disallow: /x\n" * (40 * MB // 13), compresslevel=9)
    server.routes["/robots.txt"] = response(body=bomb, ctype="text/plain",
                                            headers={"Content-Encoding": "gzip",
                                                     "Content-Length": str(len(bomb))})
    server.routes["/"] = response()
    tracemalloc.start()
    try:
        events, _ = crawl(server)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    robots = next(e for e in events if isinstance(e, Fetched) and e.kind == "robots")
    assert robots.reason == "too_large"
    assert peak < 300 * MB


def test_fault_a_gzip_bomb_page_stays_small(server):
    bomb = gzip.compress(b"<p>" + b"a" * (50 * MB) + b"</p>", compresslevel=9)
    server.routes["/bomb"] = response(body=bomb, headers={"Content-Encoding": "gzip",
                                                           "Content-Length": str(len(bomb))})
    tracemalloc.start()
    try:
        with crawler(server)[0] as spider:
            result, page = spider.fetch(server.base + "/bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert page is None and result.reason == "too_large"
    assert peak < 300 * MB


def test_fault_a_huge_robots_txt_is_ignored(server):
    server.routes["/robots.txt"] = response(body=b"Disallow: /\n" * 60_000, ctype="text/plain")
    server.routes["/"] = response()
    events, _ = crawl(server)
    assert next(e for e in events if e.__class__ is Fetched and e.kind == "robots"
                ).reason == "too_large"


def test_fault_a_crawl_has_a_budget_of_requests(server):
    server.routes["/"] = response(body=links(*(f"/missing-{i}" for i in range(3000))))
    events, recorder = crawl(server, max_pages=5)
    budget = CrawlConfig(max_pages=5).request_budget
    assert len(recorder.requests) <= budget
    assert any(isinstance(e, Fetched) and e.reason == "request_budget" for e in events)


# -- responses that are not what they claim ------------------------------------------------

@pytest.mark.parametrize("raw,reason", [
    (response(headers={"Content-Length": "banana"}), "bad_response"),
    (response(body=b"not gzip at all", headers={"Content-Encoding": "gzip"}), "bad_response"),
    (response(302, b"", headers={"Location": "file:///etc/passwd"}), "redirect_blocked"),
    (response(302, b"", headers={"Location": "http://[::1"}), "bad_redirect"),
    (response(302, b""), "bad_redirect"),
    (response(ctype=""), "content_type"),
    (response(ctype="application/octet-stream", body=b"\x00\x01" * 100), "content_type"),
    (b"NOT HTTP AT ALL\r\n\r\n", "bad_response"),
    (b"", "bad_response"),
    (response(body=PAGE[:40], headers={"Content-Length": "5000"}), "bad_response"),
    (response(ctype="text/html; charset=no-such-charset"), "ok"),
    (response(body=b"<html><body>\xff\xfe\x00\x80 \xc3\x28 broken</body></html>",
              ctype="text/html; charset=utf-8"), "ok"),
], ids=["bad-length", "bad-gzip", "file-redirect", "broken-location", "no-location",
        "no-type", "binary", "not-http", "empty-reply", "cut-short", "unknown-charset",
        "bad-utf8"])
def test_fault_a_response_that_lies_is_reported(server, raw, reason):
    server.routes["/odd"] = raw
    with crawler(server)[0] as spider:
        result, page = spider.fetch(server.base + "/odd")
    assert result.reason == reason, result
    if page is not None:
        assert "\ufffd" not in page.html


def test_fault_a_charset_only_in_meta_is_used(server):
    body = ('<html><head><meta charset="windows-1252"><title>Caf\u00e9</title></head>'
            '<body><p>Cr\u00e8me br\u00fbl\u00e9e \u2013 \u201cna\u00efve\u201d</p></body>'
            '</html>').encode("cp1252")
    server.routes["/meta"] = response(body=body, ctype="text/html")
    with crawler(server)[0] as spider:
        result, page = spider.fetch(server.base + "/meta")
    assert result.reason == "ok"
    assert "Cr\u00e8me br\u00fbl\u00e9e \u2013 \u201cna\u00efve\u201d" in page.html


def test_fault_a_utf16_page_with_a_byte_order_mark_is_read(server):
    body = "<html><body><p>The capital of France is Paris.</p></body></html>".encode("utf-16")
    server.routes["/utf16"] = response(body=body, ctype="text/html")
    with crawler(server)[0] as spider:
        result, page = spider.fetch(server.base + "/utf16")
    assert result.reason == "ok" and "capital of France" in page.html


def test_fault_a_local_site_with_a_port_can_be_crawled(server):
    server.routes["/"] = response(body=links("/page.html"))
    server.routes["/page.html"] = response()
    events, recorder = crawl(server)
    pages = [e for e in events if isinstance(e, Page)]
    assert {p.url for p in pages} == {f"{server.base}/", f"{server.base}/page.html"}
