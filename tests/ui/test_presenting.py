"""Presenter comfort and what a remote visitor may do: presenter mode, slow links, sessions."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from engine.workspace import Workspace, write_text_atomic
from screens.widgets.keys_bar import KeysBar
from tui.session import (
    OFFLINE_ENV,
    REMOTE_ENV,
    VOTES_ENV,
    SessionLimits,
    close_session,
    open_session,
    session_env,
    sweep_stale,
)


async def test_f_toggles_presenter_mode_which_hides_the_footer(workspace):
    from tui.app import TourApp

    app = TourApp(workspace)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(KeysBar)
        assert footer.display
        await pilot.press("f")
        await pilot.pause()
        assert app.has_class("-presenting")
        assert not footer.display
        await pilot.press("f")
        await pilot.pause()
        assert not app.has_class("-presenting") and footer.display


async def test_a_slow_link_turns_animation_off(workspace, monkeypatch):
    from tui.app import TourApp

    monkeypatch.setenv("LLM_TOUR_SLOW_LINK", "1")
    assert TourApp(workspace).animation_level == "none"


def test_slow_link_flag_lowers_the_frame_rate_before_textual_loads(workspace):
    code = ("import os, sys\n"
            "from click.testing import CliRunner\n"
            "import tui.cli as c\n"
            "class Fake:\n"
            "    def __init__(self, *a, **k): pass\n"
            "    def run(self):\n"
            "        import textual.constants as k\n"
            "        print('FPS', k.MAX_FPS, k.TEXTUAL_ANIMATIONS)\n"
            "import types\n"
            "sys.modules['tui.app'] = types.SimpleNamespace(TourApp=Fake)\n"
            "print(CliRunner().invoke(c.cli, ['--slow-link']).output)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "FPS 10 none" in out


def test_a_visitor_folder_links_what_was_prepared_but_not_private_files(workspace):
    workspace.ensure()
    workspace.path("tokenizer").write_text('{"shared": true}')
    workspace.path("votes").write_bytes(b"sqlite")
    workspace.write_state(chapter="tokens")
    workspace.path("ssh_host_ed25519_key").write_text("secret")
    folder = open_session(workspace, "ssh")
    try:
        names = {p.name for p in folder.iterdir()}
        assert "tokenizer.json" in names
        assert not names & {"votes.sqlite", "state.json", "ssh_host_ed25519_key"}
        visitor = Workspace(folder)
        assert visitor.find("tokenizer").source == "workspace"
        # a visitor rebuilding an artifact replaces their link, never the presenter's file
        write_text_atomic(visitor.path("tokenizer"), '{"mine": true}')
        assert workspace.path("tokenizer").read_text() == '{"shared": true}'
        assert visitor.path("tokenizer").read_text() == '{"mine": true}'
        env = session_env(workspace, folder, SessionLimits(threads=3))
        assert env["LLM_TOUR_HOME"] == str(folder)
        assert env[VOTES_ENV] == str(workspace.path("votes").resolve())
        assert env[OFFLINE_ENV] == "1" and env["OMP_NUM_THREADS"] == "3"
        assert env["LLM_TOUR_THREADS"] == "3"
    finally:
        close_session(folder)
    assert not folder.exists()


def test_folders_of_sessions_that_died_are_swept(workspace):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = open_session(workspace, "web")
    stale = open_session(workspace, "web", owner=dead.pid)
    assert sweep_stale(workspace) == 1
    assert not stale.exists() and live.exists()
    close_session(live)


def test_votes_go_to_the_shared_store(workspace, tmp_path, monkeypatch):
    from engine.preference.votes import VoteStore

    shared = tmp_path / "shared-votes.sqlite"
    monkeypatch.setenv(VOTES_ENV, str(shared))
    assert VoteStore.open(workspace).path == shared
    monkeypatch.delenv(VOTES_ENV)
    assert VoteStore.open(workspace).path == workspace.path("votes")


def test_an_offline_tour_fetches_nothing_outside_the_sample_web(monkeypatch):
    from engine.data.crawler import LocalTransport

    monkeypatch.setenv(OFFLINE_ENV, "1")
    with httpx.Client(transport=LocalTransport(None)) as client:
        for url in ("http://127.0.0.1:9/admin", "https://example.com/", "http://10.0.0.1/"):
            with pytest.raises(httpx.ConnectError, match="offline"):
                client.get(url)


async def test_presenting_keeps_passing_remarks_off_screen_but_not_errors(workspace):
    from tui.app import TourApp

    app = TourApp(workspace, presenting=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        assert app.has_class("-presenting")
        await pilot.press("left")  # "This is the first chapter." is a passing remark
        app.notify("The model file is damaged.", severity="error")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert messages == ["The model file is damaged."]


async def test_while_presenting_a_failing_widget_is_a_note_in_the_chapter(workspace):
    import asyncio

    from textual.message import Message
    from textual.widgets import Static

    from tui.app import TourApp
    from tui.errors import ErrorNote

    class Broken(Static):
        class Boom(Message):
            pass

        def on_broken_boom(self) -> None:
            raise ValueError("the probability map is empty")

    app = TourApp(workspace, presenting=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        broken = Broken("a live panel")
        await app.screen.mount(broken)
        broken.post_message(Broken.Boom())
        for _ in range(100):  # not pilot.pause(): it would wait on the dead widget's queue
            await asyncio.sleep(0.02)
            if app.screen.query(ErrorNote):
                break
        note = app.screen.query_one(ErrorNote)
        assert "ValueError: the probability map is empty" in str(note.render())
        assert "Traceback" in workspace.path("errors.log").read_text()
        assert not broken.is_attached  # the dead widget is gone from the chapter
        await pilot.press("n")  # the tour goes on
        await pilot.pause()
        assert app.current == 1 and app.is_running


def test_a_remote_visitor_cannot_add_a_page_from_the_servers_files_or_urls(workspace, monkeypatch,
                                                                           tmp_path):
    from engine.data.ownpage import OwnPageError, check_page

    secret = tmp_path / "secret.html"
    secret.write_text("<html><body><p>The server's own file.</p></body></html>")
    monkeypatch.setenv(REMOTE_ENV, "1")
    for source in (str(secret), "http://127.0.0.1:9/", "~/.ssh/id_ed25519"):
        with pytest.raises(OwnPageError, match="switched off in a shared tour"):
            list(check_page(workspace, source))


def test_a_remote_viewer_sees_no_server_paths(workspace):
    from tui.session import hide_paths

    folder = open_session(workspace, "ssh")
    try:
        line = f"Saved to {folder / 'chat.pt'}; the prepared one is {workspace.path('base')}."
        shown = hide_paths(line, folder)
        assert shown == f"Saved to chat.pt; the prepared one is {workspace.path('base').name}."
        assert str(workspace.root) not in hide_paths(f"Can't write {folder}", folder)
    finally:
        close_session(folder)


async def test_a_remote_viewers_notifications_and_error_notes_name_no_server_path(
        workspace, monkeypatch):
    from tui.app import TourApp
    from tui.errors import error_note

    monkeypatch.setenv(REMOTE_ENV, "1")
    folder = open_session(workspace, "ssh")
    try:
        app = TourApp(Workspace(folder), presenting=True)
        async with app.run_test(size=(100, 32)) as pilot:
            await pilot.pause()
            app.notify(f"Could not read {folder / 'base.pt'}", severity="error")
            await pilot.pause()
            assert [n.message for n in app._notifications] == ["Could not read base.pt"]
            text = str(error_note(ValueError("bad"), folder / "errors.log", app.shown).render())
            assert "errors.log" in text and str(folder) not in text
    finally:
        close_session(folder)


async def test_a_remote_viewer_is_not_offered_their_own_page(workspace, monkeypatch):
    from screens.registry import find_chapter
    from tui.app import TourApp

    monkeypatch.setenv(REMOTE_ENV, "1")
    app = TourApp(workspace, start=find_chapter("data"))
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert screen.check_action("own_page", ()) is False
        screen.step = screen.step_count - 1
        await pilot.pause()
        assert not screen.query("#own-page-input") and screen.query("#own-page-off")
