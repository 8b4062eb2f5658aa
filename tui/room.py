"""A room: one presenter drives, every viewer follows on their own screen.

``llm-tour ssh --room`` runs the presenter's tour in the terminal that started it and
every viewer's tour inside the same process, each drawn onto its SSH channel by a
``ChannelDriver``. One process holds Textual, the chapters and (once a chapter needs
it) torch once for the whole room, instead of a process of 315-530 MB per viewer.

The hub is ``Room``: the presenter's tour tells it where it is (``Position``, a chapter
and a step), the room passes that to every viewer's tour as a message on its own queue,
and tells the presenter how many are in the room and following (``Headcount``). Nothing
is polled. A viewer follows by default; ``j`` steps away to explore (any move of their
own does too) and ``j`` again rejoins the presenter where they are now.

Who presents: the terminal that ran ``llm-tour ssh --room``. Nobody can become the
presenter over SSH, so no key or password decides it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import gc
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import events
from textual._xterm_parser import XTermParser
from textual.app import ComposeResult, ScreenStackError
from textual.binding import Binding
from textual.driver import Driver
from textual.geometry import Size
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Static

from engine.workspace import Workspace
from screens.registry import CHAPTERS
from screens.widgets.tour_header import TourHeader
from tui.app import TourApp
from tui.session import RESTORE, close_session


@dataclass(frozen=True)
class Position:
    """Where the presenter is: a chapter (0-based) and a step in it."""

    chapter: int
    step: int


@dataclass(frozen=True)
class Headcount:
    """Who is in the room: viewers connected, and how many of them follow the presenter."""

    connected: int
    following: int


class RoomMoved(Message):
    """The presenter moved (delivered to each viewer's tour)."""

    def __init__(self, position: Position) -> None:
        super().__init__()
        self.position = position


class RoomCounted(Message):
    """The room's headcount changed (delivered to the presenter's tour)."""

    def __init__(self, headcount: Headcount) -> None:
        super().__init__()
        self.headcount = headcount


class RoomVoted(Message):
    """Someone in the room voted on a prompt (delivered to every other tour)."""

    def __init__(self, prompt_id: str) -> None:
        super().__init__()
        self.prompt_id = prompt_id


class RoomRun:
    """One run of a stage for the whole room: a thread runs the engine's stream once and
    keeps its events; every tour that follows it gets them all, from the first, as they
    come. A room of 30 crawls and trains once, not 30 times in one process."""

    WAIT_S = 0.25  # how often a follower waiting for the next event looks at its worker

    def __init__(self, group: str, factory: Callable[[], Iterable[Any]]) -> None:
        self.group = group
        self.events: list[Any] = []
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = False
        self.stopped = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._produce, args=(factory,), daemon=True,
                                        name=f"room-run-{group}")
        self._thread.start()

    def _produce(self, factory: Callable[[], Iterable[Any]]) -> None:
        iterator: Iterator[Any] | None = None
        try:
            iterator = iter(factory())
            while not self.stopped:
                try:
                    event = next(iterator)
                except StopIteration as end:
                    self.result = end.value
                    break
                with self._changed:
                    self.events.append(event)
                    self._changed.notify_all()
        except BaseException as error:  # noqa: BLE001 (handed to every follower, in its worker)
            self.error = error
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
            with self._changed:
                self.done = True
                self._changed.notify_all()

    def follow(self, cancelled: Callable[[], bool], owner: bool = False):
        """The run's events from the first; the owner (the presenter) closing it early
        stops the run for everyone."""
        seen = 0
        try:
            while True:
                with self._changed:
                    while seen >= len(self.events) and not self.done:
                        self._changed.wait(self.WAIT_S)
                        if cancelled():
                            return None
                    batch, done = self.events[seen:], self.done
                seen += len(batch)
                yield from batch
                if done and seen >= len(self.events):
                    if self.error is not None:
                        raise self.error
                    return self.result
        finally:
            if owner and not self.done:
                self.stopped = True


