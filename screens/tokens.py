"""Chapter 3: text becomes token IDs, in GPT-4's tokenizer and in the tour's own.

Four live parts: the talk's two example sentences as cards; a box where the viewer
types anything and sees it cut by both tokenizers side by side; the tour's own BPE
trained on its dataset while the viewer watches; and the vocabulary the tour's model
really uses. Tokenizers load in thread workers, so the first frame never waits.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Checkbox, Input, RichLog, Sparkline, Static

from screens.base import ChapterScreen, room_stream, stage_cancelled
from screens.widgets.border_labels import FittedBorder, shorter
from screens.widgets.token_spans import TokenSpans, token_label, token_style

if TYPE_CHECKING:
    from engine.tokenizer.bpe import Merge
    from engine.tokenizer.tour import TourTokenizer

CAPITAL = "The capital of France is Paris."
TOAST = "A good wedding toast should be personal, brief, and kind."
EXAMPLES = (("Capital", CAPITAL), ("Toast", TOAST))
# What "e" cycles through in the playground: where tokenization bites.
PLAYGROUND_EXAMPLES = (
    "The capital of France is Paris. Über 1,234,567 Paris?  \t日本語 [/b]",
    "Paris  Paris   Paris\tParis. paris PARIS pArIs",
    "12 123 1234 12345 3.14159 2+2=4 1,000,000 1000000",
    ("La capitale de la France est Paris. Die Hauptstadt von Frankreich ist Paris. "
     "フランスの首都はパリです。"),
    "strawberry has how many r's? s-t-r-a-w-b-e-r-r-y",
)


def _error_text(message: str) -> Text:
    return Text(message, style="bold red")


def _muted(message: str) -> Text:
    return Text(message, style="dim")


# -- the talk's illustrative split --------------------------------------------------------

class SplitCard(Vertical):
    """One example sentence: its token count and IDs in GPT-4's tokenizer."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    SplitCard {
        height: auto;
        width: 1fr;
    }
    SplitCard .count {
        color: $text-muted;
    }
    """

    def __init__(self, title: str, sentence: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self.sentence = sentence

    def compose(self) -> ComposeResult:
        yield Static(Text(self.sentence), classes="sentence")
        yield Static(_muted("Counting tokens…"), classes="count")
        yield TokenSpans(ids_label="Token IDs ", classes="spans")

    def show(self, tokens: list[tuple[int, bytes]]) -> None:
        self.query_one(".sentence", Static).display = False
        count = Text.assemble(("Token count ", "dim"), (str(len(tokens)), "bold"))
        self.query_one(".count", Static).update(count)
        self.query_one(TokenSpans).set_tokens(tokens)


class SplitCards(Horizontal):
    """The talk's "Illustrative split": each sentence, its token count and token IDs."""

    DEFAULT_CSS = """
    SplitCards {
        height: auto;
        margin: 0 0 1 0;
    }
    """

    def compose(self) -> ComposeResult:
        for title, sentence in EXAMPLES:
            yield SplitCard(title, sentence)

    def on_mount(self) -> None:
        self.count_tokens()

    def count_tokens(self) -> None:
        from engine.tokenizer.cl100k import cl100k

        def counting():
            enc = cl100k()
            yield [[(i, enc.decode_single_token_bytes(i)) for i in enc.encode(sentence)]
                   for _, sentence in EXAMPLES]

        def shown(counts: list[list[tuple[int, bytes]]]) -> None:
            for card, tokens in zip(self.query(SplitCard), counts):
                card.show(tokens)

        def failed(error: BaseException) -> None:
            for card in self.query(SplitCard):
                card.query_one(".count", Static).update(
                    _error_text(f"GPT-4's tokenizer could not load: {error}"))

        self.screen.run_stage(counting, "split-cards", on_event=shown, on_error=failed)


# -- type anything -------------------------------------------------------------------------

