"""Fine-tuning: masked batches, half pretraining text, a chat checkpoint, replies in turns."""

from __future__ import annotations

import numpy as np
import pytest

from engine.chat import format as chat
from engine.training import sft
from engine.chat.format import Turn
from engine.model.checkpoint import read_meta
from engine.chat.conversations import all_texts, held_out_capitals, load_conversations
from engine.data.facts import load_capitals
from engine.tokenizer.tour import CompactGPT4Tokenizer, load_tokenizer
from engine.training.loop import TrainDone, TrainStep, preset, shard_batches, train


def _corpus() -> list[str]:
    return [f"{c.country} is a country in {c.continent}. {c.sentence}" for c in load_capitals()]


@pytest.fixture(scope="module")
def tiny_ws(tmp_path_factory):
    """A workspace with a tokenizer, shards and a base model trained for a few steps."""
    from engine.workspace import Workspace

    ws = Workspace(tmp_path_factory.mktemp("sft"))
    ws.ensure()
    docs = _corpus()
    tok = CompactGPT4Tokenizer.from_texts(docs + all_texts())
    tok.save(ws.path("tokenizer"))
    ids = [i for d in docs for i in [*tok.encode(d), tok.eot]]
    np.asarray(ids, dtype=np.uint16).tofile(ws.path("train_shard"))
    np.asarray(ids[:400], dtype=np.uint16).tofile(ws.path("val_shard"))
    config = preset("tiny", max_steps=3, eval_interval=0, probe_interval=0, sample_interval=0,
                    threads=1)
    list(train(config, shard_batches(ws, config), tok, checkpoint_path=ws.path("base")))
    return ws


@pytest.fixture(scope="module")
def tok(tiny_ws):
    return load_tokenizer(tiny_ws)[0]


def test_targets_are_the_next_token_only_where_the_assistant_speaks(tok):
    conversation = load_conversations()[0]
    x, y = sft.encode_conversation(conversation, tok, block_size=512)
    ids, mask = chat.render(list(conversation.turns), tok)
    assert x == ids[:-1]
    assert [t for t in y if t != -1] == [i for i, m in zip(ids[1:], mask[1:]) if m]
    assert y[-1] == tok.special["<|end|>"]


def test_conversation_batches_pack_whole_conversations_and_pad(tok):
    batches = sft.ConversationBatches(load_conversations(), tok, block_size=64, batch_size=4)
    x, y = batches("train")
    assert x.shape == y.shape == (4, 64)
    learned = y[y != -1]
    assert learned.numel() > 0
    # every row starts a conversation, and padding is never learned
    assert (x[:, 0] == tok.special["<|endoftext|>"]).all()
    pad = x == tok.special["<|endoftext|>"]
    assert (y[pad] == -1).all()


def test_mixed_batches_take_half_from_the_pretraining_text(tiny_ws, tok):
    conv = sft.ConversationBatches(load_conversations(), tok, block_size=32, batch_size=3)
    pre = sft.pretraining_batches(tiny_ws, 3, 32, seed=1)
    x, y = sft.MixedBatches(conv, pre)("train")
    assert x.shape == (6, 32)
    assert (y[:3] != -1).all()  # pretraining rows: every next token counts
    assert (y[3:] == -1).any()  # conversation rows: masked


def test_copy_drills_are_learned_only_where_copying_predicts_them():
    from itertools import pairwise

    pad = 0
    drills = sft.CopyDrills(list(range(10, 60)), block_size=96, batch_size=3, pad=pad, seed=7)
    x, y = drills("train")
    assert x.shape == y.shape == (3, 96)
    for xs, ys in zip(x.tolist(), y.tolist()):
        starts = [i for i, token in enumerate(xs) if token == pad]
        assert starts[0] == 0
        for start, end in pairwise(starts):  # each whole drill: a run, then the run again
            run = xs[start + 1:end]
            k = len(run) // 2 + 1  # the second showing lacks its last token (it is a target)
            assert run[:k - 1] == run[k:]
            learned = [(i, t) for i, t in enumerate(ys[start:end], start) if t != -1]
            assert len(learned) == k - 1  # the second showing's tokens, after its first
            assert all(t == xs[i + 1 - k] for i, t in learned)  # ... copied from the first


