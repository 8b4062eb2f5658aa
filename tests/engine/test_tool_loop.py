"""The tool call loop, driven by a scripted fake model over a character-level tokenizer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

import pytest

from engine.chat.format import ASSISTANT, ENDOFTEXT, END, SPECIAL_TOKENS, TOOL_CALL, TOOL_RESULT, USER, Turn
from engine.tools.loop import (
    Answer,
    AnswerToken,
    CallMalformed,
    CallRecognised,
    CallToken,
    LoopConfig,
    LoopError,
    Question,
    ResultInContext,
    Token,
    ToolRunning,
    run_turn,
)
from engine.tools.registry import Tool, ToolRegistry, default_registry


class CharTokenizer:
    """One token per character, and the six special tokens below them."""

    special: ClassVar[dict[str, int]] = {name: i for i, name in enumerate(SPECIAL_TOKENS)}
    offset = len(SPECIAL_TOKENS)

    def encode(self, text: str) -> list[int]:
        return [ord(c) + self.offset for c in text]

    def decode(self, ids: list[int]) -> str:
        names = {v: k for k, v in self.special.items()}
        return "".join(names.get(i) or chr(i - self.offset) for i in ids)


TOK = CharTokenizer()
SP = TOK.special


class ScriptedModel:
    """Plays back one reply per call; a reply may use the last tool result in the context."""

    def __init__(self, *replies: str | list[int]) -> None:
        self.replies = list(replies)
        self.contexts: list[list[int]] = []

    def __call__(self, ids: list[int], stop_ids: Sequence[int], max_tokens: int) -> Iterator[Token]:
        self.contexts.append(list(ids))
        reply = self.replies.pop(0) if self.replies else [SP[END]]
        if isinstance(reply, str):
            context = TOK.decode(ids)
            last_result = context.rsplit(TOOL_RESULT, 1)[-1].split(END)[0].strip()
            reply = self._ids(reply.replace("{result}", last_result))
        for n, token_id in enumerate(reply):
            if n >= max_tokens:
                return
            yield Token(token_id, TOK.decode([token_id]))
            if token_id in stop_ids:
                return

    @staticmethod
    def _ids(text: str) -> list[int]:
        ids: list[int] = []
        while text:
            for name, value in SP.items():
                if text.startswith(name):
                    ids.append(value)
                    text = text[len(name):]
                    break
            else:
                ids.extend(TOK.encode(text[0]))
                text = text[1:]
        return ids


def _turn(model, question="What's the weather in Paris today?", registry=None, **kwargs):
    registry = registry or default_registry()
    return list(run_turn(question, model, TOK, registry, **kwargs))


def test_the_loop_goes_through_every_step_of_the_talk():
    model = ScriptedModel(
        f'{TOOL_CALL} weather({{ city: "Paris" }}){END}',
        " It is clear and about {result} in Paris today." + END,
    )
    events = _turn(model)
    kinds = [type(e) for e in events]
    assert kinds[0] is Question
    assert CallToken in kinds
    first_call, recognised, running, in_context = (kinds.index(CallToken), kinds.index(CallRecognised),
                                                   kinds.index(ToolRunning), kinds.index(ResultInContext))
    first_answer = kinds.index(AnswerToken)
    assert first_call < recognised < running < in_context < first_answer
    assert kinds[-1] is Answer
    assert [e.step for e in events if not isinstance(e, LoopError)] == sorted(
        e.step for e in events if not isinstance(e, LoopError))

    calls = [e for e in events if isinstance(e, CallToken)]
    assert calls[-1].text.strip() == 'weather({ city: "Paris" })'
    recognised = next(e for e in events if isinstance(e, CallRecognised))
    assert recognised.known and recognised.call.args == {"city": "Paris"}
    result = next(e for e in events if isinstance(e, ResultInContext)).result
    assert result.ok and result.text == "72°F and clear" and "simulated" in result.note

    # The second generation saw the call and the result in its context, in the chat format.
    second = TOK.decode(model.contexts[1])
    assert second.endswith(f'{TOOL_CALL} weather({{ city: "Paris" }}){END}'
                           f"{TOOL_RESULT} 72°F and clear{END}{ASSISTANT}")
    assert second.startswith(f"{ENDOFTEXT}{USER} What's the weather in Paris today?{END}{ASSISTANT}")

    answer = events[-1]
    assert answer.text == "It is clear and about 72°F and clear in Paris today."
    assert answer.calls == 1 and answer.stop == "end"
    assert [t.role for t in answer.turns] == ["user", "tool_call", "tool_result", "assistant"]
    assert answer.turns[1] == Turn("tool_call", 'weather({ city: "Paris" })')


def test_a_plain_answer_needs_no_tool():
    events = _turn(ScriptedModel(" The capital of France is Paris." + END),
                   question="What is the capital of France?")
    assert not any(isinstance(e, (CallToken, ToolRunning)) for e in events)
    assert events[-1].text == "The capital of France is Paris."
    assert events[-1].calls == 0


def test_a_malformed_call_is_reported_and_the_loop_goes_on():
    model = ScriptedModel(f"{TOOL_CALL} weather({{ city: Paris }}){END}",
                          " Sorry, I could not look that up." + END)
    events = _turn(model)
    malformed = next(e for e in events if isinstance(e, CallMalformed))
    assert "need quotes" in malformed.error.message
    assert any(isinstance(e, LoopError) and e.kind == "malformed call" for e in events)
    result = next(e for e in events if isinstance(e, ResultInContext)).result
    assert not result.ok and result.text.startswith("error: could not read the tool call")
    assert f"{TOOL_RESULT} error: could not read" in TOK.decode(model.contexts[1])
    assert events[-1].text == "Sorry, I could not look that up."


def test_an_unknown_tool_and_a_failing_tool_are_errors_in_context():
    model = ScriptedModel(f'{TOOL_CALL} teleport({{ to: "Paris" }}){END}',
                          f'{TOOL_CALL} calculator("os.getcwd()"){END}', " Done." + END)
    events = _turn(model)
    errors = [e for e in events if isinstance(e, LoopError)]
    assert [e.kind for e in errors] == ["tool error", "tool error"]
    assert "no tool called 'teleport'" in errors[0].message
    assert "not allowed" in errors[1].message
    assert events[-1].calls == 2


def test_calls_per_turn_are_bounded():
    call = f'{TOOL_CALL} weather({{ city: "Paris" }}){END}'
    model = ScriptedModel(*[call] * 10)
    events = _turn(model, config=LoopConfig(max_calls=2))
    assert sum(isinstance(e, ToolRunning) for e in events) == 2
    assert any(isinstance(e, LoopError) and e.kind == "call limit" for e in events)
    assert events[-1].stop == "call limit"
    assert len(model.contexts) == 3


def test_a_call_that_never_ends_is_cut_off():
    model = ScriptedModel(f"{TOOL_CALL} weather(" + "x" * 500, " Ok." + END)
    events = _turn(model, config=LoopConfig(max_call_tokens=20))
    malformed = next(e for e in events if isinstance(e, CallMalformed))
    assert "did not end within 20 tokens" in malformed.error.message
    assert TOK.decode(model.contexts[1]).count(END) >= 2  # the call was closed in the context
    assert events[-1].text == "Ok."


def test_a_call_closed_by_the_result_opener_still_counts():
    model = ScriptedModel(f'{TOOL_CALL} weather({{ city: "Paris" }}){TOOL_RESULT} 50°F',
                          " It is {result}." + END)
    events = _turn(model)
    assert next(e for e in events if isinstance(e, ResultInContext)).result.ok
    assert events[-1].text == "It is 72°F and clear."


def test_an_answer_is_bounded_and_a_new_turn_ends_it():
    long = _turn(ScriptedModel(" " + "a" * 500), config=LoopConfig(max_answer_tokens=30))
    assert long[-1].stop == "max tokens" and len(long[-1].text) < 40
    model = ScriptedModel(f" Paris.{USER} and now?")
    events = _turn(model, question="Capital of France?")
    assert events[-1].text == "Paris." and events[-1].stop == "new turn"


def test_history_comes_before_the_new_question():
    model = ScriptedModel(" Lima." + END)
    history = [Turn("user", "Hi"), Turn("assistant", "Hello!")]
    _turn(model, question="Capital of Peru?", history=history)
    assert TOK.decode(model.contexts[0]) == (
        f"{ENDOFTEXT}{USER} Hi{END}{ASSISTANT} Hello!{END}{USER} Capital of Peru?{END}{ASSISTANT}")


def test_a_hanging_tool_does_not_stall_the_loop():
    import threading

    release = threading.Event()
    registry = ToolRegistry([Tool("slow", lambda q: release.wait(30) and "late", ("q",), "hangs",
                                  timeout_s=0.2)])
    events = _turn(ScriptedModel(f'{TOOL_CALL} slow("x"){END}', " Gave up." + END),
                   registry=registry)
    release.set()
    result = next(e for e in events if isinstance(e, ResultInContext)).result
    assert result.error == "timeout"
    assert events[-1].text == "Gave up."


# -- the chat command, on a tiny real checkpoint ------------------------------------------


def _tiny_chat_model(workspace):
    """A tokenizer and an untrained 2-layer chat.pt in the workspace."""
    import torch

    from engine.model.checkpoint import save_checkpoint
    from engine.model.gpt import GPT, GPTConfig
    from engine.tokenizer.tour import CompactGPT4Tokenizer

    tokenizer = CompactGPT4Tokenizer.from_texts([
        "What's the weather in Paris today? It is clear and about 72°F in Paris today.",
        'weather({ city: "Paris" }) 72°F and clear',
    ])
    tokenizer.save(workspace.path("tokenizer"))
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=64, n_layer=2, n_head=2,
                          n_embd=16))
    save_checkpoint(workspace.path("chat"), model, tokenizer=tokenizer, step=0)
    return tokenizer


def _scripted_real_source(tokenizer, *replies):
    """A model_source stand-in that writes the given replies in the real tokenizer's ids."""
    pending = list(replies)

    def factory(model, tok, **kwargs):
        def source(ids, stop_ids, max_tokens):
            text = pending.pop(0)
            out = []
            for part in text.split("§"):
                out.extend([tokenizer.special[part]] if part in tokenizer.special
                           else tokenizer.encode(part))
            for token_id in out[:max_tokens]:
                yield Token(token_id, tokenizer.decode([token_id]))
                if token_id in stop_ids:
                    return
        return source

    return factory


