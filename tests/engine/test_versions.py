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


# -- a first run: its working file is offered, never imposed --------------------------------------


@pytest.fixture
def shards_workspace(workspace, tmp_path_factory, monkeypatch, tmp_path):
    """A tokenizer and shards, no base model of the workspace's own, a bundled one."""
    from sample_model import install_sample_model, write_capital_shards

    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    bundled = tmp_path / "bundled"
    bundled.mkdir()
    workspace.path("base").rename(bundled / "base.pt")  # the shipped model, trained longer
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", bundled)
    write_capital_shards(workspace)
    return workspace


def test_a_first_run_never_becomes_every_chapters_model_until_it_finishes(shards_workspace):
    from engine.training import loop

    ws = shards_workspace
    versions = ModelVersions(ws)
    config = loop.preset("tiny", max_steps=40, checkpoint_interval=10, threads=1)
    seen_during: list[tuple[int, str, str | None]] = []
    stop_at = 25

    def stop() -> bool:
        return bool(seen_during) and seen_during[-1][0] >= stop_at

    for event in loop.pretrain(ws, config, stop=stop):
        if isinstance(event, loop.Checkpointed) and ws.path("base").exists():
            offered = versions.working("base")
            seen_during.append((event.step, ws.find("base").version,
                                offered.id if offered else None))
    # while it ran: base.pt was written at steps 10 and 20 and was only ever offered
    assert [s for s, _, _ in seen_during][:2] == [10, 20]
    assert all(found == "bundled-base" for _, found, _ in seen_during[:2])
    assert all(offered == "working-base" for _, _, offered in seen_during[:2])
    # stopped: kept as a version, offered, not imposed
    stopped = versions.newest("base")
    assert not stopped.finished and 20 <= stopped.steps < 40
    assert versions.current("base").id == "bundled-base"
    assert versions.working("base") is None  # a version keeps base.pt's bytes now
    assert [v.id for v in versions.with_file(ws.path("base"))] == [stopped.id]
    versions.use(stopped.id)
    assert ws.find("base").version == stopped.id


def test_a_killed_first_run_is_offered_and_kept_only_when_chosen(shards_workspace):
    from engine.training import loop

    ws = shards_workspace
    config = loop.preset("tiny", max_steps=40, checkpoint_interval=10, threads=1)
    events = loop.pretrain(ws, config)
    for event in events:
        if isinstance(event, loop.Checkpointed):
            break  # as if the process were killed: nothing after the first checkpoint runs
    del events  # (a killed process closes nothing; here the generator is dropped)
    versions = ModelVersions(ws)
    assert versions.current("base").id == "bundled-base"
    offered = versions.working("base")
    assert offered is not None and offered.steps >= 10 and not offered.finished
    kept = versions.use("working-base")
    assert versions.current("base") .id == kept.id and kept.stage == "pretrain"
    assert versions.path(kept).read_bytes() == ws.path("base").read_bytes()
    with pytest.raises(UnknownVersion):
        versions.use("working-base")  # nothing left to offer: a version keeps it


def test_a_base_model_from_before_versions_is_kept_when_a_run_starts(workspace):
    working = _fake_checkpoint(workspace.path("base"), b"prepared long ago")
    versions = ModelVersions(workspace)
    assert versions.current("base", steps=False).id == "workspace-base"
    versions.begin_run("base")
    kept = versions.current("base")
    assert kept.id == "base-001" and versions.path(kept).read_bytes() == b"prepared long ago"
    working.write_bytes(b"a run's first checkpoint")
    assert versions.current("base").id == "base-001"
    assert versions.working("base").id == "working-base"


def test_a_finished_run_keeps_its_capitals_quiz_as_the_base_evaluation(shards_workspace):
    from engine.training import loop

    ws = shards_workspace
    events = list(loop.pretrain(ws, loop.preset("tiny", max_steps=5, threads=1)))
    quiz = events[-1]
    assert isinstance(quiz, loop.CapitalsEvaluated)
    version = ModelVersions(ws).current("base")
    entry = version.evaluation()
    assert version.stage == "pretrain" and entry["command"] == f"llm-tour eval --version {version.id}"
    assert (entry["right"], entry["total"]) == (quiz.accuracy.correct, quiz.accuracy.total)
    assert entry["categories"] == [["base", quiz.accuracy.correct, quiz.accuracy.total]]


