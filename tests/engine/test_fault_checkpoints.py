"""Broken checkpoints are refused by name, and every rebuild hint names a real command."""

from __future__ import annotations

import pytest
import torch
from tiny_lm import ByteTokenizer

from engine.model.checkpoint import CheckpointMismatch, load_checkpoint, save_checkpoint
from engine.model.gpt import GPT, GPTConfig

TOK = ByteTokenizer()


def tiny() -> GPT:
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=257, block_size=16, n_layer=1, n_head=2, n_embd=16))


@pytest.fixture
def good(tmp_path):
    return save_checkpoint(tmp_path / "base.pt", tiny(), tokenizer=TOK, step=3)


def rewrite(path, change):
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)


def test_fault_a_good_checkpoint_loads(good):
    model, meta = load_checkpoint(good, TOK)
    assert meta.step == 3 and not model.training


@pytest.mark.parametrize("damage, says", [
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(p.read_bytes()[:200]), "not a readable checkpoint"),
    (lambda p: p.write_bytes(bytes(range(256)) * 8), "not a readable checkpoint"),
    (lambda p: rewrite(p, lambda s: s.pop("step")), "has no step"),
    (lambda p: rewrite(p, lambda s: s.update(format=99)), "not an llm-tour checkpoint"),
    (lambda p: rewrite(p, lambda s: s["model_config"].update(n_embd=32)), "does not fit"),
    (lambda p: rewrite(p, lambda s: s["model"].pop(next(iter(s["model"])))), "lacks"),
    (lambda p: rewrite(p, lambda s: next(iter(s["model"].values())).fill_(float("nan"))),
     "not finite"),
    (lambda p: rewrite(p, lambda s: s.update(tokenizer_hash="other")), "different tokenizer"),
])
def test_fault_a_broken_checkpoint_is_refused_by_name(good, damage, says):
    damage(good)
    with pytest.raises(CheckpointMismatch, match=says) as error:
        load_checkpoint(good, TOK)
    assert "base.pt" in str(error.value)


def test_fault_hints_name_real_commands():
    from engine.prepare.stages import STAGES, command_for
    from tui.cli import cli

    for stage in STAGES:
        for artifact in stage.outputs:
            words = command_for(artifact).split()
            assert words[:2] == ["llm-tour", "prepare"]
            prepare = cli.get_command(None, "prepare")
            assert words[2] in prepare.list_commands(None)
            assert prepare.get_command(None, words[2]) is not None
    assert command_for("base") == "llm-tour prepare train"
    assert command_for("train_shard") == "llm-tour prepare tokenizer"


def test_fault_sft_without_a_base_model_names_the_command(tmp_path, monkeypatch):
    from engine.model.load import NoModel
    from engine.training import sft
    from engine.workspace import Workspace

    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", tmp_path / "nothing-bundled")
    ws = Workspace(tmp_path / "ws")
    with pytest.raises(NoModel, match="llm-tour prepare train"):
        next(sft.fine_tune(ws))
