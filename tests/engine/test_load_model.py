"""The one model loader: each kind, the workspace's or the bundled one, and every broken file
named with the command that rebuilds it, never swapped for another model in silence."""

from __future__ import annotations

import shutil

import pytest
import torch

from engine.model.checkpoint import save_checkpoint
from engine.model.gpt import GPT, GPTConfig
from engine.model.load import NoModel, load_model
from engine.model.versions import ModelVersions
from engine.prepare.stages import command_for
from engine.tokenizer.tour import CompactGPT4Tokenizer


@pytest.fixture
def ws(workspace, tmp_path_factory):
    """A workspace with the tokenizer and base.pt the earlier chapters would leave."""
    from sample_model import install_sample_model

    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    return workspace


@pytest.fixture
def shipped(ws, tmp_path, monkeypatch):
    """A bundled folder holding copies of the sample tokenizer, base and chat models."""
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    for name in ("tokenizer", "base"):
        shutil.copy(ws.path(name), bundled / ws.path(name).name)
    shutil.copy(ws.path("base"), bundled / "chat.pt")
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", bundled)
    return bundled


def test_the_workspace_base_model(ws):
    loaded = load_model(ws, "base")
    assert (loaded.kind, loaded.source, loaded.path) == ("base", "workspace", ws.path("base"))
    assert loaded.steps == 400 and loaded.version == "workspace-base"
    assert loaded.tokenizer_hash == loaded.tokenizer.hash
    assert "prepared in your workspace" in loaded.label


def test_the_workspace_chat_model(ws, shipped):
    shutil.copy(ws.path("base"), ws.path("chat"))
    loaded = load_model(ws, "chat")
    assert (loaded.kind, loaded.source, loaded.path) == ("chat", "workspace", ws.path("chat"))


def test_a_recorded_version_is_the_one_loaded(ws):
    version = ModelVersions(ws).record("base", "pretrain", ws.path("base"), steps=400)
    loaded = load_model(ws, "base")
    assert loaded.version == version.id == "base-001"
    assert loaded.path == ws.root / "models" / "base-001.pt"


@pytest.mark.parametrize("kind", ["base", "chat"])
def test_the_bundled_model_only_when_the_workspace_has_none_and_it_says_so(ws, shipped, kind):
    ws.path("base").unlink()
    loaded = load_model(ws, kind)
    assert (loaded.kind, loaded.source) == (kind, "bundled")
    assert loaded.path == shipped / f"{kind}.pt"
    assert "bundled with llm-tour" in loaded.label


def test_a_bundled_model_comes_with_its_own_tokenizer(ws, shipped):
    """A workspace tokenizer the bundled model was not trained with: use the bundled one."""
    ws.path("base").unlink()
    CompactGPT4Tokenizer.from_texts(["a different corpus"]).save(ws.path("tokenizer"))
    loaded = load_model(ws, "base")
    assert loaded.source == "bundled" and loaded.tokenizer_artifact.source == "bundled"

    (shipped / "tokenizer.json").unlink()
    with pytest.raises(NoModel, match="different tokenizer") as error:
        load_model(ws, "base")
    assert str(shipped / "base.pt") in str(error.value)


def test_base_never_becomes_chat(ws, shipped):
    """Only a chat model anywhere: asking for a base model says there is none."""
    shutil.copy(ws.path("base"), ws.path("chat"))
    ws.path("base").unlink()
    (shipped / "base.pt").unlink()
    with pytest.raises(NoModel) as error:
        load_model(ws, "base")
    assert error.value.path is None and error.value.kind == "base"
    assert "no base model" in str(error.value)
    assert f"`{command_for('tokenizer')}`" in str(error.value)  # what it needs first


@pytest.mark.parametrize("kind", ["base", "chat"])
def test_no_model_names_the_command_from_the_stage_table(workspace, kind):
    with pytest.raises(NoModel) as error:
        load_model(workspace, kind)
    assert command_for(kind) in str(error.value) and error.value.command == command_for(kind)


def _truncated(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _random(path):
    path.write_bytes(torch.randint(0, 256, (4096,), dtype=torch.uint8).numpy().tobytes())


def _empty(path):
    path.write_bytes(b"")


def _other_tokenizers(path):
    other = CompactGPT4Tokenizer.from_texts(["a corpus nobody else used"])
    model = GPT(GPTConfig(vocab_size=other.vocab_size, block_size=16, n_layer=1, n_head=1,
                          n_embd=8))
    save_checkpoint(path, model, tokenizer=other, step=3)


def _nan(path):
    state = torch.load(path, weights_only=True)
    first = next(iter(state["model"]))
    state["model"][first] = torch.full_like(state["model"][first], float("nan"))
    torch.save(state, path)


BREAKS = {"truncated": _truncated, "random bytes": _random, "empty": _empty,
          "another tokenizer's": _other_tokenizers, "not finite": _nan}


@pytest.mark.parametrize("kind", ["base", "chat"])
@pytest.mark.parametrize("how", list(BREAKS))
def test_fault_a_broken_workspace_model_is_an_error_naming_it_not_a_fallback(ws, shipped, kind, how):
    if kind == "chat":
        shutil.copy(ws.path("base"), ws.path("chat"))
    BREAKS[how](ws.path(kind))
    with pytest.raises(NoModel) as error:
        load_model(ws, kind)
    message = str(error.value)
    assert str(ws.path(kind)) in message, message
    assert f"`{command_for(kind)}`" in message, message
    assert error.value.path == ws.path(kind)


def test_fault_a_broken_current_version_is_named(ws, shipped):
    version = ModelVersions(ws).record("base", "pretrain", ws.path("base"), steps=400)
    path = ModelVersions(ws).path(version)
    _truncated(path)
    with pytest.raises(NoModel, match="llm-tour prepare train") as error:
        load_model(ws, "base")
    assert str(path) in str(error.value)


def test_fault_a_broken_tokenizer_is_named_with_its_own_command(ws, shipped):
    ws.path("tokenizer").write_text("{not json", "utf-8")
    with pytest.raises(NoModel) as error:
        load_model(ws, "base")
    assert str(ws.path("tokenizer")) in str(error.value)
    assert command_for("tokenizer") in str(error.value)


def test_a_checkpoint_given_by_path_says_where_it_came_from(ws, shipped, tmp_path):
    loaded = load_model(ws, "base", path=ws.path("base"))
    assert loaded.source == "workspace" and loaded.kind == "base"
    loaded = load_model(ws, "base", path=shipped / "base.pt")
    assert loaded.source == "bundled"
    with pytest.raises(NoModel, match="no checkpoint at"):
        load_model(ws, "base", path=tmp_path / "missing.pt")


# -- the headless command --------------------------------------------------------------------


@pytest.mark.bundled
@pytest.mark.parametrize("how", ["truncated", "random bytes", "empty", "another tokenizer's"])
def test_fault_sample_on_a_broken_base_model_fails_and_says_which_file(ws, how):
    """With the real bundled models beside it, a broken base.pt still stops the command."""
    from click.testing import CliRunner

    from tui.cli import cli

    BREAKS[how](ws.path("base"))
    result = CliRunner().invoke(cli, ["--workdir", str(ws.root), "sample", "-n", "3"])
    assert result.exit_code != 0
    assert str(ws.path("base")) in result.output
    assert f"`{command_for('base')}`" in result.output
    assert "Sampling from" not in result.output
