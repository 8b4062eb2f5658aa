"""The trainer on a byte-level corpus of capitals: events, checkpoints, cancel and resume."""

from __future__ import annotations

import itertools

import pytest
import torch
from tiny_lm import ByteTokenizer, write_shards

from engine.data.facts import load_capitals
from engine.inference.evaluate import capital_accuracy, greedy_continue, next_token_probs, probe
from engine.model.checkpoint import CheckpointMismatch, load_checkpoint, read_meta, save_checkpoint
from engine.model.gpt import GPT
from engine.training.loop import (
    CopyProbe,
    EvalLoss,
    Probe,
    Sample,
    ShardBatches,
    TrainDone,
    TrainStart,
    TrainStep,
    learning_rate,
    nudge,
    preset,
    train,
)

TOK = ByteTokenizer()


def config(**changes):
    base = {"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 32, "batch_size": 8,
            "max_steps": 12, "eval_interval": 4, "eval_batches": 1, "probe_interval": 4,
            "sample_interval": 6, "sample_tokens": 6, "checkpoint_interval": 5, "threads": 1,
            "device": "cpu"}
    base.update(changes)
    return preset("tiny", **base)


@pytest.fixture
def batches(tmp_path):
    def make(cfg):
        train_path, val_path = write_shards(tmp_path / "shards", repeats=2)
        return ShardBatches(train_path, val_path, cfg.batch_size, cfg.block_size, cfg.seed)
    return make


def test_events_and_falling_loss(batches, tmp_path):
    cfg = config(max_steps=25, learning_rate=1e-2)
    events = list(train(cfg, batches(cfg), TOK, checkpoint_path=tmp_path / "base.pt"))
    assert isinstance(events[0], TrainStart)
    assert events[0].params == sum(events[0].param_counts.values())
    steps = [e for e in events if isinstance(e, TrainStep)]
    assert [s.step for s in steps] == list(range(1, 26))
    assert steps[-1].loss < steps[0].loss - 1.0
    assert all(s.tokens_per_s > 0 and s.eta >= 0 for s in steps)
    assert steps[-1].eta == 0
    assert [e.step for e in events if isinstance(e, EvalLoss)] == [4, 8, 12, 16, 20, 24, 25]
    samples = [e for e in events if isinstance(e, Sample)]
    assert samples[0].step == 0 and samples[-1].step == 25
    done = events[-1]
    assert isinstance(done, TrainDone) and not done.cancelled and done.step == 25
    assert read_meta(tmp_path / "base.pt").step == 25


def test_probe_is_a_distribution(batches):
    cfg = config(max_steps=4)
    probes = [e for e in train(cfg, batches(cfg), TOK) if isinstance(e, Probe)]
    assert [p.step for p in probes] == [0, 4]
    for p in probes:
        result = p.result
        probs = [q for _, q in result.top]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True)
        assert all(0 <= q <= 1 for q in probs) and sum(probs) <= 1 + 1e-6
        assert 0 <= result.actual_prob <= 1 and result.actual == " Paris"
        assert result.actual_rank >= 1
    model = GPT(cfg.model_config(TOK.vocab_size))
    full = next_token_probs(model, TOK.encode("The capital of France is"))
    assert full.shape == (TOK.vocab_size,)
    assert float(full.sum()) == pytest.approx(1.0, abs=1e-5)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    cfg = config(max_steps=100, learning_rate=1.0, warmup_frac=0.1, min_lr_ratio=0.1)
    lrs = [learning_rate(cfg, s) for s in range(120)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(lrs[9:]))
    assert lrs[100] == lrs[119] == pytest.approx(0.1)


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = GPT(config().model_config(TOK.vocab_size)).eval()
    path = save_checkpoint(tmp_path / "base.pt", model, tokenizer=TOK, step=7,
                           train_config={"max_steps": 12})
    loaded, meta = load_checkpoint(path, TOK)
    assert meta.step == 7 and meta.model_config == model.config
    assert meta.train_config == {"max_steps": 12}
    idx = torch.randint(0, TOK.vocab_size, (1, 10))
    assert torch.equal(model(idx)[0], loaded(idx)[0])
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_mismatched_tokenizer_is_refused_clearly(tmp_path):
    model = GPT(config().model_config(TOK.vocab_size))
    path = save_checkpoint(tmp_path / "base.pt", model, tokenizer=TOK, step=1)
    with pytest.raises(CheckpointMismatch, match="different tokenizer"):
        load_checkpoint(path, ByteTokenizer(hash="another-tokenizer"))