@pytest.mark.bundled
def test_copy_drills_leave_out_what_the_evaluation_asks_to_copy():
    from engine.chat.pools import drill_tokens
    from engine.tokenizer.tour import load_tokenizer_file
    from engine.workspace import BUNDLED_DIR

    tokenizer = load_tokenizer_file(BUNDLED_DIR / "tokenizer.json")
    tokens = set(drill_tokens(tokenizer))
    ordinary = min(tokenizer.special.values())
    assert 0.9 * ordinary < len(tokens) < ordinary
    for word in (" pancakes", " retirement", " soup"):  # the evaluation's searches
        (token,) = tokenizer.encode(word)
        assert token not in tokens
    (the,) = tokenizer.encode(" the")
    assert the in tokens


def test_mixed_batches_can_hold_copy_drills(tiny_ws, tok):
    conv = sft.ConversationBatches(load_conversations(), tok, block_size=32, batch_size=2)
    pre = sft.pretraining_batches(tiny_ws, 3, 32, seed=1)
    drills = sft.CopyDrills([5, 6, 7], block_size=32, batch_size=1, pad=tok.eot)
    x, y = sft.MixedBatches(conv, pre, drills)("train")
    assert x.shape == y.shape == (6, 32)
    assert set(x[3].tolist()) <= {5, 6, 7, tok.eot}  # after the pretraining rows


def test_sft_train_config_keeps_the_model_and_changes_the_run():
    base = preset("default")
    config = sft.sft_train_config(base.to_dict(), sft.SFTConfig(max_steps=7))
    assert (config.n_layer, config.n_embd, config.block_size) == (
        base.n_layer, base.n_embd, base.block_size)
    assert config.max_steps == 7 and config.probe_prompt == ""


def test_fine_tune_writes_a_chat_checkpoint_and_answers_in_turns(tiny_ws, tok):
    events = list(sft.fine_tune(tiny_ws, sft.SFTConfig(max_steps=3, eval_interval=3,
                                                       eval_batches=1, threads=1,
                                                       check_items=0)))
    start = events[0]
    assert isinstance(start, sft.SFTStart)
    assert start.rows_pretraining == start.rows_conversations == 4  # tiny batch of 8, half each
    assert start.conversations == len(load_conversations())
    steps = [e for e in events if isinstance(e, TrainStep)]
    assert [s.step for s in steps] == [1, 2, 3] and all(np.isfinite(s.loss) for s in steps)
    assert any(isinstance(e, TrainDone) for e in events)
    reply = events[-1]
    assert isinstance(reply, sft.SFTReply)
    assert reply.question == "What is the capital of France?"
    assert all(t.role in chat.ROLES for t in reply.turns)
    meta = read_meta(tiny_ws.path("chat"))
    assert meta.extra["kind"] == "chat"
    assert not tiny_ws.path(sft.CHAT_SCRATCH).exists()


def test_fine_tune_gives_copy_drills_their_share_of_each_batch(tiny_ws):
    config = sft.SFTConfig(max_steps=2, eval_interval=0, threads=1, check_items=0,
                           drill_share=0.25)
    events = list(sft.fine_tune(tiny_ws, config))
    start = events[0]
    assert (start.rows_pretraining, start.rows_drills, start.rows_conversations) == (4, 2, 2)
    assert start.batch_rows == "2 rows of conversations, 4 of pretraining text, 2 of copy drills"
    assert any(isinstance(e, TrainDone) and not e.cancelled for e in events)


def test_fine_tune_stops_when_asked_and_keeps_the_last_chat_model(tiny_ws):
    before = tiny_ws.path("chat").read_bytes() if tiny_ws.path("chat").exists() else None
    events = list(sft.fine_tune(tiny_ws, sft.SFTConfig(max_steps=50, threads=1),
                                stop=lambda: True))
    done = next(e for e in events if isinstance(e, TrainDone))
    assert done.cancelled and done.step == 0
    assert not any(isinstance(e, sft.SFTReply) for e in events)
    after = tiny_ws.path("chat").read_bytes() if tiny_ws.path("chat").exists() else None
    assert after == before
    assert not tiny_ws.path(sft.CHAT_SCRATCH).exists()


def test_held_out_answers_are_checked_for_format_and_fact(tiny_ws, tok):
    from engine.model.checkpoint import load_checkpoint

    model, _ = load_checkpoint(tiny_ws.path("base"), tok)
    rows = held_out_capitals()[:2]
    result = sft.held_out_capital_answers(model, tok, rows)
    assert result.total == 2
    assert 0 <= result.correct <= result.in_format <= 2
    assert "held-out capitals" in str(result)


