"""The tool call loop, as the talk draws it.

1. The user asks for fresh information.
2. The model emits a tool call (``<|tool_call|> weather({ city: " Paris" })<|end|>``),
   because the answer may not be stored in its parameters.
3. The surrounding app recognises the format (:mod:`engine.tools.parser`).
4. The app runs the tool (:mod:`engine.tools.registry`).
5. The result returns to the context (``<|tool_result|> 72°F and clear<|end|>``).
6. The model continues with the new information and answers.

:func:`run_turn` does this for one user turn and yields an event for every step, so
the CLI and the chapter can show each one as it happens. The model is any
:data:`TokenSource`, a function from a context to generated tokens; the real one wraps
:func:`engine.inference.sampler.generate` (:func:`model_source`), tests script a fake one. The
number of calls per turn is bounded, and a malformed call or a failing tool is reported
and written into the context as an error, so the model can go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.chat.format import (
    ENDOFTEXT,
    END,
    TOOL_CALL,
    TOOL_RESULT,
    USER,
    Tokenizer,
    Turn,
    prompt_ids,
    tool_result_ids,
)
from engine.tools.parser import ToolCall, ToolCallError, parse_call
from engine.tools.registry import ToolRegistry, ToolResult


@dataclass(frozen=True)
class Token:
    """One generated token: its id and the text it completes."""

    id: int
    text: str


# (context ids, stop ids, max tokens) -> the tokens generated after the context, in order.
# The source stops at the first stop id (and yields it); the loop may stop iterating early.
TokenSource = Callable[[list[int], Sequence[int], int], Iterable[Token]]


@dataclass
class LoopConfig:
    max_calls: int = 3  # tool calls per user turn; one more is refused
    max_call_tokens: int = 64  # a call that has not ended by then is malformed
    max_answer_tokens: int = 160


# -- events, one per step of the talk's loop ------------------------------------------


@dataclass(frozen=True)
class Question:
    """Step 1: the user's question, written into the context."""

    text: str
    context_tokens: int
    step: int = 1


@dataclass(frozen=True)
class CallToken:
    """Step 2: the model is writing a tool call; ``text`` is the call so far."""

    token: Token
    text: str
    step: int = 2


@dataclass(frozen=True)
class CallRecognised:
    """Step 3: the call closed with ``<|end|>`` and parses to a tool and its arguments."""

    call: ToolCall
    known: bool  # whether a tool of that name is registered
    step: int = 3


@dataclass(frozen=True)
class CallMalformed:
    """Step 3 failed: the model wrote something that is not a call the app can run."""

    error: ToolCallError
    step: int = 3


@dataclass(frozen=True)
class ToolRunning:
    """Step 4: the app runs the tool."""

    call: ToolCall
    step: int = 4


@dataclass(frozen=True)
class ResultInContext:
    """Step 5: the result (or the error) is appended after ``<|tool_result|>``."""

    result: ToolResult
    added_tokens: int
    context_tokens: int
    step: int = 5


@dataclass(frozen=True)
class AnswerToken:
    """Step 6: a token of the model's answer; ``text`` is the answer so far."""

    token: Token
    text: str
    step: int = 6


@dataclass(frozen=True)
class LoopError:
    """Something the loop reports and survives (or ends the turn on, for ``call limit``)."""

    kind: str  # "malformed call", "tool error", "call limit", "call too long"
    message: str
    step: int = 0


@dataclass(frozen=True)
class Answer:
    """The turn is over: the answer, every turn it added, and why it stopped."""

    text: str
    turns: tuple[Turn, ...]
    calls: int
    stop: str  # "end", "max tokens", "call limit", "new turn"
    context_tokens: int
    step: int = 6


LoopEvent = (Question | CallToken | CallRecognised | CallMalformed | ToolRunning
             | ResultInContext | AnswerToken | LoopError | Answer)


@dataclass
class _Reply:
    """What one stretch of generation produced: maybe text, maybe a call, and why it ended."""

    ids: list[int] = field(default_factory=list)
    text: str = ""
    call_text: str | None = None  # set once <|tool_call|> was generated
    call_tokens: int = 0
    stop: str = "max tokens"