def test_a_checkpoint_of_another_shape_is_not_resumed(batches, tmp_path):
    small = config(max_steps=2)
    list(train(small, batches(small), TOK, checkpoint_path=tmp_path / "base.pt"))
    wide = config(max_steps=2, n_embd=48)
    with pytest.raises(CheckpointMismatch, match="retrain"):
        list(train(wide, batches(wide), TOK, checkpoint_path=tmp_path / "base.pt"))


def test_cancel_leaves_a_checkpoint_and_resume_continues(batches, tmp_path):
    cfg = config(max_steps=12)
    path = tmp_path / "base.pt"
    run = train(cfg, batches(cfg), TOK, checkpoint_path=path)
    for event in run:
        if isinstance(event, TrainStep) and event.step == 7:
            break
    run.close()  # the consumer walked away between steps
    assert read_meta(path).step == 7
    load_checkpoint(path, TOK)

    resumed = list(train(cfg, batches(cfg), TOK, checkpoint_path=path))
    assert resumed[0].start_step == 7 and resumed[0].resumed_from == str(path)
    assert [e.step for e in resumed if isinstance(e, TrainStep)] == list(range(8, 13))
    assert read_meta(path).step == 12

    # Resuming reproduces the uninterrupted run: same batches, same optimizer state.
    straight = tmp_path / "straight.pt"
    list(train(cfg, batches(cfg), TOK, checkpoint_path=straight))
    a, _ = load_checkpoint(path, TOK)
    b, _ = load_checkpoint(straight, TOK)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.allclose(p, q, atol=1e-6)


def test_stop_flag_cancels_between_steps(batches, tmp_path):
    cfg = config(max_steps=12)
    seen = []
    run = train(cfg, batches(cfg), TOK, checkpoint_path=tmp_path / "live.pt", resume=False,
                stop=lambda: len(seen) >= 3)
    for e in run:
        if isinstance(e, TrainStep):
            seen.append(e)
        last = e
    assert isinstance(last, TrainDone) and last.cancelled and last.step == 3
    assert read_meta(tmp_path / "live.pt").step == 3


def test_resume_false_starts_over(batches, tmp_path):
    cfg = config(max_steps=3)
    path = tmp_path / "base.pt"
    list(train(cfg, batches(cfg), TOK, checkpoint_path=path))
    events = list(train(cfg, batches(cfg), TOK, checkpoint_path=path, resume=False))
    assert events[0].start_step == 0 and events[0].resumed_from is None


def test_fine_tuning_reuses_the_trainer_with_masked_batches(tmp_path):
    cfg = config(max_steps=6, probe_interval=0, sample_interval=0, eval_interval=3)
    base = GPT(cfg.model_config(TOK.vocab_size))
    reply = TOK.encode("Paris")

    def conversations(split):
        x = torch.tensor([TOK.encode("Q: capital of France? A: Paris")] * 4)
        y = torch.full_like(x, -1)
        y[:, -len(reply) - 1:-1] = torch.tensor(reply)  # loss only on the answer
        return x, y

    events = list(train(cfg, conversations, TOK, checkpoint_path=tmp_path / "chat.pt",
                        init_model=base, kind="chat"))
    losses = [e.loss for e in events if isinstance(e, TrainStep)]
    assert losses[-1] < losses[0]
    assert read_meta(tmp_path / "chat.pt").extra["kind"] == "chat"


def test_one_nudge_makes_the_actual_token_more_likely():
    torch.manual_seed(0)
    model = GPT(config().model_config(TOK.vocab_size))
    window = TOK.encode("The capital of France is")
    result = nudge(model, TOK, window, TOK.encode(" ")[0], learning_rate=4e-3)
    assert result.after.actual_prob > result.before.actual_prob
    assert result.loss_after < result.loss_before


def test_a_nudge_compares_the_same_network_even_with_dropout():
    torch.manual_seed(0)
    model = GPT(config(dropout=0.5).model_config(TOK.vocab_size))
    window, actual = TOK.encode("The capital of France is"), TOK.encode(" ")[0]
    y = torch.full((1, len(window)), -1)
    y[0, -1] = actual
    model.eval()
    with torch.no_grad():
        _, expected = model(torch.tensor([window]), y)
    result = nudge(model, TOK, window, actual, learning_rate=4e-3)
    assert result.loss_before == pytest.approx(float(expected), rel=1e-6)
    assert result.loss_after < result.loss_before


def test_capital_accuracy_covers_every_country():
    model = GPT(config().model_config(TOK.vocab_size))
    capitals = load_capitals()
    result = capital_accuracy(model, TOK, capitals)
    assert result.total == len(capitals)
    assert 0 <= result.correct <= result.total
    assert [a.country for a in result.answers] == [c.country for c in capitals]
    ids = greedy_continue(model, TOK.encode("The capital of"), 5)
    assert len(ids) == 5
    assert probe(model, TOK, "The capital of", " F").actual_prob > 0


