"""A room: real asyncssh viewers with PTYs on 127.0.0.1 follow a presenter's tour."""

from __future__ import annotations

import abc
import asyncio
import json
import re
import sys

import asyncssh
import pytest
from ssh_clients import TIMEOUT, client_key, keys_file  # noqa: F401 (fixtures)
from ssh_clients import plain as _plain

from engine.workspace import Workspace
from screens.registry import CHAPTERS
from tui.room import STEPPING_AWAY, Headcount, Room, RoomParser, RoomSeat, RoomTourApp, Sweeps
from tui.ssh import SSHConfig, TourSSHServer

SIZE = (120, 32)


class Screenful(abc.ABC):
    """A viewer's screen as a client receives it: what it has shown so far, read on demand."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.mark = 0

    def text(self) -> str:
        return _plain("".join(self.seen))

    @abc.abstractmethod
    async def more(self) -> str:
        """The next piece the client receives (an AssertionError when the session ended)."""

    async def until(self, *words: str) -> str:
        """Read on until every word has been shown since the last ``set_mark()``."""

        async def loop() -> str:
            while True:
                text = self.text()[self.mark:]
                if all(word in text for word in words):
                    return text
                self.seen.append(await self.more())

        try:
            return await asyncio.wait_for(loop(), TIMEOUT)
        except TimeoutError:
            missing = [word for word in words if word not in self.text()[self.mark:]]
            raise AssertionError(f"never shown: {missing}; since the mark it showed: "
                                 f"{self.text()[self.mark:][-2500:]!r}") from None

    def set_mark(self) -> None:
        self.mark = len(self.text())


class Viewer(Screenful):
    """One viewer's SSH terminal."""

    def __init__(self, process) -> None:
        super().__init__()
        self.process = process

    async def more(self) -> str:
        chunk = await self.process.stdout.read(65536)
        if not chunk:
            raise AssertionError(f"the session ended; it showed: {self.text()[-1500:]!r}")
        return chunk

    def press(self, keys: str) -> None:
        self.set_mark()
        self.process.stdin.write(keys)


async def _viewer(server: TourSSHServer, key, stack) -> Viewer:
    conn = await stack.enter_async_context(asyncssh.connect(
        "127.0.0.1", server.port, username="viewer", client_keys=[key], known_hosts=None,
        agent_path=None))
    process = await conn.create_process(term_type="xterm-256color", term_size=SIZE)
    return Viewer(process)