class Sweeps:
    """The garbage collector's work in a serving room, in pauses no viewer feels.

    Every viewer's tour runs in this one process. Python's full sweep walks every object
    that lives: the presenter's tour, every mirror, each viewer's tour of their own, every
    module; about a million objects with 30 tours, over a second on a busy core, and it
    came every few seconds while viewers stepped away and pressed keys. Here, what survived
    a full sweep is frozen (``gc.freeze``: not walked again), and so is a viewer's tour
    once it is up (``freeze``), so a sweep walks only what is new since the last. A frozen
    object is still freed once nothing refers to it; only cycles (the widgets of a tour
    that ended, of a chapter left behind) wait, frozen, for a sweep of everything
    (``sweep``): after ``AFTER_TOURS`` viewers' tours have ended, or after ``AFTER_SWEEPS``
    of Python's own (minutes, in a busy room), whichever comes first. That sweep still takes
    half a second or more with 30 tours, so it waits for a quiet moment: no viewer's key for
    ``QUIET_S`` (a room stepping away together, then back, ends its 30 tours in the middle
    of its keys), or ``LATEST_S`` at the most.
    """

    AFTER_TOURS = 30
    AFTER_SWEEPS = 100
    QUIET_S = 2.0
    LATEST_S = 30.0

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ended = 0  # viewers' tours ended since the last sweep of everything
        self.collections = 0  # Python's own full sweeps since then
        self.sweeps = 0  # sweeps of everything so far
        self.sweeping = False
        self.last_key = 0.0  # when a viewer (or the presenter) last typed (monotonic)
        self.due: float | None = None  # when a sweep of everything fell due, while it waits

    def start(self) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            gc.callbacks.append(self._collected)

    def stop(self) -> None:
        if self.loop is not None:
            gc.callbacks.remove(self._collected)
            self.loop = None

    def _collected(self, phase: str, info: dict) -> None:
        """After each full sweep Python makes: what it kept is long-lived, frozen."""
        if phase != "stop" or info["generation"] != 2 or self.sweeping or self.loop is None:
            return
        gc.freeze()
        self.collections += 1
        if self.collections == self.AFTER_SWEEPS:  # from the collector: sweep after it
            with contextlib.suppress(RuntimeError):  # a loop that has closed: no sweep
                self.loop.call_soon_threadsafe(self.sweep_when_quiet)

    def freeze(self) -> None:
        if self.loop is not None:
            gc.freeze()

    def touched(self) -> None:
        """Someone typed: a sweep of everything that is due waits until they pause."""
        self.last_key = time.monotonic()

    def tour_ended(self) -> None:
        self.ended += 1
        if self.ended >= self.AFTER_TOURS:
            self.sweep_when_quiet()

    def sweep_when_quiet(self) -> None:
        """Sweep once nobody has typed for ``QUIET_S``, or ``LATEST_S`` from now at most."""
        if self.loop is None or self.due is not None:  # closed, or already waiting
            return
        self.due = time.monotonic()
        self._sweep_if_quiet()

    def _sweep_if_quiet(self) -> None:
        if self.loop is None or self.due is None:  # closed, or swept meanwhile
            return
        now = time.monotonic()
        quiet_for = now - self.last_key
        if quiet_for >= self.QUIET_S or now - self.due >= self.LATEST_S:
            self.sweep()
        else:
            self.loop.call_later(min(self.QUIET_S - quiet_for, self.due + self.LATEST_S - now),
                                 self._sweep_if_quiet)

    def sweep(self) -> None:
        """Walk everything once (the cycles left behind go), then freeze what is left."""
        if self.loop is None:  # the room has closed
            return
        self.ended = self.collections = 0
        self.due = None
        self.sweeping = True
        try:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        finally:
            self.sweeping = False
        self.sweeps += 1


