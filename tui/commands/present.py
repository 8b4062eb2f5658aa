"""Presenting to a room: the tour over SSH (`llm-tour ssh`) or in a browser (`llm-tour serve`)."""

from __future__ import annotations

from pathlib import Path

import click

from engine.workspace import Workspace
from tui.commands import pass_workspace

_DEFAULT_KEYS = Path("~/.ssh/authorized_keys").expanduser()


@click.command(short_help="Serve the tour over SSH, a tour per connection.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 opens it to the network).")
@click.option("--port", default=2222, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--authorized-keys", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              default=None,
              help="Public keys allowed in, one per line [default: ~/.ssh/authorized_keys if present].")
@click.option("--open-demo", is_flag=True,
              help="Let anyone who can reach the port in, without a key (a room's demo).")
@click.option("--max-sessions", default=30, show_default=True, type=click.IntRange(1),
              help="Most tours running at once; one more is told the room is full.")
@click.option("--max-per-address", default=8, show_default=True, type=click.IntRange(1),
              help="Most connections logging in at once from one address (a flood is held to a "
                   "few; viewers behind one NAT, once in, are not limited).")
@click.option("--threads-per-session", default=1, show_default=True, type=click.IntRange(1),
              help="CPU threads each session's training and sampling may use.")
@click.option("--idle-timeout", default=15.0, show_default=True, type=click.FloatRange(0.1),
              help="Minutes without a key press before a session is closed.")
@click.option("--fast-link", is_flag=True,
              help="Full frame rate and animations (default: 10 frames a second, no animation).")
@click.option("--room", is_flag=True,
              help="A room: you present in this terminal, every viewer follows you (j steps "
                   "away to explore, j again rejoins); all in this one process.")
@pass_workspace
def ssh(workspace: Workspace, host: str, port: int, authorized_keys: Path | None,
        open_demo: bool, max_sessions: int, max_per_address: int, threads_per_session: int,
        idle_timeout: float, fast_link: bool, room: bool) -> None:
    """Serve the tour over SSH: each connection gets its own tour in its own terminal.

    Viewers run `ssh -p PORT HOST`. They get the tour and nothing else: no shell,
    commands, file transfer or forwarding. Each has a folder of their own for what
    they build, reads what you prepared, and votes into the shared vote store.
    """
    import asyncio

    from tui.ssh import SSHConfig, serve_forever

    if authorized_keys is None and not open_demo:
        if not _DEFAULT_KEYS.exists():
            raise click.UsageError("Give --authorized-keys FILE, or --open-demo to let anyone in.")
        authorized_keys = _DEFAULT_KEYS
    if open_demo:
        click.secho("Warning: open demo mode. Anyone who can reach "
                    f"{host}:{port} gets a tour, without a key.", fg="yellow", bold=True, err=True)
    config = SSHConfig(host=host, port=port, authorized_keys=None if open_demo else authorized_keys,
                       open_demo=open_demo, max_sessions=max_sessions,
                       max_per_address=max_per_address,
                       threads_per_session=threads_per_session, idle_timeout=idle_timeout * 60,
                       slow_link=not fast_link)

    def announce(server) -> None:
        import socket

        who = "anyone (open demo)" if open_demo else f"the keys in {authorized_keys}"
        reach = {"127.0.0.1": "localhost", "::1": "localhost", "0.0.0.0": socket.gethostname(),
                 "::": socket.gethostname()}.get(host, host)
        click.echo(f"llm-tour over SSH on {host}:{server.port}, for {who}.")
        click.echo(f"Host key {server.fingerprint} (kept in {workspace.root}).")
        click.echo(f"Up to {max_sessions} sessions, {threads_per_session} thread(s) each, "
                   f"closed after {idle_timeout:g} idle minutes. Connect: ssh -p {server.port} "
                   f"{reach}")
        click.echo("Ctrl+C stops the server and every session.")

    if room:
        import os

        from tui.room import room_environment

        # Before Textual is imported: its frame rate is read once, for every tour in the room.
        os.environ.update(room_environment(workspace, threads_per_session, not fast_link))

        def welcome(server) -> str:
            announce(server)
            return (f"The room is open: viewers run ssh -p {server.port} HOST and follow you. "
                    "The header says how many are here and following; q closes the room.")

        from tui.room_ssh import serve_room

        try:
            asyncio.run(serve_room(workspace, config, welcome))
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        except OSError as error:
            raise click.ClickException(f"Can't listen on {host}:{port}: "
                                       f"{error.strerror or error}")
        return
    try:
        asyncio.run(serve_forever(workspace, config, announce))
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"Can't listen on {host}:{port}: {error.strerror or error}")


@click.command(short_help="Serve the tour in a browser, a tour per visitor.")
@click.option("--host", default="localhost", show_default=True,
              help="Address to listen on (0.0.0.0 opens it to the network).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--public-url", default=None,
              help="The address browsers use, when it differs from host:port (a proxy).")
@click.option("--max-sessions", default=30, show_default=True, type=click.IntRange(1),
              help="Most tours running at once; one more is told the room is full.")
@click.option("--threads-per-session", default=1, show_default=True, type=click.IntRange(1),
              help="CPU threads each visitor's training and sampling may use.")
@click.option("--idle-timeout", default=15.0, show_default=True, type=click.FloatRange(0.001),
              help="Minutes without a key press or anything to watch before a tab is closed.")
@click.option("--fast-link", is_flag=True,
              help="Full frame rate and animations (default: 10 frames a second, no animation).")
@click.option("--room", is_flag=True,
              help="A room: you present in this terminal, every browser follows you (j steps "
                   "away to explore, j again rejoins); all in this one process.")
@pass_workspace
def serve(workspace: Workspace, host: str, port: int, public_url: str | None,
          max_sessions: int, threads_per_session: int, idle_timeout: float,
          fast_link: bool, room: bool) -> None:
    """Serve the tour in a browser: each visitor gets their own tour in their own process.

    Each has a folder of their own for what they build, reads what you prepared, and
    votes into the shared vote store; the tour fetches no URL a visitor types.
    """
    from tui.serve import open_warning, serve_tour

    warning = open_warning(host)
    if warning:
        click.secho(warning, fg="yellow", bold=True, err=True)
    if room:
        import asyncio
        import os

        from tui.room import room_environment

        os.environ.update(room_environment(workspace, threads_per_session, not fast_link))
        from tui.room_web import serve_room_web

        def welcome(bound: int) -> str:
            url = public_url or f"http://{host}:{bound}"
            click.echo(f"llm-tour room in a browser on {host}:{bound}: open {url}")
            return f"The room is open at {url}; the header says who is here and following."

        try:
            asyncio.run(serve_room_web(workspace, host, port, public_url, max_sessions,
                                       idle_timeout * 60, welcome))
        except OSError as error:
            raise click.ClickException(f"Can't listen on {host}:{port}: "
                                       f"{error.strerror or error}")
        return
    serve_tour(workspace, host=host, port=port, public_url=public_url,
               threads=threads_per_session, slow_link=not fast_link, max_sessions=max_sessions,
               idle_timeout=idle_timeout * 60)
