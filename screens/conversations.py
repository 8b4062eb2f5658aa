"""Chapter: the conversation dataset, and base model vs assistant-shaped model.

Three live parts. The dataset: a few of the fine-tuning conversations as a person reads
them and as the model sees them (special tokens, IDs, and the tokens the loss ignores
greyed out). The comparison: the same question continued by the base model as web text
and answered by the fine-tuned model in a turn. And fine-tuning itself
(:func:`engine.training.sft.fine_tune`), run in the training child process
(:mod:`engine.training.child`) so keys stay quick, with its loss; after it the comparison
is asked again of the new model.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, ProgressBar, Sparkline, Static

from screens.base import ChapterScreen, stage_cancelled
from screens.widgets.border_labels import FittedBorder, shorter
from screens.widgets.prompt_box import PromptBox
from screens.widgets.token_spans import TokenFlow, token_label, token_style, word_pieces

DEFAULT_QUESTION = "What is the capital of France?"
SPECIAL = "bold #111111 on #f0b35e"  # a special token the assistant writes (learned)
SPECIAL_CONTEXT = "bold #6e6e6e"  # a special token the app writes (context only)
MASKED = "#8a8a8a"  # a token the loss ignores: the user's words, tool results, openers
ROLE_STYLES = {"user": "bold", "assistant": "bold green", "tool_call": "bold yellow",
               "tool_result": "bold cyan"}
ROLE_NAMES = {"user": "User", "assistant": "Assistant", "tool_call": "Assistant calls a tool",
              "tool_result": "Tool result"}


# -- what the workers post -------------------------------------------------------------------


class DatasetLoaded(Message):
    def __init__(self, examples: list, counts: dict[str, int], tokenizer: Any,
                 tokenizer_label: str, error: str | None) -> None:
        super().__init__()
        self.examples, self.counts, self.tokenizer = examples, counts, tokenizer
        self.tokenizer_label, self.error = tokenizer_label, error


class ReplyUpdate(Message):
    """One side of the comparison so far (a newer update of the same side replaces it)."""

    def __init__(self, side: str, run: int, text: Text, note: str = "", done: bool = False,
                 pieces: list[tuple[str, bool]] | None = None,
                 model: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.side, self.run, self.text, self.note, self.done = side, run, text, note, done
        self.model = model  # which model answers: its file, where it comes from, its steps
        self.pieces = list(pieces) if pieces is not None else [(text.plain, False)]

    def can_replace(self, message: Message) -> bool:
        return (isinstance(message, ReplyUpdate) and message.side == self.side
                and message.run == self.run and not message.done)


# -- drawing conversations -------------------------------------------------------------------


def person_text(turns: list) -> Text:
    """A conversation as a person reads it: who speaks, and what they say."""
    text = Text()
    for n, turn in enumerate(turns):
        if n:
            text.append("\n")
        text.append(f"{ROLE_NAMES[turn.role]}: ", style=ROLE_STYLES[turn.role])
        text.append(turn.text)
    return text


def model_pieces(ids: list[int], mask: list[int], tokenizer: Any, show_ids: bool
                 ) -> list[tuple[str, str]]:
    """A conversation as the model sees it: one (label, style) piece per token, special
    tokens marked and the tokens the loss ignores in grey; with ``show_ids``, the token IDs
    in the same colours (which is all the model really gets). A turn ends a line."""
    names = {v: k for k, v in tokenizer.special.items()}
    pieces: list[tuple[str, str]] = []
    learned = 0
    for token_id, weight in zip(ids, mask):
        special = token_id in names
        if special:
            style = SPECIAL if weight else SPECIAL_CONTEXT
        else:
            style = token_style(learned) if weight else MASKED
        if show_ids:
            label = f"{token_id} "
        elif special:
            label = names[token_id]
        else:
            label = token_label(tokenizer.token_bytes(token_id))
        if weight:
            learned += 1
        pieces.append((label, style))
        if special and names[token_id] == "<|end|>":
            pieces.append(("\n", ""))
    while pieces and not pieces[-1][0].strip():
        pieces.pop()
    return pieces


def model_text(ids: list[int], mask: list[int], tokenizer: Any, show_ids: bool) -> Text:
    """:func:`model_pieces` as one Text."""
    text = Text(overflow="fold")
    for label, style in model_pieces(ids, mask, tokenizer, show_ids):
        text.append(label, style=style)
    text.rstrip()
    return text


def reply_text(pieces: list[tuple[str, bool]]) -> Text:
    """Generated tokens: (text, is_special) pairs, special tokens marked."""
    text = Text()
    for piece, special in pieces:
        text.append(piece, style=SPECIAL if special else "")
    return text


# -- widgets -----------------------------------------------------------------------------------


class Card(FittedBorder, Static):
    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    Card {
        height: auto;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """


