"""The tour over SSH: every connection gets its own tour, in its own process and terminal.

``llm-tour ssh`` lets a room follow along with nothing but ``ssh -p 2222 host``. The
server offers exactly one thing, a terminal running the tour: no shell, no commands,
no SFTP or scp, no port, agent or X11 forwarding. Each session runs ``llm-tour`` in a
child process on its own pseudo-terminal (PTY), with the client's window size passed
on at the start and on every resize. Each child gets a workspace folder of its own
(see ``tui.session``), a cap on torch threads, no URL fetching, and the shared vote
store.

The server holds up against a room and against a flood: connections are capped in
total and per address, a connection gets ``login_timeout`` seconds to log in and then
``session_timeout`` seconds to open its terminal (an ``ssh -N`` that never does is
closed), one terminal per connection, and a refused accept (EMFILE: out of file
descriptors) waits a second before the next try (asyncio's own back-off, see
``_quiet_accept_errors``). A session is idle when nobody typed *and* nothing is
being watched: a tour that computes (training, sampling, a crawl: CPU time in the
child) is watched. Every way a session ends on the server's side (idle, the cap,
the server stopping) leaves the viewer's terminal as it found it (``RESTORE``) and
says why in one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import re
import signal
import struct
import sys
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from engine import settings
from engine.workspace import Workspace
from tui.session import (
    RESTORE,
    SessionLimits,
    close_session,
    cpu_seconds,
    full_message,
    idle_message,
    open_session,
    session_env,
    tour_command,
)

HOST_KEY_FILE = "ssh_host_ed25519_key"
SESSION_END_S = 20.0  # how long a server stop waits for each tour to end and say goodbye
# 30 sessions: a seminar room. Without --room each session is a child tour process of
# 315-530 MB resident (much of it torch, shared as file pages), 10-16 GB for 30; with
# --room every viewer runs inside the server process, a few MB each (benchmarks/room.py
# measured 20 viewers through Data and Tokens at 459 MB resident for the whole room).
DEFAULT_MAX_SESSIONS = 30
WATCHING_CPU = 0.05  # share of one core the child uses while it computes something to watch
MIN_SIZE = (20, 8)  # the smallest terminal handed to the tour (columns, rows)
TERM_NAME = re.compile(r"[A-Za-z0-9._+-]{1,64}")


@dataclass
class SSHConfig:
    host: str = "127.0.0.1"  # localhost unless the presenter opens it to the room
    port: int = 2222
    authorized_keys: Path | None = None  # None and open_demo False: nobody gets in
    open_demo: bool = False  # anyone may connect, without a key
    max_sessions: int = DEFAULT_MAX_SESSIONS
    # Connections not yet in a tour (logging in, or logged in without a terminal so far),
    # in all and per address: a flood from one machine is held to a few, while a room
    # behind one NAT, once in, has as many sessions from one address as it likes.
    max_pending: int = 32
    max_per_address: int = 8
    login_timeout: float = 10.0  # seconds from TCP connect to logged in
    session_timeout: float = 5.0  # seconds from logged in to a terminal opened (ssh -N: closed)
    threads_per_session: int = 1
    idle_timeout: float = 15 * 60  # seconds without a key press or anything to watch
    slow_link: bool = True  # fewer frames and no animation: kind to a shared Wi-Fi
    idle_check: float = 5.0  # seconds between looks at whether a session is idle
    command: list[str] = field(default_factory=tour_command)  # what each session runs


def load_host_key(workspace: Workspace) -> asyncssh.SSHKey:
    """The server's host key: made once, then kept in the workspace, so clients can trust it."""
    path = workspace.path(HOST_KEY_FILE)
    if path.exists():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519", comment="llm-tour host key")
    workspace.ensure()
    temp = path.with_name(f".{path.name}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key())
    os.replace(temp, path)
    path.with_name(path.name + ".pub").write_bytes(key.export_public_key())
    return key


def _set_winsize(fd: int, columns: int, rows: int) -> None:
    columns, rows = max(columns, MIN_SIZE[0]), max(rows, MIN_SIZE[1])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


def get_winsize(fd: int) -> tuple[int, int]:
    """(columns, rows) of a PTY."""
    rows, columns, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    return columns, rows


def _take_terminal() -> None:
    """In the child, after setsid: make the PTY on stdin the controlling terminal,
    so the kernel sends it SIGWINCH on a resize and SIGHUP on a hang-up."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class TourSession(asyncssh.SSHServerSession):
    """One SSH channel: a PTY, a child tour process, and the bytes between them."""

    def __init__(self, server: TourSSHServer, username: str, voter: str = "") -> None:
        self.server = server
        self.username = username
        self.voter = voter
        self.chan: asyncssh.SSHServerChannel | None = None
        self.pty = False
        self.term = "xterm-256color"
        self.size = (80, 24)
        self.master: int | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.folder: Path | None = None
        self.last_input = time.monotonic()
        self._pending = bytearray()  # input the child hasn't read yet
        self._reading = False
        self._closed = False
        self._farewell = ""  # the line shown when the server ends the session
        self._cpu = 0.0  # the child's CPU seconds at the last idle check
        self._tasks: set[asyncio.Task] = set()
        self._main: asyncio.Task | None = None

    # -- what the client may ask for ------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes) -> bool:
        self.pty = True
        if TERM_NAME.fullmatch(term_type or ""):  # the client's word, so only a plain name
            self.term = term_type
        if term_size[0] and term_size[1]:
            self.size = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        # The tour needs a terminal; a shell request without one is refused.
        return self.pty

    def exec_requested(self, command: str) -> bool:
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        return False  # SFTP and every other subsystem

    # -- running the tour -------------------------------------------------------
    def session_started(self) -> None:
        self._main = asyncio.get_running_loop().create_task(self._run())

    def _spawn(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        assert self.chan is not None
        if not self.server.admit(self):
            self.chan.write((RESTORE + self.server.full_message() + "\r\n").encode())
            self.chan.exit(1)
            return
        try:
            await self._start_child()
        except OSError as error:
            self.chan.write(f"The tour could not start: {error.strerror or error}\r\n".encode())
            self.server.release(self)
            self.chan.exit(1)
            return
        idle = asyncio.get_running_loop().create_task(self._watch_idle())
        status = await self.process.wait()
        idle.cancel()
        await self._drain_output()
        await self._cleanup()
        if not self._closed:
            with contextlib.suppress(OSError, asyncssh.Error):
                if self._farewell:  # cut off by the server: put the terminal back, say why
                    self.chan.write((RESTORE + "\r\n" + self._farewell + "\r\n").encode())
                self.chan.exit(max(status, 0))

    async def _start_child(self) -> None:
        config = self.server.config
        self.folder = open_session(self.server.workspace, "ssh")
        env = session_env(self.server.workspace, self.folder,
                          SessionLimits(threads=config.threads_per_session,
                                        slow_link=config.slow_link),
                          client=dict(self.chan.get_environment()), voter=self.voter)
        env["TERM"] = self.term
        env[settings.USER] = self.username
        master, slave = os.openpty()
        _set_winsize(master, *self.size)
        os.set_blocking(master, False)
        self.master = master
        try:
            self.process = await asyncio.create_subprocess_exec(
                *config.command, stdin=slave, stdout=slave, stderr=slave,
                cwd=self.folder, env=env, start_new_session=True,
                preexec_fn=_take_terminal)
        finally:
            os.close(slave)
        self._start_reading()

    def _start_reading(self) -> None:
        if self.master is not None and not self._reading:
            asyncio.get_running_loop().add_reader(self.master, self._read_child)
            self._reading = True

    def _stop_reading(self) -> None:
        if self.master is not None and self._reading:
            asyncio.get_running_loop().remove_reader(self.master)
            self._reading = False

    def _read_child(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError as error:  # EIO: the child closed its terminal
            if error.errno == errno.EIO:
                self._stop_reading()
                return
            raise
        if not data:
            self._stop_reading()
            return
        if self.chan is not None and not self._closed:
            self.chan.write(data)

    async def _drain_output(self) -> None:
        """Pass on whatever the child wrote just before it exited."""
        if self.master is None or self._closed:
            return
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.chan.write(data)

    # -- client to child ----------------------------------------------------------
    def data_received(self, data: bytes, datatype) -> None:
        self.last_input = time.monotonic()
        if self.master is None:
            return
        self._pending += data
        self._flush_input()

    def _flush_input(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending and self.master is not None:
            try:
                written = os.write(self.master, self._pending)
            except BlockingIOError:
                loop.add_writer(self.master, self._flush_input)
                return
            except OSError:
                self._pending.clear()
                break
            del self._pending[:written]
        if self.master is not None:
            loop.remove_writer(self.master)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int,
                              pixheight: int) -> None:
        self.size = (width, height)
        if self.master is not None:
            _set_winsize(self.master, width, height)  # the kernel sends SIGWINCH

    def pause_writing(self) -> None:
        self._stop_reading()  # the client is slow: let the child block, don't buffer

    def resume_writing(self) -> None:
        self._start_reading()

    def break_received(self, msec: int) -> bool:
        return True  # ignored: Ctrl+C and friends reach the tour as keys

    def signal_received(self, signal: str) -> None:
        pass  # a client can't signal the server's processes

    def eof_received(self) -> bool:
        self._spawn(self._hang_up())
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._spawn(self._hang_up())

    # -- ending ------------------------------------------------------------------
    def watching(self) -> bool:
        """Something is on the move for this viewer: the child computed since the last look
        (a training run, sampling, a crawl). A tour waiting for a key uses next to no CPU."""
        if self.process is None:
            return False
        now = cpu_seconds(self.process.pid)
        busy = now - self._cpu
        self._cpu = now
        return busy >= WATCHING_CPU * self.server.config.idle_check

    def alive(self) -> bool:
        """The tour is still running (its child process, here)."""
        return self.process is not None and self.process.returncode is None

    async def _watch_idle(self) -> None:
        """Close the session after the idle timeout: no key, and nothing being watched."""
        timeout = self.server.config.idle_timeout
        check = self.server.config.idle_check
        while self.alive():
            await asyncio.sleep(min(timeout, check))
            if self.watching():
                self.last_input = time.monotonic()
            if time.monotonic() - self.last_input >= timeout:
                await self.end(idle_message(timeout))
                return

    async def end(self, farewell: str) -> None:
        """End the session from the server's side, saying why once the tour has stopped."""
        self._farewell = farewell
        await self._hang_up()

    async def _hang_up(self, grace: float = 3.0) -> None:
        """Stop the child like a closed terminal would: SIGHUP, then SIGTERM, then SIGKILL."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                await asyncio.wait_for(process.wait(), grace)
                return
            except asyncio.TimeoutError:
                continue

    async def _cleanup(self) -> None:
        self._stop_reading()
        if self.master is not None:
            asyncio.get_running_loop().remove_writer(self.master)
            os.close(self.master)
            self.master = None
        if self.folder is not None:
            close_session(self.folder)
            self.folder = None
        self.server.release(self)


class _Connection(asyncssh.SSHServer):
    """One client connection: authentication, and a tour session per channel."""

    def __init__(self, server: TourSSHServer) -> None:
        self.server = server
        self.conn: asyncssh.SSHServerConnection | None = None
        self.username = ""
        self.address = ""
        self.fingerprint = ""  # of the key this connection logged in with
        self.has_session = False
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else ""
        refusal = self.server.connect(self)
        if refusal:
            # Before the handshake there is no terminal to write to: close at once.
            asyncio.get_running_loop().call_soon(conn.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.server.disconnect(self)

    def auth_completed(self) -> None:
        # Logged in: a terminal is due within a few seconds (``ssh -N`` never opens one).
        self._timer = asyncio.get_running_loop().call_later(
            self.server.config.session_timeout, self._no_session)

    def _no_session(self) -> None:
        if not self.has_session and self.conn is not None:
            self.conn.disconnect(asyncssh.DISC_BY_APPLICATION,
                                 "No terminal was opened: llm-tour serves a tour and nothing else.")

    def begin_auth(self, username: str) -> bool:
        self.username = username
        return not self.server.config.open_demo  # open demo: no authentication at all

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        """A key in the authorized keys file gets in; the server keeps its fingerprint, which
        is how a viewer's votes count once, whatever they reconnect from."""
        keys = self.server.authorized
        if keys is None or keys.validate(key, self.address, self.address) is None:
            return False
        self.fingerprint = key.get_fingerprint()  # asyncssh checks the signature next
        return True

    @property
    def voter(self) -> str:
        """Who votes: the key's fingerprint, or the user name when there was no key."""
        return f"ssh-key:{self.fingerprint}" if self.fingerprint else f"ssh-user:{self.username}"

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def session_requested(self):
        assert self.conn is not None
        if self.has_session:
            return False  # one tour per connection
        self.has_session = True
        channel = self.conn.create_server_channel(encoding=None)
        if self.server.room is not None:
            from tui.room_ssh import ViewerSession

            return channel, ViewerSession(self.server, self.username, self.voter)
        return channel, TourSession(self.server, self.username, self.voter)

    def connection_requested(self, *args) -> bool:
        return False  # no local port forwarding

    def server_requested(self, *args) -> bool:
        return False  # no remote port forwarding

    def unix_connection_requested(self, *args) -> bool:
        return False

    def unix_server_requested(self, *args) -> bool:
        return False


class TourSSHServer:
    """The listening server and the sessions it runs."""

    def __init__(self, workspace: Workspace, config: SSHConfig | None = None,
                 room=None) -> None:
        self.workspace = workspace
        self.config = config or SSHConfig()
        self.room = room  # a tui.room.Room: every session a viewer in this process
        self.authorized: asyncssh.SSHAuthorizedKeys | None = None
        self.sessions: list[TourSession] = []
        self.connections: list[_Connection] = []
        self.refused = 0  # connections turned away at the door, since the start
        self.host_key: asyncssh.SSHKey | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None

    # -- connections ----------------------------------------------------------------
    def connect(self, connection: _Connection) -> str:
        """Count a new connection in, or say why it is turned away ("" when it is welcome)."""
        config = self.config
        pending = [c for c in self.connections if not c.has_session]
        same = sum(1 for c in pending if c.address == connection.address)
        if len(pending) >= config.max_pending:
            reason = "too many connections logging in"
        elif same >= config.max_per_address:
            reason = f"too many connections from {connection.address}"
        else:
            self.connections.append(connection)
            return ""
        self.refused += 1
        return reason

    def disconnect(self, connection: _Connection) -> None:
        if connection in self.connections:
            self.connections.remove(connection)

    def full_message(self) -> str:
        return full_message(self.config.max_sessions)

    # -- sessions -----------------------------------------------------------------
    def admit(self, session: TourSession) -> bool:
        if len(self.sessions) >= self.config.max_sessions:
            return False
        self.sessions.append(session)
        return True

    def release(self, session: TourSession) -> None:
        if session in self.sessions:
            self.sessions.remove(session)

    # -- listening ----------------------------------------------------------------
    async def start(self) -> asyncssh.SSHAcceptor:
        config = self.config
        if not config.open_demo:
            if config.authorized_keys is None:
                raise ValueError("Give --authorized-keys FILE, or --open-demo to let anyone in.")
            # Read now, so a bad file is an error at start, not at each login.
            self.authorized = asyncssh.read_authorized_keys(str(config.authorized_keys))
        self.host_key = load_host_key(self.workspace)
        _quiet_accept_errors(asyncio.get_running_loop())
        self._acceptor = await asyncssh.create_server(
            lambda: _Connection(self),
            config.host,
            config.port,
            server_host_keys=[self.host_key],
            authorized_client_keys=None,  # checked by _Connection, which keeps the fingerprint
            encoding=None,
            line_editor=False,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            allow_pty=True,
            login_timeout=config.login_timeout,
            keepalive_interval=30,
            server_version="llm-tour",
        )
        return self._acceptor

    @property
    def port(self) -> int:
        assert self._acceptor is not None
        return self._acceptor.get_port()

    @property
    def fingerprint(self) -> str:
        assert self.host_key is not None
        return self.host_key.get_fingerprint()

    async def close(self, farewell: str = "The tour server was stopped.") -> None:
        """Stop listening and end every session, each viewer's terminal put back."""
        if self._acceptor is not None:
            self._acceptor.close()
        sessions = list(self.sessions)
        await asyncio.gather(*(session.end(farewell) for session in sessions),
                             return_exceptions=True)
        mains = [session._main for session in sessions if session._main is not None]
        if mains:  # each session's own task writes the farewell and exits (a busy machine
            await asyncio.wait(mains, timeout=SESSION_END_S)  # can take seconds to stop a tour)
        for session in list(self.sessions):
            await session._cleanup()
        if self.room is not None:  # the tours the room drew for its watchers
            await self.room.close_mirrors()
        for connection in list(self.connections):
            if connection.conn is not None:
                connection.conn.close()
        if self._acceptor is not None:
            await self._acceptor.wait_closed()


def _quiet_accept_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Out of file descriptors (EMFILE, ENFILE), asyncio stops accepting for a second
    (``ACCEPT_RETRY_DELAY``) instead of spinning, and reports it with a traceback each
    time. Report it as one line, at most once a minute, and leave the rest as it was."""
    previous = loop.get_exception_handler()
    last = [0.0]

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        error = context.get("exception")
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE,
                                                           errno.ENOBUFS, errno.ENOMEM):
            if time.monotonic() - last[0] >= 60:
                last[0] = time.monotonic()
                print(f"llm-tour ssh: can't accept a connection ({os.strerror(error.errno)});"
                      " trying again every second.", file=sys.stderr, flush=True)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)


async def serve_forever(workspace: Workspace, config: SSHConfig,
                        announce: Callable[[TourSSHServer], None]) -> None:
    """Run the server until SIGINT/SIGTERM, then end every session."""
    server = TourSSHServer(workspace, config)
    await server.start()
    announce(server)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.close()