class Room:
    """The hub between the presenter's tour and the viewers' tours, all in one process."""

    def __init__(self, settles: bool = False) -> None:
        """``settles``: the garbage collector walks only what is new (``Sweeps``), for a
        process that serves the room and ends with it."""
        self.settles = settles
        self.settled: set[str] = set()
        self.sweeps = Sweeps()
        # where prints went before any of the room's tours ran (``mend_streams``)
        self.streams = (sys.stdout, sys.stderr)
        self.position = Position(0, 0)
        self.presenter: RoomTourApp | None = None
        self.viewers: list[RoomTourApp] = []
        self.mirrors: dict[tuple[int, int], Mirror] = {}  # one per terminal size in use
        self.watchers: dict[object, Mirror] = {}  # viewers with no tour of their own yet
        self.runs: dict[str, RoomRun] = {}  # the latest run of each stage

    def run(self, group: str, factory: Callable[[], Iterable[Any]]) -> RoomRun:
        """The presenter starts a stage: a new room run of it (the old one is stopped)."""
        old = self.runs.get(group)
        if old is not None and not old.done:
            old.stopped = True
        run = self.runs[group] = RoomRun(group, factory)
        return run

    def follow_run(self, group: str, cancelled: Callable[[], bool],
                   waiting: Callable[[int], None] = lambda change: None):
        """A viewer's stage: the room's latest run of it, or the next the presenter starts
        (``waiting(+1)`` and ``waiting(-1)`` around the wait for it)."""
        if group not in self.runs:
            waiting(1)
            try:
                while group not in self.runs:
                    if cancelled():
                        return None
                    time.sleep(RoomRun.WAIT_S)
            finally:
                waiting(-1)
        return (yield from self.runs[group].follow(cancelled))

    # -- members -------------------------------------------------------------------
    def join(self, app: RoomTourApp) -> None:
        if app.role == "presenter":
            self.presenter = app
        elif app.role == "viewer":
            self.viewers.append(app)
        self.counted()

    def leave(self, app: RoomTourApp) -> None:
        if app is self.presenter:
            self.presenter = None
        elif app in self.viewers:
            self.viewers.remove(app)
        self.counted()

    @property
    def headcount(self) -> Headcount:
        watching = len(self.watchers)  # a viewer who watches a mirror follows the presenter
        return Headcount(len(self.viewers) + watching,
                         sum(1 for v in self.viewers if v.following) + watching)

    # -- viewers who only watch --------------------------------------------------------
    def watch(self, viewer: object, size: tuple[int, int], write: Callable[[str], None],
              workspace: Callable[[], Workspace]) -> Mirror:
        """``viewer`` watches the room's mirror for its terminal size (made on first use,
        with a workspace from ``workspace()``); its frames go to ``write``."""
        self.unwatch(viewer, count=False)
        mirror = self.mirrors.get(size)
        if mirror is None or mirror.closed:
            mirror = self.mirrors[size] = Mirror(self, workspace(), size)
        self.watchers[viewer] = mirror
        mirror.add(viewer, write)
        self.counted()
        return mirror

    def unwatch(self, viewer: object, count: bool = True) -> None:
        mirror = self.watchers.pop(viewer, None)
        if mirror is not None:
            mirror.remove(viewer)
            if count:
                self.counted()

    async def close_mirrors(self) -> None:
        """End every mirror (the room is closing): their tours stop, their folders go."""
        mirrors = list(self.mirrors.values())
        self.mirrors.clear()
        await asyncio.gather(*(mirror.close() for mirror in mirrors), return_exceptions=True)
        self.mend_streams()
        self.sweeps.stop()

    def mend_streams(self) -> None:
        """Prints go where they went before, not to a tour that has ended.

        A running Textual app points ``sys.stdout`` and ``sys.stderr`` at its own capture
        and puts back what it found when it ends. The room's tours start and end in any
        order in one process, so the last to end can put back the capture of one that ended
        before it, and every print after it (the server's own words: a connection it can't
        accept, "Interrupted.") would be lost.
        """
        for name, before in zip(("stdout", "stderr"), self.streams):
            owner = getattr(getattr(sys, name), "app", None)
            if owner is not None and not owner.is_running:
                setattr(sys, name, before)

    def settle(self, what: str = "") -> None:
        """The presenter's tour or the first mirror is up: one last full sweep, and what
        lives as long as the room is not walked again (``Sweeps``). Once for each ``what``
        (a mirror for each new terminal size is not worth a pause of its own), and only in a
        room that ``settles`` (the servers' own, which end with the process)."""
        if not self.settles or what in self.settled:
            return
        self.settled.add(what)
        self.sweeps.start()
        self.sweeps.sweep()

    def tour_up(self) -> None:
        """A viewer's own tour is up, its chapter loaded: not walked again while it lasts."""
        if self.settles:
            self.sweeps.freeze()

    def tour_ended(self) -> None:
        """A viewer's own tour ended: its cycles wait for the next sweep (``Sweeps``)."""
        if self.settles:
            self.sweeps.tour_ended()

    def counted(self) -> None:
        """Tell the presenter who is here (after a join, a leave, a viewer stepping away)."""
        if self.presenter is not None:
            self.presenter.post_message(RoomCounted(self.headcount))

    def voted(self, voter: RoomTourApp, prompt_id: str) -> None:
        """A vote landed in the room's votes file: every other screen redraws its tally."""
        for app in [self.presenter, *self.viewers, *self._mirror_apps()]:
            if app is not None and app is not voter:
                app.post_message(RoomVoted(prompt_id))

    def _mirror_apps(self) -> list[RoomTourApp]:
        return [mirror.app for mirror in self.mirrors.values()]

    # -- moving ------------------------------------------------------------------------
    def move(self, position: Position) -> None:
        """The presenter is somewhere new: every viewer is told; those following go too."""
        if position == self.position:
            return
        self.position = position
        for viewer in [*self.viewers, *self._mirror_apps()]:
            viewer.post_message(RoomMoved(position))