class DatasetPanel(Widget):
    """A conversation of the dataset, as a person reads it and as the model sees it."""

    DEFAULT_CSS = """
    DatasetPanel {
        height: auto;
        layout: vertical;
        margin: 0 0 1 0;
    }
    DatasetPanel #dataset-summary {
        height: auto;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("Loading the conversations…", style="dim"), id="dataset-summary")
        yield Card(id="dataset-person")
        yield Card(id="dataset-model")

    def on_mount(self) -> None:
        self.query_one("#dataset-person", Card).border_title = "As a person reads it"
        self.query_one("#dataset-model", Card).border_title = "As the model sees it"
        screen = self.screen
        if isinstance(screen, ConversationsScreen):
            screen.dataset_panel_ready()


class ComparePanel(Widget):
    """The same question for the base model and the assistant-shaped model."""

    DEFAULT_CSS = """
    ComparePanel {
        height: auto;
        layout: vertical;
        margin: 0 0 1 0;
    }
    ComparePanel #compare-question {
        height: auto;
        padding: 0 1;
    }
    ComparePanel Horizontal {
        height: auto;
    }
    ComparePanel Card {
        width: 1fr;
        min-height: 6;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="compare-question")
        with Horizontal():
            yield Card(id="compare-base")
            yield Card(id="compare-chat")

    def on_mount(self) -> None:
        self.query_one("#compare-base", Card).border_title = "Base model"
        self.query_one("#compare-chat", Card).fit_title("Assistant-shaped model",
                                                         "Assistant model")
        screen = self.screen
        if isinstance(screen, ConversationsScreen):
            screen.compare_panel_ready()