def test_reply_parses_what_the_model_wrote(tiny_ws, tok):
    from engine.model.checkpoint import load_checkpoint

    model, _ = load_checkpoint(tiny_ws.path("base"), tok)
    turns, ids = sft.reply(model, tok, [Turn("user", "Hi")], max_tokens=5)
    assert len(ids) <= 5
    assert turns == chat.parse(ids, tok)


@pytest.mark.slow
def test_after_sft_on_the_default_preset_held_out_capitals_are_answered(tmp_path):
    """The whole pipeline on the default preset (minutes): the chat model answers capital
    questions about countries no conversation mentions, in the assistant format."""
    from engine.model.checkpoint import load_checkpoint
    from engine.data import pipeline
    from engine.tokenizer.tour import prepare
    from engine.workspace import Workspace

    ws = Workspace(tmp_path)
    list(pipeline.run(ws))
    list(prepare(ws))
    tok, _ = load_tokenizer(ws)
    config = preset("default")
    list(train(config, shard_batches(ws, config), tok, checkpoint_path=ws.path("base")))
    list(sft.fine_tune(ws))
    model, _ = load_checkpoint(ws.path("chat"), tok)
    result = sft.held_out_capital_answers(model, tok)
    assert result.in_format >= 0.9 * result.total, result
    assert result.fraction >= 0.7, result


def test_a_finished_fine_tune_keeps_its_quick_check_with_its_version(tiny_ws):
    from engine.chat.eval import Checked, Checking
    from engine.model.versions import ModelVersions, figures_key

    events = list(sft.fine_tune(tiny_ws, sft.SFTConfig(max_steps=2, eval_interval=2,
                                                       eval_batches=1, threads=1,
                                                       check_items=1)))
    reply = next(i for i, e in enumerate(events) if isinstance(e, sft.SFTReply))
    checking = [e for e in events[reply:] if isinstance(e, Checking)]
    assert checking and checking[-1].done == checking[-1].total == 9  # 1 a category, 4 capitals
    done = events[-1]
    version = ModelVersions(tiny_ws).current("chat")  # the new one
    assert isinstance(done, Checked) and done.versions == (version.id,)
    entry = version.figures[figures_key(1)]
    assert entry["total"] == 9 and entry["command"] == f"llm-tour eval --version {version.id} --limit 1"
    assert [row[0] for row in entry["categories"]] == ["weather", "calculator", "small talk",
                                                       "search", "capitals", "base"]
    assert "of 9 whole turns right" in done.text() and entry["command"] in done.text()
    assert version.figures_text() == done.text()


def test_a_stop_during_the_quick_check_keeps_the_model_but_no_figures(tiny_ws):
    from engine.chat.eval import Checking
    from engine.model.versions import ModelVersions

    seen: list[object] = []

    def stop() -> bool:
        return any(isinstance(e, Checking) for e in seen)

    events = sft.fine_tune(tiny_ws, sft.SFTConfig(max_steps=2, eval_interval=2, eval_batches=1,
                                                  threads=1, check_items=1), stop=stop)
    for event in events:
        seen.append(event)
    version = ModelVersions(tiny_ws).current("chat")  # the new one, kept
    assert version.stage == "sft" and version.finished and version.steps == 2
    assert version.evaluation() is None
    assert f"not measured yet: llm-tour eval --version {version.id}" in version.figures_text()


@pytest.mark.parametrize("freeze", [True, False])
def test_a_fine_tune_can_keep_the_token_embedding_as_pretraining_left_it(tiny_ws, tok, freeze):
    """With ``freeze_embedding`` the ordinary tokens' rows of the chat model's embedding
    (shared with the output head) are the base model's, to the bit, while the special tokens'
    rows and the rest of the model learn; without, every row moves."""
    import torch

    from engine.model.checkpoint import load_checkpoint

    list(sft.fine_tune(tiny_ws, sft.SFTConfig(max_steps=3, eval_interval=0, threads=1,
                                              check_items=0, freeze_embedding=freeze)))
    base, _ = load_checkpoint(tiny_ws.path("base"), tok)
    chat_model, _ = load_checkpoint(tiny_ws.path("chat"), tok)
    ordinary = min(tok.special.values())
    before, after = base.transformer.wte.weight, chat_model.transformer.wte.weight
    assert torch.equal(before[:ordinary], after[:ordinary]) is freeze
    assert not torch.equal(before[ordinary:], after[ordinary:])  # <|user|>, <|end|>, ...
    assert chat_model.lm_head.weight is chat_model.transformer.wte.weight
    assert not torch.equal(base.transformer.h[0].attn.c_attn.weight,
                           chat_model.transformer.h[0].attn.c_attn.weight)