async def _eventually(check, what: str) -> None:
    for _ in range(int(TIMEOUT / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


def _where(index: int) -> str:
    return f"{index + 1}/{len(CHAPTERS)} · {CHAPTERS[index].title}"


async def _room(workspace, keys_file, **overrides):
    room = Room()
    config = SSHConfig(host="127.0.0.1", port=0, authorized_keys=keys_file, **overrides)
    server = TourSSHServer(workspace, config, room=room)
    await server.start()
    return room, server


async def test_viewers_follow_the_presenter_step_away_and_rejoin(workspace, keys_file,
                                                                 client_key):
    from contextlib import AsyncExitStack

    room, server = await _room(workspace, keys_file)
    presenter = RoomTourApp(workspace, room, role="presenter")
    try:
        async with presenter.run_test(size=SIZE) as pilot, AsyncExitStack() as stack:
            one = await _viewer(server, client_key, stack)
            two = await _viewer(server, client_key, stack)
            for viewer in (one, two):
                await viewer.until(_where(0), "following")
            await _eventually(lambda: presenter.headcount == Headcount(2, 2), "2 following")
            assert "2 here · 2 following" in presenter.room_label

            one.set_mark(), two.set_mark()
            await pilot.press("n")  # the presenter moves on: both viewers go too
            for viewer in (one, two):
                await viewer.until(_where(1))

            one.press("j")  # the first viewer steps away to explore
            await one.until("exploring")
            await _eventually(lambda: presenter.headcount == Headcount(2, 1), "1 following")
            one.press("n")
            await one.until(_where(2))

            two.set_mark()
            await pilot.press("n")
            await pilot.press("n")  # the presenter is at chapter 4; the explorer stays at 3
            await two.until(_where(3))
            explorer = server.sessions[0].app
            assert explorer.current == 2 and not explorer.following

            one.press("j")  # one key rejoins, where the presenter is now
            await one.until(_where(3), "following")
            await _eventually(lambda: presenter.headcount == Headcount(2, 2), "2 following")
    finally:
        await server.close()
    assert server.sessions == [] and room.viewers == []


async def test_a_viewer_moving_on_their_own_is_exploring(workspace, keys_file, client_key):
    from contextlib import AsyncExitStack

    room, server = await _room(workspace, keys_file)
    presenter = RoomTourApp(workspace, room, role="presenter")
    try:
        async with presenter.run_test(size=SIZE), AsyncExitStack() as stack:
            viewer = await _viewer(server, client_key, stack)
            await viewer.until(_where(0), "following")
            viewer.press("n")
            await viewer.until(_where(1), "exploring")
            await _eventually(lambda: presenter.headcount == Headcount(1, 0), "0 following")
    finally:
        await server.close()


RESTORE_MODES = ("\x1b[?1049l", "\x1b[?25h", "\x1b[?1000l", "\x1b[?1002l", "\x1b[?1003l",
                 "\x1b[?1006l")


def _restored_after_last_frame(raw: str) -> bool:
    tail = raw[raw.rindex("\x1b[?1049h"):]
    return all(mode in tail for mode in RESTORE_MODES)


async def test_an_explorer_with_nothing_to_watch_is_closed_and_restored(workspace, keys_file,
                                                                        client_key):
    from contextlib import AsyncExitStack

    room, server = await _room(workspace, keys_file, idle_timeout=0.6, idle_check=0.2)
    presenter = RoomTourApp(workspace, room, role="presenter")
    try:
        async with presenter.run_test(size=SIZE), AsyncExitStack() as stack:
            follower = await _viewer(server, client_key, stack)
            explorer = await _viewer(server, client_key, stack)
            await follower.until("following")
            await explorer.until("following")
            explorer.press("j")
            await explorer.until("Closed after", "without a key press or anything to watch")
            await asyncio.wait_for(explorer.process.wait_closed(), TIMEOUT)
            assert _restored_after_last_frame("".join(explorer.seen))
            # the follower typed nothing either, but watches the presenter: still in the room
            assert len(server.sessions) == 1 and room.headcount == Headcount(1, 1)
    finally:
        await server.close()


async def test_closing_the_room_restores_every_viewer_and_says_why(workspace, keys_file,
                                                                   client_key):
    from contextlib import AsyncExitStack

    _, server = await _room(workspace, keys_file)
    async with AsyncExitStack() as stack:
        viewer = await _viewer(server, client_key, stack)
        await viewer.until(_where(0), "following")
        await server.close("The presenter closed the room.")
        await viewer.until("The presenter closed the room.")
        await asyncio.wait_for(viewer.process.wait_closed(), TIMEOUT)
    assert _restored_after_last_frame("".join(viewer.seen))
    assert server.sessions == [] and not any((workspace.root / "sessions").iterdir())


async def test_a_full_room_says_so(workspace, keys_file, client_key):
    from contextlib import AsyncExitStack

    _, server = await _room(workspace, keys_file, max_sessions=1)
    try:
        async with AsyncExitStack() as stack:
            first = await _viewer(server, client_key, stack)
            await first.until("following")
            second = await _viewer(server, client_key, stack)
            await second.until("The room is full (1 of 1)")
            await asyncio.wait_for(second.process.wait_closed(), TIMEOUT)
            assert second.process.exit_status == 1
    finally:
        await server.close()


async def test_room_votes_land_in_one_tally_and_a_viewer_counts_once(workspace, tmp_path,
                                                                    monkeypatch):
    """Two viewers (two keys) vote on their own screens; the tally moves on every screen;
    the first one reconnects and votes again, which replaces their vote."""
    from contextlib import AsyncExitStack

    from engine.preference.votes import VoteStore
    from screens.registry import find_chapter
    from tui.session import VOTES_ENV

    monkeypatch.setenv(VOTES_ENV, str(workspace.path("votes")))
    alice, bob = (asyncssh.generate_private_key("ssh-ed25519") for _ in range(2))
    keys_file = tmp_path / "authorized_keys"
    keys_file.write_bytes(alice.export_public_key() + bob.export_public_key())
    room, server = await _room(workspace, keys_file)
    chapter = find_chapter("preferences")
    presenter = RoomTourApp(workspace, room, role="presenter", start=chapter)
    try:
        async with presenter.run_test(size=SIZE) as pilot:
            await _eventually(lambda: room.position.chapter == chapter, "at Preferences")
            async with AsyncExitStack() as stack:
                one = await _viewer(server, alice, stack)
                two = await _viewer(server, bob, stack)
                for viewer in (one, two):
                    await viewer.until(_where(chapter), "Press 1-")
                one.press("12")  # the third answer falls into place: the vote is sent
                await one.until("Vote recorded", "1 vote from 1 session")
                two.set_mark()
                await two.until("1 vote from 1 session")  # the tally moved on the other screen
                two.press("21")
                await two.until("Vote recorded", "2 votes from 2 sessions")
                await one.until("2 votes from 2 sessions")
                standings = presenter.get_screen("preferences").standings
                await _eventually(lambda: any(s.tally.votes == 2 for s in standings.values()),
                                  "the presenter's tally at 2")
            await pilot.pause()
            async with AsyncExitStack() as stack:  # the first viewer comes back, votes again
                again = await _viewer(server, alice, stack)
                await again.until(_where(chapter), "Press 1-")
                again.press("32")
                await again.until("Vote recorded", "2 votes from 2 sessions")
        votes = VoteStore.open(workspace).votes()
        assert len(votes) == 2 and len({v.session for v in votes}) == 2
        assert all(v.session.startswith("ssh-key:SHA256:") for v in votes)
        assert alice.get_fingerprint() in {v.session.split(":", 1)[1] for v in votes}
        mine, other = sorted(votes, key=lambda v: v.session != f"ssh-key:{alice.get_fingerprint()}")
        assert mine.id > other.id  # the vote again took the place of the first one
    finally:
        await server.close()


def test_a_known_voter_ranking_again_replaces_their_vote(workspace):
    from engine.preference.prompts import TALK_PROMPTS
    from engine.preference.votes import VoteStore

    store = VoteStore.open(workspace, prompts=TALK_PROMPTS)
    prompt = TALK_PROMPTS[0]
    ids = list(prompt.candidate_ids)
    store.vote(prompt.id, ids, "ssh-key:SHA256:a", replace=True)
    store.vote(prompt.id, ids[::-1], "ssh-key:SHA256:b", replace=True)
    store.vote(prompt.id, ids[::-1], "ssh-key:SHA256:a", replace=True)
    assert store.counts(prompt.id) == (2, 2)
    assert {v.session: v.ranking for v in store.votes(prompt.id)}["ssh-key:SHA256:a"] == \
        tuple(ids[::-1])
    store.vote(prompt.id, ids, "a-fresh-tour")  # an unknown voter adds, as before
    store.vote(prompt.id, ids, "a-fresh-tour")
    assert store.counts(prompt.id) == (4, 3)


def test_a_room_run_is_run_once_and_every_follower_sees_all_of_it():
    import threading

    from tui.room import RoomRun

    room = Room()
    gate = threading.Event()
    calls = []

    def stage():
        calls.append(1)
        yield "first"
        gate.wait(10)
        yield "second"
        return "done"

    def never() -> bool:
        return False

    late = room.follow_run("stage", never)  # a viewer asks before the presenter started it
    run = room.run("stage", stage)
    owner = run.follow(never, owner=True)
    assert next(owner) == "first" and next(late) == "first"
    gate.set()
    for follower in (owner, late):
        assert next(follower) == "second"
        with pytest.raises(StopIteration) as end:
            next(follower)
        assert end.value.value == "done"
    replay = room.follow_run("stage", never)  # one who comes later sees it all, at once
    assert list(replay) == ["first", "second"]
    assert calls == [1]

    def broken():
        yield "one"
        raise ValueError("the stage broke")

    failing = RoomRun("broken", broken).follow(never)
    assert next(failing) == "one"
    with pytest.raises(ValueError, match="the stage broke"):
        next(failing)


def test_the_presenter_stopping_a_room_run_stops_it_for_everyone():
    import threading

    room = Room()
    started = threading.Event()

    def endless():
        while True:
            started.set()
            yield "tick"

    run = room.run("stage", endless)
    owner = run.follow(lambda: False, owner=True)
    assert next(owner) == "tick"
    owner.close()  # the presenter's worker ends early: Ctrl+C, or the chapter left
    run._thread.join(10)
    assert run.done and run.stopped


async def test_viewers_following_into_the_data_chapter_see_the_one_room_crawl(
        workspace, keys_file, client_key, monkeypatch):
    from contextlib import AsyncExitStack

    from engine.data import pipeline
    from engine.data.crawler import CrawlConfig
    from screens.data import DataScreen
    from screens.registry import find_chapter

    monkeypatch.setattr(DataScreen, "crawl_config",
                        staticmethod(lambda: CrawlConfig(max_pages=12, politeness=0.0)))
    crawls = []
    real_run = pipeline.run

    def counted(*args, **kwargs):
        crawls.append(args[0].root)
        return real_run(*args, **kwargs)

    monkeypatch.setattr(pipeline, "run", counted)
    room, server = await _room(workspace, keys_file)
    presenter = RoomTourApp(workspace, room, role="presenter")
    data = find_chapter("data")
    try:
        async with presenter.run_test(size=SIZE) as pilot, AsyncExitStack() as stack:
            viewers = [await _viewer(server, client_key, stack) for _ in range(2)]
            for viewer in viewers:
                await viewer.until("following")
            await pilot.press("n")
            for viewer in viewers:
                await viewer.until(_where(data))
            # the viewers only watch: both see the room's mirror, a tour drawn for them both
            assert all(s.app is None for s in server.sessions) and len(room.mirrors) == 1
            screens = [presenter.get_screen("data")] + [
                m.app.get_screen("data") for m in room.mirrors.values()]
            await _eventually(lambda: all(s.run_state.finished is not None for s in screens),
                              "every tour saw the crawl end")
            kept = {len(s.run_state.rows) for s in screens}
            assert len(kept) == 1 and kept != {0}  # the same rows on every screen
            assert crawls == [workspace.root]  # one crawl, the room's, in its workspace
    finally:
        await server.close()


async def test_llm_tour_ssh_room_presents_in_its_terminal_and_closes_the_room(workspace):
    """`llm-tour ssh --room` on a real PTY: the presenter's tour there, a viewer over SSH
    follows it, the presenter sees them, q closes the room and the viewer is told."""
    import fcntl
    import os
    import pty
    import signal
    import struct
    import sys
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 110, 0, 0))
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tui.cli", "ssh", "--room", "--open-demo", "--port", "0",
        stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        env={**os.environ, "LLM_TOUR_HOME": str(workspace.root)})
    os.close(slave)
    os.set_blocking(master, False)
    shown = b""

    async def presenter_shows(word: bytes) -> None:
        nonlocal shown
        for _ in range(int(TIMEOUT / 0.05)):
            if word in shown:
                return
            try:
                shown += os.read(master, 65536)
            except BlockingIOError:
                await asyncio.sleep(0.05)
        raise AssertionError(f"the presenter's terminal never showed {word!r}: {shown[-800:]!r}")

    async def drain() -> None:
        """Read on, as a terminal does: a PTY left full would block the tour's writes."""
        nonlocal shown
        while True:
            try:
                shown += os.read(master, 65536)
            except BlockingIOError:
                await asyncio.sleep(0.05)
            except OSError:  # the tour has closed its terminal
                return

    try:
        await presenter_shows(b"presenting")
        port = int(re.search(rb"ssh -p (\d+)", shown).group(1))
        async with asyncssh.connect("127.0.0.1", port, username="room", client_keys=None,
                                    known_hosts=None, agent_path=None) as conn:
            viewer = Viewer(await conn.create_process(term_type="xterm-256color",
                                                      term_size=(110, 30)))
            await viewer.until(_where(0), "following")
            await presenter_shows(b"1 here")
            reader = asyncio.get_running_loop().create_task(drain())
            viewer.set_mark()
            os.write(master, b"n")
            await viewer.until(_where(1))
            viewer.set_mark()
            os.write(master, b"q")
            await viewer.until("The presenter closed the room.")
            await asyncio.wait_for(viewer.process.wait_closed(), TIMEOUT)
        assert await asyncio.wait_for(server.wait(), TIMEOUT) == 0
        assert not any((workspace.root / "sessions").iterdir())
        reader.cancel()
    finally:
        if server.returncode is None:
            os.killpg(server.pid, signal.SIGKILL)
            await server.wait()
        os.close(master)


