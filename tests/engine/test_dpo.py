"""DPO on a tiny random model: the preferred answers gain on the rejected ones."""

from __future__ import annotations

import math

import pytest
import torch

from engine.chat.eval import Checked
from engine.chat.format import SPECIAL_TOKENS
from engine.model.checkpoint import load_checkpoint, save_checkpoint
from engine.model.gpt import GPT, GPTConfig
from engine.model.load import LoadedModel
from engine.model.versions import ModelVersions
from engine.preference import dpo as dpo_module
from engine.preference.dpo import (
    DPOConfig,
    DPOStep,
    NothingToNudge,
    Nudged,
    NudgeStart,
    Preference,
    Sampled,
    SampleToken,
    answer_ids,
    dpo,
    nudge_chat,
    preferences_from_votes,
    sequence_logprobs,
)
from engine.preference.prompts import APPLES, TOAST
from engine.preference.votes import VoteStore

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


class ByteTokenizer:
    """Bytes as tokens, the chat's special tokens after them: enough to render conversations."""

    name = "bytes"
    hash = "bytes-v1"

    def __init__(self) -> None:
        self.special = {name: 256 + i for i, name in enumerate(SPECIAL_TOKENS)}
        self.vocab_size = 256 + len(SPECIAL_TOKENS)

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        return bytes([token_id]) if token_id < 256 else b""


def tiny_model(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=264, block_size=320, n_layer=2, n_head=2, n_embd=32))


def talk_preferences() -> list[Preference]:
    prefs = []
    for prompt in (APPLES, TOAST):
        best, middle, worst = prompt.candidates
        for w, lo in ((best, middle), (middle, worst), (best, worst)):
            prefs.append(Preference(prompt.id, prompt.question, w.id, w.text, lo.id, lo.text))
    return prefs


def test_an_answers_log_prob_is_the_sum_over_the_assistants_tokens():
    tok, model = ByteTokenizer(), tiny_model()
    ids, mask = answer_ids("Hi?", "Yo", tok)
    assert sum(mask) == len("Yo") + 2  # " Yo" and <|end|>
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids[:-1]]))
        logp = torch.log_softmax(logits[0], -1)
        expected = sum(float(logp[t - 1, ids[t]]) for t in range(1, len(ids)) if mask[t])
        got = sequence_logprobs(model, [(ids, mask)])
    assert float(got[0]) == pytest.approx(expected, rel=1e-5)


def test_an_answer_longer_than_the_window_counts_every_token():
    import math

    tok = ByteTokenizer()
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=264, block_size=16, n_layer=1, n_head=2, n_embd=16))
    with torch.no_grad():
        model.lm_head.weight.zero_()  # every token gets probability 1/264
    ids, mask = answer_ids("A question?", "An answer of fifty-odd bytes, three windows long.", tok)
    assert len(ids) > 3 * 16
    with torch.no_grad():
        got = float(sequence_logprobs(model, [(ids, mask), (ids[:10], mask[:10])])[0])
    assert got == pytest.approx(-sum(mask[1:]) * math.log(264), rel=1e-5)


def test_windows_score_each_target_once():
    from engine.preference.dpo import _windows

    ids, mask = list(range(41)), [1] * 41
    windows = list(_windows(ids, mask, 16))
    assert all(len(inp) <= 16 for inp, _, _ in windows)
    scored = [t for _, tgt, keep in windows for t, k in zip(tgt, keep) if k]
    assert scored == ids[1:]


def test_dpo_raises_the_preferred_minus_rejected_margin():
    tok, model = ByteTokenizer(), tiny_model()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    events = list(dpo(model, tok, talk_preferences(), DPOConfig(steps=5, learning_rate=1e-3),
                      votes=3, sessions=2))
    first, steps, last = events[0], events[1:-1], events[-1]
    assert isinstance(first, NudgeStart) and isinstance(last, Nudged)
    assert (first.votes, first.sessions, first.pairs) == (3, 2, 6)
    assert len(first.logps) == 6 and all(v < 0 for v in first.logps.values())
    assert [s.step for s in steps] == [1, 2, 3, 4, 5]
    assert all(isinstance(s, DPOStep) for s in steps)
    assert last.margin_after > last.margin_before + 1.0
    assert steps[-1].loss < steps[0].loss
    assert steps[-1].accuracy == 1.0
    # The preferred answers' log-probs rose relative to the rejected ones, per pair.
    for p in talk_preferences():
        c, r = (p.prompt_id, p.chosen_id), (p.prompt_id, p.rejected_id)
        assert last.after[c] - last.after[r] > last.before[c] - last.before[r]
    changed = any(not torch.equal(start[k], v) for k, v in model.state_dict().items())
    assert changed and not model.training


