"""Text shown as the tokens a tokenizer cut it into: one coloured span per token.

Used wherever the tour shows token IDs (the Tokens chapter, sampling, training). A
token is a pair ``(id, bytes)``; it is drawn from those bytes, never through markup,
so a token such as ``[/b]`` prints as itself. Whitespace can be made visible (a space
as ``·``, a newline as ``↵``, a tab as ``→``), which is where tokenizers surprise
people most: GPT-4 glues the space to the word after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

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


def spans_text(tokens: Iterable[Token], *, whitespace: bool = False) -> Text:
    """The tokens side by side, each in its own colour."""
    text = Text(no_wrap=False, overflow="fold")
    for index, (_, data) in enumerate(tokens):
        text.append(token_label(data, whitespace), style=token_style(index))
    return text


def ids_text(tokens: Iterable[Token]) -> Text:
    """The token IDs, in the same colours as their spans."""
    text = Text(overflow="fold")
    for index, (token_id, _) in enumerate(tokens):
        if index:
            text.append(" ")
        text.append(str(token_id), style=token_style(index))
    return text


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
        text = spans_text(self._tokens, whitespace=self.whitespace)
        if self.show_ids and self._tokens:
            text.append("\n")
            if self.ids_label:
                text.append(self.ids_label, style="dim")
            text.append_text(ids_text(self._tokens))
        self.update(text)
