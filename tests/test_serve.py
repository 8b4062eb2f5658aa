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

from tui.serve import visitor_command
from tui.session import SessionLimits

TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(workspace):
    """`llm-tour serve` on an ephemeral port, for at most one visitor; yields the base URL."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--max-sessions", "1"],
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
            assert b"The tour is full (1 visitors)" in message.data
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
