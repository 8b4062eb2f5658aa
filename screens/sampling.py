"""Chapter: the sampling loop (predict, choose, append, repeat), driven by the viewer.

The model behind it is the one trained in the Training loop chapter, or the one that
ships with the tour; the screen always says which. One step of the loop runs in a few
milliseconds for the tour's model, so a key press runs it directly; loading the model
(and torch) runs in a worker so the first frame never waits.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Input, Static

from screens.base import ChapterBody, ChapterScreen, prose
from screens.widgets.figures import percent
from screens.widgets.prob_map import LABEL_WIDTH, ProbMap, row_label, visible
from screens.widgets.prompt_box import PromptBox

if TYPE_CHECKING:
    from engine.inference.sampler import ProbabilityMap, Sampler, TokenEvent
    from engine.model.load import LoadedModel

DEFAULT_PROMPT = "The capital of France is"
DEFAULT_SEED = 1337
TEMPERATURES = (0.0, 0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0)
TOP_KS: tuple[int | None, ...] = (None, 1, 2, 3, 5, 10, 20, 50)
TOP_PS: tuple[float | None, ...] = (None, 0.5, 0.8, 0.9, 0.95)
MAX_TOKENS = 40  # a readable continuation; the loop also stops at <|endoftext|>
MAP_ROWS = 8
PACE = 0.4  # seconds per token when the loop plays on by itself
SLIDE_TICK = 0.05  # seconds per character as a chosen token slides into the context


class ContextWindow(Static):
    """The prompt and the tokens chosen so far; token boundaries in alternating colours."""

    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    ContextWindow {
        height: auto;
        min-height: 3;
        border-title-color: $text;
    }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.border_title = "Context window"
        self.prompt = ""
        self.pieces: list[str] = []
        self.ended: str | None = None
        self._revealed = 0  # characters of the newest token shown so far
        self._timer: Timer | None = None

    def reset(self, prompt: str) -> None:
        self.prompt, self.pieces, self.ended = prompt, [], None
        self._stop_slide()
        self.refresh_text()

    def append(self, piece: str, ended: str | None = None) -> None:
        """Add a chosen token; it slides in a character at a time when animations are on."""
        self.pieces.append(piece)
        self.ended = ended
        self._stop_slide()
        if self.app.animation_level != "none" and len(piece) > 1:
            self._revealed = 0
            self._timer = self.set_interval(SLIDE_TICK, self._slide)
        else:
            self._revealed = len(piece)
        self.refresh_text()

    def _slide(self) -> None:
        self._revealed += 1
        if self.pieces and self._revealed >= len(self.pieces[-1]):
            self._stop_slide()
        self.refresh_text()

    def _stop_slide(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._revealed = len(self.pieces[-1]) if self.pieces else 0

    def refresh_text(self) -> None:
        parts: list[tuple[str, str] | str] = [(self.prompt, "bold")]
        last = len(self.pieces) - 1
        for i, piece in enumerate(self.pieces):
            if i == last and self.ended == "endoftext":
                parts.append((piece, "italic $text-muted"))
            elif i == last:
                parts.append((piece[: self._revealed], "bold reverse $accent"))
            else:
                parts.append((piece, "$text-primary on $primary-muted" if i % 2 == 0
                              else "$text-accent on $accent-muted"))
        if self.ended == "endoftext":
            parts.append(("  (the model ended the document)", "italic $text-muted"))
        elif self.ended:
            parts.append((f"  ({self.ended} reached)", "italic $text-muted"))
        self.update(Content.assemble(*parts))


class SampleMap(ProbMap):
    """The shared probability map, showing the filtering too: tokens cut by top-k or top-p
    are struck out, and where temperature or filtering changed a probability the model's
    own is shown beside it."""

    def show_candidates(self, pmap: ProbabilityMap, chosen: int | None = None) -> None:
        self.shown = None  # redrawn by this method on resize, not by ProbMap.show
        self._candidates = (pmap, chosen)
        inner = self.content_size.width or 72
        width = max(4, inner - LABEL_WIDTH - 27)  # mark, label, percent, "  model 12.34%"
        rows = []
        for candidate in pmap.candidates[:MAP_ROWS]:
            if not candidate.kept:
                label = row_label(candidate.text, marked=False)
                rows.append(Content.assemble(
                    "  ", (f"{label:<{LABEL_WIDTH}}", "strike $text-muted"), " ",
                    (f"cut (the model gave it {percent(candidate.model_prob)})",
                     "italic $text-muted")))
                continue
            row = self._row(candidate.text, candidate.prob, width,
                            chosen=candidate.id == chosen, actual=False)
            rows.append(row + Content.styled(_model_note(candidate), "italic $text-muted"))
        self.update(Content("\n").join(rows))
        self.border_subtitle = (f"choosing among {pmap.kept_count:,} of {pmap.vocab_size:,} "
                                "tokens")

    def on_resize(self) -> None:
        if getattr(self, "_candidates", None) is not None:
            self.show_candidates(*self._candidates)

    def clear(self, message: str = "") -> None:
        self._candidates = None
        self.border_subtitle = ""
        super().clear(message)


def _model_note(candidate: Any) -> str:
    """The model's own probability, where temperature or filtering changed it."""
    if abs(candidate.model_prob - candidate.prob) < 0.00005:
        return ""
    return f"  model {percent(candidate.model_prob, '6.2%')}"