def test_every_chapter_has_speaker_notes_and_the_clock_reads_like_one():
    from tui.room import speaker_notes, talk_clock

    notes = speaker_notes()
    assert set(notes) == {chapter.slug for chapter in CHAPTERS}
    assert all(text.strip() for text in notes.values())
    assert (talk_clock(0), talk_clock(725), talk_clock(3725)) == ("0:00", "12:05", "1:02:05")


async def test_the_presenter_has_a_talk_clock_and_notes_a_viewer_is_not_offered(workspace):
    from tui.room import NotesScreen, speaker_notes

    room = Room()
    presenter = RoomTourApp(workspace, room, role="presenter")
    async with presenter.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert presenter.room_label.startswith("presenting 0:0")
        await pilot.press("n", "v")
        await pilot.pause()
        assert isinstance(presenter.screen, NotesScreen)
        assert presenter.screen.notes == speaker_notes()[CHAPTERS[1].slug]
        await pilot.press("v")
        await pilot.pause()
        assert not isinstance(presenter.screen, NotesScreen)
    viewer = RoomTourApp(workspace, room, role="viewer")
    assert viewer.check_action("speaker_notes", ()) is False


async def test_a_serving_room_freezes_what_lives_and_sweeps_up_what_its_viewers_left(
        monkeypatch):
    """The servers' rooms take what lives out of the garbage collector's sweeps: the
    presenter's tour and the first mirror once up (after one last sweep), each viewer's tour
    once up, whatever survived one of Python's own full sweeps; and after 30 viewers' tours
    have ended, one sweep of everything sweeps up the cycles they left. A room that does
    not settle (tests, plain tours) never touches the collector."""
    import gc

    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    plain = Room()
    plain.settle()
    plain.tour_up()
    plain.tour_ended()
    assert calls == []
    room = Room(settles=True)
    try:
        room.settle("presenter")
        assert calls == ["unfreeze", "collect", "freeze"]
        room.settle("presenter")  # once for each
        room.settle("mirror")
        assert calls == ["unfreeze", "collect", "freeze"] * 2
        calls.clear()
        room.tour_up()  # a viewer's tour: frozen with no sweep, no pause
        assert calls == ["freeze"]
        calls.clear()
        for callback in list(gc.callbacks):  # Python's own full sweep: what it kept, frozen
            callback("stop", {"generation": 2, "collected": 0, "uncollectable": 0})
            callback("stop", {"generation": 1, "collected": 0, "uncollectable": 0})
        assert calls == ["freeze"]
        calls.clear()
        for _ in range(Sweeps.AFTER_TOURS - 1):
            room.tour_ended()
        assert calls == []
        room.tour_ended()
        assert calls == ["unfreeze", "collect", "freeze"]
        assert room.sweeps.sweeps == 3
        calls.clear()
        full = {"generation": 2, "collected": 0, "uncollectable": 0}
        for _ in range(Sweeps.AFTER_SWEEPS):  # a busy room: Python's own, a hundred times
            room.sweeps._collected("stop", full)
        assert calls == ["freeze"] * Sweeps.AFTER_SWEEPS
        await asyncio.sleep(0)  # the sweep of everything comes once the collector is done
        assert calls[Sweeps.AFTER_SWEEPS:] == ["unfreeze", "collect", "freeze"]
        assert room.sweeps.sweeps == 4
    finally:
        await room.close_mirrors()
    assert room.sweeps._collected not in gc.callbacks  # the room closed: the hook goes