class RoomTourApp(TourApp):
    """The tour in a room: the presenter's, which leads, or a viewer's, which follows."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("j", "follow", "Follow", id="room_follow",
                tooltip="In a room: step away from the presenter to explore, or rejoin them"),
        Binding("v", "speaker_notes", "Notes", id="room_notes", show=False,
                tooltip="The presenter's notes for this chapter (only on the presenter's "
                        "screen)"),
    ]

    def __init__(self, workspace: Workspace, room: Room, role: str = "viewer",
                 **kwargs) -> None:
        """``role``: "presenter" (leads), "viewer" (one viewer's own tour) or "mirror" (a
        following tour drawn for every viewer who only watches, see ``Mirror``)."""
        if role != "presenter":
            kwargs.setdefault("start", room.position.chapter)
            kwargs.setdefault("step", room.position.step)
        super().__init__(workspace, **kwargs)
        self.room = room
        self.role = role
        self.first_frame = asyncio.Event()  # set once the first frame is out (Textual's Ready)
        if role != "presenter":
            # The server's terminal is the presenter's: a viewer's last words (an error,
            # "Stopped with Ctrl+C") stay out of it; errors are in the viewer's errors.log.
            import io

            from rich.console import Console

            self.error_console = Console(file=io.StringIO(), stderr=False)
        self.following = role != "presenter"
        self.placed = room.position  # where the room last put this tour (a viewer's, a mirror)
        # A session that can show the room's mirror ends this tour when its viewer rejoins
        # (``tui.room_ssh``): following needs no tour of one's own.
        self.rejoin_by_watching = False
        self.headcount = room.headcount
        self.last_key = time.monotonic()
        self.talk_started = time.monotonic()
        self.waiting_runs = 0  # stages of this viewer waiting for the presenter to run them
        self._waiting_lock = threading.Lock()

    # -- joining ------------------------------------------------------------------------
    def on_mount(self) -> None:  # after TourApp's own (Textual calls each class's handler)
        self.room.join(self)
        if self.role == "presenter":
            self.talk_started = time.monotonic()
            self.set_interval(1.0, self._relabel)  # the talk's clock

    def on_ready(self) -> None:
        self.first_frame.set()
        if self.role != "viewer":  # the presenter's, the first mirror: long-lived
            self.call_after_refresh(self.room.settle, self.role)

    def on_unmount(self) -> None:
        self.room.leave(self)

    async def settled(self) -> None:
        """Wait until what the tour was asked to do so far is done and drawn: the app and
        every widget of its screen have handled what was queued for them (twice over: what
        that queued too, such as the chapter's step mounting its widgets), and the screen has
        refreshed (focus set after a refresh is in place). Called from another task."""
        for _ in range(2):
            pending: set[Any] = set()  # the nodes whose queue has not reached our callback
            all_handled = asyncio.Event()

            def handled(node: Any, pending: set[Any] = pending,
                        all_handled: asyncio.Event = all_handled) -> None:  # this round's
                pending.discard(node)
                if not pending:
                    all_handled.set()

            for node in (self, *self.screen.walk_children(with_self=True)):
                pending.add(node)
                if not node.call_later(handled, node):  # closing already: nothing to wait for
                    pending.discard(node)
            while pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(all_handled.wait(), 0.25)
                # a node removed meanwhile (a bar composed again) handles nothing more
                pending.difference_update([node for node in pending
                                           if node._closing or node._closed])
            await self.screen.wait_for_refresh()

    @property
    def room_label(self) -> str:
        """The header's word on the room: read by ``TourHeader``."""
        if self.role == "presenter":
            count = self.headcount
            return (f"presenting {talk_clock(time.monotonic() - self.talk_started)} · "
                    f"{count.connected} here · {count.following} following")
        return "following · j explores" if self.following else "exploring · j rejoins"

    def _relabel(self) -> None:
        if not self.screen_stack:  # not shown yet: the first header reads the label itself
            return
        for header in self.screen.query(TourHeader):
            header.refresh()

    # -- the presenter ---------------------------------------------------------------
    def on_room_counted(self, message: RoomCounted) -> None:
        self.headcount = message.headcount
        self._relabel()

    def _remember(self, **changes: object) -> None:
        super()._remember(**changes)
        if "step" not in changes or self.current < 0:
            return
        if self.role == "presenter":
            self.room.move(Position(self.current, self.screen_step()))
        elif self.following:
            self.call_after_refresh(self._check_drift)

    def screen_step(self) -> int:
        screen = self.get_screen(CHAPTERS[self.current].slug)
        return int(getattr(screen, "step", 0))

    # -- a viewer ----------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        self.last_key = time.monotonic()
        self.room.sweeps.touched()

    def on_room_moved(self, message: RoomMoved) -> None:
        if self.following:
            self.go_to(message.position)

    def link_room_files(self) -> None:
        """What the room's runs built (a dataset, a tokenizer) shows up in this viewer's folder."""
        from tui.session import SESSIONS_DIR, link_prepared

        root = self.workspace.root
        if self.role != "presenter" and root.parent.name == SESSIONS_DIR:
            with contextlib.suppress(OSError):
                link_prepared(Workspace(root.parent.parent), root)

    def go_to(self, position: Position) -> None:
        """Show the presenter's chapter and step."""
        self.link_room_files()
        chapter = max(0, min(position.chapter, len(CHAPTERS) - 1))
        self.placed = position
        self.goto(chapter)
        screen = self.get_screen(CHAPTERS[chapter].slug)
        if screen.is_mounted:
            screen.step = max(0, min(position.step, screen.step_count - 1))
        else:  # not drawn yet: it opens at that step
            screen.start_at(position.step)

    def _check_drift(self) -> None:
        """A move of the viewer's own (a key, not the presenter): they are exploring now."""
        # Compared with where the room last put this tour, not where the presenter is now:
        # a presenter who moves on before this check runs is not a move of the viewer's.
        if self.following and self.role == "viewer" and (
                self.current, self.screen_step()) != (self.placed.chapter, self.placed.step):
            self.following = False
            self._relabel()
            self.room.counted()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "speaker_notes" and self.role != "presenter":
            return False  # a viewer is not offered the presenter's notes
        return super().check_action(action, parameters)

    def action_speaker_notes(self) -> None:
        if isinstance(self.screen, NotesScreen):
            self.screen.dismiss()
            return
        slug = CHAPTERS[max(self.current, 0)].slug
        self.push_screen(NotesScreen(CHAPTERS[max(self.current, 0)].title,
                                     speaker_notes().get(slug, "No notes for this chapter.")))

    def action_follow(self) -> None:
        if self.role == "presenter":
            self.notify("You are the presenter: the room follows you.", timeout=3)
            return
        self.following = not self.following
        if self.following and self.rejoin_by_watching:
            self.exit(result=REJOIN)  # the session shows the room's mirror again
            return
        if self.following:
            self.go_to(self.room.position)
        self._relabel()
        self.room.counted()

    # -- one run for the room --------------------------------------------------------
    def shared_run(self, group: str, factory: Callable[[], Iterable[Any]]):
        """A stage's events (``screens.base.room_stream``, in the stage's worker thread):
        the presenter's tour runs it for the room, a viewer's follows the room's run."""
        from textual.worker import NoActiveWorker, get_current_worker

        try:
            worker = get_current_worker()
        except NoActiveWorker:
            worker = None

        def cancelled() -> bool:
            return worker is not None and worker.is_cancelled

        if self.role == "presenter":
            return self.room.run(group, factory).follow(cancelled, owner=True)
        return self._follow_and_link(group, cancelled)

    def _follow_and_link(self, group: str, cancelled: Callable[[], bool]):
        result = yield from self.room.follow_run(group, cancelled, self._waiting)
        self.link_room_files()  # the run may have written the room's dataset or tokenizer
        return result

    def _waiting(self, change: int) -> None:
        with self._waiting_lock:
            self.waiting_runs += change

    # -- votes -------------------------------------------------------------------------
    def on_vote_panel_voted(self, message: Message) -> None:
        """This tour's vote is in (``screens.preferences.VotePanel.Voted``): tell the room."""
        self.room.voted(self, message.standing.prompt_id)

    def on_room_voted(self, message: RoomVoted) -> None:
        """Another vote is in the shared file: the chapter's tally reads it again."""
        slug = "preferences"
        if not self.is_screen_installed(slug):
            return
        for panel in self.get_screen(slug).query("VotePanel"):
            panel.load_standing(panel.ballot.prompt.id)

    def watching(self) -> bool:
        """Something is on the move for this viewer: they follow a presenter who is here,
        or a stage of theirs is running (training, sampling, a crawl)."""
        if self.following and self.room.presenter is not None:
            return True
        # A stage waiting for the presenter's run shows nothing yet: not something to watch.
        return len(self.running_workers()) > self.waiting_runs


def talk_clock(seconds: float) -> str:
    """12:05, or 1:02:05 past the hour."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


NOTES_FILE = Path(__file__).parent / "notes.md"


def speaker_notes(path: Path = NOTES_FILE) -> dict[str, str]:
    """The presenter's notes, one ``## slug`` section per chapter."""
    notes: dict[str, str] = {}
    slug = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            slug = line[3:].strip()
            notes[slug] = ""
        elif slug is not None:
            notes[slug] += line + "\n"
    return {key: text.strip() for key, text in notes.items()}


class NotesScreen(ModalScreen[None]):
    """The presenter's notes for the chapter on screen; v or Esc closes them."""

    DEFAULT_CSS = """
    NotesScreen { align: center middle; }
    NotesScreen > Static {
        width: 90%; max-width: 100; height: auto; padding: 1 2;
        border: round $accent; background: $panel;
    }
    """
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape,v", "dismiss_notes", "Close", id="notes_close"),
    ]

    def __init__(self, title: str, notes: str) -> None:
        super().__init__()
        self.title_text = title
        self.notes = notes

    def compose(self) -> ComposeResult:
        note = Static(self.notes, markup=False)
        note.border_title = f"Notes · {self.title_text}"
        yield note

    def action_dismiss_notes(self) -> None:
        self.dismiss()


