"""Chapter: inside the neural net, the real model opened up.

The context as token IDs, every layer with its shape and number of parameters, the attention
weights of a chosen layer and head over that context, and the probability map that comes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.color import Color
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Input, Static

from screens.base import ChapterBody, ChapterScreen, prose
from screens.widgets import figures
from screens.widgets.prob_map import ProbMap
from screens.widgets.prompt_box import PromptBox

DEFAULT_CONTEXT = "The capital of France is"
MAP_ROWS = 5
CELL = 4  # characters per cell of the attention map: ".47" and a space
LABEL = 12  # characters for a row's token


class InsideScreen(ChapterScreen):
    """l / h choose the attention map's layer and head; e types a context."""

    MODEL_KINDS: ClassVar[tuple[str, ...]] = ("base",)

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("l", "layer", "Layer", id="inside_layer",
                tooltip="Show the attention of the next layer"),
        Binding("h", "head", "Head", id="inside_head",
                tooltip="Show the next attention head of this layer"),
        Binding("e", "edit_context", "Context", id="inside_context",
                tooltip="Type your own context window", priority=True),
        Binding("escape", "close_context", "Close", id="inside_close", show=False,
                tooltip="Close the box without changing the context"),
    ]

    DEFAULT_CSS = """
    InsideScreen #inside-equation {
        margin: 0 0 1 0;
    }
    InsideScreen #model-line, InsideScreen #total {
        height: auto;
        padding: 0 1;
    }
    InsideScreen #context, InsideScreen #layers, InsideScreen #attention {
        height: auto;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """

    def __init__(self, chapter, index: int) -> None:
        super().__init__(chapter, index)
        self.loaded: Any = None
        self.context_text = DEFAULT_CONTEXT
        self.attn_layer = 0
        self.attn_head = 0

    @property
    def step_count(self) -> int:
        return 1

    def compose_body(self) -> ComposeResult:
        sections = list(self.sections) + [""] * (3 - len(self.sections))
        with ChapterBody(id="body"):
            yield prose(sections[0], id="inside-intro")
            yield Static(Content.styled("Loading the model…", "$text-muted"), id="model-line")
            yield Static(id="context", classes="panel")
            yield prose(sections[1], id="inside-equation")
            yield Static(id="layers", classes="panel")
            yield Static(id="total")
            yield Static(id="attention", classes="panel")
            yield ProbMap("Probability map for the next token", id="out")
            yield prose(sections[2], id="inside-keys")
        yield PromptBox(placeholder="Your context (Enter to use it, Escape to close)",
                    id="context-input")

    def show_step(self, step: int) -> None:
        """One page."""

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#context", Static).border_title = "Context window (token IDs)"
        self.query_one("#layers", Static).border_title = "Layers and their parameters"
        self.query_one("#out", ProbMap).clear("…")
        self.load()

    def model_changed(self, kind: str) -> None:
        self.load()  # a model trained in the Training loop, or one chosen with m: show it

    def load(self) -> None:
        from engine.model.load import load_model
        from engine.model.inside import analyse

        ws = self.app.workspace
        context, layer, head = self.context_text, self.attn_layer, self.attn_head

        def loading():
            loaded = load_model(ws, "base")
            yield _Loaded(loaded, loaded.artifact)
            yield analyse(loaded.model, loaded.tokenizer, context, layer, head, MAP_ROWS)

        def failed(error: BaseException) -> None:
            self.query_one("#model-line", Static).update(
                Content.styled(_load_error(error), "$error"))

        self.run_stage(loading, "inside-load", on_event=self.show_loaded, on_error=failed)

    def show_loaded(self, event: Any) -> None:
        if not isinstance(event, _Loaded):
            self.show_view(event)
            return
        self.loaded, artifact = event.loaded, event.artifact
        meta = self.loaded.meta
        steps = f", {meta.step:,} training steps" if getattr(meta, "step", 0) else ""
        self.query_one("#model-line", Static).update(Content.assemble(
            ("Model: ", "bold"), (artifact.path.name, "bold"), f" ({artifact.label}{steps})"))
        self.show_layers()

    # -- drawing ------------------------------------------------------------------
    def show_layers(self) -> None:
        from engine.model.inside import layer_rows

        model = self.loaded.model
        table = Table(box=None, pad_edge=False, expand=False, show_edge=False)
        table.add_column("part", style="bold", no_wrap=True)
        table.add_column("shape", no_wrap=True)
        table.add_column("parameters", justify="right", no_wrap=True)
        for part, shape, count in layer_rows(model):
            table.add_row(part, shape, f"{count:,}")
        self.query_one("#layers", Static).update(table)
        c = model.config
        self.query_one("#total", Static).update(Content.assemble(
            ("Total: ", "bold"), (f"{model.num_params():,}", "bold $success"),
            f" learned parameters · {c.n_layer} layers, {c.n_head} heads, width {c.n_embd}, "
            f"context {c.block_size} tokens, vocabulary {c.vocab_size:,} "
            "(the output head reuses the token embedding's table)"))

    def show_view(self, view: Any) -> None:
        self.shown_view = view
        pieces = Content("  ").join(
            Content.assemble((_visible(token), "bold"), ("·", "$text-muted"),
                             (str(i), "$text-accent"))
            for token, i in zip(view.tokens, view.ids))
        self.query_one("#context", Static).update(pieces)
        self.query_one("#out", ProbMap).show(view.top)
        self.show_attention()

    def show_attention(self) -> None:
        c = self.loaded.model.config
        panel = self.query_one("#attention", Static)
        panel.border_title = f"Attention: layer {self.attn_layer + 1} of {c.n_layer}, " \
                             f"head {self.attn_head + 1} of {c.n_head}"
        panel.border_subtitle = "row: a position · column: what it looks at"
        width = max(20, (panel.content_size.width or 90))
        panel.update(heatmap(self.shown_view.tokens, self.shown_view.attention, width))

    def on_resize(self) -> None:
        if getattr(self, "shown_view", None) is not None:
            self.show_attention()

    # -- keys -------------------------------------------------------------------------
    def _rerun(self) -> None:
        if self.loaded is None:
            return
        from engine.model.inside import analyse

        model, tok = self.loaded.model, self.loaded.tokenizer
        context, layer, head = self.context_text, self.attn_layer, self.attn_head
        self.run_stage(lambda: [analyse(model, tok, context, layer, head, MAP_ROWS)],
                       "inside-view", on_event=self.show_view)

    def action_layer(self) -> None:
        if self.loaded is not None:
            self.attn_layer = (self.attn_layer + 1) % self.loaded.model.config.n_layer
            self._rerun()

    def action_head(self) -> None:
        if self.loaded is not None:
            self.attn_head = (self.attn_head + 1) % self.loaded.model.config.n_head
            self._rerun()

    def action_edit_context(self) -> None:
        box = self.query_one("#context-input", PromptBox)
        box.open(self.context_text)

    def action_close_context(self) -> None:
        self.query_one("#context-input", PromptBox).close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.context_text = event.value
        self.action_close_context()
        self._rerun()


