"""The Tools chapter: the six steps of the loop one key at a time, and the comparison of
vague recollection (parameters) with working memory (context)."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.chat.format import ASSISTANT, END, TOOL_CALL, TOOL_RESULT
from engine.chat.conversations import held_out_capitals
from engine.tools import evaluate, loop
from screens.registry import find_chapter
from screens.tools import ContextView, LoopSteps, MemorySide, StepDetail, ToolsScreen
from tui.app import TourApp

from sizes import SIZE_IDS, SIZES
HELD_OUT = held_out_capitals()[0]


def _tiny_chat_model(workspace):
    """The tokenizer and an untrained 2-layer chat.pt: the screen loads them for real."""
    import torch

    from engine.model.checkpoint import save_checkpoint
    from engine.model.gpt import GPT, GPTConfig
    from engine.tokenizer.tour import CompactGPT4Tokenizer

    tokenizer = CompactGPT4Tokenizer.from_texts(["What's the weather in Paris today?"])
    tokenizer.save(workspace.path("tokenizer"))
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, block_size=64, n_layer=2, n_head=2,
                          n_embd=16))
    save_checkpoint(workspace.path("chat"), model, tokenizer=tokenizer, step=0)


def _fake_model(model, tokenizer, **kwargs):
    """A model that behaves like a well fine-tuned one, decided from its context, so the
    screen's story is the same on every machine."""
    sp = tokenizer.special

    def source(ids, stop_ids, max_tokens):
        context = tokenizer.decode(ids)
        last_user = context.rsplit("<|user|>", 1)[-1]
        if context.endswith(f"{END}{ASSISTANT}") and TOOL_RESULT in last_user:
            result = last_user.rsplit(TOOL_RESULT, 1)[-1].split(END)[0].strip()
            capital = re.search(r"The capital of [\w ]+ is ([\w-]+)", result)
            if capital:
                reply = f" The capital is {capital.group(1)}."
            else:
                reply = f" It is about {result} in Paris today."
            parts = [reply, sp[END]]
        elif "broken" in last_user:
            parts = [sp[TOOL_CALL], " weather({ city: Paris })", sp[END]]
        elif "weather" in last_user:
            parts = [sp[TOOL_CALL], ' weather({ city: "Paris" })', sp[END]]
        elif "capital" in last_user:
            parts = [" The capital is Paris, I think.", sp[END]]
        else:
            parts = [" Hello!", sp[END]]
        out = []
        for part in parts:
            out.extend([part] if isinstance(part, int) else tokenizer.encode(part))
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for token_id in out[:max_tokens]:
            yield loop.Token(token_id, decoder.decode(tokenizer.token_bytes(token_id)))
            if token_id in stop_ids:
                return

    return source


@pytest.fixture
def chat_ready(workspace, monkeypatch):
    workspace.ensure()
    _tiny_chat_model(workspace)
    docs = [
        ("atlas.example/" + HELD_OUT.country.lower().replace(" ", "-"),
         f"{HELD_OUT.country} at a glance",
         (f"{HELD_OUT.country} is a country in {HELD_OUT.continent}. "
          f"The capital of {HELD_OUT.country} is {HELD_OUT.capital}.")),
        ("small-events.example/blog/wedding-toast", "How To Give A Warm Wedding Toast",
         "A good wedding toast should be personal, brief, and kind."),
    ]
    url, title, content = zip(*docs)
    pq.write_table(pa.table({"url": list(url), "title": list(title), "content": list(content)}),
                   workspace.path("dataset"))
    monkeypatch.setattr(loop, "model_source", _fake_model)
    monkeypatch.setattr(evaluate, "capital_probability", _fake_certainty)
    return workspace


def _fake_certainty(model, tokenizer, prompt, country, capital):
    """Sure with the passage in context; least sure of the held-out country from memory."""
    if tokenizer.special[TOOL_RESULT] in prompt:
        return 0.9
    return 0.2 if country == HELD_OUT.country else 0.6


def app_at_tools(workspace) -> TourApp:
    return TourApp(workspace, start=find_chapter("tools"))


async def settle(pilot) -> None:
    """Every worker has ended (one that failed has shown why: the chapter's own handler),
    and what they posted is handled."""
    from textual.worker import WorkerFailed

    for _ in range(4):
        for worker in list(pilot.app.workers):
            with contextlib.suppress(WorkerFailed):
                await asyncio.wait_for(worker.wait(), 60)
        await pilot.pause()