REJOIN = "rejoin"  # what a viewer's own tour ends with when they rejoin the presenter

# The alternate screen, no cursor, bracketed paste, no line wrap: what a tour's terminal is
# set to (and RESTORE puts back).
SCREEN_ON = "\x1b[?1049h\x1b[?25l\x1b[?2004h\x1b[?7l"


class Mirror:
    """One following tour, drawn for every viewer of one terminal size who only watches.

    Most of a room watches: they follow the presenter and press nothing. Each of them
    having a tour of their own would lay out and draw every move 30 times over in this
    one process; a mirror draws it once and sends the same frames to each watcher. The
    first key a watcher presses gives them a tour of their own, at the same place
    (``RoomSeat``), so the key does what it does for anyone. A mirror
    asks the terminal for no mouse or focus reports: a watcher sends nothing until they
    type.
    """

    def __init__(self, room: Room, workspace: Workspace, size: tuple[int, int]) -> None:
        self.room, self.workspace, self.size = room, workspace, size
        self.writers: dict[object, Callable[[str], None]] = {}
        self.closed = False
        self.app = RoomTourApp(workspace, room, role="mirror")
        self.task = asyncio.get_running_loop().create_task(
            run_viewer(self.app, size, self._write, lambda driver: None, reports=False))

    def _write(self, data: str) -> None:
        for write in list(self.writers.values()):
            write(data)

    def add(self, viewer: object, write: Callable[[str], None]) -> None:
        """A new watcher: their terminal set up as the tour's, then the whole screen."""
        self.writers[viewer] = write
        write(SCREEN_ON + "\x1b[2J")
        self.repaint()

    def remove(self, viewer: object) -> None:
        self.writers.pop(viewer, None)

    def repaint(self) -> None:
        """Draw the whole screen again for every watcher (one who joined, or caught up)."""
        app = self.app
        if app.is_running and app.screen_stack:
            app.call_later(lambda: app.screen.refresh(repaint=True))
        # before its first frame there is nothing to draw again: that frame is whole

    async def close(self) -> None:
        self.closed = True
        self.writers.clear()
        if self.app.is_running:
            self.app.exit()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self.task, 20)
        from tui.session import SESSIONS_DIR

        if self.workspace.root.parent.name == SESSIONS_DIR:
            close_session(self.workspace.root)


