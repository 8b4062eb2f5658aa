"""The crawler against a misbehaving web: it reports each problem and carries on."""

from __future__ import annotations

import httpx
import pytest

from engine.data.crawler import CrawlConfig, Crawler, Fetched, Page, UrlChecked, extract_links
from engine.data.web.server import Route, SampleWeb

HOST = "trouble.example"
PAGE = b"<html><head><title>t</title></head><body><p>fine</p></body></html>"


@pytest.fixture(scope="module")
def web():
    with SampleWeb() as server:
        add = server.add_route
        add(HOST, "/", Route(body=(
            b"<html><body>" + b"".join(
                f'<a href="{p}">{p}</a>'.encode() for p in (
                    "/missing", "/error", "/slow", "/loop-a", "/huge", "/image", "/latin1",
                    "/secret/page", "/fine", "/big-declared", "/report.pdf",
                    "http://cheap-pills-online.example/buy")) + b"</body></html>")))
        add(HOST, "/robots.txt", Route(body=b"User-agent: *\nDisallow: /secret/\n",
                                       content_type="text/plain"))
        add(HOST, "/error", Route(status=500, body=b"oops"))
        add(HOST, "/slow", Route(body=PAGE, delay=1.5))
        add(HOST, "/loop-a", Route(status=302, headers={"Location": "/loop-b"}))
        add(HOST, "/loop-b", Route(status=302, headers={"Location": "/loop-a"}))
        add(HOST, "/huge", Route(body=b"<html><body>" + b"x" * 300_000 + b"</body></html>"))
        add(HOST, "/image", Route(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
                                  content_type="image/png"))
        add(HOST, "/latin1", Route(body="<p>caf\u00e9</p>".encode("latin-1")))
        add(HOST, "/fine", Route(body=PAGE))
        add(HOST, "/big-declared", Route(body=b"<p>" + b"y" * 200_001 + b"</p>"))
        yield server


@pytest.fixture(scope="module")
def events(web):
    config = CrawlConfig(seeds=[f"http://{HOST}/"], timeout=0.5, max_bytes=100_000,
                         politeness=0.0)
    with Crawler(config, port=web.port) as crawler:
        return list(crawler.crawl())


def outcome(events, path: str) -> Fetched:
    url = f"http://{HOST}{path}"
    return next(e for e in events if isinstance(e, Fetched) and e.url == url)


@pytest.mark.parametrize("path,reason", [
    ("/missing", "http_404"),
    ("/error", "http_500"),
    ("/slow", "timeout"),
    ("/loop-a", "redirect_loop"),
    ("/huge", "too_large"),
    ("/big-declared", "too_large"),
    ("/image", "content_type"),
    ("/latin1", "ok"),  # no charset declared: detected
    ("/secret/page", "robots"),
    ("/fine", "ok"),
])
def test_each_problem_is_reported(events, path, reason):
    assert outcome(events, path).reason == reason


def test_filtered_urls_are_never_requested(web, events):
    verdicts = {e.verdict.url: e.verdict for e in events if isinstance(e, UrlChecked)}
    assert verdicts[f"http://{HOST}/report.pdf"].category == "file_type"
    assert verdicts["http://cheap-pills-online.example/buy"].category == "spam"
    requested = {path for host, path in web.requests}
    assert "/report.pdf" not in requested and "/secret/page" not in requested


def test_pages_come_back_with_html(events):
    pages = [e for e in events if isinstance(e, Page)]
    assert {p.url for p in pages} == {f"http://{HOST}/", f"http://{HOST}/fine",
                                      f"http://{HOST}/latin1"}
    latin1 = next(p for p in pages if p.url.endswith("/latin1"))
    assert "caf\u00e9" in latin1.html


def test_redirect_cap(web):
    for i in range(10):
        web.add_route(HOST, f"/hop{i}", Route(status=301, headers={"Location": f"/hop{i + 1}"}))
    with Crawler(CrawlConfig(seeds=[], max_redirects=3), port=web.port) as crawler:
        fetched, page = crawler.fetch(f"http://{HOST}/hop0")
    assert page is None and fetched.reason == "too_many_redirects"


def test_host_header_routing(web):
    response = httpx.get(f"http://127.0.0.1:{web.port}/europe/capitals",
                         headers={"Host": "travel-notes.example"})
    assert response.status_code == 200
    assert "A Quick Guide To European Capitals" in response.text


def test_connection_refused_is_reported():
    with Crawler(CrawlConfig(seeds=[], timeout=0.5), port=1) as crawler:
        fetched, page = crawler.fetch("http://nowhere.example/")
    assert page is None and fetched.reason == "connect_error"


def test_extract_links():
    html = ('<a href="/a#top">a</a><a href="b">b</a><a href="mailto:x@y.example">m</a>'
            '<a href="#only">f</a><a href="http://o.example/c">c</a><a href="/a">again</a>')
    assert extract_links(html, "http://h.example/dir/") == [
        "http://h.example/a", "http://h.example/dir/b", "http://o.example/c"]
    assert extract_links("", "http://h.example/") == []
