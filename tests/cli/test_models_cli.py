"""`llm-tour eval` keeps its figures with the version it scored; `llm-tour models` shows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import engine

from engine.model.versions import ModelVersions
from tui.cli import cli

pytestmark = pytest.mark.bundled


def _run(workspace, *args: str):
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), *args])
    return result


def _own_chat_version(workspace):
    """A chat version of the workspace's own: the bundled weights saved again (other bytes)."""
    from engine.model.checkpoint import save_checkpoint
    from engine.model.load import load_model

    loaded = load_model(workspace, "chat")
    save_checkpoint(workspace.path("chat"), loaded.model, tokenizer=loaded.tokenizer,
                    step=loaded.steps + 1, train_config=loaded.meta.train_config,
                    extra={"kind": "chat"})
    return ModelVersions(workspace).record("chat", "sft", workspace.path("chat"),
                                           steps=loaded.steps + 1)


def _block(output: str, version_id: str) -> str:
    """The line of a version in `llm-tour models` and the figures line under it."""
    lines = output.splitlines()
    at = next(i for i, line in enumerate(lines) if f" {version_id} · " in line)
    return "\n".join(lines[at:at + 2])


def test_models_lists_each_version_with_its_figures_or_the_command_that_measures_it(workspace):
    mine = _own_chat_version(workspace)
    listed = _run(workspace, "models")
    assert listed.exit_code == 0, listed.output
    shipped = next(entry["eval"] for entry in json.loads(
        (Path(engine.__file__).parent / "bundled" / "figures.json").read_text()).values() if entry["file"] == "chat.pt")
    weather = dict((c, (r, t)) for c, r, t in shipped["categories"])["weather"]
    assert (f"{shipped['right']} of {shipped['total']} whole turns right "
            f"({shipped['right'] / shipped['total']:.0%}): weather {weather[0]}/{weather[1]} "
            f"({weather[0] / weather[1]:.0%})") in _block(listed.output, "bundled-chat")
    assert "llm-tour eval --model base" in _block(listed.output, "bundled-base")
    assert f"not measured yet: llm-tour eval --version {mine.id}" in \
        _block(listed.output, mine.id)

    scored = _run(workspace, "eval", "--version", mine.id, "--limit", "1", "--show-wrong", "0")
    assert scored.exit_code == 0, scored.output
    assert f"Kept with {mine.id}" in scored.output
    listed = _run(workspace, "models")
    block = _block(listed.output, mine.id)
    assert "of 9 whole turns right" in block and "weather" in block and "base" in block
    assert f"llm-tour eval --version {mine.id} --limit 1" in block
    assert f"{shipped['right']} of {shipped['total']}" in _block(listed.output, "bundled-chat")


def test_eval_names_a_version_it_does_not_know_and_refuses_two_models(workspace, tmp_path):
    unknown = _run(workspace, "eval", "--version", "chat-042")
    assert unknown.exit_code != 0 and "llm-tour models" in unknown.output
    both = _run(workspace, "eval", "--version", "bundled-chat", "--checkpoint",
                str(tmp_path / "x.pt"))
    assert both.exit_code != 0 and "not both" in both.output


def test_eval_keeps_figures_by_the_files_bytes_not_its_name(workspace, tmp_path):
    import shutil

    from engine.model.checkpoint import save_checkpoint
    from engine.model.load import load_model
    from engine.workspace import BUNDLED_DIR

    copy = tmp_path / "copy.pt"
    shutil.copyfile(BUNDLED_DIR / "base.pt", copy)
    scored = _run(workspace, "eval", "--checkpoint", str(copy), "--model", "base",
                  "--limit", "1", "--show-wrong", "0")
    assert scored.exit_code == 0, scored.output
    assert "Kept with bundled-base" in scored.output  # the same bytes are that version

    loaded = load_model(workspace, "base")
    other = tmp_path / "other.pt"
    save_checkpoint(other, loaded.model, tokenizer=loaded.tokenizer, step=1)
    scored = _run(workspace, "eval", "--checkpoint", str(other), "--model", "base",
                  "--limit", "1", "--show-wrong", "0")
    assert scored.exit_code == 0, scored.output
    assert "is no model version of this workspace: nothing kept" in scored.output
    measured = ModelVersions(workspace)._index()["measured"]
    assert len(measured) == 1  # the bundled base model's, from the copy