def test_chat_prints_the_call_the_result_and_the_answer(workspace, monkeypatch):
    from click.testing import CliRunner

    from engine.tools import loop
    from tui.cli import cli

    tokenizer = _tiny_chat_model(workspace)
    monkeypatch.setattr(loop, "model_source", _scripted_real_source(
        tokenizer,
        f'{TOOL_CALL}§ weather({{ city: "Paris" }})§{END}',
        f" It is clear and about 72°F in Paris today.§{END}",
    ))
    result = CliRunner().invoke(cli, ["chat", "-p", "What's the weather in Paris today?"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "you> What's the weather in Paris today?" in out
    assert '<|tool_call|> weather({ city: "Paris" })' in out
    assert "<|tool_result|> 72°F and clear" in out
    assert "simulated" in out
    assert "assistant> It is clear and about 72°F in Paris today." in out
    assert out.index("<|tool_call|>") < out.index("<|tool_result|>") < out.index("It is clear")


def test_chat_runs_the_real_model_turn_by_turn(workspace):
    from click.testing import CliRunner

    from tui.cli import cli

    _tiny_chat_model(workspace)
    result = CliRunner().invoke(cli, ["chat", "-n", "5"], input="Hello [/b]\n/reset\n\n/quit\n",
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.count("assistant> ") == 1
    assert "conversation forgotten" in result.output


def test_chat_without_a_model_says_how_to_make_one(workspace):
    from click.testing import CliRunner

    from tui.cli import cli

    if workspace.find("chat") is not None:
        return  # a bundled chat model exists: nothing to complain about
    result = CliRunner().invoke(cli, ["chat", "-p", "Hi"])
    assert result.exit_code != 0
    assert "llm-tour prepare sft" in result.output


# -- the real chat model -----------------------------------------------------------------


def test_continuation_probability_reads_the_models_certainty(workspace):
    import torch

    from engine.tools.evaluate import capital_probability, continuation_probability
    from engine.model.load import load_model

    tokenizer = _tiny_chat_model(workspace)
    model = load_model(workspace, "chat").model
    context = tokenizer.encode("What's the weather in Paris")
    ids = tokenizer.encode(" today?")
    p = continuation_probability(model, context, ids)
    assert 0.0 < p < 1.0
    with torch.inference_mode():
        logits, _ = model(torch.tensor([context + ids[:-1]]))
    probs = torch.softmax(logits[0, -len(ids):], dim=-1)
    expected = float(torch.prod(probs[torch.arange(len(ids)), torch.tensor(ids)]))
    assert abs(p - expected) < 1e-5
    assert continuation_probability(model, context, []) == 1.0
    assert 0.0 < capital_probability(model, tokenizer, context, "France", "Paris") < 1.0