async def to_memory(pilot) -> None:
    """Run the loop to its end, then Space (reading the rest of the step) to the comparison."""
    await settle(pilot)
    for _ in range(16):
        if pilot.app.screen.step == 1:
            break
        await pilot.press("space")
        await settle(pilot)
    await settle(pilot)
    await pilot.pause(0.1)  # the panels' heights settle
    pilot.app.screen.query_one("#body").scroll_end(animate=False)  # where the app leaves it
    await settle(pilot)


def text_of(widget) -> str:
    rendered = widget.render()
    return rendered.plain if hasattr(rendered, "plain") else str(rendered)


async def ask(pilot, question: str, steps: int) -> list[str]:
    """Ask ``question`` and take ``steps`` steps of the loop: what each step said."""
    await settle(pilot)
    screen = pilot.app.screen
    screen.question = question
    screen.restart_loop()
    details = []
    for _ in range(steps):
        await pilot.press("space")
        await settle(pilot)
        details.append(text_of(screen.query_one("#loop-detail")))
    return details


async def test_the_six_steps_one_key_at_a_time(chat_ready):
    async with app_at_tools(chat_ready).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ToolsScreen)
        context = screen.query_one("#loop-context", ContextView)
        detail = screen.query_one("#loop-detail", StepDetail)
        steps = screen.query_one("#loop-steps", LoopSteps)
        assert "Press Space for step 1" in text_of(detail)

        seen = []
        for _ in range(6):
            await pilot.press("space")
            await settle(pilot)
            seen.append((screen.loop_step, text_of(context), text_of(detail)))

        assert [s for s, _, _ in seen] == [1, 2, 3, 4, 5, 6]
        (c1, d1), (c2, _), (_, d3), (c4, d4), (c5, d5), (c6, _) = [(c, d) for _, c, d in seen]
        assert "<|user|> What's the weather in Paris today?<|end|><|assistant|>" in c1
        assert TOOL_CALL not in c1 and "tokens" in d1
        assert '<|tool_call|> weather({ city: "Paris" })' in c2
        assert "weather" in d3 and "city='Paris'" in d3 and "never eval" in d3
        assert "72°F and clear" in d4 and "simulated" in d4
        assert TOOL_RESULT not in c4  # not in the context until step 5
        assert "<|tool_result|> 72°F and clear<|end|><|assistant|>" in c5 and "+" in d5
        assert "It is about 72°F and clear in Paris today." in c6
        assert screen.loop_finished
        assert "✓ 5." in text_of(steps) and "▶ 6." in text_of(steps)


async def test_the_viewer_changes_the_question(chat_ready):
    async with app_at_tools(chat_ready).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await pilot.pause()
        box = pilot.app.screen.query_one("#question-input")
        box.value = "Hello [/b] there"
        await pilot.press("enter")
        await pilot.pause()
        screen = pilot.app.screen
        assert screen.question == "Hello [/b] there"
        for _ in range(2):
            await pilot.press("space")
            await settle(pilot)
        assert "Hello [/b] there" in text_of(screen.query_one("#loop-context"))
        assert screen.loop_finished
        assert "without a tool call" in text_of(screen.query_one("#loop-detail"))
        steps = text_of(screen.query_one("#loop-steps", LoopSteps))
        assert "– 3." in steps  # skipped: no call to recognise

        await pilot.press("r")
        await pilot.pause()
        assert screen.loop_step == 0 and not screen.loop_finished


async def test_a_malformed_call_is_shown_and_the_loop_goes_on(chat_ready):
    async with app_at_tools(chat_ready).run_test(size=(100, 32)) as pilot:
        details = await ask(pilot, "A broken call, please", steps=6)
        screen = pilot.app.screen
        assert "cannot read this call" in details[2] and "need quotes" in details[2]
        assert "No tool runs" in details[3]
        steps = text_of(screen.query_one("#loop-steps", LoopSteps))
        assert "– 4." in steps
        context = text_of(screen.query_one("#loop-context"))
        assert "<|tool_result|> error: could not read the tool call" in context
        assert screen.loop_finished


