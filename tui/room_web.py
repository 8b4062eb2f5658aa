"""The room in a browser: ``llm-tour serve --room``.

The same room as over SSH (``tui.room``): the presenter's tour in the terminal that
started the server, every browser's tour inside this process, following. The page is
textual-serve's (from ``tui/web``, its font served here); its script speaks a small
protocol over a websocket: JSON ``["stdin", text]``, ``["resize", {"width", "height"}]``
and ``["ping", x]`` in, terminal bytes out. A ``ChannelDriver`` draws each tour into
its socket, so no process is started per visitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

from aiohttp import WSMsgType, web

from engine.workspace import Workspace
from tui.room import ChannelDriver, Room, RoomTourApp, run_viewer
from tui.serve import TEMPLATES, VOTER_COOKIE, VOTER_ID, _voter_cookie_middleware
from tui.session import RESTORE, close_session, full_message, idle_message, open_session

MAX_SIZE = (500, 200)  # the largest page a browser may ask for, in cells


class WebRoom:
    """The room's web server: the page, its files, and a socket per viewer."""

    def __init__(self, workspace: Workspace, room: Room, max_sessions: int = 30,
                 idle_timeout: float = 15 * 60, idle_check: float = 5.0,
                 public_url: str | None = None) -> None:
        self.workspace = workspace
        self.room = room
        self.max_sessions = max_sessions
        self.idle_timeout = idle_timeout
        self.idle_check = idle_check
        self.public_url = public_url
        self.viewers: set[WebViewer] = set()
        self.runner: web.AppRunner | None = None

    def application(self) -> web.Application:
        import textual_serve

        app = web.Application(middlewares=[_voter_cookie_middleware()])
        app.add_routes([
            web.get("/", self.index),
            web.get("/ws", self.socket),
            web.static("/static", Path(textual_serve.__file__).parent / "static"),
        ])
        return app

    async def start(self, host: str, port: int) -> int:
        self.runner = web.AppRunner(self.application(), handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        await site.start()
        return site._server.sockets[0].getsockname()[1]

    async def close(self, farewell: str = "The presenter closed the room.") -> None:
        await asyncio.gather(*(viewer.end(farewell) for viewer in list(self.viewers)),
                             return_exceptions=True)
        if self.runner is not None:
            await self.runner.cleanup()

    async def index(self, request: web.Request) -> web.Response:
        import jinja2

        base = self.public_url or f"{request.scheme}://{request.host}"
        socket_url = ("wss:" if base.startswith("https") else "ws:") + base.split(":", 1)[1]
        context = {"font_size": 16, "app_websocket_url": socket_url + "/ws",
                   "config": {"static": {"url": base + "/static/"}},
                   "application": {"name": "llm-tour"}}
        template = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                                      autoescape=True).get_template("app_index.html")
        return web.Response(text=template.render(**context), content_type="text/html")

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=15)
        await ws.prepare(request)
        if len(self.viewers) >= self.max_sessions:
            await ws.send_bytes((full_message(self.max_sessions) + "\r\n").encode())
            await ws.close()
            return ws
        size = (_cells(request.query.get("width"), 80, MAX_SIZE[0]),
                _cells(request.query.get("height"), 24, MAX_SIZE[1]))
        voter = request.cookies.get(VOTER_COOKIE, "")
        viewer = WebViewer(self, ws, size, f"web:{voter}" if VOTER_ID.fullmatch(voter) else "")
        self.viewers.add(viewer)
        try:
            await viewer.run()
        finally:
            self.viewers.discard(viewer)
        return ws


def _cells(value: str | None, default: int, most: int) -> int:
    try:
        return max(10, min(int(value or default), most))
    except ValueError:
        return default


class WebViewer:
    """One browser tab: a tour in this process, its frames sent in order over the socket."""

    def __init__(self, server: WebRoom, ws: web.WebSocketResponse, size: tuple[int, int],
                 voter: str) -> None:
        self.server = server
        self.ws = ws
        self.size = size
        self.folder = open_session(server.workspace, "web")
        self.app = RoomTourApp(Workspace(self.folder), server.room, role="viewer")
        self.app.voter = voter or None
        self.driver: ChannelDriver | None = None
        self.frames: asyncio.Queue[str | None] = asyncio.Queue()
        self.last_input = time.monotonic()
        self.farewell = ""

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        sender = loop.create_task(self._send_frames())
        tour = loop.create_task(run_viewer(self.app, self.size, self.frames.put_nowait,
                                           self._started))
        reader = loop.create_task(self._read())
        idle = loop.create_task(self._watch_idle())
        try:
            await asyncio.wait([tour, reader], return_when=asyncio.FIRST_COMPLETED)
            if self.app.is_running:
                self.app.exit()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(tour, 10)
            if self.farewell:
                self.frames.put_nowait(RESTORE + "\r\n" + self.farewell + "\r\n")
            self.frames.put_nowait(None)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(sender, 10)
        finally:
            for task in (idle, reader, sender):
                task.cancel()
            close_session(self.folder)
            await self.ws.close()

    def _started(self, driver: ChannelDriver) -> None:
        self.driver = driver

    async def _send_frames(self) -> None:
        """One sender, so frames keep their order; what queued up meanwhile goes as one."""
        while True:
            data = await self.frames.get()
            batch = [] if data is None else [data]
            while data is not None and not self.frames.empty():
                data = self.frames.get_nowait()
                if data is not None:
                    batch.append(data)
            if batch and not self.ws.closed:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await self.ws.send_bytes("".join(batch).encode("utf-8", "replace"))
            if data is None:
                return

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str) and self.driver is not None:
                self.last_input = time.monotonic()
                self.driver.feed(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict) and self.driver is not None:
                self.driver.resize(_cells(data.get("width"), 80, MAX_SIZE[0]),
                                   _cells(data.get("height"), 24, MAX_SIZE[1]))
            elif kind == "ping":
                await self.ws.send_json(["pong", data])

    async def _watch_idle(self) -> None:
        timeout, check = self.server.idle_timeout, self.server.idle_check
        while True:
            await asyncio.sleep(min(timeout, check))
            if self.app.watching():
                self.last_input = time.monotonic()
            if time.monotonic() - self.last_input >= timeout:
                await self.end(idle_message(timeout))
                return

    async def end(self, farewell: str) -> None:
        self.farewell = farewell
        if self.app.is_running:
            self.app.exit()


async def serve_room_web(workspace: Workspace, host: str, port: int, public_url: str | None,
                         max_sessions: int, idle_timeout: float,
                         announce: Callable[[int], str]) -> None:
    """The browser room until the presenter leaves their tour (q)."""
    room = Room()
    server = WebRoom(workspace, room, max_sessions=max_sessions, idle_timeout=idle_timeout,
                     idle_check=min(5.0, idle_timeout / 2), public_url=public_url)
    bound = await server.start(host, port)
    presenter = RoomTourApp(workspace, room, role="presenter", notice=announce(bound))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, presenter.exit)
    try:
        await presenter.run_async()
    finally:
        await server.close()