class RoomParser(XTermParser):
    """Textual's escape-sequence parser, for one viewer's keys, without a cache that keeps
    every parser alive.

    Textual caches what it reads from Kitty-style key sequences in an ``lru_cache`` on the
    method, keyed by the parser itself: every parser that read a key stayed in it, and with
    it the tour it fed (up to 1,024 entries: the tours of a whole talk's stepping away).
    """

    _parse_extended_key = XTermParser._parse_extended_key.__wrapped__


class ChannelDriver(Driver):
    """Textual's side of a viewer's SSH channel: frames out, keys and sizes in.

    Like Textual's Linux driver, without a terminal device: the bytes a client types are
    fed to Textual's own escape-sequence parser, and every frame goes to ``write``.
    """

    def __init__(self, app, *, debug: bool = False, mouse: bool = True,
                 size: tuple[int, int] | None = None,
                 write: Callable[[str], None] = lambda data: None,
                 reports: bool = True) -> None:
        super().__init__(app, debug=debug, mouse=mouse and reports, size=size)
        self._write = write
        self._reports = reports  # ask the terminal for focus (and mouse) reports
        self._parser = RoomParser(debug)
        self._decode = codecs.getincrementaldecoder("utf-8")(errors="replace").decode
        self._tick: asyncio.TimerHandle | None = None

    def write(self, data: str) -> None:
        self._write(data)

    def start_application_mode(self) -> None:
        self.resize(*(self._size or (80, 24)))
        self.write(SCREEN_ON + ("\x1b[?1004h" if self._reports else ""))
        if self._mouse:
            self.write("\x1b[?1000h\x1b[?1003h\x1b[?1015h\x1b[?1006h")

    def stop_application_mode(self) -> None:
        if getattr(self._app, "return_value", None) is REJOIN:
            return  # the viewer goes back to the mirror: the terminal stays as it is
        self.write(RESTORE)

    def disable_input(self) -> None:
        self._parser = None

    def feed(self, data: bytes) -> None:
        """What the viewer typed: keys, mouse, paste."""
        if self._parser is None:
            return
        # An Esc that came alone, longer ago than the escape delay, is the Escape key even
        # when a busy loop has not yet run the tick that says so: fed with what came after
        # it, it would be read as Alt with the next key (Esc, then j: "alt+j").
        for event in self._parser.tick():
            self.process_message(event)
        for event in self._parser.feed(self._decode(data)):
            self.process_message(event)
        if self._tick is None:  # a lone Esc is a key only once nothing follows it
            self._tick = asyncio.get_running_loop().call_later(0.1, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        if self._parser is not None:
            for event in self._parser.tick():
                self.process_message(event)

    def resize(self, width: int, height: int) -> None:
        self._size = (width, height)
        size = Size(width, height)
        self.process_message(events.Resize(size, size))


async def run_viewer(app: RoomTourApp, size: tuple[int, int], write: Callable[[str], None],
                     started: Callable[[ChannelDriver], None], reports: bool = True) -> None:
    """Run one viewer's tour on a channel; ``started`` gets the driver once it exists."""

    def driver(*args, **kwargs) -> ChannelDriver:
        made = ChannelDriver(*args, write=write, reports=reports, **kwargs)
        started(made)
        return made

    app.driver_class = driver
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await app.run_async(size=size)
    finally:
        room = getattr(app, "room", None)  # a tour drawn on a channel outside a room has none
        if room is not None:
            room.mend_streams()


# The longest a watcher's first keys wait for their own tour's chapter to be on screen with
# its widgets (a room busy training can take seconds), then for what it loads (a stage the
# room runs goes on: the chapter takes keys meanwhile).
SETTLE_S = 20.0
HAND_OVER_S = 2.0
STEPPING_AWAY = " exploring · opening your own tour here; your key is kept…"


class RoomSeat:
    """One viewer's place in the room, whatever carries their terminal (an SSH channel, a
    browser's socket): frames go out through ``send``, keys and sizes come in.

    The seat starts by watching the room's mirror for its terminal size (``Mirror``). The
    first key steps away from it: the top line says so at once, and a tour of the viewer's
    own starts at the place the mirror showed, drawn by a ``ChannelDriver``; that key and
    those typed meanwhile go to it once it is up (a first ``j``, the key that steps away,
    is done already: the tour opens exploring). ``j`` in that tour rejoins: the tour ends
    and the seat watches the mirror again.
    """

    def __init__(self, room: Room, send: Callable[[str], None], size: tuple[int, int],
                 voter: str | None, open_folder: Callable[[], Path]) -> None:
        """``voter``: who votes from this seat's own tour; ``open_folder()``: a new session
        folder (the viewer's own, made on their first key, and each new mirror's)."""
        self.room = room
        self.send = send
        self.size = size
        self.voter = voter
        self.open_folder = open_folder
        self.folder: Path | None = None  # the viewer's own session folder, once they typed
        self.app: RoomTourApp | None = None  # the viewer's own tour, while they have one
        self.driver: ChannelDriver | None = None
        self.ended = False
        self._typed = bytearray()  # keys typed since the seat stepped away from the mirror
        self._holding = False  # keys wait in ``_typed`` until the viewer's own tour is up
        self._woken: asyncio.Event | None = None  # set by the first key, or the end
        self._hand_over: asyncio.Task | None = None

    async def run(self) -> None:
        """Watch, a tour of one's own, watch again, … until the seat ends (``end``) or the
        viewer's own tour ends other than by rejoining."""
        try:
            while await self._watch():  # watching until a key, then a tour of their own
                self.folder = self.folder or self.open_folder()
                self.app = RoomTourApp(Workspace(self.folder), self.room, role="viewer")
                self.app.voter = self.voter
                self.app.rejoin_by_watching = True
                if self._typed[:1] == b"j":  # the key that steps away: the tour's first
                    del self._typed[:1]      # frame says so, with no second frame to wait for
                    self.app.following = False
                try:
                    await run_viewer(self.app, self.size, self.send, self._started)
                finally:
                    if self._hand_over is not None:
                        self._hand_over.cancel()
                        self._hand_over = None  # its context holds the tour: let it go
                    # counted once this seat has let go of the tour too
                    asyncio.get_running_loop().call_soon(self.room.tour_ended)
                if self.app.return_value is not REJOIN or self.ended:
                    break
                self.app = self.driver = None  # rejoined: back to the mirror
        finally:
            self.room.unwatch(self)

    async def _watch(self) -> bool:
        """Watch the room's mirror until the viewer types (True) or the seat ends."""
        if self.ended:
            return False
        self._typed = bytearray()
        self._holding = True
        self._woken = asyncio.Event()
        self.watch_mirror()
        await self._woken.wait()
        self.room.unwatch(self)
        return bool(self._typed) and not self.ended

    def watch_mirror(self) -> None:
        """Watch the mirror for the seat's size (one made for it if none is drawn yet)."""
        self.room.watch(self, self.size, self.send, lambda: Workspace(self.open_folder()))

    def _started(self, driver: ChannelDriver) -> None:
        self.driver = driver
        app = self.app

        async def hand_over() -> None:
            """What was typed while watching goes to the tour once it shows what the mirror
            showed: its first frame is out, its chapter's widgets are in place (a digit
            meant for the vote panel must not reach the app, where it opens a chapter), and
            what the chapter loads is in (its workers are done, a short wait at most)."""
            await app.first_frame.wait()
            if self.ended:  # the seat ended while the tour was starting
                app.exit()
                return
            if self._typed:  # keys to deliver (a j that stepped away is done already)
                with contextlib.suppress(TimeoutError, ScreenStackError):  # (or it ended)
                    await asyncio.wait_for(app.settled(), SETTLE_S)
            deadline = time.monotonic() + HAND_OVER_S
            while time.monotonic() < deadline and len(app.running_workers()) > app.waiting_runs:
                await asyncio.sleep(0.02)
            self._holding = False
            if self._typed:
                driver.feed(bytes(self._typed))
                self._typed.clear()
            self.room.tour_up()

        self._hand_over = asyncio.get_running_loop().create_task(hand_over())

    def feed(self, data: bytes) -> None:
        """What the viewer typed: to their own tour, or (watching) the first key steps away."""
        self.room.sweeps.touched()
        if self.driver is not None and not self._holding:
            self.driver.feed(data)
        elif self._woken is not None:  # watching, or the tour is starting
            if not self._woken.is_set():
                self._stepping_away()
            self._typed += data
            self._woken.set()

    def _stepping_away(self) -> None:
        """A watcher's first key: the mirror's frames stop for them at once, and the top line
        says so while their own tour starts (a burst of keys in a big room queues the tours
        up on the server's cores; the key itself waits for the tour and is not lost)."""
        self.room.unwatch(self)
        width = self.size[0]
        self.send(f"\x1b7\x1b[1;1H\x1b[7m{STEPPING_AWAY[:width].ljust(width)}\x1b[0m\x1b8")

    def resize(self, size: tuple[int, int]) -> None:
        """The viewer's terminal has a new size: their own tour is laid out again, or a
        watcher moves to the mirror of that size."""
        if size == self.size and self.driver is None:
            return
        self.size = size
        if self.driver is not None:
            self.driver.resize(*size)
        elif self.watching_mirror:
            self.watch_mirror()

    @property
    def watching_mirror(self) -> bool:
        return self in self.room.watchers

    def repaint(self) -> None:
        """Draw the whole screen afresh (the viewer's link dropped frames and caught up)."""
        app = self.app
        mirror = self.room.watchers.get(self)
        if app is not None and app.is_running:
            self.send("\x1b[2J")
            app.call_later(lambda: app.screen.refresh(repaint=True))
        elif mirror is not None:
            self.send("\x1b[2J")
            mirror.repaint()

    def watching(self) -> bool:
        """Something is on the move for this viewer (so they are not idle): a watcher
        follows the presenter while one is here; a tour of their own says for itself."""
        if self.app is None:
            return self.room.presenter is not None
        return self.app.watching()

    def end(self) -> None:
        """The session is over: the viewer's own tour exits, or the watching stops."""
        self.ended = True
        if self.app is not None and self.app.is_running:
            self.app.exit()
        elif self._woken is not None:
            self._woken.set()

    def close(self) -> None:
        """The viewer's own session folder goes (once the seat has run)."""
        if self.folder is not None:
            close_session(self.folder)
            self.folder = None


def room_environment(workspace: Workspace, threads: int = 1, slow_link: bool = True) -> dict:
    """What the room's process runs under: as a remote visitor's process would, since every
    viewer's tour runs in it (the presenter's too: no page of one's own in a room)."""
    from tui.session import OFFLINE_ENV, REMOTE_ENV, VOTES_ENV, slow_link_env, thread_env

    env = {VOTES_ENV: str(workspace.path("votes").resolve()), OFFLINE_ENV: "1", REMOTE_ENV: "1",
           **thread_env(threads)}
    if slow_link:
        env.update(slow_link_env())
    return env
