"""The page every chapter extends: header, body, footer, and steps inside the chapter.

A chapter's text lives in ``screens/text/<slug>.md``. Steps are separated by a line
holding only ``---``; each step reveals one more section, like a slide. A line of the
form ``{{ name }}`` is replaced by the widget the screen registers under that name in
``WIDGETS`` (a chapter map, a live panel), so text stays in Markdown and live parts
stay in Python.

Every long piece of work a chapter starts goes through one stage runner,
:meth:`ChapterScreen.run_stage`: the screen hands it an engine event stream (an iterator
of dataclass events, or a factory that makes one in the worker's thread) and a group. A
thread worker relays each event as a :class:`StageEvent` message; the screen's callbacks
run on the UI thread, so no worker writes a screen attribute. Errors, cancellation and the
end of a stage are handled in one ``Worker.StateChanged`` handler, here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.message import Message
from textual.worker import Worker, WorkerState, get_current_worker

from screens.registry import CHAPTERS, Chapter
from screens.widgets.keys_bar import KeysBar
from screens.widgets.tour_header import TourHeader

TEXT_DIR = Path(__file__).parent / "text"
_STEP_BREAK = re.compile(r"\n[ \t]*\n---[ \t]*\n")
_DIRECTIVE = re.compile(r"^\{\{\s*([a-z_]+)\s*\}\}\s*$", re.MULTILINE)


@cache
def chapter_text(slug: str) -> tuple[str, ...]:
    """The Markdown sections (steps) of a chapter's text file."""
    text = (TEXT_DIR / f"{slug}.md").read_text(encoding="utf-8")
    return tuple(part.strip() for part in _STEP_BREAK.split("\n" + text + "\n") if part.strip())


def split_directives(section: str) -> list[tuple[str, str]]:
    """Split a section into ("markdown", text) and ("widget", name) pieces, in order."""
    pieces: list[tuple[str, str]] = []
    last = 0
    for match in _DIRECTIVE.finditer(section):
        before = section[last : match.start()].strip()
        if before:
            pieces.append(("markdown", before))
        pieces.append(("widget", match.group(1)))
        last = match.end()
    rest = section[last:].strip()
    if rest:
        pieces.append(("markdown", rest))
    return pieces


EventStream = Iterable[Any] | Callable[[], Iterable[Any]]


@dataclass
class StageEvent(Message):
    """One engine event of a stage, relayed from the stage's worker to its screen.

    Events of a type the stage named in ``coalesce`` (progress, training steps) replace an
    older one of the same type still waiting in the queue, so a fast stage never floods
    the screen; an event with a ``can_replace`` of its own decides which."""

    group: str
    run: int
    event: Any
    coalesce: bool = False

    def can_replace(self, message: Message) -> bool:
        if not (self.coalesce and isinstance(message, StageEvent)
                and message.group == self.group and message.run == self.run
                and type(message.event) is type(self.event)):
            return False
        own = getattr(self.event, "can_replace", None)  # an event that knows (one side's reply)
        return own(message.event) if callable(own) else True


@dataclass
class _Stage:
    """What the screen does with a stage's events, its end and its error (UI thread)."""

    run: int
    on_event: Callable[[Any], None] | None
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    on_cancel: Callable[[], None] | None
    worker: Worker | None = field(default=None, repr=False)


class ModelChanged(Message):
    """The current model of ``kind`` ("base" or "chat") is now another one: a training stage
    finished, or the viewer chose one in the model picker. The App posts it to every chapter."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind


def remote_viewer() -> bool:
    """This tour serves a remote viewer (over SSH or in a browser): what would read the
    server's files or fetch a URL they type is not offered (``engine.data.ownpage``)."""
    from engine import settings

    return settings.remote()


def room_stream(node: Any, group: str, factory: Callable[[], Iterable[Any]]) -> Iterator[Any]:
    """The events of a stage, from ``factory()``; in a room (an app with ``shared_run``,
    see ``tui.room``) one run serves every tour: the presenter's runs it, a viewer's sees
    its events. Called in the stage's worker thread; the iterator has ``close()``."""
    shared = getattr(node.app, "shared_run", None)
    if shared is not None:
        return shared(group, factory)
    return iter(factory())


def stage_cancelled() -> bool:
    """True once the stage running in this thread was cancelled: an engine stage's
    ``stop=`` callback, called from inside the stream."""
    return get_current_worker().is_cancelled


def prose(text: str, classes: str = "", **kwargs: Any) -> Widget:
    """A chapter's text beside its live parts, as one widget: Rich renders the Markdown.
    Textual's Markdown widget makes a widget of every block, and laying those out was most
    of a chapter's first frame (a viewer stepping away in a room waits for it)."""
    from screens.widgets.prose import markdown_static

    return markdown_static(text, classes=f"prose {classes}".strip(), **kwargs)


