"""A real HTTP server for the sample web, on 127.0.0.1 at an ephemeral port.

It routes by the ``Host`` header, so one socket serves every ``.example`` site, the
way a shared web host does. Tests add misbehaving routes (errors, slow answers,
redirect loops, huge or binary bodies) with :meth:`SampleWeb.add_route`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self


SITES_DIR = Path(__file__).with_name("sites")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Route:
    """A hand-made answer for one host and path (used by tests and demos)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0  # seconds to wait before answering
    headers: dict[str, str] = field(default_factory=dict)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up (a timeout, a size cap, the end of a crawl) is normal."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class SampleWeb:
    """Serve ``sites/<host>/<path>`` over HTTP. Use as a context manager."""

    def __init__(self, root: Path = SITES_DIR) -> None:
        self.root = Path(root)
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[tuple[str, str]] = []  # (host, path) in arrival order
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def hosts(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir())

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sample web is not running")
        return self._server.server_address[1]

    def add_route(self, host: str, path: str, route: Route) -> str:
        self.routes[(host.lower(), path)] = route
        return f"http://{host}{path}"

    def resolve(self, host: str, path: str) -> Path | None:
        """The file behind a URL path, or None: '/' is index.html, '/a/b' is a/b.html."""
        site = self.root / host
        path = path.split("?", 1)[0].split("#", 1)[0]
        if not site.is_dir() or ".." in path.split("/"):
            return None
        rel = path.lstrip("/")
        for candidate in (rel, rel + ".html", rel.rstrip("/") + "/index.html"):
            target = site / candidate if candidate else site / "index.html"
            if target.is_file():
                return target
        return None

    def start(self) -> SampleWeb:
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

            def log_message(self, *args) -> None:  # keep the terminal quiet
                pass

            def do_GET(self) -> None:
                host = (self.headers.get("Host") or "").split(":")[0].lower()
                web.requests.append((host, self.path))
                route = web.routes.get((host, self.path))
                if route is not None:
                    if route.delay:
                        time.sleep(route.delay)
                    self._send(route.status, route.body, route.content_type, route.headers)
                    return
                target = web.resolve(host, self.path)
                if target is None:
                    self._send(404, b"<html><body><h1>404 Not Found</h1></body></html>",
                               "text/html; charset=utf-8")
                    return
                ctype = CONTENT_TYPES.get(target.suffix, "application/octet-stream")
                self._send(200, target.read_bytes(), ctype)

            def _send(self, status: int, body: bytes, ctype: str,
                      headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout or a size cap); that is its right

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="sample-web", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
