"""The room in a browser: ``llm-tour serve --room``.

The same room as over SSH (``tui.room``): the presenter's tour in the terminal that
started the server, every browser's tour inside this process, following. The page is
textual-serve's (from ``tui/web``, its font served here); its script speaks a small
protocol over a websocket: JSON ``["stdin", text]``, ``["resize", {"width", "height"}]``
and ``["ping", x]`` in, terminal bytes out. Each tab is a ``RoomSeat``, as an SSH viewer
is: it watches the room's mirror for its size (one tour drawn for every tab of that size
that only watches) until its first key gives it a tour of its own, drawn into its socket
by a ``ChannelDriver``. No process is started per visitor.
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
from tui.room import Room, RoomSeat, RoomTourApp
from tui.serve import TEMPLATES, VOTER_COOKIE, VOTER_ID, _voter_cookie_middleware
from tui.session import RESTORE, full_message, idle_message, open_session

MAX_SIZE = (500, 200)  # the largest page a browser may ask for, in cells
END_S = 20.0  # how long closing the room waits for each tab to end and say goodbye


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
        """End every tab (each told why, its terminal put back), then the room's mirrors
        and the server."""
        viewers = list(self.viewers)
        await asyncio.gather(*(viewer.end(farewell) for viewer in viewers),
                             return_exceptions=True)
        if viewers:  # each tab's own task stops its tour and says goodbye
            leaving = [asyncio.ensure_future(viewer.left.wait()) for viewer in viewers]
            await asyncio.wait(leaving, timeout=END_S)
            for waiting in leaving:
                waiting.cancel()
        await self.room.close_mirrors()  # the tours the room drew for its watchers
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
    """One browser tab: a ``RoomSeat`` drawn into its socket, frames sent in order. The tab
    watches the room's mirror for its size until its first key, which gives it a tour of
    its own in this process (voting with the tab's cookie); ``j`` there rejoins the mirror."""

    def __init__(self, server: WebRoom, ws: web.WebSocketResponse, size: tuple[int, int],
                 voter: str) -> None:
        self.server = server
        self.ws = ws
        self.frames: asyncio.Queue[str | None] = asyncio.Queue()
        self.seat = RoomSeat(server.room, self.frames.put_nowait, size, voter or None,
                             lambda: open_session(server.workspace, "web"))
        self.last_input = time.monotonic()
        self.farewell = ""
        self.left = asyncio.Event()  # set once the tab has left the room (its tour, its mirror)

    @property
    def app(self) -> RoomTourApp | None:
        """The tab's own tour, while it has one."""
        return self.seat.app

    @property
    def size(self) -> tuple[int, int]:
        return self.seat.size

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        sender = loop.create_task(self._send_frames())
        seat = loop.create_task(self.seat.run())
        reader = loop.create_task(self._read())
        idle = loop.create_task(self._watch_idle())
        try:
            await asyncio.wait([seat, reader], return_when=asyncio.FIRST_COMPLETED)
            self.seat.end()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(seat, 10)
            self.server.room.unwatch(self.seat)
            self.left.set()
            if self.farewell:
                self.frames.put_nowait(RESTORE + "\r\n" + self.farewell + "\r\n")
            self.frames.put_nowait(None)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(sender, 10)
        finally:
            for task in (idle, reader, sender, seat):
                task.cancel()
            self.server.room.unwatch(self.seat)
            self.left.set()
            self.seat.close()
            await self.ws.close()

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
            if kind == "stdin" and isinstance(data, str):
                self.last_input = time.monotonic()
                self.seat.feed(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                self.seat.resize((_cells(data.get("width"), 80, MAX_SIZE[0]),
                                  _cells(data.get("height"), 24, MAX_SIZE[1])))
            elif kind == "ping":
                await self.ws.send_json(["pong", data])

    async def _watch_idle(self) -> None:
        """End the tab after the idle timeout: no key, and nothing being watched (a tab that
        only watches the room's mirror watches while the presenter is here)."""
        timeout, check = self.server.idle_timeout, self.server.idle_check
        while True:
            await asyncio.sleep(min(timeout, check))
            if self.seat.watching():
                self.last_input = time.monotonic()
            if time.monotonic() - self.last_input >= timeout:
                await self.end(idle_message(timeout))
                return

    async def end(self, farewell: str) -> None:
        self.farewell = farewell
        self.seat.end()


async def serve_room_web(workspace: Workspace, host: str, port: int, public_url: str | None,
                         max_sessions: int, idle_timeout: float,
                         announce: Callable[[int], str]) -> None:
    """The browser room until the presenter leaves their tour (q)."""
    room = Room(settles=True)
    server = WebRoom(workspace, room, max_sessions=max_sessions, idle_timeout=idle_timeout,
                     idle_check=min(5.0, idle_timeout / 2), public_url=public_url)
    bound = await server.start(host, port)
    presenter = RoomTourApp(workspace, room, role="presenter", notice=announce(bound))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, presenter.exit)
    try:
        await presenter.run_async()
    finally:
        await server.close()