async def test_a_sweep_of_everything_waits_for_a_pause_in_the_keys(monkeypatch):
    """A room stepping away together and back ends its tours in the middle of its keys:
    the sweep they make due waits until nobody has typed for QUIET_S, and no longer than
    LATEST_S while the keys go on."""
    import gc

    calls: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *args: calls.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(Sweeps, "QUIET_S", 0.2)
    monkeypatch.setattr(Sweeps, "LATEST_S", 0.6)
    room = Room(settles=True)
    try:
        room.settle("presenter")
        calls.clear()
        room.sweeps.touched()
        for _ in range(Sweeps.AFTER_TOURS):
            room.tour_ended()
        assert calls == []  # a key a moment ago: not now
        await asyncio.sleep(0.1)
        assert calls == []
        await asyncio.sleep(0.25)  # nobody typed for QUIET_S
        assert calls == ["unfreeze", "collect", "freeze"]
        calls.clear()

        room.sweeps.touched()
        started = asyncio.get_running_loop().time()
        for _ in range(Sweeps.AFTER_TOURS):
            room.tour_ended()
        while not calls:  # keys every 50 ms: the sweep comes at LATEST_S all the same
            room.sweeps.touched()
            await asyncio.sleep(0.05)
            assert asyncio.get_running_loop().time() - started < 5
        waited = asyncio.get_running_loop().time() - started
        assert calls == ["unfreeze", "collect", "freeze"] and 0.5 <= waited
        assert room.sweeps.due is None
    finally:
        await room.close_mirrors()