def test_prepare_train_command_runs_headless(workspace, tmp_path_factory, monkeypatch):
    from click.testing import CliRunner
    from sample_model import install_sample_model, write_capital_shards

    from tui.cli import cli

    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    write_capital_shards(workspace)
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "prepare", "train", "--preset",
                                      "tiny", "--steps", "6", "--restart", "--threads", "1"])
    assert result.exit_code == 0, result.output
    assert "Steps: 6 of 6" in result.output and "Capitals:" in result.output
    assert read_meta(workspace.path("base")).step == 6
    bad = CliRunner().invoke(cli, ["-w", str(workspace.root), "prepare", "train", "--preset",
                                   "huge"])
    assert bad.exit_code != 0 and "unknown preset" in bad.output


class _Words:
    """A tokenizer of words with their leading space: " Paris" is one token."""

    def __init__(self, text: str) -> None:
        import re

        self.split = lambda t: re.findall(r" ?[^ ]+", t)
        self.vocab = sorted(set(self.split(text)))

    def encode(self, text: str) -> list[int]:
        return [self.vocab.index(w) for w in self.split(text)]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.vocab[i] for i in ids)


def test_the_first_window_ends_before_paris_and_other_seeds_draw_elsewhere():
    import numpy as np

    from engine.training.window import find, pick_window

    text = ("Some words first. The capital of France is Paris . Then more words, and a few "
            "more so that a window fits anywhere.")
    tok = _Words(text)
    data = np.asarray(tok.encode(text) * 3, dtype=np.uint16)
    window, actual = pick_window(data, tok, seed=0, width=5)
    assert tok.decode(window) == " The capital of France is" and tok.decode([actual]) == " Paris"
    other, _ = pick_window(data, tok, seed=3, width=5)
    assert len(other) == 5 and other != window
    assert find(np.asarray([1, 2, 3, 2, 3]), np.asarray([2, 3])) == 1
    assert find(np.asarray([1, 2]), np.asarray([3])) is None


def test_the_copy_probe_is_reported_during_training(batches):
    cfg = config(max_steps=4, copy_interval=2)
    probes = [e for e in train(cfg, batches(cfg), TOK) if isinstance(e, CopyProbe)]
    assert [p.step for p in probes] == [0, 2, 4]
    for p in probes:
        assert p.chat is None  # a base model is not asked for tool calls
        assert p.text.kind == "text" and p.text.total == 40
        assert 0 <= p.text.copied <= p.text.total


def test_the_copy_probe_asks_for_exactly_the_second_mention():
    from engine.inference.evaluate import COPY_TEXT, _span, probe_names

    names = probe_names()
    assert len(set(names)) == len(names) == 40
    from engine.chat.pools import is_eval_name

    assert all(is_eval_name(n) for n in names)
    for name in names[:5] + names[-5:]:
        text = COPY_TEXT.format(name=name)
        start = text.index(name, text.index(name) + 1)
        context, target = _span(TOK, text, start, start + len(name))
        assert TOK.decode(context) == text[:start]
        assert TOK.decode(context + target) == text[:start + len(name)]


@pytest.mark.bundled
def test_the_window_step_is_taken_once_for_the_same_files(tmp_path, monkeypatch):
    """A room's viewers open the Training chapter each in a tour of their own, on the same
    files: the one step is taken once for them; other files (a copy is another file, a
    rewrite too) take their own."""
    import os
    import shutil

    from engine.training import loop, window
    from engine.workspace import Workspace

    taken = []
    real = loop.nudge

    def counted(*args, **kwargs):
        taken.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(loop, "nudge", counted)
    monkeypatch.setattr(window, "_STEPS", {})
    first = window.window_step(Workspace(tmp_path / "a"))  # both on the bundled files
    second = window.window_step(Workspace(tmp_path / "b"))
    assert len(taken) == 1 and second.nudge is first.nudge

    own = Workspace(tmp_path / "c")
    own.ensure()
    for name in ("train_shard", "val_shard"):
        shutil.copy(own.find(name).path, own.path(name))
    copied = window.window_step(own)
    assert len(taken) == 2 and copied.nudge == first.nudge  # the same step, taken anew
    os.utime(own.path("train_shard"), ns=(1, 1))  # rewritten (or looks it)
    window.window_step(own)
    assert len(taken) == 3
    assert window.window_step(own, seed=1).nudge.window != first.nudge.window
    assert len(taken) == 4
