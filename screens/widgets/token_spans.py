"""Text shown as the tokens a tokenizer cut it into: one coloured span per token.

Used wherever the tour shows token IDs (the Tokens chapter, sampling, training). A
token is a pair ``(id, bytes)``; it is drawn from those bytes, never through markup,
so a token such as ``[/b]`` prints as itself. Whitespace can be made visible (a space
as ``·``, a newline as ``↵``, a tab as ``→``), which is where tokenizers surprise
people most: GPT-4 glues the space to the word after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from textual.content import Content
from textual.reactive import reactive
from textual.visual import Visual
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.css.styles import RulesMap
    from textual.strip import Strip
    from textual.style import Style
    from textual.visual import RenderOptions

# Light backgrounds with black text read the same in the dark and the light theme.
PALETTE: tuple[str, ...] = (
    "#f6c6c2", "#c6e7c8", "#bcdcfb", "#fbf0a0", "#e2c3ea", "#ffd1b8", "#b5e3de", "#ddd0c8",
)
VISIBLE_WHITESPACE = {" ": "·", "\n": "↵\n", "\t": "→", "\r": "␍"}

Token = tuple[int, bytes]


def token_style(index: int) -> str:
    return f"#111111 on {PALETTE[index % len(PALETTE)]}"


def token_label(data: bytes, whitespace: bool = False) -> str:
    """How a token's bytes are printed. Bytes that are only part of a character (GPT-4
    cuts rare characters into pieces) print as ``\\xe6``."""
    text = data.decode("utf-8", errors="backslashreplace")
    if whitespace:
        text = "".join(VISIBLE_WHITESPACE.get(ch, ch) for ch in text)
    return text


def spans_flow(tokens: Sequence[Token], *, whitespace: bool = False,
               ids_label: str | None = None) -> TokenFlow:
    """The tokens side by side, each in its own colour, laid out a token at a time (a
    narrow box never shows half a token); with ``ids_label``, their IDs below, after it."""
    pieces = [Content.styled(token_label(data, whitespace), token_style(index))
              for index, (_, data) in enumerate(tokens)]
    ids = None
    if ids_label is not None and tokens:
        ids = Content.styled(ids_label, "dim") + ids_text(tokens)
    return TokenFlow(pieces, after=ids)


def ids_text(tokens: Iterable[Token]) -> Content:
    """The token IDs, in the same colours as their spans (a line breaks between two)."""
    parts: list[tuple[str, str] | str] = []
    for index, (token_id, _) in enumerate(tokens):
        if index:
            parts.append(" ")
        parts.append((str(token_id), token_style(index)))
    return Content.assemble(*parts)


class TokenSpans(Static):
    """Coloured token spans, and optionally their IDs below them.

    Give it ``(id, bytes)`` pairs with :meth:`set_tokens`; toggle ``whitespace`` and
    ``show_ids`` as reactives.
    """

    DEFAULT_CSS = """
    TokenSpans {
        height: auto;
        width: 1fr;
    }
    """

    whitespace: reactive[bool] = reactive(False)
    show_ids: reactive[bool] = reactive(True)

    def __init__(self, tokens: Sequence[Token] = (), *, whitespace: bool = False,
                 show_ids: bool = True, ids_label: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self._tokens: list[Token] = list(tokens)
        self.ids_label = ids_label  # printed before the IDs, e.g. "Token IDs "
        self.set_reactive(TokenSpans.whitespace, whitespace)
        self.set_reactive(TokenSpans.show_ids, show_ids)

    @property
    def tokens(self) -> list[Token]:
        return list(self._tokens)

    def on_mount(self) -> None:
        self._refresh_text()

    def set_tokens(self, tokens: Sequence[Token]) -> None:
        self._tokens = list(tokens)
        self._refresh_text()

    def watch_whitespace(self) -> None:
        self._refresh_text()

    def watch_show_ids(self) -> None:
        self._refresh_text()

    def _refresh_text(self) -> None:
        self.update(spans_flow(self._tokens, whitespace=self.whitespace,
                               ids_label=self.ids_label if self.show_ids else None))


def word_pieces(text: str) -> list[str]:
    """Plain words as pieces for :class:`TokenFlow` (each keeps the space before it), so
    words between tokens still wrap where words do."""
    return re.findall(r"\s*\S+|\s+$", text) or ([text] if text else [])


def url_pieces(text: str) -> list[str]:
    """Words as pieces, with a URL also breakable after each "/" (where a URL is wrapped
    by convention), so a narrow box never folds "example/cou" / "ntries"."""
    return [part for word in word_pieces(text) for part in re.split(r"(?<=/)(?=[^/\s])", word)
            if part]


def flow_lines(pieces: Sequence[Content], width: int) -> list[Content]:
    """Lay pieces out in lines of at most ``width`` cells, breaking between pieces, never
    inside one: a token stays whole. A piece wider than a line is the one thing folded; a
    newline inside a piece ends the line."""
    width = max(1, width)
    lines: list[Content] = []
    line: list[Content] = []
    used = 0
    for piece in pieces:
        parts = piece.split("\n", allow_blank=True) if "\n" in piece.plain else [piece]
        for n, part in enumerate(parts):
            if n:  # the piece held a newline: the line ends here
                lines.append(Content("").join(line))
                line, used = [], 0
            size = part.cell_length
            if used and used + size > width:
                lines.append(Content("").join(line))
                line, used = [], 0
                if part.plain.strip():  # a new line starts at the word, not its space
                    part = part[len(part.plain) - len(part.plain.lstrip()):]
                size = part.cell_length
            while size > width:  # longer than a whole line: fold it
                head, part = part[:width - used], part[width - used:]
                lines.append(Content("").join([*line, head]))
                line, used = [], 0
                size = part.cell_length
            if size:
                line.append(part)
                used += size
    lines.append(Content("").join(line))
    return lines


class TokenFlow(Visual):
    """Tokens that wrap at token boundaries: ``<|assistant|>`` never breaks in two (and
    any pieces that must stay whole, such as a status line's "12,345 tok/s").

    ``pieces`` are laid out by :func:`flow_lines` at the width the widget has; ``before``
    and ``after`` (plain words) go above and below and wrap as text does."""

    def __init__(self, pieces: Sequence[Content | tuple[str, str] | str], *,
                 before: Content | None = None, after: Content | None = None) -> None:
        self.pieces = [p if isinstance(p, Content) else
                       Content.styled(*p) if isinstance(p, tuple) else Content(p)
                       for p in pieces]
        self.before, self.after = before, after

    def __str__(self) -> str:
        return self.plain

    @property
    def plain(self) -> str:
        """All of it as plain text (the tokens on one line), for tests and copying."""
        parts = [self.before.plain] if self.before is not None else []
        parts.append("".join(p.plain for p in self.pieces))
        if self.after is not None:
            parts.append(self.after.plain)
        return "\n".join(parts)

    def content(self, width: int) -> Content:
        parts = [self.before] if self.before is not None else []
        parts += flow_lines(self.pieces, width)
        if self.after is not None:
            parts.append(self.after)
        return Content("\n").join(parts)

    def render_strips(self, width: int, height: int | None, style: Style,
                      options: RenderOptions) -> list[Strip]:
        return self.content(width).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content(container_width).get_optimal_width(rules, container_width)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return max((p.cell_length for p in self.pieces), default=1)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self.content(width).get_height(rules, width)