def test_a_viewers_key_parser_is_not_kept_alive_by_textuals_cache():
    """Textual's parser caches what it read in an lru_cache keyed by the parser itself, which
    kept every viewer's parser (and through it their tour) alive after they left."""
    import gc
    import weakref

    parser = RoomParser(False)
    assert [event.key for event in parser.feed("j")] == ["j"]
    gone = weakref.ref(parser)
    del parser
    gc.collect()
    assert gone() is None


async def until(condition, timeout: float = TIMEOUT) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.02)


async def test_a_tour_a_viewer_left_can_be_freed(workspace):
    """Rejoining the room lets go of the tour of one's own: nothing the seat keeps holds it
    (its hand-over task's context did, until the seat's next tour)."""
    import gc
    import weakref

    room = Room()
    presenter = RoomTourApp(workspace, room, role="presenter")
    frames: list[str] = []
    async with presenter.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seat = RoomSeat(room, frames.append, SIZE, None, lambda: workspace.root)
        task = asyncio.create_task(seat.run())
        await until(lambda: seat.watching_mirror)
        seat.feed(b"j")
        await until(lambda: seat.app is not None and seat.driver is not None
                    and not seat._holding)
        tour = weakref.ref(seat.app)
        seat.feed(b"j")  # rejoin
        await until(lambda: seat.watching_mirror)
        assert seat.app is None and seat._hand_over is None

        async def freed() -> bool:  # once the driver's last tick (a lone Esc) is done
            for _ in range(100):
                gc.collect()
                if tour() is None:
                    return True
                await asyncio.sleep(0.1)
            return False

        assert await freed()
        seat.end()
        await task
        await room.close_mirrors()