class SamplingScreen(ChapterScreen):
    """Space samples one token; the map, the context and the settings are all on screen."""

    MODEL_KINDS: ClassVar[tuple[str, ...]] = ("base", "chat")  # load_model picks between them

    HANDOUT_KEYS: ClassVar[tuple[str, ...]] = ("space",) * 12  # the loop a dozen tokens in

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("space", "sample_token", "Sample", id="sample_token",
                tooltip="Predict the map, choose one token and append it to the context"),
        Binding("a", "toggle_play", "Play", id="toggle_play",
                tooltip="Keep sampling by itself at a readable pace (again to pause)"),
        Binding("left_square_bracket", "temperature(-1)", "Colder", id="colder",
                key_display="[", tooltip="Lower the temperature (0 always takes the top token)"),
        Binding("right_square_bracket", "temperature(1)", "Warmer", id="warmer",
                key_display="]", tooltip="Raise the temperature (flatter map, more surprises)"),
        Binding("k", "top_k", "Top-k", id="top_k",
                tooltip="Keep only the k most likely tokens (cycles through k, then off)"),
        Binding("P", "top_p", "Top-p", id="top_p", key_display="P",
                tooltip="Keep the fewest tokens holding p of the probability (cycles, then off)"),
        Binding("s", "reseed", "New seed", id="reseed", show=False,
                tooltip="Start again from the prompt with new random draws"),
        Binding("r", "replay", "Again", id="replay", show=False,
                tooltip="Start again from the prompt with the same seed: the same text comes back"),
        Binding("e", "edit_prompt", "Prompt", id="edit_prompt",
                tooltip="Type your own prompt for the model to continue", priority=True),
        Binding("down", "next_step", "Step", show=False, id="sampling_next_step",
                tooltip="Scroll down, then go on to the next chapter"),
        Binding("escape", "close_prompt", "Close", id="close_prompt", show=False,
                tooltip="Close the prompt box without changing the prompt"),
    ]

    DEFAULT_CSS = """
    SamplingScreen #sampling-intro {
        margin: 0;
    }
    SamplingScreen #model-line {
        color: $text-muted;
        height: auto;
    }
    SamplingScreen #status {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, chapter, index: int) -> None:
        super().__init__(chapter, index)
        self.prompt = DEFAULT_PROMPT
        self.seed = DEFAULT_SEED
        self.temperature = 1.0
        self.top_k: int | None = None
        self.top_p: float | None = None
        self.loaded: LoadedModel | None = None
        self.sampler: Sampler | None = None
        self.last: TokenEvent | None = None
        self.message: str | None = None
        self.notes: list[str] = []  # what the prompt's tokens do that a viewer may not expect
        self._player: Timer | None = None

    # -- layout ---------------------------------------------------------------
    @property
    def step_count(self) -> int:
        return 1

    def compose_body(self) -> ComposeResult:
        intro = self.sections[0] if self.sections else ""
        notes = "\n\n".join(self.sections[1:])
        with ChapterBody(id="body"):
            yield prose(intro, id="sampling-intro")
            yield Static(Content.styled("Loading the model…", "$text-muted"), id="model-line")
            yield ContextWindow(id="context")
            yield Static(id="status")  # above the map, so a small terminal still shows it
            yield SampleMap(id="map")
            if notes:
                yield prose(notes, id="sampling-notes")
        yield PromptBox(placeholder="Your prompt (Enter to start, Escape to close)", id="prompt-input")

    def show_step(self, step: int) -> None:
        """One step: the loop itself is driven by its own keys."""

    def on_mount(self) -> None:
        super().on_mount()
        self.context_view.reset(self.prompt)
        self.map_view.border_title = "Probability map"
        self.load()

    def model_changed(self, kind: str) -> None:
        self.load()  # a model trained in another chapter, or one chosen with m: use it

    @property
    def context_view(self) -> ContextWindow:
        return self.query_one("#context", ContextWindow)

    @property
    def map_view(self) -> SampleMap:
        return self.query_one("#map", SampleMap)

    # -- loading --------------------------------------------------------------
    def load(self) -> None:
        from engine.model.load import load_model

        ws, prompt = self.app.workspace, self.prompt

        def loading():
            loaded = load_model(ws, "base")
            loaded.encode(prompt)  # warm the tokenizer off the UI thread
            yield loaded

        self.query_one("#model-line", Static).update(
            Content.styled("Loading the current model…", "$text-muted"))
        self.run_stage(loading, "sampling-load", on_event=self.show_loaded,
                       on_error=self.load_failed)

    def show_loaded(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        step = loaded.steps
        self.query_one("#model-line", Static).update(Content.assemble(
            ("Model: ", "bold"), (loaded.path.name, "bold"),
            f" ({loaded.artifact.label})", f" · {step:,} steps" if step else "",
            f" · {_params(loaded.model)} parameters"))
        self.restart()

    def load_failed(self, error: BaseException) -> None:
        self.loaded = self.sampler = None
        self._stop_playing()
        self.query_one("#model-line", Static).update(
            Content.styled(_load_error(error), "$error"))
        self.map_view.clear()
        self.update_status()

    # -- the loop -------------------------------------------------------------
    def restart(self) -> None:
        """Back to the prompt with the current seed and settings."""
        from engine.inference.sampler import SampleConfig, Sampler

        self._stop_playing()
        self.last = None
        self.context_view.reset(self.prompt)
        if self.loaded is None:
            self.update_status()
            return
        config = SampleConfig(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p,
                              seed=self.seed, max_tokens=MAX_TOKENS, map_size=MAP_ROWS)
        try:
            self.sampler = Sampler(self.loaded.model, self.loaded.encode(self.prompt), config,
                                   tokenizer=self.loaded.tokenizer,
                                   stop_ids=self.loaded.stop_ids)
        except (ValueError, RuntimeError) as error:  # shown in the chapter, not a traceback
            self.sampler = None
            self.message = f"Could not run the model on this prompt: {error}"
            self.map_view.clear()
            self.update_status()
            return
        self.message = None
        self.notes = prompt_notes(self.prompt, self.loaded.tokenizer)
        self.show_next_map()

    def show_next_map(self) -> None:
        if self.sampler is None:
            return
        if self.sampler.done:  # no next token: the old map would sit under the new settings
            self.map_view.border_title = "Probability map"
            self.map_view.clear("The loop has ended, so there is no next token to map: r runs "
                                "it again with these settings, s with a new seed.")
            self.update_status()
            return
        self.map_view.border_title = "Probability map for the next token"
        self.map_view.show_candidates(self.sampler.next_map())
        self.update_status()

    def action_sample_token(self) -> None:
        if self.sampler is None:
            self.notify("The model is not loaded yet.", timeout=3)
            return
        if self.sampler.done:
            self._stop_playing()
            self.message = "The loop has ended: r runs it again, s with a new seed."
            self.update_status()
            self.show_the_loop()
            return
        try:
            event = self.sampler.step()
        except (ValueError, RuntimeError) as error:  # shown in the chapter, not a traceback
            self._stop_playing()
            self.message = f"The model could not run: {error}"
            self.update_status()
            return
        self.last = event
        self.context_view.append(event.text, event.stop)
        self.map_view.border_title = Content.assemble(
            "Probability map · chose ", (visible(event.token_text), "bold"),
            f" ({percent(event.prob)})")
        self.map_view.show_candidates(event.map, chosen=event.token_id)
        if event.stop:
            self._stop_playing()
            self.message = "The loop has ended: r runs it again, s with a new seed."
        self.update_status()
        self.show_the_loop()

    def show_the_loop(self) -> None:
        """A key that drives the loop shows it: a viewer who scrolled down to the notes (a
        small terminal holds little more than the loop) is brought back to the context,
        its status and the map, instead of changing them out of sight."""
        self.call_after_refresh(self._show_the_loop)

    def _show_the_loop(self) -> None:
        body = self.query_one("#body")
        top = self.context_view.virtual_region.y
        bottom = self.query_one("#status").virtual_region.bottom
        seen = body.scroll_offset.y, body.scroll_offset.y + body.scrollable_content_region.height
        if top < seen[0] or bottom > seen[1]:
            body.scroll_to(y=top, animate=False)

    def action_toggle_play(self) -> None:
        if self._player is not None:
            self._stop_playing()
        elif self.sampler is not None:
            if self.sampler.done:
                self.restart()
            self._player = self.set_interval(PACE, self.action_sample_token)
            self.action_sample_token()
        self.update_status()

    def _stop_playing(self) -> None:
        if self._player is not None:
            self._player.stop()
            self._player = None

    # -- settings -------------------------------------------------------------
    def action_temperature(self, delta: int) -> None:
        i = min(range(len(TEMPERATURES)), key=lambda j: abs(TEMPERATURES[j] - self.temperature))
        self.temperature = TEMPERATURES[max(0, min(len(TEMPERATURES) - 1, i + delta))]
        self._apply_settings()

    def action_top_k(self) -> None:
        self.top_k = _next(TOP_KS, self.top_k)
        self._apply_settings()

    def action_top_p(self) -> None:
        self.top_p = _next(TOP_PS, self.top_p)
        self._apply_settings()

    def _apply_settings(self) -> None:
        if self.sampler is not None:
            config = self.sampler.config
            config.temperature, config.top_k, config.top_p = (
                self.temperature, self.top_k, self.top_p)
        self.show_next_map()
        self.update_status()
        self.show_the_loop()

    def action_reseed(self) -> None:
        import random

        self.seed = random.SystemRandom().randrange(10_000)
        self.restart()
        self.show_the_loop()

    def action_replay(self) -> None:
        self.restart()
        self.show_the_loop()

    # -- the viewer's prompt --------------------------------------------------
    def action_edit_prompt(self) -> None:
        box = self.query_one("#prompt-input", PromptBox)
        box.open(self.prompt)

    def action_close_prompt(self) -> None:
        self.query_one("#prompt-input", PromptBox).close()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.prompt = event.value
        self.action_close_prompt()
        self.restart()

    # -- what the screen says ---------------------------------------------------
    def update_status(self) -> None:
        s = self.sampler
        parts: list[tuple[str, str] | str] = [
            ("temperature ", "$text-muted"), (f"{self.temperature:g}", "bold"),
            (" · top-k ", "$text-muted"), (str(self.top_k) if self.top_k else "off", "bold"),
            (" · top-p ", "$text-muted"), (f"{self.top_p:g}" if self.top_p else "off", "bold"),
            (" · seed ", "$text-muted"), (str(self.seed), "bold"),
        ]
        if s is not None:
            parts += [(" · token ", "$text-muted"), (f"{s.steps}/{s.config.max_tokens}", "bold")]
        if self._player is not None:
            parts.append(("  ▶ playing", "bold $success"))
        line = Content.assemble(*parts)
        lines = [line] + [Content.styled(note, "italic $warning") for note in self.notes]
        if self.message:
            style = "$error" if self.message.startswith(("Could not", "The model could")) \
                else "italic $text-muted"
            lines.append(Content.styled(self.message, style))
        line = Content("\n").join(lines)
        self.query_one("#status", Static).update(line)


@cache
def _known_names() -> dict[str, str]:
    """Lowercase -> spelling of the names the data is about (countries and capitals)."""
    from engine.data.facts import load_capitals

    names: dict[str, str] = {}
    for fact in load_capitals():
        for name in (fact.country, fact.capital):
            for word in name.split():
                if word[:1].isupper():
                    names.setdefault(word.lower(), word)
    return names


def prompt_notes(prompt: str, tokenizer: Any) -> list[str]:
    """What a prompt's tokens do that a viewer would not expect, in words: a trailing space
    (its own token, after which words rarely start, as words carry their space in front)
    and a name typed in lowercase (another token than the name the data spells)."""
    notes: list[str] = []
    ids = list(tokenizer.encode(prompt)) if prompt else []
    if ids and prompt.endswith(" "):
        last = tokenizer.decode(ids[-1:])
        if not last.strip():
            notes.append(f"A trailing space is its own token: {last!r} — the model rarely saw a "
                         "word start after it (words carry their space in front, as ' Paris'). "
                         "Remove it for a better guess.")
    known = _known_names()
    for word in dict.fromkeys(re.findall(r"[^\W\d_]+", prompt)):
        name = known.get(word)
        if word.islower() and name is not None and name != word:
            mine, theirs = tokenizer.encode(" " + word), tokenizer.encode(" " + name)
            notes.append(f"'{word}' is a different token from '{name}' "
                         f"({_ids(mine)} vs {_ids(theirs)}): the data spells it '{name}', so what "
                         f"the model learned about '{name}' does not carry over.")
    return notes


def _ids(ids: list[int]) -> str:
    return "ID " + str(ids[0]) if len(ids) == 1 else "IDs " + " ".join(map(str, ids))


def _next(values: tuple, current: Any) -> Any:
    try:
        return values[(values.index(current) + 1) % len(values)]
    except ValueError:
        return values[0]


def _params(model: Any) -> str:
    n = sum(p.numel() for p in model.parameters())
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}K"


def _load_error(error: BaseException | None) -> str:
    from engine.model.load import NoModel

    if isinstance(error, NoModel):  # names the file or the chapter and command that make one
        return f"{error}"
    return f"Could not load a model to sample from: {error}"
