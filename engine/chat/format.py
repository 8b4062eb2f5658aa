"""The conversation format: turns of a chat written as one stream of token IDs.

A base model only continues text. To make it reply in turns, every conversation is
written with special tokens that no web page contains, and the loss is taken only on
the tokens the assistant produces (the mask), so the model learns to answer, not to
imitate the user. As the model sees it::

    <|endoftext|><|user|> What's the weather in Paris today?<|end|>
    <|assistant|><|tool_call|> weather({ city: " Paris" })<|end|>
    <|tool_result|> 72°F and clear<|end|>
    <|assistant|> It is clear and about 72°F in Paris today.<|end|>

(written here on several lines; in the stream nothing separates the turns but the
special tokens). The app writes ``<|assistant|>`` to open each reply; the model then
either answers in text or opens a tool call with ``<|tool_call|>``, and closes either
with ``<|end|>``. That ``<|end|>`` is how the app knows a tool call is complete: it runs
the tool, appends ``<|tool_result|> ...<|end|><|assistant|>`` (see
:func:`tool_result_ids`) and lets the model continue.

Every turn's text is encoded with ``tokenizer.encode``, which writes special-token text
as ordinary characters, so a user who types ``<|end|>`` cannot close a turn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.tokenizer.tour import ENDOFTEXT  # starts every conversation, as it ends documents
from engine.tokenizer.protocol import Tokenizer
from engine.tools.parser import format_call

Role = Literal["user", "assistant", "tool_call", "tool_result"]
ROLES: tuple[str, ...] = ("user", "assistant", "tool_call", "tool_result")

USER = "<|user|>"
ASSISTANT = "<|assistant|>"
TOOL_CALL = "<|tool_call|>"
TOOL_RESULT = "<|tool_result|>"
END = "<|end|>"
SPECIAL_TOKENS = (ENDOFTEXT, USER, ASSISTANT, TOOL_CALL, TOOL_RESULT, END)


@dataclass(frozen=True)
class Turn:
    """One turn of a conversation: who speaks and what they say (plain text)."""

    role: Role
    text: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")


# What starts every value the model writes into a call. In the question a name follows a
# space, and the tokenizer's split pattern gives a word its leading space (" Paris" is one
# token), so with the space inside the quotes the call holds the very tokens of the
# question (` "` then ` Paris`) and can be copied token for token. Without it the quote
# takes the space (` "` then `Paris`), a different token the model would have to
# translate into. Whatever reads a call strips the space (the tool registry, the evaluation).
VALUE_SPACE = " "


def call_text(name: str, space: str = VALUE_SPACE, **args: str) -> str:
    """A tool call as the model writes it: ``weather({ city: " Paris" })``, every value
    after ``space`` (``""`` writes the first format, ``weather({ city: "Paris" })``)."""
    return format_call(name, {key: space + value for key, value in args.items()})


def _text_ids(text: str, tokenizer: Tokenizer) -> list[int]:
    # One space after the special token, as the talk writes it ("<|tool_result|> 72°F ...");
    # it also lets the first word take its usual " word" token.
    return tokenizer.encode(" " + text) if text else []


def render(turns: list[Turn], tokenizer: Tokenizer) -> tuple[list[int], list[int]]:
    """Token IDs of a whole conversation and the loss mask (1 where the assistant speaks).

    The mask is 1 on exactly what the model must learn to produce: the assistant's text,
    its ``<|tool_call|>`` token and call text, and the ``<|end|>`` that closes each of its
    turns. The openers the app writes (``<|assistant|>``), the user's turns and the tool
    results are context only (mask 0).
    """
    sp = tokenizer.special
    ids: list[int] = [sp[ENDOFTEXT]]
    mask: list[int] = [0]

    def add(part: list[int], weight: int) -> None:
        ids.extend(part)
        mask.extend([weight] * len(part))

    for turn in turns:
        text = _text_ids(turn.text, tokenizer)
        if turn.role == "user":
            add([sp[USER], *text, sp[END]], 0)
        elif turn.role == "tool_result":
            add([sp[TOOL_RESULT], *text, sp[END]], 0)
        elif turn.role == "assistant":
            add([sp[ASSISTANT]], 0)
            add([*text, sp[END]], 1)
        else:  # tool_call: the assistant's reply begins with the call
            add([sp[ASSISTANT]], 0)
            add([sp[TOOL_CALL], *text, sp[END]], 1)
    return ids, mask


def prompt_ids(turns: list[Turn], tokenizer: Tokenizer) -> list[int]:
    """The conversation so far, then ``<|assistant|>``: the model's cue to reply."""
    ids, _ = render(turns, tokenizer)
    return ids + [tokenizer.special[ASSISTANT]]


def tool_result_ids(result: str, tokenizer: Tokenizer) -> list[int]:
    """What the app appends after a complete tool call: the result, then a new reply opener."""
    sp = tokenizer.special
    return [sp[TOOL_RESULT], *_text_ids(result, tokenizer), sp[END], sp[ASSISTANT]]


def stop_ids(tokenizer: Tokenizer) -> list[int]:
    """Tokens that end the model's turn when generating a reply."""
    sp = tokenizer.special
    return [sp[END], sp[ENDOFTEXT], sp[USER]]


def parse(ids: list[int], tokenizer: Tokenizer) -> list[Turn]:
    """Split a stream of token IDs back into turns.

    Accepts a whole rendered conversation, a prompt plus what the model generated, or
    only the generated reply (text before any opener belongs to the assistant, whose
    turn the prompt opened). A turn still open at the end (no ``<|end|>`` yet) is returned
    with the text so far. ``<|endoftext|>`` and stray ``<|end|>`` tokens are skipped.
    """
    sp = tokenizer.special
    by_id = {v: k for k, v in sp.items()}
    turns: list[Turn] = []
    role: str | None = "assistant"
    buf: list[int] = []
    opened = False  # whether the current turn was opened by a special token

    def flush() -> None:
        nonlocal buf, opened
        if role is not None and (buf or opened):
            text = tokenizer.decode(buf)
            turns.append(Turn(role, text.removeprefix(" ")))  # type: ignore[arg-type]
        buf, opened = [], False

    for tok in ids:
        name = by_id.get(tok)
        if name is None:
            if role is not None:
                buf.append(tok)
            continue
        if name == ASSISTANT:
            flush()
            role, opened = "assistant", True
        elif name == TOOL_CALL:
            if role == "assistant" and not buf:  # "<|assistant|><|tool_call|>": the reply is a call
                opened = False
            else:
                flush()
            role, opened = "tool_call", True
        elif name in (USER, TOOL_RESULT):
            flush()
            role, opened = ("user" if name == USER else "tool_result"), True
        else:  # END closes the turn; ENDOFTEXT starts a new conversation
            flush()
            role = None
    flush()
    return turns


def format_text(turns: list[Turn]) -> str:
    """The conversation as one string with the special tokens written out (for display)."""
    opener = {"user": USER, "assistant": ASSISTANT, "tool_call": TOOL_CALL, "tool_result": TOOL_RESULT}
    return "\n".join(f"{opener[t.role]} {t.text}{END}" for t in turns)
