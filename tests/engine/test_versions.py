"""Models are versions: lineage, an explicit current model, undo, reset, and what ran."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.model.versions import KEEP, ModelVersions, UnknownVersion
from engine.prepare import provenance
from engine.prepare.reset import plan, reset
from tui.cli import cli


def _fake_checkpoint(path, content: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_a_finished_run_becomes_current_and_a_stopped_one_is_only_offered(workspace):
    versions = ModelVersions(workspace)
    base = _fake_checkpoint(workspace.path("base"), b"base weights")
    done = versions.record("base", "pretrain", base, steps=840, data_hash="abc")
    assert versions.current("base") == done
    assert done.parent is None and done.steps == 840 and done.finished

    stopped = versions.record("base", "pretrain", base, steps=50, finished=False)
    assert versions.current("base").id == done.id  # offered, not imposed
    assert "stopped at step 50" in stopped.describe()
    versions.use(stopped.id)
    assert versions.current("base").id == stopped.id


def test_after_a_nudge_the_previous_chat_model_comes_back_byte_for_byte(workspace):
    versions = ModelVersions(workspace)
    chat = _fake_checkpoint(workspace.path("chat"), b"fine-tuned weights")
    sft = versions.record("chat", "sft", chat, steps=300)
    original = versions.path(sft).read_bytes()

    chat.write_bytes(b"nudged weights")
    nudged = versions.record("chat", "nudge", chat, steps=310)
    assert nudged.parent == sft.id
    assert versions.path(versions.current("chat")).read_bytes() == b"nudged weights"

    back = versions.undo("chat")
    assert back.id == sft.id
    assert versions.path(versions.current("chat")).read_bytes() == original


def test_undo_without_a_parent_says_what_to_do(workspace):
    versions = ModelVersions(workspace)
    versions.record("base", "pretrain", _fake_checkpoint(workspace.path("base"), b"x"), steps=1)
    with pytest.raises(UnknownVersion, match="llm-tour models"):
        versions.undo("base")


def test_old_versions_are_pruned_but_never_the_current_one(workspace):
    versions = ModelVersions(workspace)
    path = _fake_checkpoint(workspace.path("chat"), b"0")
    first = versions.record("chat", "sft", path, steps=1)
    for n in range(KEEP + 2):
        path.write_bytes(str(n).encode())
        versions.record("chat", "nudge", path, steps=2 + n, make_current=False)
    kept = [v for v in versions.list("chat") if not v.bundled]
    assert len(kept) == KEEP
    assert versions.current("chat").id == first.id
    assert versions.path(first).exists()


def test_the_bundled_models_are_versions_a_viewer_can_go_back_to(workspace, monkeypatch, tmp_path):
    bundled = tmp_path / "bundled"
    _fake_checkpoint(bundled / "chat.pt", b"shipped")
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", bundled)
    versions = ModelVersions(workspace)
    assert versions.current("chat").id == "bundled-chat"
    mine = versions.record("chat", "sft", _fake_checkpoint(workspace.path("chat"), b"mine"),
                           steps=3)
    assert versions.current("chat") == mine
    versions.use("bundled-chat")
    assert versions.current_path("chat") == bundled / "chat.pt"


def test_the_models_command_lists_marks_and_switches(workspace):
    versions = ModelVersions(workspace)
    path = _fake_checkpoint(workspace.path("chat"), b"a")
    first = versions.record("chat", "sft", path, steps=300, figures={"weather": "40/40"})
    second = versions.record("chat", "nudge", path, steps=310)
    runner = CliRunner()
    out = runner.invoke(cli, ["--workdir", str(workspace.root), "models"]).output
    assert f"* {second.describe()}" in out
    assert f"from {first.id}" in out and "weather 40/40" in out
    out = runner.invoke(cli, ["--workdir", str(workspace.root), "models", "--undo", "chat"])
    assert out.exit_code == 0 and f"Back to {first.id}" in out.output
    bad = runner.invoke(cli, ["--workdir", str(workspace.root), "models", "--use", "chat-999"])
    assert bad.exit_code != 0 and "llm-tour models" in bad.output


def test_reset_says_what_it_removes_keeps_votes_and_restores_the_bundled_state(workspace):
    for name in ("dataset", "tokenizer", "base", "chat", "votes"):
        _fake_checkpoint(workspace.path(name), b"built")
    workspace.write_state(chapter="tools")
    ModelVersions(workspace).record("chat", "sft", workspace.path("chat"), steps=1)
    (workspace.root / ".base.pt.abc.tmp").write_bytes(b"half")

    todo = plan(workspace)
    names = {p.name for p in todo.remove}
    assert {"dataset.parquet", "tokenizer.json", "base.pt", "chat.pt", "models",
            ".base.pt.abc.tmp"} <= names
    assert "votes.sqlite" not in names and "state.json" not in names

    runner = CliRunner()
    asked = runner.invoke(cli, ["--workdir", str(workspace.root), "reset"], input="n\n")
    assert "remove base.pt" in asked.output and "keep   votes.sqlite" in asked.output
    assert "Nothing removed." in asked.output and workspace.path("base").exists()

    done = runner.invoke(cli, ["--workdir", str(workspace.root), "reset", "--yes"])
    assert done.exit_code == 0, done.output
    for name in ("dataset", "tokenizer", "base", "chat"):
        assert not workspace.path(name).exists()
    assert not (workspace.root / "models").exists()
    assert workspace.path("votes").exists() and workspace.read_state()["chapter"] == "tools"
    assert ModelVersions(workspace).current("chat") is None  # nothing bundled in tests
    again = runner.invoke(cli, ["--workdir", str(workspace.root), "reset", "--yes"])
    assert "Nothing to remove" in again.output

    reset(workspace, votes=True)
    assert not workspace.path("votes").exists()


def _statuses(workspace) -> dict[str, str]:
    return {line.stage: line.status for line in provenance.stage_lines(workspace)}


def test_the_summary_lines_change_with_what_ran(workspace):
    assert _statuses(workspace) == {"data": "not run", "tokenizer": "not run",
                                    "pretraining": "not run", "fine-tuning": "not run",
                                    "preferences": "not run"}
    # a base model trained here
    ModelVersions(workspace).record("base", "pretrain",
                                    _fake_checkpoint(workspace.path("base"), b"w"), steps=30)
    lines = {line.stage: line for line in provenance.stage_lines(workspace)}
    assert lines["pretraining"].status == "ran here"
    assert "30 steps" in lines["pretraining"].figure
    # the same file recorded by `llm-tour prepare`
    from engine.prepare.stages import file_hash

    record = {"train": {"outputs": {"base.pt": {"sha256": file_hash(workspace.path("base"))}}}}
    workspace.path("prepared.json").write_text(json.dumps(record))
    assert _statuses(workspace)["pretraining"] == "prepared"
    # a nudge is always the viewer's own
    ModelVersions(workspace).record("chat", "nudge",
                                    _fake_checkpoint(workspace.path("chat"), b"n"), steps=10)
    lines = {line.stage: line for line in provenance.stage_lines(workspace)}
    assert lines["fine-tuning"].status == "ran here"
    assert lines["preferences"].figure == "0 votes, 1 nudge"


@pytest.mark.bundled
def test_with_nothing_run_every_stage_says_bundled(workspace):
    statuses = _statuses(workspace)
    assert statuses["data"] == statuses["tokenizer"] == "bundled"
    assert statuses["pretraining"] == statuses["fine-tuning"] == "bundled"


def test_a_first_run_stopped_early_does_not_replace_the_bundled_model(workspace, monkeypatch,
                                                                       tmp_path):
    bundled = tmp_path / "bundled"
    _fake_checkpoint(bundled / "base.pt", b"shipped")
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", bundled)
    versions = ModelVersions(workspace)
    working = _fake_checkpoint(workspace.path("base"), b"step 50")  # the run's working file
    stopped = versions.record("base", "pretrain", working, steps=50, finished=False)
    assert versions.current("base").id == "bundled-base"
    assert stopped in versions.list("base")
