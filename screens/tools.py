"""Chapter: the tool call loop, and vague recollection vs working memory.

The loop runs for real on the chat model: each press of Space pulls the next step out of
:func:`engine.tools.loop.run_turn` in a worker, so the model writes its call when the
viewer asks for step 2, the app parses it at step 3, runs the tool at step 4, and so on.
The second part asks the same question twice: once with only the model's parameters to
go on, once with the search tool's best passage from the tour's dataset in the context.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from engine.text import printable
from screens.base import ChapterScreen, stage_cancelled
from screens.widgets.prompt_box import PromptBox
from screens.widgets.token_spans import TokenFlow, url_pieces, word_pieces

if TYPE_CHECKING:
    from collections.abc import Iterator

DEFAULT_QUESTION = "What's the weather in Paris today?"
STEP_TITLES = (
    "User asks for fresh information.",
    "The model emits a tool call.",
    "The surrounding app recognizes the format.",
    "The app runs the tool.",
    "Result returns to context.",
    "The model continues with new information.",
)
SPECIAL_STYLE = "bold $accent"
_STOPS = {"end": "it closed its turn with <|end|>", "max tokens": "cut at the length limit",
          "new turn": "it began a new turn", "call limit": "too many calls"}


# -- messages from the workers ---------------------------------------------------------


class LoopEvent(Message):
    """An event of the tool call loop, from the worker that drives it."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class ToolOutput(Message):
    """Step 4: what the tool returned, before it enters the context at step 5."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


@dataclass(frozen=True)
class _Held:
    """An event of a later step, kept for the viewer's next key."""

    event: Any


class LoopPaused(Message):
    """The worker has pulled everything this step needs."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step


@dataclass(frozen=True)
class _MemoryPicked:
    """The comparison's example: the countries ranked for this model, the one shown, and
    the question asked about it."""

    countries: tuple[str, ...]
    index: int
    question: str


class MemoryAnswer(Message):
    """One side of the comparison: its answer so far (replaces the older one)."""

    def __init__(self, side: str, text: str, source: str = "", verdict: str = "",
                 done: bool = False, passage: str = "") -> None:
        super().__init__()
        self.side, self.text, self.source, self.verdict, self.done = (
            side, text, source, verdict, done)
        self.passage = passage  # what the search tool put into the context

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, MemoryAnswer) and message.side == self.side and not message.done


# -- widgets ---------------------------------------------------------------------------


class LoopSteps(Static):
    """The talk's six steps, the ones done ticked and the current one marked."""

    DEFAULT_CSS = """
    LoopSteps {
        height: auto;
        padding: 0 1;
    }
    """

    def show(self, current: int, skipped: frozenset[int] = frozenset()) -> None:
        lines = []
        for number, title in enumerate(STEP_TITLES, 1):
            if number in skipped:
                mark, style = "–", "$text-muted strike"
            elif number < current:
                mark, style = "✓", "$text-success"
            elif number == current:
                mark, style = "▶", "bold $accent"
            else:
                mark, style = " ", "$text-muted"
            lines.append(Content.assemble((f"{mark} {number}. ", style), (title, style)))
        self.update(Content("\n").join(lines))


class ContextView(Static):
    """The context window as the model sees it: special tokens marked, text as itself."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    ContextView {
        height: auto;
        min-height: 3;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """

    def show(self, pieces: list[tuple[str, str]], tokens: int | None = None) -> None:
        """``pieces``: (kind, text) with kind "special", "user", "call", "result", "answer"."""
        styles = {"special": SPECIAL_STYLE, "user": "bold", "call": "$text-warning",
                  "result": "$text-success", "answer": "", "error": "$text-error"}
        # Wrapped between tokens and words, so a narrow card never shows half a special token.
        flow = [(word, styles.get(kind, "")) for kind, text in pieces
                for word in ([text] if kind == "special" else word_pieces(text))]
        self.update(TokenFlow(flow))
        self.border_subtitle = f"{tokens} tokens" if tokens is not None else ""


class StepDetail(Static):
    """What the current step did, in words and numbers."""

    DEFAULT_CSS = """
    StepDetail {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
    }
    """