@pytest.mark.parametrize("city, wrong", [("Paris", False), ("Lima", True)])
async def test_a_call_that_does_not_copy_the_question_says_so(chat_ready, city, wrong):
    """The fake model always asks for Paris: asked about Lima, the step that reads the call
    says the question does not name Paris; asked about Paris, it says nothing of the kind."""
    async with app_at_tools(chat_ready).run_test(size=(100, 32)) as pilot:
        details = await ask(pilot, f"What's the weather in {city} today?", steps=3)
        assert "reads tool weather with city='Paris'" in details[2]
        assert ("the question does not name 'Paris'" in details[2]) is wrong


async def test_recollection_vs_working_memory(chat_ready):
    async with app_at_tools(chat_ready).run_test(size=(100, 32)) as pilot:
        await to_memory(pilot)
        screen = pilot.app.screen
        assert screen.step == 1
        question = text_of(screen.query_one("#memory-question"))
        assert f"What is the capital of {HELD_OUT.country}?" in question
        params = text_of(screen.query_one("#memory-params", MemorySide))
        context = text_of(screen.query_one("#memory-context", MemorySide))
        assert "The capital is Paris, I think." in params
        assert f"✗ the capital of {HELD_OUT.country} is {HELD_OUT.capital}" in params
        assert f"P(“{HELD_OUT.capital}”) 20.0%" in params
        assert f"P(“{HELD_OUT.capital}”) 90.0%" in context
        assert f"The capital is {HELD_OUT.capital}." in context
        assert f"✓ names {HELD_OUT.capital}" in context
        assert "BM25" in context and "atlas.example/" in context


async def test_the_right_city_for_the_wrong_country_is_marked_wrong(chat_ready, monkeypatch):
    """With the passage in context the model still names another country: no ✓ for that,
    even though the capital's name is in the answer."""
    def wrong_country(model, tokenizer, **kwargs):
        honest = _fake_model(model, tokenizer, **kwargs)

        def source(ids, stop_ids, max_tokens):
            if tokenizer.special[TOOL_RESULT] not in ids:
                yield from honest(ids, stop_ids, max_tokens)
                return
            reply = tokenizer.encode(f" The capital of Spain is {HELD_OUT.capital}.")
            for token_id in [*reply, tokenizer.special[END]][:max_tokens]:
                yield loop.Token(token_id, tokenizer.decode([token_id]))

        return source

    monkeypatch.setattr(loop, "model_source", wrong_country)
    async with app_at_tools(chat_ready).run_test(size=(100, 32)) as pilot:
        await to_memory(pilot)
        screen = pilot.app.screen
        context = text_of(screen.query_one("#memory-context", MemorySide))
        assert f"The capital of Spain is {HELD_OUT.capital}." in context
        assert f"✗ the capital of {HELD_OUT.country} is {HELD_OUT.capital}" in context
        assert "✓" not in context


async def test_without_a_chat_model_the_chapter_says_how_to_make_one(workspace):
    async with app_at_tools(workspace).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        if screen.loaded is not None:
            return  # a bundled chat model exists
        assert "llm-tour prepare sft" in text_of(screen.query_one("#loop-model"))
        await pilot.press("space")
        await settle(pilot)
        assert screen.loop_step == 0


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_after_the_loop(snap_compare, chat_ready, size):
    async def run_loop(pilot):
        await settle(pilot)
        for _ in range(6):
            await pilot.press("space")
            await settle(pilot)

    assert snap_compare(app_at_tools(chat_ready), terminal_size=size, run_before=run_loop)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_of_the_comparison(snap_compare, chat_ready, size):
    assert snap_compare(app_at_tools(chat_ready), terminal_size=size, run_before=to_memory)


def test_a_long_url_in_a_narrow_side_wraps_after_a_slash_not_inside_a_name():
    from screens.widgets.token_spans import TokenFlow, url_pieces

    note = "from world-atlas.example/countries/europe/1: BM25 11.05, the best of 1683 passages"
    for width in range(20, 40):
        lines = TokenFlow(url_pieces(note)).content(width).plain.splitlines()
        assert "".join(lines).replace(" ", "") == note.replace(" ", "")
        for line in lines:  # every line ends at a space or a slash: no name cut in two
            assert len(line) <= width
        words = " ".join(lines).replace("/ ", "/").split()
        assert "world-atlas.example/countries/europe/1:" in words, (width, lines)
