"""The tour in a browser: textual-serve runs one tour process for every visitor.

textual-serve starts ``python -m tui.serve --visitor ...`` when a browser opens the
page; that process makes the visitor's own folder (``tui.session``), runs the tour
with the visitor's environment, and removes the folder when the tab closes.

The server says what the SSH server says: one visitor over the cap is told the room is
full, a tab left alone (no key, nothing computing) is closed after the idle timeout.
The page is served from ``tui/web`` with its font from the server, so a room on a
network without the internet gets the same page, and no visitor's browser asks a
third party for anything.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shlex
import sys
import time
from pathlib import Path

from engine.workspace import Workspace
from tui.session import (
    RESTORE,
    SessionLimits,
    cpu_seconds,
    full_message,
    idle_message,
    run_web_visitor,
    sweep_stale,
)

TEMPLATES = Path(__file__).parent / "web"
VOTER_COOKIE = "llm_tour_voter"  # a browser's own id, so its votes count once per prompt
VOTER_ID = re.compile(r"[0-9a-f]{32}")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
WATCHING_CPU = 0.05  # share of one core a visitor's tour uses while it computes


def visitor_command(workspace: Workspace, limits: SessionLimits) -> str:
    """The shell command textual-serve runs for each visitor."""
    args = [sys.executable, "-m", "tui.serve", "--visitor", "--workdir", str(workspace.root),
            "--threads", str(limits.threads), "--fps", str(limits.fps)]
    if not limits.slow_link:
        args.append("--fast-link")
    return shlex.join(args)


def tour_server(command: str, max_sessions: int, idle_timeout: float = 15 * 60,
                idle_check: float = 5.0, **options):
    """textual-serve's Server with a cap on visitors (one more gets a line, not a tour),
    an idle timeout, and the page from ``tui/web``."""
    from aiohttp import WSMsgType, web
    from textual_serve.server import Server

    class TourServer(Server):
        visitors = 0

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(_voter_cookie_middleware())
            return app

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            if self.visitors >= max_sessions:
                websocket = web.WebSocketResponse()
                await websocket.prepare(request)
                await websocket.send_bytes((full_message(max_sessions) + "\r\n").encode())
                await websocket.close()
                return websocket
            self.visitors += 1
            try:
                return await self._run_visitor(request)
            finally:
                self.visitors -= 1

        async def _run_visitor(self, request: web.Request) -> web.WebSocketResponse:
            """textual-serve's websocket handler, with the visitor's own command: the
            tour is told who votes (the browser's cookie)."""
            from textual_serve.app_service import AppService
            from textual_serve.server import to_int

            websocket = web.WebSocketResponse(heartbeat=15)
            width = to_int(request.query.get("width", "80"), 80)
            height = to_int(request.query.get("height", "24"), 24)
            command = self.command
            voter = request.cookies.get(VOTER_COOKIE, "")
            if VOTER_ID.fullmatch(voter):
                command += f" --voter web:{voter}"
            service: AppService | None = None
            try:
                await websocket.prepare(request)
                service = AppService(command, write_bytes=websocket.send_bytes,
                                     write_str=websocket.send_str, close=websocket.close,
                                     download_manager=self.download_manager, debug=self.debug)
                await service.start(width, height)
                await self._process_messages(websocket, service)
            except asyncio.CancelledError:
                await websocket.close()
            finally:
                if service is not None:
                    await service.stop()
            return websocket

        async def _process_messages(self, websocket: web.WebSocketResponse,
                                    app_service) -> None:
            """textual-serve's loop over the browser's messages, with a watch for idleness."""
            last_key = [time.monotonic()]
            watcher = asyncio.get_running_loop().create_task(
                self._watch_idle(websocket, app_service, last_key))
            try:
                async for message in websocket:
                    if message.type != WSMsgType.TEXT:
                        continue
                    envelope = message.json()
                    if not isinstance(envelope, list) or not envelope:
                        continue
                    kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
                    if kind == "stdin" and isinstance(data, str):
                        last_key[0] = time.monotonic()
                        await app_service.send_bytes(data.encode("utf-8"))
                    elif kind == "resize" and isinstance(data, dict):
                        await app_service.set_terminal_size(data["width"], data["height"])
                    elif kind == "ping":
                        await websocket.send_json(["pong", data])
                    elif kind == "blur":
                        await app_service.blur()
                    elif kind == "focus":
                        await app_service.focus()
            finally:
                watcher.cancel()

        async def _watch_idle(self, websocket, app_service, last_key: list[float]) -> None:
            used = 0.0
            while not websocket.closed:
                await asyncio.sleep(min(idle_timeout, idle_check))
                process = getattr(app_service, "_process", None)
                if process is not None:
                    now = cpu_seconds(process.pid)
                    if now - used >= WATCHING_CPU * idle_check:
                        last_key[0] = time.monotonic()  # watching something compute
                    used = now
                if time.monotonic() - last_key[0] >= idle_timeout:
                    # The line first: stopping the tour closes the socket.
                    await websocket.send_bytes(
                        (RESTORE + "\r\n" + idle_message(idle_timeout) + "\r\n").encode())
                    await app_service.stop()
                    await websocket.close()
                    return

    return TourServer(command, templates_path=TEMPLATES, **options)


def _voter_cookie_middleware():
    from aiohttp import web

    @web.middleware
    async def give_voter_cookie(request, handler):
        """The page gives a browser an id of its own, once; it comes back with the socket."""
        response = await handler(request)
        if request.path == "/" and not VOTER_ID.fullmatch(request.cookies.get(VOTER_COOKIE, "")):
            response.set_cookie(VOTER_COOKIE, secrets.token_hex(16), max_age=30 * 24 * 3600,
                                httponly=True, samesite="Strict")
        return response

    return give_voter_cookie


def open_warning(host: str) -> str | None:
    """The warning for a server reachable beyond this machine: the browser tour has no login."""
    if host in LOCAL_HOSTS:
        return None
    return (f"Warning: llm-tour serve has no login, and {host} is reachable beyond this "
            "machine: anyone who can reach the port gets a tour. Keep it on localhost, or put "
            "it behind a proxy that asks for a password (and give --public-url).")


def serve_tour(workspace: Workspace, host: str = "localhost", port: int = 8000,
               public_url: str | None = None, threads: int = 1, slow_link: bool = True,
               max_sessions: int = 30, idle_timeout: float = 15 * 60) -> None:
    """Serve the tour until Ctrl+C."""
    workspace.ensure()
    sweep_stale(workspace)
    limits = SessionLimits(threads=threads, slow_link=slow_link)
    server = tour_server(visitor_command(workspace, limits), max_sessions,
                         idle_timeout=idle_timeout, idle_check=min(5.0, idle_timeout / 2),
                         host=host, port=port, title="llm-tour", public_url=public_url)
    server.serve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui.serve",
                                     description="One browser visitor's tour (run by textual-serve).")
    parser.add_argument("--visitor", action="store_true", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--fast-link", action="store_true")
    parser.add_argument("--voter", default="")
    args = parser.parse_args(argv)
    limits = SessionLimits(threads=args.threads, slow_link=not args.fast_link, fps=args.fps)
    return run_web_visitor(args.workdir, limits, voter=args.voter)


if __name__ == "__main__":
    sys.exit(main())
