"""Chapter: the tool call loop, and vague recollection vs working memory.

The loop runs for real on the chat model: each press of Space pulls the next step out of
:func:`engine.tools.loop.run_turn` in a worker, so the model writes its call when the
viewer asks for step 2, the app parses it at step 3, runs the tool at step 4, and so on.
The second part asks the same question twice: once with only the model's parameters to
go on, once with the search tool's best passage from the tour's dataset in the context.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from engine.text import printable
from screens.base import ChapterScreen

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
_CAPITAL_QUESTION = re.compile(r"capital(?: city)? of (?P<country>[\w .'’-]+?)\s*[?.!]*$",
                               re.IGNORECASE)


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


class LoopPaused(Message):
    """The worker has pulled everything this step needs."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step


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

    DEFAULT_CSS = """
    ContextView {
        height: auto;
        min-height: 3;
        border: round $primary;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    """

    def show(self, pieces: list[tuple[str, str]], tokens: int | None = None) -> None:
        """``pieces``: (kind, text) with kind "special", "user", "call", "result", "answer"."""
        styles = {"special": SPECIAL_STYLE, "user": "bold", "call": "$text-warning",
                  "result": "$text-success", "answer": "", "error": "$text-error"}
        self.update(Content.assemble(*((text, styles.get(kind, "")) for kind, text in pieces)))
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
    DEFAULT_CSS = """
    MemorySide {
        width: 1fr;
        height: auto;
        min-height: 5;
        border: round $primary;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
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

    WIDGETS: ClassVar[dict[str, type[Widget]]] = {"tool_loop": ToolLoopPanel,
                                                  "memory": MemoryPanel}

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("space", "next_step", "Next step", id="tools_next_step",
                tooltip="Run the next step of the tool call loop (then the next part)"),
        Binding("e", "edit_question", "Question", id="edit_question",
                tooltip="Ask your own question (in the part on screen)"),
        Binding("r", "restart", "Again", id="restart_loop",
                tooltip="Start the loop again from the question"),
        Binding("c", "next_country", "Country", id="next_country", show=False,
                tooltip="Ask about another country in the comparison"),
        Binding("escape", "close_question", "Close", id="close_question", show=False,
                tooltip="Close the question box without changing the question"),
    ]

    DEFAULT_CSS = """
    ToolsScreen #question-input {
        dock: bottom;
        display: none;
    }
    ToolsScreen #question-input.-open {
        display: block;
    }
    """

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
        self._countries: list[str] = []
        self._country_index = 0
        self._editing = "loop"

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Input(placeholder="Your question (Enter to ask, Escape to close)",
                    id="question-input")

    def on_mount(self) -> None:
        super().on_mount()
        self.load()

    # -- loading the model -------------------------------------------------------------
    @work(thread=True, exclusive=True, group="tools-load", exit_on_error=False)
    def load(self) -> tuple[Any, Any]:
        from engine.tools.loop import load_chat_model
        from engine.tools.registry import default_registry

        ws = self.app.workspace
        loaded = load_chat_model(ws)
        registry = default_registry(ws)
        registry.prepare()
        return loaded, registry

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        group = event.worker.group
        if group == "tools-load":
            if event.state == WorkerState.SUCCESS:
                self.loaded, self.registry = event.worker.result
                self.load_error = None
            elif event.state == WorkerState.ERROR:
                self.load_error = _load_error(event.worker.error)
            else:
                return
            self._show_model_line()
            self.restart_loop()
            if self._memory_mounted():
                self.start_memory()
        elif group == "tools-loop" and event.state == WorkerState.ERROR:
            self._busy = False
            self._detail(Content.styled(f"The loop stopped: {event.worker.error}", "$error"))
        elif group == "tools-memory" and event.state == WorkerState.ERROR:
            for side in ("memory-params", "memory-context"):
                self._memory_side(side, Content.styled(str(event.worker.error), "$error"), "")

    def _show_model_line(self) -> None:
        if not self._loop_mounted():
            return
        line = self.query_one("#loop-model", Static)
        if self.load_error:
            line.update(Content.styled(self.load_error, "$error"))
        elif self.loaded is not None:
            tools = ", ".join(self.registry.names())
            line.update(Content.assemble((self.loaded.artifact.path.name, "bold"),
                                         f", {self.loaded.artifact.label}",
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
        self.workers.cancel_group(self, "tools-loop")
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

    @work(thread=True, exclusive=True, group="tools-loop", exit_on_error=False)
    def pull_step(self, step: int, run: int) -> None:
        """Pull the loop's events that belong to ``step`` and post them; an event of a
        later step is held back for the viewer's next key."""
        from engine.tools import loop

        worker = get_current_worker()
        if self._events is None:
            source = loop.model_source(self.loaded.model, self.loaded.tokenizer, temperature=0.0)
            self._events = iter(loop.run_turn(self.question, source, self.loaded.tokenizer,
                                              self.registry))
        events = self._events
        held, self._held = self._held, None
        pending = iter([held] if held is not None else [])
        for event in chain(pending, events):
            if worker.is_cancelled or run != self._run:
                return
            if isinstance(event, loop.CallToken):
                self._saw_call = True
            answered_directly = (isinstance(event, (loop.AnswerToken, loop.Answer))
                                 and not self._saw_call and step >= 2)
            belongs = event.step or step
            if step < 6 and belongs > step and not answered_directly:
                self._held = event
                if step == 4 and isinstance(event, loop.ResultInContext):
                    self.post_message(ToolOutput(event.result))
                break
            self.post_message(LoopEvent(event))
            if isinstance(event, loop.Answer):
                break
        self.post_message(LoopPaused(step))

    def on_loop_event(self, message: LoopEvent) -> None:
        from engine.chat.format import ASSISTANT, END, TOOL_CALL, TOOL_RESULT, USER
        from engine.tools import loop

        event = message.event
        if isinstance(event, loop.Question):
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
            self._detail(Content.assemble(
                (END, SPECIAL_STYLE), (" closed the call. The parser (never eval) reads tool ", ""),
                (call.name, "bold"), (" with ", ""), (", ".join(args) or "no arguments", "bold"),
                ("" if event.known else " — but no tool has that name", "$text-error"),
                (". The space after each opening quote is for the tokenizer: \" Paris\" is "
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

    def _memory_side(self, side: str, content: Content, subtitle: str) -> None:
        widget = self.query_one(f"#{side}", MemorySide)
        widget.update(content)
        widget.border_subtitle = subtitle

    @work(thread=True, exclusive=True, group="tools-memory", exit_on_error=False)
    def run_memory(self, question: str | None) -> None:
        from engine.chat.conversations import held_out_countries
        from engine.data.facts import capital_of

        worker = get_current_worker()
        if not self._countries:
            self._countries = held_out_countries() or ["France"]
            self._country_index = self._least_sure(worker)
        if question is None:
            country = self._countries[self._country_index % len(self._countries)]
            question = f"What is the capital of {country}?"
        self.memory_question = question
        self.post_message(MemoryAnswer("question", question))
        match = _CAPITAL_QUESTION.search(question)
        fact = capital_of(match.group("country")) if match else None
        query = f"capital of {fact.country}" if fact else question

        for side in ("memory-params", "memory-context"):
            context, source = None, ""
            if side == "memory-context":
                result = self.registry.run(_search_call(query))
                source = result.note.split("; then")[0] if result.ok else result.text
                if not result.ok:
                    self.post_message(MemoryAnswer(side, "", source, done=True))
                    continue
                context = result.text
                self.post_message(MemoryAnswer(side, "", source, passage=context))
            text = ""
            for piece in _reply(self.loaded, question, query, context):
                if worker.is_cancelled:
                    return
                text += piece
                self.post_message(MemoryAnswer(side, text, source, passage=context or ""))
            verdict = ""
            if fact is not None:
                from engine.tools.evaluate import capital_probability

                named = _names(text, fact.capital)
                verdict = (f"✓ names {fact.capital}" if named
                           else f"✗ the capital of {fact.country} is {fact.capital}")
                p = capital_probability(self.loaded.model, self.loaded.tokenizer,
                                        _prompt(self.loaded.tokenizer, question, context, query),
                                        fact.country, fact.capital)
                verdict += f" · P(“{fact.capital}”) {p:.1%}"
            self.post_message(MemoryAnswer(side, text, source, verdict, done=True,
                                           passage=context or ""))

    def _least_sure(self, worker: Any) -> int:
        """The held-out country whose capital the parameters alone are least sure of: the
        half-learned fact the comparison is about."""
        from engine.data.facts import capital_of
        from engine.tools.evaluate import capital_probability

        model, tokenizer = self.loaded.model, self.loaded.tokenizer
        best, lowest = 0, 2.0
        for index, country in enumerate(self._countries):
            if worker.is_cancelled:
                break
            fact = capital_of(country)
            if fact is None:
                continue
            if index % 8 == 0:
                self.post_message(MemoryAnswer("looking", country))
            prompt = _prompt(tokenizer, f"What is the capital of {fact.country}?", None, "")
            p = capital_probability(model, tokenizer, prompt, fact.country, fact.capital)
            if p < lowest:
                best, lowest = index, p
        return best

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
        if message.source:
            parts.append((f"\n{message.source}", "$text-muted"))
        self._memory_side(message.side, Content.assemble(*parts),
                          "" if message.done else "writing…")
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
        box = self.query_one("#question-input", Input)
        self._editing = "memory" if self.step >= 1 and self._memory_mounted() else "loop"
        box.value = (self.memory_question or "") if self._editing == "memory" else self.question
        box.add_class("-open")
        box.focus()

    def action_close_question(self) -> None:
        box = self.query_one("#question-input", Input)
        box.remove_class("-open")
        self.query_one("#body").focus()

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


def _names(text: str, capital: str) -> bool:
    """Whether the answer names the capital as a whole word."""
    return re.search(rf"(?<!\w){re.escape(capital)}(?!\w)", text) is not None


def _search_call(query: str) -> Any:
    from engine.tools.parser import ToolCall

    return ToolCall("search", {"query": query})


def _prompt(tokenizer: Any, question: str, context: str | None, query: str) -> list[int]:
    """The conversation up to the model's reply: the question, and when ``context`` is
    given, the search call and its result before it."""
    from engine.chat.format import Turn, call_text, prompt_ids

    turns = [Turn("user", question)]
    if context is not None:
        turns += [Turn("tool_call", call_text("search", query=query)),
                  Turn("tool_result", context)]
    return prompt_ids(turns, tokenizer)


def _reply(loaded: Any, question: str, query: str, context: str | None) -> Iterator[str]:
    """The chat model's greedy answer, with or without a search result already in context."""
    from engine.chat.format import END, stop_ids
    from engine.tools import loop

    tokenizer = loaded.tokenizer
    source = loop.model_source(loaded.model, tokenizer, temperature=0.0)
    specials = set(tokenizer.special.values())
    stops = [*stop_ids(tokenizer), tokenizer.special["<|tool_call|>"]]
    first = True
    for token in source(_prompt(tokenizer, question, context, query), stops, 48):
        if token.id in specials:
            if token.id != tokenizer.special[END] and first:
                yield "(the model reached for a tool instead of answering)"
            return
        yield token.text.lstrip() if first else token.text
        first = False


def _load_error(error: BaseException | None) -> str:
    from engine.tools.loop import NoChatModel
    from engine.workspace import BrokenArtifact

    if isinstance(error, BrokenArtifact):  # names the file (the dataset, say) and its remedy
        return printable(str(error))
    if isinstance(error, NoChatModel):
        return (f"{error}\nThe Conversations chapter fine-tunes one live; this chapter needs it "
                "to run the loop.")
    if isinstance(error, FileNotFoundError):
        return f"{error}"
    return f"Could not load the chat model: {error}"