def test_the_anchor_keeps_what_was_not_voted_on_closer_to_the_model_it_started_from():
    """A hard nudge moves the whole model; the KL anchor on fine-tuning conversations holds
    conversations nobody voted on (measured on another sample) nearer the frozen model,
    while the votes still win."""
    import copy

    from engine.preference.dpo import _Anchor

    tok = ByteTokenizer()
    drift, margins = {}, {}
    for weight in (0.0, 5.0):
        model = tiny_model()
        frozen = copy.deepcopy(model)
        config = DPOConfig(steps=8, learning_rate=1e-2, anchor_weight=weight)
        last = list(dpo(model, tok, talk_preferences(), config))[-1]
        margins[weight] = last.margin_after - last.margin_before
        elsewhere = _Anchor(model, frozen, tok, DPOConfig(seed=7, anchor_conversations=16))
        with torch.no_grad():
            drift[weight] = float(elsewhere.kl(model))
    assert drift[5.0] < 0.5 * drift[0.0], drift
    assert margins[5.0] > 1.0 and margins[0.0] > 1.0, margins


def test_dpo_steps_run_without_dropout():
    """The loss compares the model with its frozen reference; with dropout on in the model
    alone, a step that changes nothing would still report a changed answer (and its first
    loss would not be log 2)."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=264, block_size=320, n_layer=2, n_head=2, n_embd=32,
                          dropout=0.5))
    events = list(dpo(model, ByteTokenizer(), talk_preferences(),
                      DPOConfig(steps=3, learning_rate=0.0)))
    first, steps = events[0], [e for e in events if isinstance(e, DPOStep)]
    assert steps[0].loss == pytest.approx(math.log(2), abs=1e-6)
    for step in steps:
        for key, value in step.logps.items():
            assert value == pytest.approx(first.logps[key], abs=1e-4)


def test_dpo_needs_preferences():
    with pytest.raises(NothingToNudge, match="vote on some answers"):
        list(dpo(tiny_model(), ByteTokenizer(), []))


def test_preferences_are_counted_from_votes(workspace):
    store = VoteStore.open(workspace)
    store.vote("apples", ["step-by-step", "answer-only", "wrong"], "a")
    store.vote("apples", ["step-by-step", "wrong", "answer-only"], "b")
    store.vote_pair("toast", "warm", "roast", "b")
    prefs, votes, sessions = preferences_from_votes(store)
    assert (votes, sessions) == (3, 2)
    counts = {(p.prompt_id, p.chosen_id, p.rejected_id): p.count for p in prefs}
    assert counts[("apples", "step-by-step", "wrong")] == 2
    assert counts[("apples", "answer-only", "wrong")] == 1
    assert counts[("apples", "wrong", "answer-only")] == 1
    assert counts[("toast", "warm", "roast")] == 1
    assert sum(counts.values()) == 3 + 3 + 1


def test_nudge_chat_saves_to_the_workspace_and_samples(workspace, tmp_path, monkeypatch):
    tok = ByteTokenizer()
    bundled = tmp_path / "bundled" / "chat.pt"
    bundled.parent.mkdir()
    save_checkpoint(bundled, tiny_model(), tokenizer=tok, step=7, extra={"kind": "chat"})
    before = bundled.read_bytes()

    def load(ws, kind):
        model, meta = load_checkpoint(bundled, tok)
        return LoadedModel(model, tok, kind, "bundled", bundled, meta.step, "bundled-chat",
                           tok.hash, meta)

    monkeypatch.setattr(dpo_module, "load_model", load)
    with pytest.raises(NothingToNudge, match="No votes yet"):
        list(nudge_chat(workspace, VoteStore.open(workspace)))

    store = VoteStore.open(workspace)
    store.vote("toast", ["warm", "generic", "roast"], "viewer")
    config = DPOConfig(steps=3, learning_rate=1e-3, sample_max_tokens=8, check_items=1)
    events = list(nudge_chat(workspace, store, config))
    start = events[0]
    assert isinstance(start, NudgeStart) and "bundled" in start.model_label
    saved = next(e for e in events if isinstance(e, Nudged))
    assert saved.saved_to == workspace.path("chat")
    assert saved.margin_after > saved.margin_before
    assert bundled.read_bytes() == before
    sampled = next(i for i, e in enumerate(events) if isinstance(e, Sampled))
    assert events[sampled].question == TOAST.question
    assert 1 <= sum(isinstance(e, SampleToken) for e in events) <= 8
    # then the quick check, kept with the nudged version; the next nudge compares with it
    checked = events[-1]
    assert isinstance(checked, Checked) and sampled < len(events) - 1
    assert checked.versions == ("chat-001",) and checked.before() == ""
    first = ModelVersions(workspace).get("chat-001")
    assert first.stage == "nudge" and first.figures_text().startswith(checked.text())
    fewer = DPOConfig(steps=2, learning_rate=1e-3, sample_max_tokens=8, check_items=1)
    again = list(nudge_chat(workspace, store, fewer))[-1]  # other weights than the first
    assert isinstance(again, Checked) and again.versions == ("chat-002",)
    assert again.before() == checked.text()  # the model it started from, on the same items

    _model, meta = load_checkpoint(workspace.path("chat"), tok)
    assert meta.step == 7 and meta.extra["kind"] == "chat"
    assert meta.extra["nudges"][-1]["votes"] == 1
    assert meta.extra["nudges"][-1]["sessions"] == 1
    assert not list(workspace.root.glob(".chat.pt.*"))  # no temporary file left behind


def test_candidates_sampled_from_the_chat_model_are_different_and_repeatable():
    from engine.preference.prompts import sample_candidates

    tok, model = ByteTokenizer(), tiny_model()
    first = sample_candidates(model, tok, "What is the capital of France?", max_tokens=6)
    again = sample_candidates(model, tok, "What is the capital of France?", max_tokens=6)
    assert first == again
    assert len(first.candidates) == 3
    assert len({c.text for c in first.candidates}) == 3
    assert first.id.startswith("sampled-") and not first.from_talk
    assert all(c.label == "" for c in first.candidates)


def test_a_checkpoints_candidates_are_sampled_once_per_process_until_it_is_written_again(
        tmp_path, monkeypatch):
    """Thirty viewers of a room opening Preferences ask the same model the same question
    with the same seeds: the set is sampled once. A checkpoint written again (a nudge) is
    asked afresh, and so is another question."""
    import os
    from collections import OrderedDict

    from engine.preference import prompts

    monkeypatch.setattr(prompts, "_SAMPLED", OrderedDict())
    calls = []
    real = prompts.sample_candidates

    def counting(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(prompts, "sample_candidates", counting)
    tok, model = ByteTokenizer(), tiny_model()
    path = tmp_path / "chat.pt"
    path.write_bytes(b"weights")
    question = "What is the capital of France?"
    first = prompts.sample_candidates_from(path, model, tok, question, max_tokens=6)
    assert prompts.sample_candidates_from(path, model, tok, question, max_tokens=6) is first
    assert len(calls) == 1
    prompts.sample_candidates_from(path, model, tok, "Where is Paris?", max_tokens=6)
    assert len(calls) == 2
    path.write_bytes(b"nudged weights")
    os.utime(path, ns=(1, 1))  # a new file, even within the clock's resolution
    again = prompts.sample_candidates_from(path, model, tok, question, max_tokens=6)
    assert len(calls) == 3 and again == first  # the same weights here: the same set


def test_a_model_sure_of_its_answer_is_asked_again_warmer(monkeypatch):
    """A chat model that says the same thing with every seed at the set temperature (the
    bundled one, on "What is the capital of France?") still gives answers to rank: its less
    likely ones, at warmer temperatures. The first answer is the one it is sure of."""
    from types import SimpleNamespace

    from engine.inference import sampler
    from engine.preference.prompts import sample_candidates

    tok = ByteTokenizer()
    end = tok.special["<|end|>"]
    asked = []

    def sure_at_one(model, ids, config, *, stop_ids=(), tokenizer=None):
        asked.append(config.temperature)
        text = "Paris." if config.temperature <= 1.0 else f"Paris {config.seed % 3}."
        for token_id in [*tok.encode(text), end]:
            yield SimpleNamespace(token_id=token_id)

    monkeypatch.setattr(sampler, "generate", sure_at_one)
    found = sample_candidates(None, tok, "What is the capital of France?")
    assert [c.text for c in found.candidates] == ["Paris.", "Paris 0.", "Paris 1."]
    assert sorted(set(asked)) == [1.0, 1.5]  # warmer only once one round gave too few
    assert sample_candidates(None, tok, "What is the capital of France?") == found

    monkeypatch.setattr(sampler, "generate", lambda *a, **k: iter(
        [SimpleNamespace(token_id=t) for t in [*tok.encode("Paris."), end]]))
    with pytest.raises(ValueError, match="fewer than two different answers"):
        sample_candidates(None, tok, "What is the capital of France?")