class ChapterBody(VerticalScroll, inherit_bindings=False):
    """The scrolling body of a chapter. Arrows and paging belong to the tour's navigation,
    so the body only keeps Home/End; Space and Down page through a long step first."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("home", "scroll_home", "Top", show=False, id="body_top",
                tooltip="Scroll to the top of this chapter"),
        Binding("end", "scroll_end", "Bottom", show=False, id="body_end",
                tooltip="Scroll to the bottom of this chapter"),
    ]


class StepSection(Widget):
    """The widgets of one step of a chapter's text."""

    DEFAULT_CSS = """
    StepSection {
        height: auto;
        layout: vertical;
        margin-top: 1;
    }
    """


class ChapterScreen(Screen):
    """A chapter: a header that says where you are, the chapter body, and the keys.

    Subclasses either keep the default body (the chapter's Markdown revealed step by
    step, with ``WIDGETS`` for live parts) or override ``compose_body`` and
    ``show_step`` and set ``step_count``.
    """

    # Keys that open a chapter's text box are bound with priority, so that what a viewer types
    # straight after them (one read from the terminal) reaches the box, not the chapter; in a
    # box that has the keys they are letters like any other.
    OPENS_A_BOX: ClassVar[frozenset[str]] = frozenset({"edit_prompt", "edit_context",
                                                        "edit_question"})

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("space,down", "next_step", "Step", id="next_step",
                tooltip="Read on, the same everywhere: first the rest of a long step, then "
                        "the next step, then the next chapter (in a text box or a table, "
                        "the box keeps its keys; Esc leaves it)"),
        Binding("up,shift+space", "prev_step", "Step back", id="prev_step", show=False,
                tooltip="Go back one step inside this chapter"),
        Binding("escape", "leave_control", "Leave", id="leave_control", show=False,
                tooltip="Leave a text box or a table, so the tour's keys work again"),
    ]

    DEFAULT_CSS = """
    ChapterScreen #body {
        padding: 0 2;
        scrollbar-gutter: stable;
    }
    ChapterScreen .prose {
        padding: 0 2;
        margin: 1 0;
    }
    """

    # name -> widget factory used for {{ name }} lines in the chapter text
    WIDGETS: ClassVar[dict[str, type[Widget]]] = {}
    # the kinds of model ("base", "chat") this chapter computes with; it reloads when one changes
    MODEL_KINDS: ClassVar[tuple[str, ...]] = ()
    # keys a handout presses once the chapter has loaded, to show it at work (``handout``)
    HANDOUT_KEYS: ClassVar[tuple[str, ...]] = ()

    step = reactive(0, init=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.OPENS_A_BOX and isinstance(self.focused, Input):
            return False
        return super().check_action(action, parameters)

    def __init__(self, chapter: Chapter, index: int) -> None:
        super().__init__(name=chapter.slug, id=f"chapter-{chapter.slug}")
        self.chapter = chapter
        self.index = index
        self.sections = chapter_text(chapter.slug) if (TEXT_DIR / f"{chapter.slug}.md").exists() else ()
        self._shown = 0  # sections mounted in the default body
        self._stages: dict[str, _Stage] = {}
        self._stage_runs = 0

    # -- layout ---------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return max(1, len(self.sections))

    @property
    def handout(self) -> bool:
        """A handout of the tour is being made (``llm-tour export``): the chapter shows what
        the workspace holds, and starts nothing that crawls, trains or writes."""
        return bool(getattr(self.app, "handout", False))

    def handout_step(self) -> int:
        """The step a handout shows of this chapter: by default the last, where a chapter's
        text has revealed everything it measures."""
        return self.step_count - 1

    def compose(self) -> ComposeResult:
        yield TourHeader(self.index, [c.title for c in CHAPTERS], id="tour-header")
        yield from self.compose_body()
        yield KeysBar()

    def compose_body(self) -> ComposeResult:
        """The default body: the chapter's Markdown, one section per step."""
        yield ChapterBody(id="body")

    def start_at(self, step: int) -> None:
        """Open at ``step`` rather than the first (a viewer resuming where they left off)."""
        self.set_reactive(ChapterScreen.step, max(0, min(step, self.step_count - 1)))

    def on_mount(self) -> None:
        self.header.steps = self.step_count
        self.header.step = self.step
        # Paint the frame (header, footer) first; the chapter's content follows at once
        # (in the tour, the moment its first frame is out).
        show = lambda: self.show_step(self.step)  # noqa: E731
        after_first_frame = getattr(self.app, "after_first_frame", None)
        if after_first_frame is not None:
            after_first_frame(self, show)
        else:
            self.call_after_refresh(show)

    @property
    def header(self) -> TourHeader:
        return self.query_one(TourHeader)

    # -- steps ----------------------------------------------------------------
    def watch_step(self, step: int) -> None:
        self.header.step = step
        self.show_step(step)
        remember = getattr(self.app, "_remember", None)
        if remember is not None and self.is_current:
            remember(chapter=self.chapter.slug, step=step)

    def show_step(self, step: int) -> None:
        """Show everything up to ``step``. The default reveals Markdown sections."""
        body = self.query_one("#body", ChapterBody)
        while self._shown <= step and self._shown < len(self.sections):
            widgets = self._section_widgets(self.sections[self._shown])
            body.mount(StepSection(*widgets, id=f"step-{self._shown}"))
            self._shown += 1
        while self._shown > step + 1:
            self._shown -= 1
            body.query_one(f"#step-{self._shown}").remove()
        if step > 0:
            self.call_after_refresh(body.query_one(f"#step-{step}").scroll_visible, top=True)
        else:
            body.scroll_home(animate=False)

    def _section_widgets(self, section: str) -> list[Widget]:
        # Rich renders a section as one widget: far fewer widgets to style than
        # Textual's Markdown, which keeps the first frame quick; its lines are rendered
        # once per width for every tour in the process (screens.widgets.prose).
        from screens.widgets.prose import markdown_static

        widgets: list[Widget] = []
        for kind, value in split_directives(section):
            if kind == "markdown":
                widgets.append(markdown_static(value))
            else:
                widgets.append(self.WIDGETS[value]())
        return widgets

    def action_leave_control(self) -> None:
        """Esc always gets out: whatever has the focus gives it back to the chapter."""
        self.set_focus(None)

    async def action_next_step(self) -> None:
        bodies = self.query(ChapterBody)
        body = bodies.first() if bodies else None
        if body is not None and body.scroll_y < body.max_scroll_y - 0.5:
            body.scroll_page_down(animate=False)  # a long step: read it all first
            return
        if self.step < self.step_count - 1:
            self.step += 1
        else:
            await self.app.run_action("next_chapter")

    async def action_prev_step(self) -> None:
        if self.step > 0:
            self.step -= 1
        else:
            await self.app.run_action("prev_chapter")

    # -- the current model ---------------------------------------------------------
    def on_model_changed(self, message: ModelChanged) -> None:
        message.stop()
        if message.kind in self.MODEL_KINDS:
            self.model_changed(message.kind)

    def model_changed(self, kind: str) -> None:
        """Load the new current model of ``kind`` and relabel; chapters with a model say how."""

    def tell_model_changed(self, kind: str) -> None:
        """A stage of this chapter made a new current model: every chapter follows it."""
        tell = getattr(self.app, "models_changed", None)
        if tell is not None:
            tell(kind)
        else:
            self.post_message(ModelChanged(kind))

    # -- the stage runner --------------------------------------------------------
    def run_stage(self, stream: EventStream, group: str, *,
                  on_event: Callable[[Any], None] | None = None,
                  on_done: Callable[[Any], None] | None = None,
                  on_error: Callable[[BaseException], None] | None = None,
                  on_cancel: Callable[[], None] | None = None,
                  coalesce: tuple[type, ...] = ()) -> Worker:
        """Run an engine event stream in a thread worker of ``group`` (a new run cancels
        the group's old one). ``stream`` is an iterable of events, or a factory called in
        the worker's thread (loading and computing stay off the UI thread).

        On the UI thread: ``on_event(event)`` for each event, then ``on_done(value)`` with
        the generator's return value, or ``on_error(error)`` (default: a notification),
        or ``on_cancel()``. Events of an old run of the group are dropped."""
        self._stage_runs += 1
        run = self._stage_runs
        stage = _Stage(run, on_event, on_done, on_error, on_cancel)
        self._stages[group] = stage

        def relay() -> Any:
            worker = get_current_worker()
            events = stream() if callable(stream) else stream
            iterator: Iterator[Any] = iter(events)
            try:
                while not worker.is_cancelled:
                    try:
                        event = next(iterator)
                    except StopIteration as end:
                        return end.value
                    self.post_message(StageEvent(group, run, event, isinstance(event, coalesce)))
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()  # the engine's generator cleans up (temp files, child process)
            return None

        stage.worker = self.run_worker(relay, name=group, group=group, thread=True,
                                       exclusive=True, exit_on_error=False)
        return stage.worker

    def cancel_stage(self, group: str) -> None:
        """Ask the group's stage to stop at its next event."""
        stage = self._stages.get(group)
        if stage is not None and stage.worker is not None:
            stage.worker.cancel()

    def stage_running(self, group: str) -> bool:
        stage = self._stages.get(group)
        return (stage is not None and stage.worker is not None
                and not stage.worker.is_finished)

    def on_stage_event(self, message: StageEvent) -> None:
        message.stop()
        stage = self._stages.get(message.group)
        if stage is not None and stage.run == message.run and stage.on_event is not None:
            stage.on_event(message.event)

    @on(Worker.StateChanged)
    def _stage_state_changed(self, event: Worker.StateChanged) -> None:
        stage = self._stages.get(event.worker.group)
        if stage is None or stage.worker is not event.worker:
            return
        worker = event.worker
        if event.state == WorkerState.SUCCESS:
            if stage.on_done is not None:
                stage.on_done(worker.result)
        elif event.state == WorkerState.ERROR:
            error = worker.error
            if stage.on_error is not None:
                stage.on_error(error)
            else:
                self.notify(f"{type(error).__name__}: {error}", severity="error",
                            title=event.worker.group, timeout=8, markup=False)
        elif event.state == WorkerState.CANCELLED and stage.on_cancel is not None:
            stage.on_cancel()