def run_turn(
    question: str,
    source: TokenSource,
    tokenizer: Tokenizer,
    registry: ToolRegistry,
    *,
    history: Sequence[Turn] = (),
    config: LoopConfig | None = None,
) -> Iterator[LoopEvent]:
    """One user turn through the tool call loop; the last event is an :class:`Answer`."""
    config = config or LoopConfig()
    sp = tokenizer.special
    stops = [sp[END], sp[ENDOFTEXT], sp[USER], sp[TOOL_RESULT]]
    turns: list[Turn] = [Turn("user", question)]
    ids = prompt_ids([*history, *turns], tokenizer)
    yield Question(question, len(ids))
    answer = ""
    calls = 0
    while True:
        reply = _Reply()
        budget = config.max_answer_tokens + config.max_call_tokens
        for token in source(list(ids), stops, budget):
            reply.ids.append(token.id)
            if token.id == sp[TOOL_CALL] and reply.call_text is None:
                reply.call_text = ""
                continue
            if token.id in stops:
                if token.id == sp[END]:
                    reply.stop = "end"
                elif token.id == sp[TOOL_RESULT] and reply.call_text is not None:
                    reply.ids[-1] = sp[END]  # it wrote the result opener itself: the call is over
                    reply.stop = "end"
                else:
                    reply.stop = "new turn"
                break
            if token.id in sp.values():
                continue  # a stray opener inside a reply carries no text
            if reply.call_text is not None:
                reply.call_text += token.text
                reply.call_tokens += 1
                yield CallToken(token, reply.call_text)
                if reply.call_tokens >= config.max_call_tokens:
                    reply.stop = "call too long"
                    break
            else:
                reply.text += token.text
                yield AnswerToken(token, answer + reply.text)
                if len(reply.ids) >= config.max_answer_tokens:
                    reply.stop = "max tokens"
                    break
        answer += reply.text
        if reply.text.strip():
            turns.append(Turn("assistant", reply.text.strip()))
        if reply.call_text is None:
            ids.extend(reply.ids)
            if reply.stop == "new turn":
                ids.pop()  # the model began the next turn itself; it is not part of this one
            yield Answer(answer.strip(), tuple(turns), calls, reply.stop, len(ids))
            return

        # The model wrote a tool call.
        if calls >= config.max_calls:
            yield LoopError("call limit", f"the model asked for more than {config.max_calls} "
                            "tool calls in one turn; the turn ends here")
            yield Answer(answer.strip(), tuple(turns), calls, "call limit", len(ids))
            return
        calls += 1
        turns.append(Turn("tool_call", reply.call_text.strip()))
        if reply.stop == "end":
            ids.extend(reply.ids)
        else:  # close the call so the context stays well formed
            ids.extend([*(i for i in reply.ids if i not in stops), sp[END]])
        if reply.stop == "call too long":
            parsed: ToolCall | ToolCallError = ToolCallError(
                f"the call did not end within {config.max_call_tokens} tokens", reply.call_text)
        elif reply.stop != "end":
            parsed = ToolCallError("the call was cut off before <|end|>", reply.call_text)
        else:
            parsed = parse_call(reply.call_text)

        if isinstance(parsed, ToolCallError):
            yield CallMalformed(parsed)
            yield LoopError("malformed call", f"could not read the tool call: {parsed.message}", 3)
            result = ToolResult("?", False, f"error: could not read the tool call: "
                                f"{parsed.message}", error="malformed call")
        else:
            yield CallRecognised(parsed, parsed.name in registry)
            yield ToolRunning(parsed)
            result = registry.run(parsed)
            if not result.ok:
                yield LoopError("tool error", result.text, 4)
        added = tool_result_ids(result.text, tokenizer)
        ids.extend(added)
        turns.append(Turn("tool_result", result.text))
        yield ResultInContext(result, len(added), len(ids))


def model_source(model: Any, tokenizer: Tokenizer, *, temperature: float = 0.0,
                 top_k: int | None = None, top_p: float | None = None,
                 seed: int | None = 0) -> TokenSource:
    """A TokenSource that samples from a real model with :func:`engine.inference.sampler.generate`."""
    from engine.inference.sampler import SampleConfig, generate

    calls = 0

    def source(ids: list[int], stop_ids: Sequence[int], max_tokens: int) -> Iterator[Token]:
        nonlocal calls
        calls += 1
        run_seed = None if seed is None else seed + calls - 1
        config = SampleConfig(temperature, top_k, top_p, run_seed, max_tokens, map_size=1)
        for event in generate(model, ids, config, stop_ids=stop_ids, tokenizer=tokenizer):
            yield Token(event.token_id, event.text)

    return source



def fit_history(history: Sequence[Turn], question: str, tokenizer: Tokenizer,
                budget: int) -> list[Turn]:
    """The most recent whole exchanges of ``history`` that fit ``budget`` tokens with the
    new question: a small model's context window holds only a few turns."""
    kept = list(history)
    while kept and len(prompt_ids([*kept, Turn("user", question)], tokenizer)) > budget:
        # drop the oldest exchange: everything up to the next user turn
        nxt = next((i for i, t in enumerate(kept) if i > 0 and t.role == "user"), len(kept))
        kept = kept[nxt:]
    return kept
