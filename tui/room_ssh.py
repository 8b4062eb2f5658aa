"""The room over SSH: each viewer's channel runs a tour inside the server's process.

See ``tui.room`` for the hub and the presenter; ``tui.ssh`` for the server, which makes
a ``ViewerSession`` instead of a child process for each channel when it serves a room.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable

import asyncssh

from engine.workspace import Workspace
from tui.room import REJOIN, ChannelDriver, Room, RoomTourApp, run_viewer
from tui.session import RESTORE, close_session, open_session
from tui.ssh import SSHConfig, TourSession, TourSSHServer

HAND_OVER_S = 2.0  # the longest a watcher's first keys wait for their own tour's chapter


class ViewerSession(TourSession):
    """One viewer's SSH channel. It starts by watching the room's mirror for its terminal
    size (``tui.room.Mirror``: the frames every watcher of that size shares); the first key
    gives the viewer a tour of their own in this process, drawn by a ``ChannelDriver``,
    at the place the mirror showed, and that key and the rest go to it."""

    app: RoomTourApp | None = None
    driver: ChannelDriver | None = None
    paused = False  # the client is behind: frames are dropped until it catches up

    async def _run(self) -> None:
        assert self.chan is not None
        server = self.server
        if not server.admit(self):
            self.chan.write((RESTORE + server.full_message() + "\r\n").encode())
            self.chan.exit(1)
            return
        idle = asyncio.get_running_loop().create_task(self._watch_idle())
        try:
            while await self._watch():  # watching until a key, then a tour of their own
                self.folder = self.folder or open_session(server.workspace, "room")
                self.app = RoomTourApp(Workspace(self.folder), server.room, role="viewer")
                self.app.voter = self.voter
                self.app.rejoin_by_watching = True
                await run_viewer(self.app, self.size, self._send, self._started)
                if self.app.return_value is not REJOIN:
                    break
                self.app = self.driver = None  # rejoined: back to the mirror
        finally:
            idle.cancel()
            server.room.unwatch(self)
            await self._cleanup()
        if not self._closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                if self.app is None:  # only watched: no tour of its own put the terminal back
                    self.chan.write(RESTORE.encode())
                if self._farewell:
                    self.chan.write(("\r\n" + self._farewell + "\r\n").encode())
                self.chan.exit(0)

    async def _watch(self) -> bool:
        """Watch the room's mirror until the viewer types (True) or the session ends."""
        self._typed = bytearray()
        self._woken = asyncio.Event()
        self._watch_mirror()
        await self._woken.wait()
        self.server.room.unwatch(self)
        return bool(self._typed) and not self._farewell and not self._closed

    def _watch_mirror(self) -> None:
        server = self.server
        server.room.watch(self, self.size, self._send,
                          lambda: Workspace(open_session(server.workspace, "room")))

    def _started(self, driver: ChannelDriver) -> None:
        self.driver = driver
        app = self.app

        async def hand_over() -> None:
            """What was typed while watching goes to the tour once it shows what the mirror
            showed: its first frame is out and its chapter has loaded (its workers are done,
            a short wait at most; a stage the room runs goes on)."""
            await app.first_frame.wait()
            deadline = time.monotonic() + HAND_OVER_S
            while time.monotonic() < deadline and len(app.running_workers()) > app.waiting_runs:
                await asyncio.sleep(0.02)
            if self._typed:
                driver.feed(bytes(self._typed))
                self._typed.clear()

        self._spawn(hand_over())

    def _send(self, data: str) -> None:
        if self.chan is not None and not self._closed and not self.paused:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.chan.write(data.encode("utf-8", "replace"))

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.driver is not None and not self._typed:
            self.driver.feed(data)
        elif getattr(self, "_woken", None) is not None:  # watching, or the tour is starting
            self._typed += data
            self._woken.set()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        self.size = (max(width, 20), max(height, 8))
        if self.driver is not None:
            self.driver.resize(*self.size)
        elif self in self.server.room.watchers:  # the mirror of the new size
            self._watch_mirror()

    def pause_writing(self) -> None:
        # Textual can't wait for a slow client, and buffering every frame for it would grow
        # without bound: frames are dropped until asyncssh has sent what it holds.
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        app = self.app
        mirror = self.server.room.watchers.get(self)
        if app is not None and app.is_running:  # then the whole screen, drawn afresh
            self._send("\x1b[2J")
            app.call_later(lambda: app.screen.refresh(repaint=True))
        elif mirror is not None:
            self._send("\x1b[2J")
            mirror.repaint()

    def watching(self) -> bool:
        if self.app is None:  # a watcher follows the presenter
            return self.server.room.presenter is not None
        return self.app.watching()

    def alive(self) -> bool:
        """A viewer's tour runs in this process until the session ends it."""
        return True

    async def _hang_up(self, grace: float = 3.0) -> None:
        if self.app is not None and self.app.is_running:
            self.app.exit()
        elif getattr(self, "_woken", None) is not None:  # watching: stop watching
            self._woken.set()

    async def _cleanup(self) -> None:
        if self.folder is not None:
            close_session(self.folder)
            self.folder = None
        self.server.release(self)


async def serve_room(workspace: Workspace, config: SSHConfig,
                     announce: Callable[[TourSSHServer], str]) -> None:
    """The room: the SSH server for the viewers and the presenter's tour in this terminal.
    When the presenter leaves the tour, the room closes."""
    room = Room()
    server = TourSSHServer(workspace, config, room=room)
    await server.start()
    presenter = RoomTourApp(workspace, room, role="presenter", notice=announce(server))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM,):
        loop.add_signal_handler(sig, presenter.exit)
    try:
        await presenter.run_async()
    finally:
        await server.close("The presenter closed the room.")
