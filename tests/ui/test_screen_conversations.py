"""The Conversations chapter: the dataset as a person and as the model sees it, base model
vs assistant-shaped model on an editable question, and fine-tuning live."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from engine.chat import format as chat
from engine.training import sft
from engine.chat.format import Turn
from engine.chat.conversations import vocabulary_texts
from screens.conversations import MASKED, SPECIAL, ConversationsScreen, model_text
from screens.registry import find_chapter
from tui.app import TourApp

from sizes import SIZE_IDS, SIZES


def _tokenizer():
    from engine.data.facts import load_capitals
    from engine.tokenizer.tour import CompactGPT4Tokenizer

    docs = [f"{c.country} is a country in {c.continent}. {c.sentence}" for c in load_capitals()]
    return CompactGPT4Tokenizer.from_texts(docs + vocabulary_texts()), docs


@pytest.fixture
def base_ready(workspace):
    """A tokenizer, shards and an untrained 2-layer base.pt, loaded by the screen for real."""
    import torch

    from engine.model.checkpoint import save_checkpoint
    from engine.model.gpt import GPT
    from engine.training.loop import preset

    workspace.ensure()
    tok, docs = _tokenizer()
    tok.save(workspace.path("tokenizer"))
    ids = [i for d in docs for i in [*tok.encode(d), tok.eot]]
    np.asarray(ids, dtype=np.uint16).tofile(workspace.path("train_shard"))
    np.asarray(ids[:500], dtype=np.uint16).tofile(workspace.path("val_shard"))
    torch.manual_seed(0)
    config = preset("tiny", n_embd=16, block_size=64, batch_size=4, threads=1)
    model = GPT(config.model_config(tok.vocab_size))
    save_checkpoint(workspace.path("base"), model, tokenizer=tok, step=0,
                    train_config=config.to_dict())
    return workspace


@dataclass
class FakeToken:
    token_id: int
    text: str


def _scripted(reply: str, end: bool):
    """A generator in place of the model: the same words on every machine."""

    def stream(model, tokenizer, question, max_tokens=48):
        for token_id in tokenizer.encode(reply):
            yield FakeToken(token_id, tokenizer.decode([token_id]))
        if end:
            yield FakeToken(tokenizer.special["<|end|>"], "<|end|>")

    return stream


@pytest.fixture
def scripted(monkeypatch):
    monkeypatch.setattr(sft, "continue_as_base", _scripted(
        "\nWhat is the capital of Germany?\nWhat is the capital of Spain?", end=False))
    monkeypatch.setattr(sft, "reply_as_assistant", _scripted(
        " The capital of France is Paris.", end=True))


@pytest.fixture
def short_sft(monkeypatch):
    """Three steps, in the training child process as in the tour."""
    from screens.conversations import ConversationsScreen

    monkeypatch.setattr(ConversationsScreen, "sft_config", sft.SFTConfig(
        max_steps=3, eval_interval=3, eval_batches=1, threads=1, batch_size=4, check_items=1))


def app_here(workspace) -> TourApp:
    return TourApp(workspace, start=find_chapter("conversations"))


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def to_step(pilot, step: int) -> None:
    await settle(pilot)
    for _ in range(12):
        if pilot.app.screen.step >= step:
            break
        await pilot.press("space")
        await settle(pilot)
    await settle(pilot)


def text_of(widget) -> str:
    rendered = widget.render()
    return rendered.plain if hasattr(rendered, "plain") else str(rendered)


def test_the_model_view_greys_what_the_loss_ignores():
    tok, _ = _tokenizer()
    turns = [Turn("user", "What is the capital of France?"),
             Turn("assistant", "The capital of France is Paris.")]
    ids, mask = chat.render(turns, tok)
    view = model_text(ids, mask, tok, show_ids=False)
    assert "<|user|> What is the capital of France?<|end|>" in view.plain
    styled = {view.plain[span.start:span.end]: str(span.style) for span in view.spans}
    assert styled[" What"] == MASKED  # the user's words: context only
    assert styled[" Paris"] != MASKED  # the assistant's: learned
    assert styled["<|end|>"] in (SPECIAL, "bold #6e6e6e")
    ids_view = model_text(ids, mask, tok, show_ids=True)
    assert "<|user|>" not in ids_view.plain
    assert ids_view.plain.split()[:2] == [str(ids[0]), str(ids[1])]


async def test_the_dataset_as_a_person_and_as_the_model_sees_it(base_ready):
    async with app_here(base_ready).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, ConversationsScreen)
        person = text_of(screen.query_one("#dataset-person"))
        model = text_of(screen.query_one("#dataset-model"))
        assert "User: What's the weather in Paris today?" in person
        assert 'Assistant calls a tool: weather({ city: " Paris" })' in person
        assert "Tool result: 72°F and clear" in person
        assert '<|assistant|><|tool_call|> weather({ city: " Paris" })<|end|>' in model
        assert "<|tool_result|> 72°F and clear<|end|>" in model
        summary = text_of(screen.query_one("#dataset-summary"))
        assert "conversations" in summary and "weather" in summary

        await pilot.press("c")
        await pilot.pause()
        assert "wedding toast" in text_of(screen.query_one("#dataset-person"))
        await pilot.press("c")
        await pilot.pause()
        assert "$9 ÷ 3 = $3" in text_of(screen.query_one("#dataset-person"))

        await pilot.press("i")
        await pilot.pause()
        model = text_of(screen.query_one("#dataset-model"))
        assert "<|user|>" not in model
        assert str(screen.tokenizer.special["<|user|>"]) in model


async def test_base_vs_assistant_on_the_viewers_question(base_ready, scripted):
    async with app_here(base_ready).run_test(size=(100, 32)) as pilot:
        await to_step(pilot, 1)
        screen = pilot.app.screen
        base = text_of(screen.query_one("#compare-base"))
        assistant = text_of(screen.query_one("#compare-chat"))
        assert "What is the capital of Germany?" in base
        # no chat.pt yet: the chapter says how to make one
        assert "no chat model yet" in assistant and "Press s" in assistant

        base_ready.path("chat").write_bytes(base_ready.path("base").read_bytes())
        screen.load_models()
        await settle(pilot)
        assistant = text_of(screen.query_one("#compare-chat"))
        assert "<|user|> What is the capital of France?<|end|><|assistant|>" in assistant
        assert "The capital of France is Paris.<|end|>" in assistant

        await pilot.press("e")
        await pilot.pause()
        box = screen.query_one("#question-input")
        box.value = "Hello [/b] there"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.question == "Hello [/b] there"
        assert "Hello [/b] there" in text_of(screen.query_one("#compare-question"))
        assert "Hello [/b] there" in text_of(screen.query_one("#compare-base"))


async def test_fine_tuning_runs_live_and_the_comparison_updates(base_ready, short_sft):
    async with app_here(base_ready).run_test(size=(100, 32)) as pilot:
        await to_step(pilot, 2)
        screen = pilot.app.screen
        assert "Press s" in text_of(screen.query_one("#sft-status"))
        assert not base_ready.path("chat").exists()
        await pilot.press("s")
        await settle(pilot)
        await settle(pilot)
        assert "Done: 3 steps" in text_of(screen.query_one("#sft-status"))
        assert base_ready.path("chat").exists()
        assert len(screen._losses) == 3
        figures = text_of(screen.query_one("#sft-figures"))
        assert "held-out conversations" in figures and "What is the capital of France?" in figures
        # the run's quick check, kept with the new version (m shows it beside that model)
        from engine.model.versions import ModelVersions

        kept = ModelVersions(base_ready).current("chat")
        assert "Quick check: " in figures and "of 9 whole turns right" in figures
        assert f"llm-tour eval --version {kept.id} --limit 1" in figures
        assert kept.figures_text(compact=True) in figures
        assert screen.pair is not None and screen.pair["chat"].kind == "chat"
        assert "no chat model" not in text_of(screen.query_one("#compare-chat"))


async def test_without_a_model_the_chapter_still_shows_the_dataset(workspace):
    async with app_here(workspace).run_test(size=(80, 24)) as pilot:
        await to_step(pilot, 1)
        screen = pilot.app.screen
        assert "User:" in text_of(screen.query_one("#dataset-person"))
        if screen.pair is not None and screen.pair["base"].path is None:  # a NoModel
            assert "llm-tour prepare" in text_of(screen.query_one("#compare-base"))


async def test_the_comparison_labels_are_shortened_not_cut(base_ready, scripted):
    from test_border_labels import cut_labels

    base_ready.path("chat").write_bytes(base_ready.path("base").read_bytes())
    async with app_here(base_ready).run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        assert cut_labels(pilot.app.screen) == []
        await to_step(pilot, 1)
        assert cut_labels(pilot.app.screen) == []
        assert pilot.app.screen.query_one("#compare-chat").border_title == "Assistant model"


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_of_the_dataset(snap_compare, base_ready, scripted, size):
    assert snap_compare(app_here(base_ready), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_of_the_comparison(snap_compare, base_ready, scripted, size):
    base_ready.path("chat").write_bytes(base_ready.path("base").read_bytes())

    async def to_compare(pilot):
        await to_step(pilot, 1)

    assert snap_compare(app_here(base_ready), terminal_size=size, run_before=to_compare)


def shown_lines(widget) -> list[str]:
    return [strip.text for strip in widget.render_lines(widget.region.reset_offset)]


@pytest.mark.parametrize("size", [(80, 24), (60, 20)], ids=["80x24", "60x20"])
async def test_special_tokens_are_never_broken_across_lines(base_ready, scripted, size):
    """On screen, each line of the model's view and of the assistant's reply holds whole
    special tokens only: no "<|assista" / "nt|>"."""
    import re

    base_ready.path("chat").write_bytes(base_ready.path("base").read_bytes())
    async with app_here(base_ready).run_test(size=size) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        views = []
        for _ in range(3):  # three conversations, one a tool call
            await to_step(pilot, 0)
            widget = screen.query_one("#dataset-model")
            widget.scroll_visible(animate=False)
            await pilot.pause()
            views.append(shown_lines(widget))
            await pilot.press("c")
            await pilot.pause()
        await to_step(pilot, 1)
        views.append(shown_lines(screen.query_one("#compare-chat")))
        seen = 0
        for lines in views:
            for line in lines:
                whole = re.findall(r"<\|[a-z_]+\|>", line)
                seen += len(whole)
                assert line.count("<|") == line.count("|>") == len(whole), (size, lines)
        assert seen > 6  # the views did show special tokens