# -- figures: kept by the checkpoint's hash, shown beside exactly that checkpoint --------------

ENTRY = {"right": 3, "total": 4, "categories": [["weather", 1, 2], ["calculator", 2, 2]],
         "per_category": None, "command": "llm-tour eval"}


def test_figures_are_shown_only_beside_the_checkpoint_they_were_measured_on(workspace):
    versions = ModelVersions(workspace)
    path = _fake_checkpoint(workspace.path("chat"), b"first")
    first = versions.record("chat", "sft", path, steps=300)
    path.write_bytes(b"second")
    second = versions.record("chat", "nudge", path, steps=300)
    assert versions.measure(versions.path(first), {"eval": ENTRY}) == [versions.get(first.id)]
    assert versions.get(first.id).figures_text() == (
        "3 of 4 whole turns right (75%): weather 1/2 (50%), calculator 2/2 (100%) · "
        "llm-tour eval")
    assert versions.get(first.id).figures_text(compact=True) == (
        "3 of 4 whole turns right (75%): weather 50%, calculator 100% · llm-tour eval")
    assert versions.get(second.id).evaluation() is None
    assert versions.get(second.id).figures_text() == (
        f"not measured yet: llm-tour eval --version {second.id}")
    stranger = _fake_checkpoint(workspace.root / "elsewhere.pt", b"no version")
    assert versions.measure(stranger, {"eval": ENTRY}) == []  # kept for no file but versions'
    index = json.loads((workspace.root / "models" / "index.json").read_text())
    assert list(index["measured"]) == [first.sha256]


def test_a_whole_evaluation_is_preferred_to_a_quick_one(workspace):
    versions = ModelVersions(workspace)
    version = versions.record("chat", "sft", _fake_checkpoint(workspace.path("chat"), b"w"),
                              steps=3)
    quick = {**ENTRY, "per_category": 10, "command": "llm-tour eval --limit 10"}
    versions.set_figures(version.id, {"eval-10": quick})
    assert versions.get(version.id).figures_text().endswith("llm-tour eval --limit 10")
    versions.set_figures(version.id, {"eval": ENTRY})
    assert versions.get(version.id).figures_text().endswith(" · llm-tour eval")
    assert versions.get(version.id).headline() == "3 of 4 whole turns right (75%) · llm-tour eval"


def test_the_bundled_figures_are_read_by_the_shipped_files_hash(workspace, monkeypatch, tmp_path):
    from engine.model.versions import checkpoint_hash

    bundled = tmp_path / "bundled"
    chat = _fake_checkpoint(bundled / "chat.pt", b"shipped chat")
    (bundled / "figures.json").write_text(json.dumps(
        {checkpoint_hash(chat): {"file": "chat.pt", "eval": ENTRY},
         "0" * 64: {"file": "base.pt", "eval": ENTRY}}))
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", bundled)
    versions = ModelVersions(workspace)
    assert versions.get("bundled-chat").evaluation()["right"] == 3
    chat.write_bytes(b"another build of chat.pt")  # figures of the old file do not carry over
    assert versions.get("bundled-chat").evaluation() is None


def test_the_summary_counts_the_votes_of_a_tour_servers_shared_store(workspace, tmp_path,
                                                                     monkeypatch):
    from engine.preference.votes import VoteStore

    shared = tmp_path / "room" / "votes.sqlite"
    shared.parent.mkdir()
    VoteStore(shared).vote_pair("toast", "warm", "roast", "viewer-1")
    monkeypatch.setenv("LLM_TOUR_VOTES", str(shared))
    assert not workspace.path("votes").exists()  # the workspace itself has none
    lines = {line.stage: line for line in provenance.stage_lines(workspace)}
    assert lines["preferences"].status == "ran here"
    assert lines["preferences"].figure == "1 vote"