@dataclass(frozen=True)
class _Loaded:
    loaded: Any  # engine.inference.sampler's loaded model and tokenizer
    artifact: Any  # where it came from


def heatmap(tokens: list[str], weights: list[list[float]], width: int) -> Text:
    """The attention matrix: a row per position, a shaded cell per earlier position."""
    room = max(1, (width - LABEL - 1) // CELL)
    start = max(0, len(tokens) - room)  # a long context: show its last positions
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" " * (LABEL + 1))
    for j in range(start, len(tokens)):
        text.append(f"{j:>{CELL - 1}} ", style="dim")
    for i in range(start, len(tokens)):
        text.append("\n")
        label = _visible(tokens[i])
        label = label if len(label) <= LABEL else label[:LABEL - 1] + "…"
        text.append(f"{label:>{LABEL}} ", style="bold")
        for j in range(start, len(tokens)):
            if j > i:
                text.append(" " * (CELL - 1) + " ", style="dim")
                continue
            w = 0.5 if figures.MASKED else weights[i][j]  # the shade carries the figure too
            level = int(40 + 215 * w)
            shade = Color.from_rgb(level // 4, level // 2, level)
            text.append(f"{figures.weight(w):>{CELL - 1}} ",
                        style=Style(bgcolor=shade, color="white" if w < 0.6 else "black"))
    return text


def _visible(token: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in token).replace(" ", "␣")


def _load_error(error: BaseException | None) -> str:
    from engine.model.load import NoModel

    if isinstance(error, NoModel):  # names the file or the chapter and command that make one
        return f"{error}"
    return f"Could not load the model: {error}"