class TokenizerPane(FittedBorder, Vertical):
    """One tokenizer's view of the viewer's text: name, count, characters per token, spans."""

    DEFAULT_CSS = """
    TokenizerPane {
        height: auto;
        width: 1fr;
        border: round $secondary;
        padding: 0 1;
    }
    """

    def __init__(self, title: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self.tokenizer: Any = None  # a tiktoken Encoding or a TourTokenizer
        self.whitespace = False

    def compose(self) -> ComposeResult:
        yield Static(_muted("Loading…"), classes="stats")
        yield TokenSpans(classes="spans")

    def set_tokenizer(self, tokenizer: Any, *subtitle: str) -> None:
        """The tokenizer, and the subtitle's parts (its size, then where it comes from):
        the ones the box has room for."""
        self.tokenizer = tokenizer
        self.fit_subtitle(*shorter(*subtitle))

    def set_message(self, message: Text) -> None:
        self.query_one(".stats", Static).update(message)
        self.query_one(TokenSpans).set_tokens([])

    def show(self, text: str) -> None:
        if self.tokenizer is None:
            return
        if hasattr(self.tokenizer, "encode_ordinary"):  # GPT-4's tiktoken Encoding
            ids = self.tokenizer.encode_ordinary(text)
            tokens = [(i, self.tokenizer.decode_single_token_bytes(i)) for i in ids]
        else:
            tokens = [(i, self.tokenizer.token_bytes(i)) for i in self.tokenizer.encode(text)]
        per_token = len(text) / len(tokens) if tokens else 0.0
        stats = Text.assemble((f"{len(tokens)}", "bold"), (" tokens · ", "dim"),
                              (f"{per_token:.2f}", "bold"), (" characters/token", "dim"))
        self.query_one(".stats", Static).update(stats)
        spans = self.query_one(TokenSpans)
        spans.whitespace = self.whitespace
        spans.set_tokens(tokens)


class TokenizersLoaded(Message):
    def __init__(self, gpt4: Any, own: TourTokenizer | None, own_label: str, error: str) -> None:
        super().__init__()
        self.gpt4, self.own, self.own_label, self.error = gpt4, own, own_label, error


class TokenPlayground(Vertical):
    """Type anything; see GPT-4's tokens and the tour's own, side by side."""

    DEFAULT_CSS = """
    TokenPlayground {
        height: auto;
        margin: 0 0 1 0;
    }
    TokenPlayground #token-input-row {
        height: auto;
    }
    TokenPlayground #token-input {
        width: 1fr;
    }
    TokenPlayground #whitespace {
        width: auto;
    }
    TokenPlayground #panes {
        height: auto;
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="token-input-row"):
            yield Input(PLAYGROUND_EXAMPLES[0], placeholder="Type any text", id="token-input")
            yield Checkbox("Whitespace", id="whitespace")
        with Horizontal(id="panes"):
            yield TokenizerPane("GPT-4 · cl100k_base", id="gpt4-pane")
            yield TokenizerPane("The tour's own BPE", id="own-pane")

    def on_mount(self) -> None:
        self.load_tokenizers()

    @property
    def text(self) -> str:
        return self.query_one("#token-input", Input).value

    def load_tokenizers(self) -> None:
        from engine.tokenizer.cl100k import cl100k
        from engine.tokenizer.tour import load_bpe
        from engine.workspace import Workspace

        workspace = getattr(self.app, "workspace", None) or Workspace()

        def loading():
            gpt4 = cl100k()
            own, label, error = None, "", ""
            try:
                own, artifact = load_bpe(workspace)
                label = artifact.label
            except FileNotFoundError:
                error = ("Not trained yet: the next step trains it here, or run "
                         "`llm-tour prepare tokenizer`.")
            except (OSError, ValueError, TypeError) as problem:
                error = f"Could not load the tour's tokenizer: {problem}"
            yield TokenizersLoaded(gpt4, own, label, error)

        def failed(error: BaseException) -> None:
            for pane in self.query(TokenizerPane):
                pane.set_message(_error_text(f"Could not load a tokenizer: {error}"))

        self.screen.run_stage(loading, "playground-load", on_event=self.on_tokenizers_loaded,
                              on_error=failed)

    def on_tokenizers_loaded(self, message: TokenizersLoaded) -> None:
        message.stop()
        gpt4 = self.query_one("#gpt4-pane", TokenizerPane)
        gpt4.set_tokenizer(message.gpt4, f"{message.gpt4.n_vocab:,} tokens")
        own_pane = self.query_one("#own-pane", TokenizerPane)
        if own_pane.tokenizer is None:  # a tokenizer trained on screen meanwhile wins
            if message.own is not None:
                self.set_own(message.own, message.own_label)
            else:
                own_pane.set_message(_muted(message.error))
        self.refresh_panes()

    def set_own(self, tokenizer: TourTokenizer, label: str) -> None:
        pane = self.query_one("#own-pane", TokenizerPane)
        pane.set_tokenizer(tokenizer, f"{tokenizer.vocab_size:,} tokens", label)
        pane.show(self.text)

    @on(Input.Changed, "#token-input")
    def _text_changed(self) -> None:
        self.refresh_panes()

    @on(Checkbox.Changed, "#whitespace")
    def _whitespace_changed(self, event: Checkbox.Changed) -> None:
        for pane in self.query(TokenizerPane):
            pane.whitespace = event.value
        self.refresh_panes()

    def next_example(self) -> None:
        box = self.query_one("#token-input", Input)
        try:
            index = PLAYGROUND_EXAMPLES.index(box.value) + 1
        except ValueError:
            index = 0
        box.value = PLAYGROUND_EXAMPLES[index % len(PLAYGROUND_EXAMPLES)]

    def toggle_whitespace(self) -> None:
        box = self.query_one("#whitespace", Checkbox)
        box.value = not box.value

    def refresh_panes(self) -> None:
        for pane in self.query(TokenizerPane):
            pane.show(self.text)


# -- the tour's BPE, trained while you watch -----------------------------------------------

class MergesLearned(Message):
    """A few more merges (batched when they come faster than the screen can draw)."""

    def __init__(self, run: int, merges: list[Merge], corpus_bytes: int) -> None:
        super().__init__()
        self.run, self.merges, self.corpus_bytes = run, merges, corpus_bytes


class TrainingStarted(Message):
    def __init__(self, run: int, documents: int, conversations: int, corpus_bytes: int,
                 label: str, target: int) -> None:
        super().__init__()
        self.run, self.documents, self.conversations = run, documents, conversations
        self.corpus_bytes, self.label, self.target = corpus_bytes, label, target


class BpeTrained(Message):
    """The tour's BPE finished training; the playground switches to it."""

    def __init__(self, run: int, tokenizer: TourTokenizer, seconds: float) -> None:
        super().__init__()
        self.run, self.tokenizer, self.seconds = run, tokenizer, seconds


@dataclass(frozen=True)
class _KeptBpe:
    """The tour's BPE as it is kept, for a handout (not trained again)."""

    name: str
    vocab_size: int
    file: str
    label: str


@dataclass(frozen=True)
class VocabulariesCompared:
    """Both ways to give the model a vocabulary, measured on the dataset just trained on:
    (name, token IDs, bytes per token) for the tour's BPE and the compact GPT-4 set."""

    documents: int
    label: str  # where the dataset came from (Artifact.label)
    rows: list[tuple[str, int, float]]


def comparison_text(compared: VocabulariesCompared) -> Text:
    """Two lines, one per vocabulary; more bytes per token means fewer tokens per text."""
    text = Text.assemble((f"On this dataset ({compared.documents:,} documents, "
                          f"{compared.label}):", "bold"))
    for name, vocab, rate in compared.rows:
        text.append("\n  ")
        text.append(f"{name:<16}", style="bold")
        text.append(f" {vocab:>6,} token IDs  ", style="dim")
        text.append(f"{rate:.2f}", style="bold")
        text.append(" bytes per token", style="dim")
    return text


def merge_line(merge: Merge, parts: tuple[bytes, bytes]) -> Text:
    """'#256  ·t  =  · + t   (5,123×)' built from pairs: merged bytes never become markup."""
    left, right = parts
    return Text.assemble(
        (f"#{merge.token_id:<5}", "dim"),
        (token_label(left, whitespace=True), token_style(0)),
        (" + ", "dim"),
        (token_label(right, whitespace=True), token_style(1)),
        (" → ", "dim"),
        (token_label(merge.token, whitespace=True), token_style(2)),
        (f"  {merge.count:,}×", "dim"),
    )


def tokens_caption(counts: list[float]) -> Text:
    """What the bars above it show, with the first and the latest figure."""
    if not counts:
        return Text("")
    return Text.assemble(
        ("↑ the dataset's length in tokens after each merge: ", "dim"),
        (f"{counts[0]:,.0f}", "bold"), (" after merge 1 → ", "dim"),
        (f"{counts[-1]:,.0f}", "bold"), (f" after merge {len(counts):,}", "dim"))


class BpeTraining(FittedBorder, Vertical):
    """Byte-pair encoding trained on the tour's dataset, one merge at a time."""

    DEFAULT_CSS = """
    BpeTraining {
        height: auto;
        border: round $accent;
        padding: 0 1;
        margin: 0 0 1 0;
    }
    BpeTraining #bpe-status {
        height: auto;
    }
    BpeTraining #bpe-tokens {
        height: 3;
    }
    BpeTraining #bpe-tokens-label {
        height: auto;
        margin: 0 0 1 0;
    }
    BpeTraining #bpe-merges {
        height: 10;
        background: $surface;
        scrollbar-size-vertical: 1;
    }
    """

    # Seconds to hold each early merge on screen, so the first ones can be read; the
    # rest come as fast as the machine learns them.
    PACE: ClassVar[tuple[tuple[int, float], ...]] = ((48, 0.06), (400, 0.004))

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "Training the tour's tokenizer"
        self.token_counts: list[float] = []
        self.corpus_bytes = 0
        self.target = 0
        self.learned = 0
        self.last: Merge | None = None
        self.run = 0  # messages from an earlier run (before "r") are ignored
        self.compared: VocabulariesCompared | None = None
        self._vocab: dict[int, bytes] = {i: bytes([i]) for i in range(256)}

    def compose(self) -> ComposeResult:
        yield Static(_muted("Reading the dataset…"), id="bpe-status")
        yield Sparkline([], id="bpe-tokens")
        yield Static(id="bpe-tokens-label")
        yield RichLog(max_lines=400, wrap=False, auto_scroll=True, id="bpe-merges")
        yield Static(id="bpe-compare")

    def on_mount(self) -> None:
        if self.screen.handout:
            self.show_kept()
        else:
            self.train()

    def train(self) -> None:
        self.run += 1
        self._train(self.run)

    def show_kept(self) -> None:
        """The tour's BPE as the workspace keeps it (else the bundled one), measured on the
        dataset beside the model's tokenizer, without training it again."""
        from engine.tokenizer.tour import (
            bytes_per_token,
            load_bpe,
            load_tokenizer,
            tokenizer_corpus,
        )
        from engine.workspace import Workspace

        workspace = getattr(self.app, "workspace", None) or Workspace()

        def measuring() -> Iterator[Any]:
            bpe, artifact = load_bpe(workspace)
            yield _KeptBpe(bpe.name, bpe.vocab_size, artifact.path.name, artifact.label)
            found = tokenizer_corpus(workspace)
            model, _ = load_tokenizer(workspace)
            kept = [bpe] + ([model] if model.hash != bpe.hash else [])
            yield VocabulariesCompared(len(found.documents), found.source, [
                (t.name, t.vocab_size, bytes_per_token(t, found.documents)) for t in kept])

        def shown(event: Any) -> None:
            if isinstance(event, _KeptBpe):
                self.border_title = "The tour's tokenizer"
                self.query_one("#bpe-status", Static).update(Text.assemble(
                    (event.name, "bold"), ("  ", ""), (f"{event.vocab_size:,}", "bold"),
                    (f" token IDs, kept in {event.file} ({event.label}). ", "dim"),
                    ("In the tour this panel trains it again, merge by merge.", "dim")))
                for part in ("#bpe-tokens", "#bpe-tokens-label", "#bpe-merges"):
                    self.query_one(part).display = False
            else:
                self._bpe_event(event)

        def failed(error: BaseException) -> None:
            self.query_one("#bpe-status", Static).update(_error_text(str(error)))

        self.screen.run_stage(measuring, "bpe-train", on_event=shown, on_error=failed)

    def restart(self) -> None:
        self.query_one(RichLog).clear()
        self.token_counts, self.learned, self.last = [], 0, None
        self._vocab = {i: bytes([i]) for i in range(256)}
        self.query_one(Sparkline).data = []
        self.query_one("#bpe-tokens-label", Static).update("")
        self.query_one("#bpe-compare", Static).update("")
        self.query_one("#bpe-status", Static).update(_muted("Reading the dataset…"))
        self.train()

    def _train(self, run: int) -> None:
        from engine.tokenizer.bpe import train_bpe
        from engine.tokenizer.tour import (
            BPETokenizer,
            CompactGPT4Tokenizer,
            TokenizerConfig,
            bytes_per_token,
            tokenizer_corpus,
        )
        from engine.workspace import Workspace

        workspace = getattr(self.app, "workspace", None) or Workspace()
        pace = self.PACE

        def training() -> Iterator[Any]:
            found = tokenizer_corpus(workspace)
            documents, chats, corpus = found.documents, found.conversations, found.texts
            corpus_bytes = found.bytes
            target = TokenizerConfig().bpe_vocab_size
            yield TrainingStarted(run, len(documents), len(chats), corpus_bytes, found.source,
                                  target)
            start = time.perf_counter()
            merges: list[Merge] = []
            batch: list[Merge] = []
            last_post = 0.0
            for merge in room_stream(self, "bpe-train", lambda: train_bpe(corpus, target)):
                if stage_cancelled():
                    return
                merges.append(merge)
                batch.append(merge)
                pause = next((seconds for upto, seconds in pace if len(merges) <= upto), 0.0)
                now = time.perf_counter()
                if pause or now - last_post > 0.05:
                    yield MergesLearned(run, batch, corpus_bytes)
                    batch, last_post = [], now
                    if pause:
                        time.sleep(pause)
            if batch:
                yield MergesLearned(run, batch, corpus_bytes)
            tokenizer = BPETokenizer.from_merge_events(merges)
            yield BpeTrained(run, tokenizer, time.perf_counter() - start)
            # The comparison the model's choice rests on, measured on this very dataset.
            compact = CompactGPT4Tokenizer.from_texts(corpus)
            yield VocabulariesCompared(
                len(documents), found.source,
                [(tokenizer.name, tokenizer.vocab_size, bytes_per_token(tokenizer, documents)),
                 (compact.name, compact.vocab_size, bytes_per_token(compact, documents))])

        def failed(error: BaseException) -> None:
            message = str(error) if isinstance(error, FileNotFoundError) else (
                f"Training stopped: {error}")
            self.query_one("#bpe-status", Static).update(_error_text(message))

        self.screen.run_stage(training, "bpe-train", on_event=self._bpe_event, on_error=failed)

    def _bpe_event(self, event: Any) -> None:
        if isinstance(event, TrainingStarted):
            self.on_training_started(event)
        elif isinstance(event, MergesLearned):
            self.on_merges_learned(event)
        elif isinstance(event, BpeTrained):
            self.post_message(event)  # it goes on to the screen, which hands it to the playground
        elif isinstance(event, VocabulariesCompared):
            self.compared = event
            self.query_one("#bpe-compare", Static).update(comparison_text(event))

    def on_training_started(self, message: TrainingStarted) -> None:
        message.stop()
        if message.run != self.run:
            return
        self.corpus_bytes, self.target = message.corpus_bytes, message.target
        self.fit_subtitle(f"{message.documents:,} documents ({message.label}) + "
                          f"{message.conversations:,} conversations",
                          f"{message.documents:,} documents + {message.conversations:,} "
                          "conversations")
        self.token_counts = [float(message.corpus_bytes)]
        self._show_status(done=False)

    def on_merges_learned(self, message: MergesLearned) -> None:
        message.stop()
        if message.run != self.run:
            return
        log = self.query_one(RichLog)
        for merge in message.merges:
            parts = (self._vocab[merge.left], self._vocab[merge.right])
            self._vocab[merge.token_id] = merge.token
            log.write(merge_line(merge, parts))
            self.token_counts.append(message.corpus_bytes / merge.bytes_per_token)
            self.last = merge
            self.learned += 1
        self.query_one(Sparkline).data = list(self.token_counts)
        self.query_one("#bpe-tokens-label", Static).update(tokens_caption(self.token_counts))
        self._show_status(done=False)

    def on_bpe_trained(self, message: BpeTrained) -> None:
        # Not stopped: the screen hands the new tokenizer to the playground.
        if message.run != self.run:
            message.stop()
            return
        self._show_status(done=True, seconds=message.seconds)

    def _show_status(self, done: bool, seconds: float = 0.0) -> None:
        vocab = 256 + self.learned
        rate = self.last.bytes_per_token if self.last else 1.0
        tokens = self.corpus_bytes / rate if rate else 0
        status = Text.assemble(
            ("Vocabulary ", "dim"), (f"{vocab:,}", "bold"), (f" / {self.target:,}", "dim"),
            ("   dataset ", "dim"), (f"{self.corpus_bytes:,}", "bold"), (" bytes → ", "dim"),
            (f"{tokens:,.0f}", "bold"), (" tokens   ", "dim"),
            (f"{rate:.2f}", "bold"), (" bytes per token", "dim"),
        )
        if done:
            status.append(f"\nTrained in {seconds:.1f} s (shown slower at first). ", style="dim")
            status.append("r", style="bold")
            status.append(" trains it again.", style="dim")
        self.query_one("#bpe-status", Static).update(status)


# -- the model's vocabulary ----------------------------------------------------------------

class ModelVocabulary(Static):
    """Which tokenizer the tour's model reads with, from the workspace or bundled."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    ModelVocabulary {
        height: auto;
        margin: 0 0 1 0;
    }
    """

    def on_mount(self) -> None:
        self.border_title = "The model's vocabulary"
        self.update(_muted("Looking for the prepared tokenizer…"))
        self.look()

    def look(self) -> None:
        from engine.workspace import Workspace

        workspace = getattr(self.app, "workspace", None) or Workspace()

        def failed(error: BaseException) -> None:
            self.update(_error_text(f"Could not read the tokenizer: {error}"))

        self.screen.run_stage(lambda: [_model_vocabulary(workspace)], "model-vocab",
                              on_event=self.update, on_error=failed)


def _model_vocabulary(workspace: Any) -> Text:
    """The model's tokenizer, its shards and the story sentence in its IDs."""
    from engine.tokenizer.tour import load_tokenizer, read_shard

    try:
        tokenizer, artifact = load_tokenizer(workspace)
    except FileNotFoundError as missing:
        return _muted(str(missing))
    kinds = {"gpt4-compact": "GPT-4's own tokens, only those the corpus uses, + 256 bytes",
             "bpe": "the tour's own BPE, trained on its dataset"}
    text = Text.assemble(
        (tokenizer.name, "bold"), ("  ", ""), (kinds.get(tokenizer.kind, tokenizer.kind), ""),
        ("\n", ""), ("Vocabulary ", "dim"), (f"{tokenizer.vocab_size:,}", "bold"),
        (" tokens, of which special: ", "dim"), (" ".join(tokenizer.special), ""),
        ("\n", ""), ("Hash ", "dim"), (tokenizer.hash[:16], "bold"),
        (" (every checkpoint records it) · ", "dim"), (artifact.label, ""),
    )
    shards = [(name, workspace.find(key)) for name, key in
              (("train.bin", "train_shard"), ("val.bin", "val_shard"))]
    if all(found and found.source == artifact.source for _, found in shards):
        sizes = [f"{name} {len(read_shard(found.path)):,}" for name, found in shards]
        text.append("\nShards: ", style="dim")
        text.append(" · ".join(sizes) + " tokens")
    capital = tokenizer.encode(" The capital of France is Paris.")
    text.append("\n\"␣The capital of France is Paris.\" → ", style="dim")
    text.append(f"{len(capital)} tokens: {' '.join(map(str, capital))}")
    return text


class TokensScreen(ChapterScreen):
    WIDGETS: ClassVar[dict[str, type]] = {
        "split_cards": SplitCards,
        "token_playground": TokenPlayground,
        "bpe_training": BpeTraining,
        "model_vocabulary": ModelVocabulary,
    }

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("i", "focus_input", "Type", id="tokens_type",
                tooltip="Type your own text and watch both tokenizers cut it"),
        Binding("w", "toggle_whitespace", "Whitespace", id="tokens_whitespace",
                tooltip="Show spaces, tabs and newlines inside the tokens"),
        Binding("e", "next_example", "Example", id="tokens_example", show=False,
                tooltip="Put the next example text in the box: spaces, capitals, numbers, "
                        "other languages"),
        Binding("r", "retrain", "Retrain", id="tokens_retrain", show=False,
                tooltip="Train the tour's tokenizer again from the start"),
        Binding("escape", "leave_input", "Done typing", id="tokens_leave_input", show=False,
                tooltip="Leave the text box, so Space steps through the chapter again"),
    ]

    def action_focus_input(self) -> None:
        inputs = self.query("#token-input")
        if inputs:
            inputs.first().focus()

    def action_leave_input(self) -> None:
        self.set_focus(None)

    def action_toggle_whitespace(self) -> None:
        for playground in self.query(TokenPlayground):
            playground.toggle_whitespace()

    def action_next_example(self) -> None:
        for playground in self.query(TokenPlayground):
            playground.next_example()

    def action_retrain(self) -> None:
        for panel in self.query(BpeTraining):
            panel.restart()

    def on_bpe_trained(self, message: BpeTrained) -> None:
        for playground in self.query(TokenPlayground):
            playground.set_own(message.tokenizer, "trained here just now")
