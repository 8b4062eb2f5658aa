"""The SSH server: a real asyncssh client on 127.0.0.1, an ephemeral port, a real tour."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import sys

import asyncssh
import pytest

from screens.registry import CHAPTERS
from ssh_clients import TIMEOUT, client_key, keys_file  # noqa: F401 (fixtures)
from ssh_clients import plain as _plain
from tui.ssh import SSHConfig, TourSSHServer, get_winsize, load_host_key



async def _start(workspace, keys_file, **overrides) -> TourSSHServer:
    config = SSHConfig(host="127.0.0.1", port=0, authorized_keys=keys_file, **overrides)
    server = TourSSHServer(workspace, config)
    await server.start()
    return server


def _connect(server: TourSSHServer, key, username: str = "viewer"):
    return asyncssh.connect("127.0.0.1", server.port, username=username, client_keys=[key],
                            known_hosts=None, agent_path=None)


async def _read_until(process, predicate, seen: list[str]) -> str:
    """Read stdout into ``seen`` until predicate(plain text so far) holds."""

    async def loop() -> str:
        while True:
            text = _plain("".join(seen))
            if predicate(text):
                return text
            chunk = await process.stdout.read(65536)
            if not chunk:
                raise AssertionError(f"the session ended early; it wrote: {text[-2000:]!r}")
            seen.append(chunk)

    return await asyncio.wait_for(loop(), TIMEOUT)


async def _gone(pid: int) -> bool:
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_session_shows_the_tour_moves_on_resizes_and_cleans_up(workspace, keys_file,
                                                                       client_key):
    server = await _start(workspace, keys_file)
    try:
        async with _connect(server, client_key) as conn:
            process = await conn.create_process(term_type="xterm-256color", term_size=(100, 32))
            seen: list[str] = []
            await _read_until(process, lambda t: "1/" in t and "Welcome" in t, seen)
            assert len(server.sessions) == 1
            session = server.sessions[0]
            pid, folder = session.process.pid, session.folder
            assert folder.is_dir() and folder.parent == workspace.root / "sessions"
            assert get_winsize(session.master) == (100, 32)

            mark = len(_plain("".join(seen)))
            process.stdin.write("n")  # the next chapter
            second = CHAPTERS[1].title
            await _read_until(process, lambda t: "2/" in t[mark:] and second in t[mark:], seen)

            mark = len("".join(seen))
            process.change_terminal_size(80, 24)
            await _read_until(process, lambda t: len("".join(seen)) > mark, seen)
            assert get_winsize(session.master) == (80, 24)
            process.close()
        assert await _gone(pid), "the tour process outlived its connection"
        for _ in range(100):
            if not server.sessions:
                break
            await asyncio.sleep(0.05)
        assert server.sessions == []
        assert not folder.exists()
    finally:
        await server.close()


async def _check_env_command(tmp_path):
    script = tmp_path / "env.py"
    script.write_text(
        "import json, os, sys\n"
        "keys = ['LLM_TOUR_HOME', 'LLM_TOUR_VOTES', 'LLM_TOUR_OFFLINE', 'LLM_TOUR_REMOTE',\n"
        "        'OMP_NUM_THREADS', 'LLM_TOUR_THREADS',\n"
        "        'TEXTUAL_FPS', 'TEXTUAL_ANIMATIONS', 'TERM', 'SECRET_TOKEN', 'LLM_TOUR_VOTER']\n"
        "print(json.dumps({k: os.environ.get(k) for k in keys} | {'tty': sys.stdin.isatty(),\n"
        "      'cwd': os.getcwd(), 'links': sorted(os.listdir('.'))}))\n"
    )
    return [sys.executable, str(script)]


async def test_each_session_gets_its_own_folder_threads_and_the_shared_votes(
        workspace, keys_file, client_key, tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "do-not-pass")
    workspace.ensure()
    workspace.path("tokenizer").write_text("{}")  # something "prepared" to share
    command = await _check_env_command(tmp_path)
    server = await _start(workspace, keys_file, command=command, threads_per_session=2)
    try:
        async with _connect(server, client_key) as conn:
            process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24))
            seen: list[str] = []
            text = await _read_until(process, lambda t: "}" in t, seen)
            await asyncio.wait_for(process.wait_closed(), TIMEOUT)
        report = json.loads(text[text.index("{"): text.rindex("}") + 1])
        home = report["LLM_TOUR_HOME"]
        assert os.path.dirname(home) == str(workspace.root / "sessions")
        assert os.path.realpath(report["cwd"]) == os.path.realpath(home)
        assert report["LLM_TOUR_VOTES"] == str(workspace.path("votes").resolve())
        assert report["LLM_TOUR_OFFLINE"] == "1"
        assert report["LLM_TOUR_REMOTE"] == "1"
        assert report["OMP_NUM_THREADS"] == report["LLM_TOUR_THREADS"] == "2"
        assert report["TEXTUAL_ANIMATIONS"] == "none" and int(report["TEXTUAL_FPS"]) <= 15
        assert report["TERM"] == "xterm-256color"
        assert report["SECRET_TOKEN"] is None
        assert report["LLM_TOUR_VOTER"] == f"ssh-key:{client_key.get_fingerprint()}"
        assert report["tty"] is True
        assert "tokenizer.json" in report["links"]
        assert not os.path.exists(home)  # removed when the session ended
        assert process.exit_status == 0
    finally:
        await server.close()


async def test_exec_sftp_forwarding_and_a_shell_without_a_terminal_are_refused(
        workspace, keys_file, client_key):
    server = await _start(workspace, keys_file)
    try:
        async with _connect(server, client_key) as conn:
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_process("echo hello")
            with pytest.raises((asyncssh.SFTPError, asyncssh.ChannelOpenError)):
                await conn.start_sftp_client()
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.open_connection("127.0.0.1", server.port)
            with pytest.raises(asyncssh.ChannelOpenError):
                await conn.create_process()  # a shell, but no PTY
        assert server.sessions == []
    finally:
        await server.close()


async def test_a_wrong_key_is_refused(workspace, keys_file):
    server = await _start(workspace, keys_file)
    try:
        stranger = asyncssh.generate_private_key("ssh-ed25519")
        with pytest.raises(asyncssh.PermissionDenied):
            async with _connect(server, stranger):
                pass
        with pytest.raises(asyncssh.PermissionDenied):
            async with asyncssh.connect("127.0.0.1", server.port, username="viewer",
                                        password="guess", client_keys=None, known_hosts=None,
                                        agent_path=None):
                pass
    finally:
        await server.close()


async def test_open_demo_needs_no_key(workspace, tmp_path):
    command = [sys.executable, "-c", "print('hello from the tour')"]
    server = TourSSHServer(workspace, SSHConfig(host="127.0.0.1", port=0, open_demo=True,
                                                command=command))
    await server.start()
    try:
        async with asyncssh.connect("127.0.0.1", server.port, username="anyone",
                                    client_keys=None, known_hosts=None, agent_path=None) as conn:
            process = await conn.create_process(term_type="xterm", term_size=(80, 24))
            await _read_until(process, lambda t: "hello from the tour" in t, [])
    finally:
        await server.close()


async def test_no_keys_and_no_demo_is_an_error(workspace):
    with pytest.raises(ValueError, match="--open-demo"):
        await TourSSHServer(workspace, SSHConfig(port=0)).start()


async def test_the_session_cap_holds(workspace, keys_file, client_key):
    command = [sys.executable, "-c", "import time; print('in the tour', flush=True); time.sleep(60)"]
    server = await _start(workspace, keys_file, max_sessions=1, command=command)
    try:
        async with _connect(server, client_key) as first:
            one = await first.create_process(term_type="xterm", term_size=(80, 24))
            await _read_until(one, lambda t: "in the tour" in t, [])
            async with _connect(server, client_key) as second:
                two = await second.create_process(term_type="xterm", term_size=(80, 24))
                await _read_until(two, lambda t: "The room is full (1 of 1)" in t, [])
                await asyncio.wait_for(two.wait_closed(), TIMEOUT)
                assert two.exit_status == 1
            assert len(server.sessions) == 1
            pid = server.sessions[0].process.pid
        assert await _gone(pid)
    finally:
        await server.close()


# A stand-in tour that switches on what a Textual app switches on, then waits.
TERMINAL_MODES = ("import sys, time; sys.stdout.write('\\x1b[?1049h\\x1b[?25l\\x1b[?1003h"
                  "\\x1b[?1006h'); print('waiting', flush=True); time.sleep(60)")


def _restored(raw: str) -> bool:
    """After the last thing the tour switched on, the terminal was put back."""
    tail = raw[raw.rindex("waiting"):]
    return all(mode in tail for mode in RESTORE_MODES)


RESTORE_MODES = ("\x1b[?1049l", "\x1b[?25h", "\x1b[?1000l", "\x1b[?1002l", "\x1b[?1003l",
                 "\x1b[?1006l")


async def test_an_idle_session_is_closed_and_the_terminal_restored(workspace, keys_file,
                                                                   client_key):
    command = [sys.executable, "-c", TERMINAL_MODES]
    server = await _start(workspace, keys_file, idle_timeout=0.5, idle_check=0.2,
                          command=command)
    try:
        async with _connect(server, client_key) as conn:
            process = await conn.create_process(term_type="xterm", term_size=(80, 24))
            seen: list[str] = []
            await _read_until(process, lambda t: "Closed after" in t and "without a key" in t,
                              seen)
            await asyncio.wait_for(process.wait_closed(), TIMEOUT)
        assert _restored("".join(seen))
        assert server.sessions == []
    finally:
        await server.close()


async def test_stopping_the_server_restores_every_terminal(workspace, keys_file, client_key):
    command = [sys.executable, "-c", TERMINAL_MODES]
    server = await _start(workspace, keys_file, command=command)
    async with _connect(server, client_key) as conn:
        process = await conn.create_process(term_type="xterm", term_size=(80, 24))
        seen: list[str] = []
        await _read_until(process, lambda t: "waiting" in t, seen)
        await server.close()
        await _read_until(process, lambda t: "The tour server was stopped." in t, seen)
        await asyncio.wait_for(process.wait_closed(), TIMEOUT)
    assert _restored("".join(seen))
    assert server.sessions == []


async def test_a_session_that_computes_is_watched_not_idle(workspace, keys_file, client_key):
    """A viewer watching training types nothing; CPU time in their tour keeps them in."""
    busy = ("import time, os\n"
            "print('computing', flush=True)\n"
            "end = time.process_time() + 2.0\n"
            "while time.process_time() < end: pass\n"
            "print('resting', flush=True)\n"
            "time.sleep(60)\n")
    server = await _start(workspace, keys_file, idle_timeout=0.6, idle_check=0.2,
                          command=[sys.executable, "-c", busy])
    try:
        async with _connect(server, client_key) as conn:
            process = await conn.create_process(term_type="xterm", term_size=(80, 24))
            seen: list[str] = []
            text = await _read_until(process, lambda t: "Closed after" in t, seen)
            assert text.index("resting") < text.index("Closed after")
    finally:
        await server.close()


async def test_a_login_without_a_terminal_is_closed(workspace, keys_file, client_key):
    """`ssh -N`: logged in, no session asked for; the server hangs up after a few seconds."""
    server = await _start(workspace, keys_file, session_timeout=0.3)
    demo = TourSSHServer(workspace, SSHConfig(host="127.0.0.1", port=0, open_demo=True,
                                              session_timeout=0.3))
    await demo.start()
    try:
        conn = await _connect(server, client_key)
        await asyncio.wait_for(conn.wait_closed(), TIMEOUT)
        assert server.connections == []
        conn = await asyncssh.connect("127.0.0.1", demo.port, username="anyone",
                                      client_keys=None, known_hosts=None, agent_path=None)
        await asyncio.wait_for(conn.wait_closed(), TIMEOUT)  # no key needed, the same rule
        assert demo.connections == []
    finally:
        await server.close()
        await demo.close()


async def test_a_connection_that_never_logs_in_is_closed(workspace, keys_file):
    server = await _start(workspace, keys_file, login_timeout=0.5)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert (await asyncio.wait_for(reader.readline(), TIMEOUT)).startswith(b"SSH-2.0-")
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""  # closed by the server
        writer.close()
        for _ in range(100):
            if not server.connections:
                break
            await asyncio.sleep(0.02)
        assert server.connections == []
    finally:
        await server.close()


async def test_connections_logging_in_are_capped_per_address_and_in_total(workspace, keys_file,
                                                               client_key):
    server = await _start(workspace, keys_file, max_per_address=2, max_pending=3)
    try:
        held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(2)]
        with pytest.raises((asyncssh.Error, OSError)):
            async with _connect(server, client_key):
                pass
        assert server.refused == 1 and len(server.connections) == 2
        for _, writer in held:
            writer.close()
        for _ in range(100):
            if not server.connections:
                break
            await asyncio.sleep(0.02)
        server.config.max_per_address = 8
        held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(3)]
        with pytest.raises((asyncssh.Error, OSError)):
            async with _connect(server, client_key):
                pass
        assert server.refused == 2
        for _, writer in held:
            writer.close()
    finally:
        await server.close()


def test_the_host_key_is_made_once_and_kept_private(workspace):
    first = load_host_key(workspace)
    path = workspace.path("ssh_host_ed25519_key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_host_key(workspace).get_fingerprint() == first.get_fingerprint()


async def test_the_ssh_command_warns_in_open_demo_mode_and_stops_cleanly(workspace):
    """`llm-tour ssh --open-demo --port 0`: the warning, the port, a session, then Ctrl+C."""
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "ssh", "--open-demo", "--port", "0",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "LLM_TOUR_HOME": str(workspace.root)}, start_new_session=True)
    try:
        warning = await asyncio.wait_for(server.stderr.readline(), TIMEOUT)
        assert b"Warning: open demo mode" in warning
        banner = (await asyncio.wait_for(server.stdout.readline(), TIMEOUT)).decode()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", banner).group(1))
        async with asyncssh.connect("127.0.0.1", port, username="room", client_keys=None,
                                    known_hosts=None, agent_path=None) as conn:
            process = await conn.create_process(term_type="xterm-256color", term_size=(80, 24))
            await _read_until(process, lambda t: "1/" in t and "Welcome" in t, [])
            tours = list((workspace.root / "sessions").iterdir())
            assert len(tours) == 1
            os.killpg(server.pid, signal.SIGINT)  # the presenter stops the server mid-session
            await asyncio.wait_for(process.wait_closed(), TIMEOUT)
        assert await asyncio.wait_for(server.wait(), TIMEOUT) == 0
        assert not any((workspace.root / "sessions").iterdir())
    finally:
        if server.returncode is None:
            os.killpg(server.pid, signal.SIGKILL)
            await server.wait()


def test_the_ssh_command_needs_keys_or_the_demo_flag(workspace, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from tui.cli import cli
    from tui.commands import present

    monkeypatch.setattr(present, "_DEFAULT_KEYS", tmp_path / "none")
    result = CliRunner().invoke(cli, ["ssh", "--port", "0"])
    assert result.exit_code == 2 and "--open-demo" in result.output


async def test_out_of_file_descriptors_the_server_waits_instead_of_spinning(workspace):
    """EMFILE on accept: asyncio backs off a second at a time, the server says so once, and
    once connections go, the next viewer gets in."""
    import resource

    from tui.session import cpu_seconds

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (40, 40))

    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "ssh", "--open-demo", "--port", "0",
        "--max-per-address", "500", "--max-sessions", "400",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, preexec_fn=few_files,
        env={**os.environ, "LLM_TOUR_HOME": str(workspace.root)}, start_new_session=True)
    held = []
    try:
        banner = b""
        while b"Connect: ssh -p" not in banner:
            banner += await asyncio.wait_for(server.stdout.readline(), TIMEOUT)
        port = int(re.search(rb"ssh -p (\d+)", banner).group(1))
        for _ in range(80):  # more than the server has file descriptors for
            held.append(await asyncio.open_connection("127.0.0.1", port))
        line = b""
        while b"can't accept" not in line:
            line = await asyncio.wait_for(server.stderr.readline(), TIMEOUT)
        assert b"Too many open files" in line
        before = cpu_seconds(server.pid)
        await asyncio.sleep(3.0)
        assert cpu_seconds(server.pid) - before < 1.0  # a spinning accept loop takes 3 s
        for _, writer in held:
            writer.close()
        held.clear()
        command_ok = False
        for _ in range(20):
            try:
                async with asyncssh.connect("127.0.0.1", port, username="late", client_keys=None,
                                            known_hosts=None, agent_path=None):
                    command_ok = True
                    break
            except (OSError, asyncssh.Error):
                await asyncio.sleep(0.5)
        assert command_ok
    finally:
        for _, writer in held:
            writer.close()
        if server.returncode is None:
            os.killpg(server.pid, signal.SIGKILL)
            await server.wait()