async def test_keys_kept_while_a_tour_opens_reach_the_chapters_widgets(workspace, monkeypatch):
    """A watcher at Preferences types 1: the key steps away and is kept until their own tour's
    vote panel is in place, even when the chapter loads nothing worth waiting for (the
    hand-over's wait for workers cut to nothing), so it picks an answer, not chapter 1."""
    import tui.room
    from screens.registry import find_chapter

    monkeypatch.setattr(tui.room, "HAND_OVER_S", 0.0)
    chapter = find_chapter("preferences")
    room = Room()
    presenter = RoomTourApp(workspace, room, role="presenter", start=chapter)
    async with presenter.run_test(size=SIZE) as pilot:
        await pilot.pause()
        seat = RoomSeat(room, lambda frame: None, SIZE, None, lambda: workspace.root)
        task = asyncio.create_task(seat.run())
        await until(lambda: seat.watching_mirror)
        seat.feed(b"1")
        await until(lambda: seat.app is not None and seat.driver is not None
                    and not seat._holding)
        tour = seat.app
        await until(lambda: any(panel.ballot.picked for panel in tour.screen.query("VotePanel")))
        assert tour.current == chapter
        seat.end()
        await task
        await room.close_mirrors()


async def test_a_tour_is_settled_even_when_a_widget_goes_before_handling_its_queue(workspace):
    """``settled`` waits for every widget's queue, but not for one that closed meanwhile (a
    bar composed again, a step taken back): that one handles nothing more."""
    room = Room()
    tour = RoomTourApp(workspace, room, role="viewer")
    async with tour.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await asyncio.wait_for(tour.settled(), TIMEOUT)
        stuck = tour.screen.query_one("#body")
        stuck.call_later = lambda *callback: True  # queued, and never to be handled ...
        task = asyncio.create_task(tour.settled())
        await asyncio.sleep(0.4)
        assert not task.done()
        stuck._closing = True  # ... as it closes
        await asyncio.wait_for(task, TIMEOUT)
        stuck._closing = False


async def test_the_presenters_tour_settles_the_room_once_up(workspace, monkeypatch):
    settled: list[bool] = []
    monkeypatch.setattr(Room, "settle", lambda self, what: settled.append(what))
    presenter = RoomTourApp(workspace, Room(settles=True), role="presenter")
    async with presenter.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert settled == ["presenter"]


class Tab(Screenful):
    """One browser tab's socket."""

    def __init__(self, ws) -> None:
        super().__init__()
        self.ws = ws

    async def more(self) -> str:
        import aiohttp

        message = await self.ws.receive()
        if message.type != aiohttp.WSMsgType.BINARY:
            raise AssertionError(f"the socket ended ({message}); it showed: "
                                 f"{self.text()[-1500:]!r}")
        return message.data.decode("utf-8", "replace")

    async def press(self, keys: str) -> None:
        self.set_mark()
        await self.ws.send_str(json.dumps(["stdin", keys]))  # keys come as stdin


async def test_a_browser_room_follows_the_presenter_and_votes_by_cookie(workspace, monkeypatch):
    """`serve --room`: a browser's socket watches the room's mirror, following the presenter;
    its first key gives it a tour of its own in this process, voting with the tab's cookie;
    the page asks nothing of the internet; over the cap, the room is full."""
    import aiohttp

    from tui.room_web import WebRoom

    room = Room()
    web_room = WebRoom(workspace, room, max_sessions=1)
    port = await web_room.start("127.0.0.1", 0)
    base = f"http://127.0.0.1:{port}"
    presenter = RoomTourApp(workspace, room, role="presenter")
    try:
        async with presenter.run_test(size=SIZE) as pilot, \
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(base + "/") as response:
                page = await response.text()
            urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page)
            urls += re.findall(r"""url\(\s*["']?([^"')]+)""", page)
            assert urls and all(u.startswith(base + "/") for u in urls), urls
            for url in urls:
                async with http.get(url) as response:
                    assert response.status == 200, url
            voter = {c.key: c.value for c in http.cookie_jar}["llm_tour_voter"]
            async with http.ws_connect(f"ws://127.0.0.1:{port}/ws?width=120&height=32") as ws:
                tab = Tab(ws)
                await tab.until(_where(0), "following")
                tab.set_mark()
                await pilot.press("n")
                await tab.until(_where(1))
                async with http.ws_connect(f"ws://127.0.0.1:{port}/ws") as second:
                    message = await asyncio.wait_for(second.receive(), TIMEOUT)
                    assert b"The room is full (1 of 1)" in message.data
                await tab.press("j")
                await tab.until("exploring · j rejoins")
                (viewer,) = web_room.viewers
                assert viewer.app is not None and viewer.app.voter == f"web:{voter}"
                await web_room.close("The presenter closed the room.")
                await tab.until("The presenter closed the room.")
    finally:
        await web_room.close()
    assert not any((workspace.root / "sessions").iterdir())


