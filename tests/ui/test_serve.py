"""`llm-tour serve`: the tour in a browser, one process per visitor."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import aiohttp
import pytest

from tui.serve import open_warning, visitor_command
from tui.session import SessionLimits

TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(workspace, request):
    """`llm-tour serve` on an ephemeral port, for at most one visitor; yields the base URL.
    A test marked ``serve_args(...)`` adds those arguments."""
    port = _free_port()
    marker = request.node.get_closest_marker("serve_args")
    extra = list(marker.args) if marker else []
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--max-sessions", "1", *extra],
        env={**os.environ, "LLM_TOUR_HOME": str(workspace.root)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(server.stdout.read().decode(errors="replace"))
                time.sleep(0.2)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(5)


def test_serve_answers_a_local_http_request(served):
    with urllib.request.urlopen(served + "/", timeout=10) as response:
        assert response.status == 200
        page = response.read().decode()
    assert "llm-tour" in page and "/ws" in page


async def test_a_visitor_gets_their_own_tour_and_folder(served, workspace):
    seen = b""
    url = served.replace("http", "ws") + "/ws?width=100&height=32"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:

        async def read() -> None:
            nonlocal seen
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    seen += message.data
                if b"Welcome" in seen:
                    return

        await asyncio.wait_for(read(), TIMEOUT)
        sessions = list((workspace.root / "sessions").iterdir())
        assert len(sessions) == 1 and sessions[0].name.startswith("web-")
        async with http.ws_connect(url) as second:  # over the cap: a line, then closed
            message = await asyncio.wait_for(second.receive(), TIMEOUT)
            assert b"The room is full (1 of 1)" in message.data
    assert b"Welcome" in seen
    for _ in range(200):  # the folder goes when the visitor does
        if not any((workspace.root / "sessions").iterdir()):
            break
        await asyncio.sleep(0.05)
    assert not any((workspace.root / "sessions").iterdir())


def test_the_visitor_command_is_one_quoted_shell_line(workspace):
    command = visitor_command(workspace, SessionLimits(threads=3))
    assert "--visitor" in command and "--threads 3" in command
    assert str(workspace.root) in command


def test_the_page_asks_nothing_of_the_internet(served):
    """Every script, style, font and image of the page comes from the server itself."""
    import re

    with urllib.request.urlopen(served + "/", timeout=10) as response:
        page = response.read().decode()
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
    urls += re.findall(r"""url\(\s*["']?([^"')]+)""", page)
    urls += re.findall(r"""@import\s+["']([^"']+)""", page)
    assert any("fonts/RobotoMono" in url for url in urls)
    for url in urls:
        assert not re.match(r"(https?:)?//", url) or url.startswith(served + "/"), url
    for url in urls:  # and the server has each of them
        with urllib.request.urlopen(url if url.startswith("http") else served + url,
                                    timeout=10) as response:
            assert response.status == 200


def _ws_url(served: str) -> str:
    return served.replace("http", "ws") + "/ws?width=100&height=32"


@pytest.mark.serve_args("--idle-timeout", "0.02")  # 1.2 seconds
async def test_an_idle_tab_is_closed_with_a_line_that_says_why(served, workspace):
    seen = b""
    async with aiohttp.ClientSession() as http, http.ws_connect(_ws_url(served)) as ws:

        async def read() -> None:
            nonlocal seen
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    seen += message.data

        await asyncio.wait_for(read(), TIMEOUT)  # ends when the server closes the socket
    assert b"Welcome" in seen
    assert b"Closed after 1.2 seconds without a key press or anything to watch." in seen
    assert b"\x1b[?1049l" in seen[seen.rindex(b"Welcome"):]


def test_serving_beyond_localhost_warns_that_there_is_no_login():
    assert open_warning("localhost") is None and open_warning("127.0.0.1") is None
    warning = open_warning("0.0.0.0")
    assert "no login" in warning and "0.0.0.0" in warning


async def test_a_browser_gets_a_voter_id_of_its_own_and_its_tour_is_told(served):
    import re
    from pathlib import Path

    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(served + "/") as response:
            assert response.status == 200
        voter = {c.key: c.value for c in jar}["llm_tour_voter"]
        assert re.fullmatch(r"[0-9a-f]{32}", voter)
        async with http.get(served + "/") as response:  # the same browser keeps its id
            assert "llm_tour_voter" not in response.cookies
        async with http.ws_connect(_ws_url(served)) as ws:
            seen = b""
            while b"Welcome" not in seen:
                message = await asyncio.wait_for(ws.receive(), TIMEOUT)
                seen += message.data if message.type == aiohttp.WSMsgType.BINARY else b""
            commands = []
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    commands.append(cmdline.read_bytes().replace(b"\0", b" ").decode())
                except OSError:
                    continue
            assert any(f"--voter web:{voter}" in c and "--visitor" in c for c in commands)
