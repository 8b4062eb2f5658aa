"""The tour in a browser: textual-serve runs one tour process for every visitor.

textual-serve starts ``python -m tui.serve --visitor ...`` when a browser opens the
page; that process makes the visitor's own folder (``tui.session``), runs the tour
with the visitor's environment, and removes the folder when the tab closes.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from engine.workspace import Workspace
from tui.session import SessionLimits, run_web_visitor, sweep_stale


def visitor_command(workspace: Workspace, limits: SessionLimits) -> str:
    """The shell command textual-serve runs for each visitor."""
    args = [sys.executable, "-m", "tui.serve", "--visitor", "--workdir", str(workspace.root),
            "--threads", str(limits.threads), "--fps", str(limits.fps)]
    if not limits.slow_link:
        args.append("--fast-link")
    return shlex.join(args)


FULL = "The tour is full ({} visitors). Please try again in a moment.\r\n"


def tour_server(command: str, max_sessions: int, **options):
    """textual-serve's Server with a cap on visitors: one more gets a line, not a tour."""
    from aiohttp import web
    from textual_serve.server import Server

    class TourServer(Server):
        visitors = 0

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            if self.visitors >= max_sessions:
                websocket = web.WebSocketResponse()
                await websocket.prepare(request)
                await websocket.send_bytes(FULL.format(max_sessions).encode())
                await websocket.close()
                return websocket
            self.visitors += 1
            try:
                return await super().handle_websocket(request)
            finally:
                self.visitors -= 1

    return TourServer(command, **options)


def serve_tour(workspace: Workspace, host: str = "localhost", port: int = 8000,
               public_url: str | None = None, threads: int = 1, slow_link: bool = True,
               max_sessions: int = 8) -> None:
    """Serve the tour until Ctrl+C."""
    workspace.ensure()
    sweep_stale(workspace)
    limits = SessionLimits(threads=threads, slow_link=slow_link)
    server = tour_server(visitor_command(workspace, limits), max_sessions, host=host, port=port,
                         title="llm-tour", public_url=public_url)
    server.serve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui.serve",
                                     description="One browser visitor's tour (run by textual-serve).")
    parser.add_argument("--visitor", action="store_true", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--fast-link", action="store_true")
    args = parser.parse_args(argv)
    limits = SessionLimits(threads=args.threads, slow_link=not args.fast_link, fps=args.fps)
    return run_web_visitor(args.workdir, limits)


if __name__ == "__main__":
    sys.exit(main())