async def test_browser_tabs_share_one_mirror_and_a_key_gives_a_tour_of_ones_own(workspace):
    """Tabs that only watch are drawn by the room's mirror for their size, as SSH watchers
    are; a key gives a tab a tour of its own at the presenter's place; j rejoins the mirror;
    a watcher resized moves to the mirror of its new size; the headcount counts them all."""
    import aiohttp

    from tui.room_web import WebRoom

    room = Room()
    web_room = WebRoom(workspace, room)
    port = await web_room.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}/ws?width={SIZE[0]}&height={SIZE[1]}"
    presenter = RoomTourApp(workspace, room, role="presenter")

    def own_tours() -> list:
        return [viewer.app for viewer in web_room.viewers if viewer.app is not None]

    try:
        async with presenter.run_test(size=SIZE) as pilot, aiohttp.ClientSession() as http:
            async with http.ws_connect(url) as one_ws, http.ws_connect(url) as two_ws:
                one, two = Tab(one_ws), Tab(two_ws)
                for tab in (one, two):
                    await tab.until(_where(0), "following")
                assert len(room.mirrors) == 1 and len(room.watchers) == 2
                assert own_tours() == [] and room.viewers == []
                await _eventually(lambda: presenter.headcount == Headcount(2, 2), "2 following")

                one.set_mark(), two.set_mark()
                await pilot.press("n")
                for tab in (one, two):  # one tour drew it, both tabs got it
                    await tab.until(_where(1))

                await one.press("j")  # a key: a tour of their own, at chapter 2; j steps away
                await one.until(STEPPING_AWAY.strip())  # said at once, before the tour is up
                await one.until(_where(1), "exploring · j rejoins")
                (own,) = own_tours()
                assert own.current == 1 and not own.following and room.viewers == [own]
                assert len(room.watchers) == 1 and len(room.mirrors) == 1
                await _eventually(lambda: presenter.headcount == Headcount(2, 1), "1 following")

                two.set_mark()
                await pilot.press("n")
                await two.until(_where(2))  # the other tab still watches the mirror
                assert own.current == 1

                await one.press("j")  # rejoin: the mirror again, where the presenter is now
                await one.until(_where(2), "following")
                await _eventually(lambda: own_tours() == [] and room.viewers == []
                                  and len(room.watchers) == 2, "both tabs watching again")
                await _eventually(lambda: presenter.headcount == Headcount(2, 2), "2 following")

                mirror = room.mirrors[SIZE]
                two.set_mark()
                await two_ws.send_str(json.dumps(["resize", {"width": 100, "height": 30}]))
                await two.until(_where(2), "following")
                assert len(room.mirrors) == 2 and room.mirrors[SIZE] is mirror
                assert sorted(m.size for m in room.watchers.values()) == [(100, 30), SIZE]
                assert presenter.headcount == Headcount(2, 2)
            await _eventually(lambda: not web_room.viewers and not room.watchers,
                              "the closed tabs gone from the room")
            await _eventually(lambda: presenter.headcount == Headcount(0, 0), "nobody here")
    finally:
        await web_room.close()
    assert room.mirrors == {} and not any((workspace.root / "sessions").iterdir())


async def test_a_browser_tab_exploring_with_nothing_to_watch_is_closed_and_restored(
        workspace):
    """Idle tabs are closed as idle SSH viewers are: a tab that only watches the mirror
    follows a presenter who is here, so it stays; one that stepped away and typed no more
    is told why, its terminal put back."""
    import aiohttp

    from tui.room_web import WebRoom

    room = Room()
    web_room = WebRoom(workspace, room, idle_timeout=0.6, idle_check=0.2)
    port = await web_room.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}/ws?width={SIZE[0]}&height={SIZE[1]}"
    presenter = RoomTourApp(workspace, room, role="presenter")
    try:
        async with (presenter.run_test(size=SIZE), aiohttp.ClientSession() as http,
                    http.ws_connect(url) as follower_ws, http.ws_connect(url) as explorer_ws):
            follower, explorer = Tab(follower_ws), Tab(explorer_ws)
            await follower.until("following")
            await explorer.until("following")
            await explorer.press("j")
            await explorer.until("Closed after", "without a key press or anything to watch")
            closing = await asyncio.wait_for(explorer_ws.receive(), TIMEOUT)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert _restored_after_last_frame("".join(explorer.seen))
            await _eventually(lambda: len(web_room.viewers) == 1, "the explorer gone")
            # the follower typed nothing either, but watches the presenter: still here
            await asyncio.sleep(1.0)
            assert len(web_room.viewers) == 1 and room.headcount == Headcount(1, 1)
            assert len(room.watchers) == 1 and room.viewers == []
    finally:
        await web_room.close()


