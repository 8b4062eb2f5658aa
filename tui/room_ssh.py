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
from tui.room import ChannelDriver, Room, RoomSeat, RoomTourApp
from tui.session import RESTORE, open_session
from tui.ssh import SSHConfig, TourSession, TourSSHServer


class ViewerSession(TourSession):
    """One viewer's SSH channel: a ``RoomSeat`` drawn onto it. The viewer starts by watching
    the room's mirror for their terminal size (``tui.room.Mirror``: the frames every watcher
    of that size shares); the first key gives them a tour of their own in this process, at
    the place the mirror showed, and that key and the rest go to it."""

    seat: RoomSeat | None = None
    paused = False  # the client is behind: frames are dropped until it catches up

    @property
    def app(self) -> RoomTourApp | None:
        """The viewer's own tour, while they have one."""
        return self.seat.app if self.seat is not None else None

    @property
    def driver(self) -> ChannelDriver | None:
        return self.seat.driver if self.seat is not None else None

    async def _run(self) -> None:
        assert self.chan is not None
        server = self.server
        if not server.admit(self):
            self.chan.write((RESTORE + server.full_message() + "\r\n").encode())
            self.chan.exit(1)
            return
        self.seat = RoomSeat(server.room, self._send, self.size, self.voter,
                             lambda: open_session(server.workspace, "room"))
        if self._farewell or self._closed:  # ended before it began
            self.seat.end()
        idle = asyncio.get_running_loop().create_task(self._watch_idle())
        try:
            await self.seat.run()
        finally:
            idle.cancel()
            await self._cleanup()
        if not self._closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                if self.app is None:  # only watched: no tour of its own put the terminal back
                    self.chan.write(RESTORE.encode())
                if self._farewell:
                    self.chan.write(("\r\n" + self._farewell + "\r\n").encode())
                self.chan.exit(0)

    def _send(self, data: str) -> None:
        if self.chan is not None and not self._closed and not self.paused:
            with contextlib.suppress(OSError, asyncssh.Error):
                self.chan.write(data.encode("utf-8", "replace"))

    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.seat is not None:
            self.seat.feed(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        self.size = (max(width, 20), max(height, 8))
        if self.seat is not None:
            self.seat.resize(self.size)

    def pause_writing(self) -> None:
        # Textual can't wait for a slow client, and buffering every frame for it would grow
        # without bound: frames are dropped until asyncssh has sent what it holds.
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        if self.seat is not None:  # then the whole screen, drawn afresh
            self.seat.repaint()

    def watching(self) -> bool:
        return self.seat is not None and self.seat.watching()

    def alive(self) -> bool:
        """A viewer's tour runs in this process until the session ends it."""
        return True

    async def _hang_up(self, grace: float = 3.0) -> None:
        if self.seat is not None:
            self.seat.end()

    async def _cleanup(self) -> None:
        if self.seat is not None:
            self.server.room.unwatch(self.seat)
            self.seat.close()
        self.server.release(self)


async def serve_room(workspace: Workspace, config: SSHConfig,
                     announce: Callable[[TourSSHServer], str]) -> None:
    """The room: the SSH server for the viewers and the presenter's tour in this terminal.
    When the presenter leaves the tour, the room closes."""
    room = Room(settles=True)
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