class ToolLoopPanel(Widget):
    """The tool call loop on the viewer's question, one step per Space."""

    DEFAULT_CSS = """
    ToolLoopPanel {
        height: auto;
        layout: vertical;
        margin: 0 0 1 0;
    }
    ToolLoopPanel #loop-question {
        height: auto;
        padding: 0 1;
    }
    ToolLoopPanel #loop-model {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="loop-question")
        yield Static(Content.styled("Loading the chat model…", "$text-muted"), id="loop-model")
        yield LoopSteps(id="loop-steps")
        yield ContextView(id="loop-context")
        yield StepDetail(id="loop-detail")

    def on_mount(self) -> None:
        self.query_one("#loop-context", ContextView).border_title = "Context window"
        screen = self.screen
        if isinstance(screen, ToolsScreen):
            screen.loop_panel_ready()


class MemorySide(Static):
    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    MemorySide {
        width: 1fr;
        height: auto;
        min-height: 5;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """


class MemoryPanel(Widget):
    """The same question from the parameters alone and with the searched page in context."""

    DEFAULT_CSS = """
    MemoryPanel {
        height: auto;
        layout: vertical;
        margin: 0 0 1 0;
    }
    MemoryPanel #memory-question {
        height: auto;
        padding: 0 1;
    }
    MemoryPanel Horizontal {
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="memory-question")
        with Horizontal():
            yield MemorySide(id="memory-params")
            yield MemorySide(id="memory-context")

    def on_mount(self) -> None:
        self.query_one("#memory-params", MemorySide).border_title = "Vague recollection"
        self.query_one("#memory-context", MemorySide).border_title = "Working memory"
        screen = self.screen
        if isinstance(screen, ToolsScreen):
            screen.memory_panel_ready()


# -- the chapter ---------------------------------------------------------------------------


class ToolsScreen(ChapterScreen):
    """Space walks the loop a step at a time, then opens the comparison."""

    MODEL_KINDS: ClassVar[tuple[str, ...]] = ("chat",)

    WIDGETS: ClassVar[dict[str, type[Widget]]] = {"tool_loop": ToolLoopPanel,
                                                  "memory": MemoryPanel}

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("space", "next_step", "Step", id="tools_next_step",
                tooltip="Run the next step of the tool call loop (then the next part)"),
        Binding("e", "edit_question", "Ask", id="edit_question",
                tooltip="Ask your own question (in the part on screen)", priority=True),
        Binding("r", "restart", "Again", id="restart_loop",
                tooltip="Start the loop again from the question"),
        Binding("c", "next_country", "Country", id="next_country", show=False,
                tooltip="Ask about another country in the comparison"),
        Binding("escape", "close_question", "Close", id="close_question", show=False,
                tooltip="Close the question box without changing the question"),
    ]

    def __init__(self, chapter, index: int) -> None:
        super().__init__(chapter, index)
        self.question = DEFAULT_QUESTION
        self.loaded: Any = None
        self.registry: Any = None
        self.load_error: str | None = None
        self.loop_step = 0  # the talk's step shown last (0: nothing yet)
        self.skipped: set[int] = set()
        self._events: Iterator[Any] | None = None
        self._held: Any = None  # an event pulled early, shown at the next step
        self._pieces: list[tuple[str, str]] = []
        self._context_tokens: int | None = None
        self._busy = False
        self._finished = False
        self._run = 0  # a new run of the loop makes older workers' messages stale
        self._saw_call = False
        self.memory_question: str | None = None
        self._question = ""  # the loop's question, which the call should copy from
        self._countries: list[str] = []
        self._country_index = 0
        self._editing = "loop"

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield PromptBox(placeholder="Your question (Enter to ask, Escape to close)",
                    id="question-input")

    def on_mount(self) -> None:
        super().on_mount()
        self.load()

    # -- loading the model -------------------------------------------------------------
    def load(self) -> None:
        from engine.model.load import load_model
        from engine.tools.registry import default_registry

        ws = self.app.workspace

        def loading():
            loaded = load_model(ws, "chat")
            registry = default_registry(ws)
            registry.prepare()
            yield loaded, registry

        def shown(result: tuple[Any, Any]) -> None:
            self.loaded, self.registry = result
            self.load_error = None
            self._model_ready()

        def failed(error: BaseException) -> None:
            self.loaded = None
            self.load_error = _load_error(error)
            self._model_ready()

        self.run_stage(loading, "tools-load", on_event=shown, on_error=failed)

    def model_changed(self, kind: str) -> None:
        """A new chat model (fine-tuned, nudged, or chosen with m): the loop starts over with it."""
        self._run += 1  # what a running step or memory comparison posts now is stale
        self.cancel_stage("tools-loop")
        self.cancel_stage("tools-memory")
        self._countries = []  # the least sure country is the new model's
        self.load()

    def _model_ready(self) -> None:
        self._show_model_line()
        self.restart_loop()
        if self._memory_mounted():
            self.start_memory()

    def _show_model_line(self) -> None:
        if not self._loop_mounted():
            return
        line = self.query_one("#loop-model", Static)
        if self.load_error:
            line.update(Content.styled(self.load_error, "$error"))
        elif self.loaded is not None:
            tools = ", ".join(self.registry.names())
            step = self.loaded.steps
            line.update(Content.assemble((self.loaded.path.name, "bold"),
                                         f", {self.loaded.artifact.label}",
                                         f", {step:,} steps" if step else "",
                                         (" · tools: ", "bold"), tools))

    # -- the loop ------------------------------------------------------------------------
    def _loop_mounted(self) -> bool:
        return bool(self.query("#loop-question"))

    def _memory_mounted(self) -> bool:
        return bool(self.query("#memory-question"))

    def loop_panel_ready(self) -> None:
        self._show_model_line()
        self._render_loop()
        if self.loop_step == 0 and self.loaded is not None:
            self._detail(Content.styled("Press Space for step 1.", "$text-muted"))

    def restart_loop(self) -> None:
        """Back to before step 1, on the current question."""
        self.cancel_stage("tools-loop")
        self._run += 1
        self._saw_call = False
        self.loop_step = 0
        self.skipped = set()
        self._events = None
        self._held = None
        self._pieces = []
        self._context_tokens = None
        self._busy = False
        self._finished = False
        self._render_loop()
        self._detail(Content.styled("Press Space for step 1.", "$text-muted"))

    def _render_loop(self) -> None:
        if not self._loop_mounted():
            return
        self.query_one("#loop-question", Static).update(Content.assemble(
            ("Question: ", "bold"), (self.question, "bold $text-primary"),
            ("  (e: your own · r: again)", "$text-muted")))
        self.query_one("#loop-steps", LoopSteps).show(self.loop_step, frozenset(self.skipped))
        self.query_one("#loop-context", ContextView).show(self._pieces, self._context_tokens)

    def _detail(self, content: Content) -> None:
        if self._loop_mounted():
            self.query_one("#loop-detail", StepDetail).update(content)

    @property
    def loop_finished(self) -> bool:
        return self._finished

    def advance_loop(self) -> None:
        """Run the next of the talk's six steps."""
        if self._busy or self._finished:
            return
        if self.loaded is None:
            self.notify(self.load_error or "The chat model is still loading.", timeout=4)
            return
        self._busy = True
        self.loop_step += 1
        self._render_loop()
        self.pull_step(self.loop_step, self._run)

    def pull_step(self, step: int, run: int) -> None:
        """Pull the loop's events that belong to ``step`` (in the stage runner's thread);
        an event of a later step is held back for the viewer's next key."""
        from engine.tools import loop

        if self._events is None:  # a generator: nothing runs until the first pull
            source = loop.model_source(self.loaded.model, self.loaded.tokenizer, temperature=0.0)
            self._events = iter(loop.run_turn(self.question, source, self.loaded.tokenizer,
                                              self.registry))
        events = self._events
        held, self._held = self._held, None
        saw_call = self._saw_call

        def pulling() -> Iterator[Any]:
            nonlocal saw_call
            pending = iter([held] if held is not None else [])
            for event in chain(pending, events):
                if isinstance(event, loop.CallToken):
                    saw_call = True
                answered_directly = (isinstance(event, (loop.AnswerToken, loop.Answer))
                                     and not saw_call and step >= 2)
                belongs = event.step or step
                if step < 6 and belongs > step and not answered_directly:
                    yield _Held(event)
                    if step == 4 and isinstance(event, loop.ResultInContext):
                        yield ToolOutput(event.result)
                    break
                yield LoopEvent(event)
                if isinstance(event, loop.Answer):
                    break
            yield LoopPaused(step)

        def shown(message: Any) -> None:
            if run != self._run:
                return  # the loop was started again meanwhile
            if isinstance(message, _Held):
                self._held = message.event
                return
            if isinstance(message, LoopEvent) and isinstance(message.event, loop.CallToken):
                self._saw_call = True
            if isinstance(message, LoopEvent):
                self.on_loop_event(message)
            elif isinstance(message, ToolOutput):
                self.on_tool_output(message)
            elif isinstance(message, LoopPaused):
                self.on_loop_paused(message)

        def failed(error: BaseException) -> None:
            self._busy = False
            self._detail(Content.styled(f"The loop stopped: {error}", "$error"))

        self.run_stage(pulling, "tools-loop", on_event=shown, on_error=failed)

    def on_loop_event(self, message: LoopEvent) -> None:
        from engine.chat.format import ASSISTANT, END, TOOL_CALL, TOOL_RESULT, USER
        from engine.tools import loop

        event = message.event
        if isinstance(event, loop.Question):
            self._question = event.text
            self._pieces = [("special", USER), ("user", " " + event.text), ("special", END),
                            ("special", ASSISTANT)]
            self._context_tokens = event.context_tokens
            self._detail(Content.assemble(
                ("The question goes into the context, ", ""),
                (f"{event.context_tokens} tokens", "bold"),
                (" with the chat format's special tokens, and ", ""), (ASSISTANT, SPECIAL_STYLE),
                (" cues the model to reply. The answer may not be stored in its parameters.",
                 "")))
        elif isinstance(event, loop.CallToken):
            if self._pieces and self._pieces[-1][0] == "call":
                self._pieces[-1] = ("call", event.text)
            else:
                self._pieces += [("special", TOOL_CALL), ("call", event.text)]
            self._detail(Content.assemble(
                ("The model opened ", ""), (TOOL_CALL, SPECIAL_STYLE),
                (" and writes the call a token at a time: ", ""),
                (repr(event.token.text), "bold")))
        elif isinstance(event, loop.CallRecognised):
            self._pieces.append(("special", END))
            call = event.call
            args = ([repr(v.strip() if isinstance(v, str) else v) for v in call.positional]
                    + [f"{k}={v!r}" for k, v in call.plain_args().items()])
            from engine.chat.eval import miscopied

            wrong = miscopied(self._question, call.name, call.plain_args(), call.positional)
            self._detail(Content.assemble(
                (END, SPECIAL_STYLE), (" closed the call. The parser (never eval) reads tool ", ""),
                (call.name, "bold"), (" with ", ""), (", ".join(args) or "no arguments", "bold"),
                ("" if event.known else " — but no tool has that name", "$text-error"),
                (f" — but {wrong}" if wrong else "", "$text-error"),
                (". The space after each opening quote is for the tokenizer: \"␣Paris\" is "
                 "one token in the question and in the call, so the model can copy it", "dim")))
        elif isinstance(event, loop.CallMalformed):
            self._pieces.append(("special", END))
            self.skipped.add(4)  # no tool runs on a call that cannot be read
            self._detail(Content.assemble(
                ("The app cannot read this call: ", "$text-error"), (event.error.message, "bold"),
                (". No tool runs; the error goes back to the model instead.", "")))
        elif isinstance(event, loop.ToolRunning):
            self._detail(Content.assemble(("Running ", ""), (event.call.name, "bold"), "…"))
        elif isinstance(event, loop.ResultInContext):
            result = event.result
            self._pieces += [("special", TOOL_RESULT),
                             ("result" if result.ok else "error", " " + result.text),
                             ("special", END), ("special", ASSISTANT)]
            self._context_tokens = event.context_tokens
            self._detail(Content.assemble(
                ("The result enters the context: ", ""), (f"+{event.added_tokens} tokens", "bold"),
                ((f", {event.context_tokens} in all. It is working memory now, not something "
                 "the parameters had to store."), "")))
        elif isinstance(event, loop.AnswerToken):
            if not self._saw_call:
                self._detail(Content.styled("The model is answering straight away, without a "
                                            "tool call…", "$text-muted"))
            if self._pieces and self._pieces[-1][0] == "answer":
                self._pieces[-1] = ("answer", self._pieces[-1][1] + event.token.text)
            else:
                self._pieces.append(("answer", event.token.text))
        elif isinstance(event, loop.Answer):
            if event.stop == "end":
                self._pieces.append(("special", END))
            self._context_tokens = event.context_tokens
            self._finished = True
            if event.calls == 0 and self.loop_step < 6:
                self.skipped = set(range(self.loop_step + 1, 6)) | (
                    {2, 3, 4, 5} - set(range(1, self.loop_step)))
                self.loop_step = 6
                self._detail(Content.assemble(
                    ("The model answered from its parameters alone, without a tool call. ",
                     "bold"), ("Ask for something fresh, like today's weather somewhere.", "")))
            else:
                self._detail(Content.assemble(
                    ("The model continued with the result in its context ", ""),
                    (f"({event.calls} tool call{'s' if event.calls != 1 else ''}; ", ""),
                    (_STOPS.get(event.stop, event.stop), "bold"),
                    ("). Space goes on; r runs the loop again.", "")))
        elif isinstance(event, loop.LoopError) and event.kind == "call limit":
            self._detail(Content.styled(event.message, "$text-error"))
        self._render_loop()

    def on_tool_output(self, message: ToolOutput) -> None:
        result = message.result
        if result.error == "malformed call":
            parts: list[tuple[str, str] | str] = [
                ("No tool runs. What goes back to the model is the error: ", ""),
                (result.text, "$text-error")]
        elif result.ok:
            parts = [("The app ran ", ""), (result.tool, "bold"),
                     (f" in {result.elapsed_s * 1000:.1f} ms. It returned: ", ""),
                     (result.text, "bold $text-success")]
        else:
            parts = [("The app ran ", ""), (result.tool, "bold"), (". It failed: ", ""),
                     (result.text, "$text-error")]
        if result.note:
            parts += [("\n", ""), (f"({result.note})", "italic $text-muted")]
        self._detail(Content.assemble(*parts))

    def on_loop_paused(self, message: LoopPaused) -> None:
        self._busy = False
        self._render_loop()
        panel = self.query(ToolLoopPanel)
        if panel:
            self.call_after_refresh(panel.first().scroll_visible, top=True, animate=False)

    # -- vague recollection vs working memory --------------------------------------------
    def memory_panel_ready(self) -> None:
        if self.loaded is not None or self.load_error:
            self.start_memory()

    def start_memory(self) -> None:
        if not self._memory_mounted():
            return
        if self.load_error:
            for side in ("memory-params", "memory-context"):
                self._memory_side(side, Content.styled(self.load_error, "$error"), "")
            return
        if self.loaded is None:
            return
        self.run_memory(self.memory_question)

    def _memory_side(self, side: str, content: Content | TokenFlow, subtitle: str) -> None:
        widget = self.query_one(f"#{side}", MemorySide)
        widget.update(content)
        widget.border_subtitle = subtitle

    def run_memory(self, question: str | None) -> None:
        """The comparison, in a stage: the example country is picked (once per model), then
        each side's answer streams in. The worker only posts; the screen keeps its state."""
        from engine.chat.conversations import held_out_countries
        from engine.tools import memory

        model, tokenizer, registry = self.loaded.model, self.loaded.tokenizer, self.registry
        countries, index = list(self._countries), self._country_index

        def comparing() -> Iterator[Any]:
            nonlocal countries, index, question
            if not countries:
                countries = held_out_countries() or ["France"]
                index = memory.pick_country(
                    model, tokenizer, countries, registry,
                    looking=lambda country: self.post_message(MemoryAnswer("looking", country)),
                    cancelled=stage_cancelled)
            if question is None:
                country = countries[index % len(countries)]
                question = f"What is the capital of {country}?"
            yield _MemoryPicked(tuple(countries), index, question)
            yield MemoryAnswer("question", question)
            fact = memory.capital_fact(question)
            query = memory.search_query(question, fact)

            for side in ("memory-params", "memory-context"):
                context, source = None, ""
                if side == "memory-context":
                    result = memory.search(registry, query)
                    source = result.note.split("; then")[0] if result.ok else result.text
                    if not result.ok:
                        yield MemoryAnswer(side, "", source, done=True)
                        continue
                    context = result.text
                    yield MemoryAnswer(side, "", source, passage=context)
                text = ""
                for piece in memory.reply(model, tokenizer, question, query, context):
                    text += piece
                    yield MemoryAnswer(side, text, source, passage=context or "")
                verdict = ""
                if fact is not None:  # ✓ only for the exactly right answer
                    p = memory.recollection(model, tokenizer, fact, context, question)
                    verdict = f"{memory.verdict(text, fact)} · P(“{fact.capital}”) {p:.1%}"
                yield MemoryAnswer(side, text, source, verdict, done=True, passage=context or "")

        def shown(event: Any) -> None:
            if isinstance(event, _MemoryPicked):
                self._countries, self._country_index = list(event.countries), event.index
                self.memory_question = event.question
            else:
                self.on_memory_answer(event)

        def failed(error: BaseException) -> None:
            for side in ("memory-params", "memory-context"):
                self._memory_side(side, Content.styled(str(error), "$error"), "")

        self.run_stage(comparing, "tools-memory", on_event=shown, on_error=failed)

    def on_memory_answer(self, message: MemoryAnswer) -> None:
        if not self._memory_mounted():
            return
        if message.side == "looking":
            self.query_one("#memory-question", Static).update(Content.assemble(
                ("Looking for a country whose capital the model half-learned: ", "$text-muted"),
                (message.text, "bold")))
            return
        if message.side == "question":
            self.query_one("#memory-question", Static).update(Content.assemble(
                ("Question: ", "bold"), (message.text, "bold $text-primary"),
                ("  (c: another · e: yours)", "$text-muted")))
            for side in ("memory-params", "memory-context"):
                self._memory_side(side, Content.styled("…", "$text-muted"), "")
            return
        if message.side == "memory-params":
            parts: list[tuple[str, str] | str] = [
                (("The parameters alone. Like something you read a month ago: useful, "
                 "compressed, and sometimes fuzzy.\n"), "italic $text-muted")]
        else:
            parts = [(("The search tool's passage in the context: the text currently in front "
                      "of the model, specific, fresh, and directly available.\n"),
                      "italic $text-muted")]
        if message.passage:
            passage = message.passage if len(message.passage) <= 110 else (
                message.passage[:110].rsplit(" ", 1)[0] + " …")
            parts += [("In context: ", "$text-muted"), (f"“{passage}”\n", "$text-success")]
        answer = message.text.strip() or ("(no answer)" if message.done else "…")
        parts += [("Answer: ", "$text-muted"), (answer, "bold")]
        if message.verdict:
            parts.append((f"\n{message.verdict}", "$text-success"
                          if message.verdict.startswith("✓") else "$text-error"))
        content: Content | TokenFlow = Content.assemble(*parts)
        if message.source:  # where the answer came from, a URL in it wrapped after a "/"
            content = TokenFlow([(piece, "$text-muted") for piece in url_pieces(message.source)],
                                before=content)
        self._memory_side(message.side, content, "" if message.done else "writing…")
        if message.done and message.side == "memory-context" and self.step == 1:
            # the comparison ends the chapter: keep the body at its end while the panel's
            # height settles (the viewer scrolling up releases it)
            body = self.query_one("#body")
            body.anchor()
            self.call_after_refresh(self.call_after_refresh, body.scroll_end, animate=False)

    # -- keys --------------------------------------------------------------------------
    async def action_next_step(self) -> None:
        if self.step == 0 and not self._finished and self._loop_mounted():
            self.advance_loop()
            return
        await super().action_next_step()

    def action_restart(self) -> None:
        self.restart_loop()

    def action_next_country(self) -> None:
        if not self._memory_mounted():
            self.notify("The comparison is the next part: press Space to get there.", timeout=3)
            return
        self._country_index += 1
        self.memory_question = None
        self.start_memory()

    def action_edit_question(self) -> None:
        box = self.query_one("#question-input", PromptBox)
        self._editing = "memory" if self.step >= 1 and self._memory_mounted() else "loop"
        box.open((self.memory_question or "") if self._editing == "memory" else self.question)

    def action_close_question(self) -> None:
        self.query_one("#question-input", PromptBox).close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.action_close_question()
        if not text:
            return
        if self._editing == "memory":
            self.memory_question = text
            self.start_memory()
        else:
            self.question = text
            self.restart_loop()


def _load_error(error: BaseException | None) -> str:
    from engine.model.load import NoModel
    from engine.workspace import BrokenArtifact

    if isinstance(error, BrokenArtifact):  # names the file (the dataset, say) and its remedy
        return printable(str(error))
    if isinstance(error, NoModel):  # names the file, or the chapter and command that make one
        return printable(str(error))
    if isinstance(error, FileNotFoundError):
        return f"{error}"
    return f"Could not load the chat model: {error}"