def test_a_stage_waiting_for_the_presenters_run_is_not_watching():
    import threading

    room = Room()
    counts = []
    stop = threading.Event()
    waiting = room.follow_run("stage", stop.is_set, counts.append)
    thread = threading.Thread(target=lambda: list(waiting))
    thread.start()
    for _ in range(200):
        if counts:
            break
        threading.Event().wait(0.01)
    assert counts == [1]  # waiting: the app counts it out of what is watched
    stop.set()
    thread.join(10)
    assert counts == [1, -1]


def test_what_the_room_builds_is_linked_into_a_viewers_folder(workspace):
    from tui.session import close_session, open_session

    workspace.ensure()
    viewer_folder = open_session(workspace, "room")
    try:
        workspace.path("dataset").write_bytes(b"built by the room's crawl")
        viewer = RoomTourApp(Workspace(viewer_folder), Room(), role="viewer")
        viewer.link_room_files()
        linked = viewer_folder / workspace.path("dataset").name
        assert linked.is_symlink() and linked.read_bytes() == b"built by the room's crawl"
        viewer.link_room_files()  # again: nothing changes, nothing breaks
    finally:
        close_session(viewer_folder)


async def test_watchers_share_one_mirror_and_a_key_gives_a_tour_of_ones_own(workspace, keys_file,
                                                                            client_key):
    """Viewers who only watch are drawn by one mirror per terminal size; the first key gives
    a viewer a tour of their own, at the presenter's place, with that key; rejoining goes
    back to the mirror."""
    from contextlib import AsyncExitStack

    room, server = await _room(workspace, keys_file)
    presenter = RoomTourApp(workspace, room, role="presenter")
    try:
        async with presenter.run_test(size=SIZE) as pilot, AsyncExitStack() as stack:
            viewers = [await _viewer(server, client_key, stack) for _ in range(3)]
            for viewer in viewers:
                await viewer.until(_where(0), "following")
            assert len(room.mirrors) == 1 and len(room.watchers) == 3
            assert all(session.app is None for session in server.sessions)
            await _eventually(lambda: presenter.headcount == Headcount(3, 3), "3 following")

            for viewer in viewers:
                viewer.set_mark()
            await pilot.press("n")
            for viewer in viewers:  # one tour drew it, every watcher got it
                await viewer.until(_where(1))

            first = viewers[0]
            first.press("j")  # a key: a tour of their own, at chapter 2, and j steps away
            await first.until(STEPPING_AWAY.strip())  # said at once, before the tour is up
            shown = await first.until(_where(1), "exploring · j rejoins")
            # the tour's first frame is the explorer's: no frame of it follows the presenter
            assert "following" not in shown.split(STEPPING_AWAY.strip())[-1]
            own = [session for session in server.sessions if session.app is not None]
            assert len(own) == 1 and own[0].app.current == 1 and not own[0].app.following
            assert len(room.watchers) == 2
            await _eventually(lambda: presenter.headcount == Headcount(3, 2), "2 following")

            first.press("j")  # rejoin: back to the room's mirror, no tour of their own
            await first.until(_where(1), "following")
            await _eventually(lambda: all(s.app is None for s in server.sessions)
                              and len(room.watchers) == 3, "every viewer watching again")
            await _eventually(lambda: presenter.headcount == Headcount(3, 3), "3 following")
    finally:
        await server.close()
    assert room.mirrors == {}  # the room's mirrors end with the server
    # tours that ended in any order leave prints where they went, not with an ended tour
    assert (sys.stdout, sys.stderr) == room.streams


async def test_an_esc_alone_is_the_escape_key_even_when_the_loop_was_busy():
    """Esc, then j a moment later: two keys, though the server's loop was too busy to run
    the tick that reads a lone Esc before the j came (not "alt+j")."""
    import time

    from textual import events

    from tui.room import ChannelDriver

    class Keys(ChannelDriver):
        def process_message(self, message) -> None:
            if isinstance(message, events.Key):
                seen.append(message.key)

    seen: list[str] = []
    driver = Keys(object())
    driver.feed(b"\x1b")
    time.sleep(0.3)  # busy: the tick cannot run
    driver.feed(b"j")
    assert seen == ["escape", "j"]
    seen.clear()
    driver.feed(b"\x1bj")  # in one read: Alt+j, as a terminal sends it
    time.sleep(0.3)
    driver.feed(b"k")
    assert seen == ["alt+j", "k"]