class SFTPanel(Widget):
    """Fine-tuning, live: progress, the loss as it falls, and what the run did."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    SFTPanel {
        height: auto;
        layout: vertical;
        border-title-color: $text;
        margin: 0 0 1 0;
    }
    SFTPanel #sft-status {
        height: auto;
    }
    SFTPanel ProgressBar {
        height: 1;
        margin: 0;
    }
    SFTPanel Sparkline {
        height: 3;
        margin: 0;
    }
    SFTPanel #sft-figures {
        height: auto;
        color: $text-muted;
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="sft-status")
        yield ProgressBar(total=1, show_eta=False, id="sft-progress")
        yield Sparkline([], id="sft-loss")
        yield Static(id="sft-figures")

    def on_mount(self) -> None:
        self.border_title = "Fine-tuning"
        screen = self.screen
        if isinstance(screen, ConversationsScreen):
            screen.sft_panel_ready()


# -- the chapter -----------------------------------------------------------------------------


class ConversationsScreen(ChapterScreen):
    MODEL_KINDS: ClassVar[tuple[str, ...]] = ("base", "chat")
    WIDGETS: ClassVar[dict[str, type[Widget]]] = {
        "conversation_dataset": DatasetPanel,
        "base_vs_assistant": ComparePanel,
        "fine_tune": SFTPanel,
    }

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("c", "next_conversation", "Conversation", id="next_conversation",
                tooltip="Show another conversation of the dataset"),
        Binding("e", "edit_question", "Ask", id="edit_question",
                tooltip="Ask both models your own question", priority=True),
        Binding("s", "fine_tune", "Fine-tune", id="fine_tune",
                tooltip="Fine-tune the base model on the conversations, live (s again stops)"),
        Binding("i", "toggle_ids", "IDs", id="toggle_ids",
                tooltip="Show or hide the token IDs the model sees"),
        Binding("escape", "close_question", "Close", id="close_question", show=False,
                tooltip="Close the question box without changing the question"),
    ]

    runner: ClassVar[str] = "process"  # where fine-tuning runs: "process" or "thread"
    sft_config: ClassVar[Any] = None  # an engine.training.sft.SFTConfig; None: the live one

    def __init__(self, chapter, index: int) -> None:
        super().__init__(chapter, index)
        self.question = DEFAULT_QUESTION
        self.show_ids = False
        self.example_index = 0
        self.examples: list = []
        self.counts: dict[str, int] = {}
        self.tokenizer: Any = None
        self.tokenizer_label = ""
        self.dataset_error: str | None = None
        self.pair: Any = None
        self._run = 0
        self._replies: dict[str, ReplyUpdate] = {}
        self._losses: list[float] = []
        self._sft_lines: list[Text] = []
        self._sft_finished = False  # the run ended and kept its model (a quick check may follow)
        self._sft_status: Text = Text.assemble(
            ("Press ", "dim"), ("s", "bold"),
            (" to fine-tune the base model on the conversations, live (a short run, sized "
             "for a talk). ", "dim"),
            ("Half of every batch is still pretraining text, so the facts it learned stay.",
             "dim"))
        self._sft_progress: tuple[float | None, float] = (None, 0)
        self.sft_running = False
        self.sft: Any = None  # the fine-tuning run (engine.training.child.StageRunner)

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield PromptBox(placeholder="Your question for both models (Enter to ask, Escape to close)",
                    id="question-input")

    def on_mount(self) -> None:
        super().on_mount()
        self.load_dataset()
        self.load_models()

    # -- loading -------------------------------------------------------------------------
    def load_dataset(self) -> None:
        ws = self.app.workspace

        def loading():
            from engine.chat import conversations

            examples = conversations.examples()
            counts: dict[str, int] = {}
            for c in conversations.load_conversations():
                counts[c.kind] = counts.get(c.kind, 0) + 1
            tokenizer, label, error = None, "", None
            try:
                from engine.tokenizer.tour import load_tokenizer

                tokenizer, artifact = load_tokenizer(ws)
                label = f"{artifact.path.name}, {artifact.label}"
            except (FileNotFoundError, ValueError) as exc:
                error = str(exc)
            yield DatasetLoaded(examples, counts, tokenizer, label, error)

        def failed(error: BaseException) -> None:
            self.dataset_error = f"Could not load the conversations: {error}"
            self._render_dataset()

        self.run_stage(loading, "conv-dataset", on_event=self.on_dataset_loaded,
                       on_error=failed)

    def load_models(self) -> None:
        """Each kind's model, or the NoModel that says why it is missing or broken."""
        from engine.model.load import NoModel, load_model

        ws = self.app.workspace

        def loading():
            found: dict[str, Any] = {}
            for kind in ("base", "chat"):
                try:
                    found[kind] = load_model(ws, kind)
                except NoModel as error:
                    found[kind] = error
            yield found

        def loaded(pair: dict[str, Any]) -> None:
            self.pair = pair
            self.start_compare()

        def failed(error: BaseException) -> None:
            self.pair = None
            self._run += 1
            for side in ("base", "chat"):
                self._reply(ReplyUpdate(side, self._run, Text(
                    f"Could not load the models: {error}", style="red"), done=True))

        self.run_stage(loading, "conv-models", on_event=loaded, on_error=failed)

    def model_changed(self, kind: str) -> None:
        """A new base or chat model: both cards ask the current pair, with its labels."""
        self.load_models()
        self.load_dataset()  # the tokenizer label too (a new base may bring its own)


    # -- the dataset ---------------------------------------------------------------------
    def on_dataset_loaded(self, message: DatasetLoaded) -> None:
        self.examples, self.counts = message.examples, message.counts
        self.tokenizer, self.tokenizer_label = message.tokenizer, message.tokenizer_label
        self.dataset_error = message.error
        self._render_dataset()

    def dataset_panel_ready(self) -> None:
        self._render_dataset()

    def _render_dataset(self) -> None:
        if not self.query("#dataset-summary"):
            return
        summary = self.query_one("#dataset-summary", Static)
        person = self.query_one("#dataset-person", Card)
        model = self.query_one("#dataset-model", Card)
        if not self.examples:
            if self.dataset_error:
                summary.update(Text(self.dataset_error, style="red"))
            return
        from engine.chat import format as chat

        total = sum(self.counts.values())
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in self.counts.items())
        summary.update(Text.assemble(
            (f"{total:,} conversations", "bold"), f" ({kinds}).  ",
            ("c", "bold"), " another · ", ("i", "bold"), " token IDs"))
        example = self.examples[self.example_index % len(self.examples)]
        turns = list(example.turns)
        person.update(person_text(turns))
        person.border_subtitle = (f"{self.example_index % len(self.examples) + 1} of "
                                  f"{len(self.examples)} · {example.kind}")
        if self.tokenizer is None:
            model.update(Text(self.dataset_error or "No tokenizer yet.", style="red"))
            model.fit_subtitle()
            return
        ids, mask = chat.render(turns, self.tokenizer)
        legend = Content.assemble(
            ("coloured", token_style(0)), (": the assistant's tokens, where the loss is taken · ",
                                           "dim"),
            ("grey", MASKED), (": context only, masked out", "dim"))
        # wrapped between tokens, so a narrow card never shows half a <|assistant|>
        model.update(TokenFlow(model_pieces(ids, mask, self.tokenizer, self.show_ids),
                               after=legend))
        model.fit_subtitle(*(Text(label) for label in shorter(
            f"{len(ids)} tokens, {sum(mask)} learned", self.tokenizer_label)))

    def action_next_conversation(self) -> None:
        if not self.examples:
            return
        self.example_index = (self.example_index + 1) % len(self.examples)
        self._render_dataset()

    def action_toggle_ids(self) -> None:
        self.show_ids = not self.show_ids
        self._render_dataset()

    # -- base vs assistant ---------------------------------------------------------------
    def compare_panel_ready(self) -> None:
        self._render_question()
        for update in self._replies.values():
            self._reply(update)
        if self.pair is not None and not self._replies:
            self.start_compare()

    def _render_question(self) -> None:
        if not self.query("#compare-question"):
            return
        self.query_one("#compare-question", Static).update(Text.assemble(
            ("Question: ", "bold"), (self.question, "bold"), ("  (e: your own)", "dim")))

    def start_compare(self) -> None:
        self._run += 1
        self._replies = {}
        self._render_question()
        if self.pair is not None:
            self.compare(self.question, self._run)

    def compare(self, question: str, run: int) -> None:
        from engine.training import sft

        from engine.model.load import NoModel

        pair = self.pair

        def replies() -> Iterator[ReplyUpdate]:
            for side, stream in (("base", sft.continue_as_base),
                                 ("chat", sft.reply_as_assistant)):
                loaded = pair[side]
                if isinstance(loaded, NoModel):
                    note = str(loaded)
                    if side == "chat" and not isinstance(pair["base"], NoModel):
                        note += " Press s below to fine-tune it here."
                    yield ReplyUpdate(side, run, Text(), note.strip(), done=True)
                    continue
                names = {v: k for k, v in loaded.tokenizer.special.items()}
                model = (loaded.path.name, loaded.source, f"{loaded.steps:,} steps")
                pieces: list[tuple[str, bool]] = []
                for event in stream(loaded.model, loaded.tokenizer, question):
                    special = event.token_id in names
                    pieces.append((names[event.token_id] if special else event.text, special))
                    yield ReplyUpdate(side, run, reply_text(pieces), pieces=pieces, model=model)
                yield ReplyUpdate(side, run, reply_text(pieces), done=True, pieces=pieces,
                                  model=model)

        def failed(error: BaseException) -> None:
            for side in ("base", "chat"):
                self._reply(ReplyUpdate(side, run, Text(str(error), style="red"), done=True))

        self.run_stage(replies, "conv-compare", on_event=self.on_reply_update, on_error=failed,
                       coalesce=(ReplyUpdate,))

    def on_reply_update(self, message: ReplyUpdate) -> None:
        if message.run != self._run:
            return
        self._replies[message.side] = message
        self._reply(message)

    def _reply(self, message: ReplyUpdate) -> None:
        if not self.query("#compare-base"):
            return
        card = self.query_one(f"#compare-{message.side}", Card)
        question = [(word, "dim") for word in word_pieces(self.question)]
        if message.side == "base":
            intro = Content.styled("Good at continuing internet-style text.", "italic dim")
            prompt = question
        else:
            intro = Content.styled("Better at replying in conversational turns.", "italic dim")
            prompt = [("<|user|>", SPECIAL_CONTEXT), *[(" " + w.lstrip() if i == 0 else w, s)
                                                      for i, (w, s) in enumerate(question)],
                      ("<|end|>", SPECIAL_CONTEXT), ("<|assistant|>", SPECIAL_CONTEXT)]
        if message.text.plain:
            body = TokenFlow([*prompt, *((piece, SPECIAL if special else "")
                                         for piece, special in message.pieces)], before=intro)
        elif not message.done:
            body = TokenFlow([*prompt, (" …", "dim")], before=intro)
        else:
            body = Text(message.note, style="dim")
        card.update(body)
        # Texts, not strs: a str here would be read as markup
        if message.done and message.text.plain:
            card.fit_subtitle(*(Text(label) for label in shorter(*message.model)))
        else:
            card.fit_subtitle(Text("" if message.done else "writing…"))

    def action_edit_question(self) -> None:
        box = self.query_one("#question-input", PromptBox)
        box.open(self.question)

    def action_close_question(self) -> None:
        self.query_one("#question-input", PromptBox).close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.action_close_question()
        if text:
            self.question = text
            self.start_compare()

    # -- fine-tuning ---------------------------------------------------------------------
    def sft_panel_ready(self) -> None:
        self._render_sft()

    def action_fine_tune(self) -> None:
        if self.sft_running:
            if self.sft is not None:
                self.sft.stop()  # after this step; the run's TrainDone says where it stopped
            self._sft_status = Text(
                "Stopping the quick check; the new chat model stays, without its figures."
                if self._sft_finished else "Stopping… the previous chat model is kept.",
                style="dim")
            self._render_sft()
            return
        self.sft_running = True
        self._sft_finished = False
        self._losses = []
        self._sft_lines = []
        self._sft_status = Text("Loading the base model and the conversations…", style="dim")
        self._sft_progress = (None, 0)
        self._render_sft()
        self.fine_tune()

    def fine_tune(self) -> None:
        """Fine-tune in the training child (engine.training.child): keys stay quick."""
        from engine.training.child import StageRunner, sft_job

        from engine.training.sft import live_config

        config = self.sft_config or live_config()
        self.sft = StageRunner(sft_job, str(self.app.workspace.root), config,
                               where=self.runner)
        self.run_stage(partial(self.sft.events, stage_cancelled), "conv-sft",
                       on_event=self._on_sft, on_done=self._sft_ended,
                       on_error=self._sft_failed, on_cancel=self._sft_ended)

    def _sft_ended(self, _result: Any = None) -> None:
        self.sft_running = False
        self._render_sft()

    def _sft_failed(self, error: BaseException) -> None:
        self.sft_running = False
        self._sft_status = Text(f"Fine-tuning stopped: {error}", style="red")
        self._render_sft()

    def on_unmount(self) -> None:
        if self.sft is not None and not self.sft.ended:
            self.sft.stop()  # the child ends too; the previous chat model is kept

    def _on_sft(self, event: Any) -> None:
        name = type(event).__name__
        if name == "SFTStart":
            kinds = ", ".join(f"{n} {kind}" for kind, n in event.by_kind.items())
            self._sft_lines = [Text(
                f"{event.conversations:,} conversations ({kinds}) · base: {event.base} · each "
                f"batch: {event.batch_rows}")]
            self._sft_progress = (event.max_steps, 0)
        elif name == "TrainStart":
            self._sft_lines.append(Text(f"{event.device} · {event.params:,} parameters"))
        elif name == "TrainStep":
            self._losses.append(event.loss)
            self._sft_progress = (event.max_steps, event.step)
            self._sft_status = Text.assemble(
                ("Fine-tuning: ", "bold"), f"step {event.step} of {event.max_steps} · loss ",
                (f"{event.loss:.3f}", "bold"), " (both halves of the batch) · ",
                f"{event.elapsed:.0f} s · ETA {event.eta:.0f} s", ("  (s stops)", "dim"))
        elif name == "EvalLoss":
            line = Text(f"step {event.step}: loss on the assistant's tokens {event.train_loss:.3f},"
                        f" on held-out conversations {event.val_loss:.3f}")
            if self._sft_lines and self._sft_lines[-1].plain.startswith("step "):
                self._sft_lines[-1] = line
            else:
                self._sft_lines.append(line)
        elif name == "TrainDone":
            if event.cancelled:
                self._sft_status = Text(f"Stopped after {event.step} steps; the previous chat "
                                        "model is kept.", style="dim")
            else:
                from engine.training.sft import SFTConfig

                self._sft_status = Text.assemble(
                    ("Done: ", "bold green"), f"{event.step} steps in {event.elapsed:.1f} s. ",
                    "The comparison above now asks the new chat model. ",
                    (f"This run is sized for a talk; the bundled chat model fine-tuned "
                     f"{SFTConfig().max_steps:,} steps and copies names better: ", "dim"),
                    ("m", "bold"), (" picks either.", "dim"))
                self._sft_finished = True
                self.tell_model_changed("chat")  # every chapter now uses the new chat model
        elif name == "TrainFailed":
            self.sft_running = False
            self._sft_status = Text(f"Fine-tuning stopped: {event.message}", style="red")
        elif name == "SFTReply":
            reply = " ".join(t.text for t in event.turns)
            self._sft_lines.append(Text.assemble((f"{event.question} → ", "dim"), reply))
        elif name in ("Checking", "Checked"):
            line = (Text(f"Quick check on unseen names: {event.done} of {event.total} asked…",
                         style="dim") if name == "Checking" else
                    Text.assemble(("Quick check: ", "bold"), event.text(compact=True),
                                  ("  (m lists every model with its figures)", "dim")))
            if self._sft_lines and self._sft_lines[-1].plain.startswith("Quick check"):
                self._sft_lines[-1] = line
            else:
                self._sft_lines.append(line)
        self._render_sft()

    def _render_sft(self) -> None:
        if not self.query("#sft-status"):
            return
        self.query_one("#sft-status", Static).update(self._sft_status)
        total, done = self._sft_progress
        bar = self.query_one("#sft-progress", ProgressBar)
        bar.display = total is not None
        if total is not None:
            bar.update(total=total, progress=done)
        sparkline = self.query_one("#sft-loss", Sparkline)
        sparkline.data = list(self._losses)
        sparkline.display = bool(self._losses)
        figures = self.query_one("#sft-figures", Static)
        figures.update(Text("\n").join(self._sft_lines))
        figures.display = bool(self._sft_lines)
