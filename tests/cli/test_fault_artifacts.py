"""Fault corpus, workspace files: a broken tokenizer, dataset, shard or votes file is
named, with the command that builds it again, and never quietly replaced.

Each case writes one damaged file into a fresh workspace and reads it the way the tour
does: through the engine, and through the command that uses it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from engine.data.store import DATASET_COLUMNS, read_dataset, read_funnel, read_rows, write_table
from engine.preference.votes import ReadOnlyVotes, VoteStore, new_session
from engine.tokenizer.tour import CompactGPT4Tokenizer, load_tokenizer, read_shard
from engine.workspace import BrokenArtifact, atomic_path
from tui.cli import cli


def good_tokenizer() -> CompactGPT4Tokenizer:
    return CompactGPT4Tokenizer.from_texts(["The capital of France is Paris."])


def run(workspace, *args: str):
    return CliRunner().invoke(cli, ["--workdir", str(workspace.root), *args])


def dataset_row(**changes) -> dict:
    row = {"url": "site.example/a", "title": "A", "source": "site.example",
           "content": "The capital of France is Paris. " * 5, "language": "en",
           "language_score": 0.99, "token_count": 40, "fetched_at": "2026-01-01T00:00:00"}
    row.update(changes)
    return row


# -- tokenizer.json --------------------------------------------------------------------------

def _tokenizer_cases():
    good = json.loads(good_tokenizer().to_json())
    no_hash = {k: v for k, v in good.items() if k != "hash"}
    other = dict(good, hash="0" * 64)
    no_ids = {k: v for k, v in good.items() if k != "gpt4_ids"}
    bad_ids = dict(good, gpt4_ids="not a list of ids")
    return {
        "not-json": b"{this is not json",
        "binary": bytes(range(256)) * 4,
        "a-list": b"[1, 2, 3]",
        "empty": b"",
        "wrong-hash": json.dumps(other).encode(),
        "no-hash": json.dumps(no_hash).encode(),
        "no-ids": json.dumps(no_ids).encode(),
        "bad-ids": json.dumps(bad_ids).encode(),
        "other-format": json.dumps({"format": "huggingface", "model": {}}).encode(),
        "null": b"null",
    }


TOKENIZER_CASES = _tokenizer_cases()


@pytest.mark.parametrize("case", sorted(TOKENIZER_CASES))
def test_fault_tokenizer_file(workspace, case):
    workspace.path("tokenizer").parent.mkdir(parents=True, exist_ok=True)
    workspace.path("tokenizer").write_bytes(TOKENIZER_CASES[case])
    with pytest.raises(BrokenArtifact) as broken:
        load_tokenizer(workspace)
    message = str(broken.value)
    assert str(workspace.path("tokenizer")) in message
    assert "llm-tour prepare tokenizer" in message


def test_fault_tokenizer_is_a_folder(workspace):
    workspace.path("tokenizer").mkdir(parents=True)
    with pytest.raises(BrokenArtifact, match="folder"):
        load_tokenizer(workspace)


@pytest.mark.parametrize("case", ["not-json", "binary", "a-list", "wrong-hash"])
def test_fault_tokenizer_through_the_cli(workspace, case):
    """The command that reads the tokenizer stops with the file and the remedy, not a
    traceback (and does not fall back to the bundled one)."""
    workspace.ensure()
    workspace.path("tokenizer").write_bytes(TOKENIZER_CASES[case])
    result = run(workspace, "prepare", "train", "--preset", "tiny")
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, (KeyError, AttributeError, json.JSONDecodeError))
    assert "tokenizer.json" in result.output
    assert "llm-tour prepare tokenizer" in result.output


# -- dataset.parquet ---------------------------------------------------------------------------

def _write_dataset_cases(path, case: str) -> None:
    if case == "other-columns":
        pq.write_table(pa.table({"a": [1, 2], "b": ["x", "y"]}), path)
    elif case == "content-is-a-number":
        table = {c: [str(dataset_row()[c])] for c in DATASET_COLUMNS}
        table["content"] = [3]
        table["token_count"] = [1]
        table["language_score"] = [0.5]
        pq.write_table(pa.table(table), path)
    elif case == "truncated":
        write_table([dataset_row(url=f"s.example/{i}") for i in range(50)], DATASET_COLUMNS,
                    path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "cut-footer":
        write_table([dataset_row()], DATASET_COLUMNS, path)
        path.write_bytes(path.read_bytes()[:-3])
    elif case == "random":
        path.write_bytes(os.urandom(4096))
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "csv":
        path.write_text("url,title,content\nsite.example/a,A,text\n")


DATASET_CASES = ["other-columns", "content-is-a-number", "truncated", "cut-footer", "random",
                 "empty", "csv"]


@pytest.mark.parametrize("case", DATASET_CASES)
def test_fault_dataset_file(workspace, case):
    path = workspace.path("dataset")
    workspace.ensure()
    _write_dataset_cases(path, case)
    for read in (read_rows, lambda p: read_dataset(p, ["content"])):
        with pytest.raises(BrokenArtifact) as broken:
            read(path)
        assert str(path) in str(broken.value)
        assert "llm-tour prepare data" in str(broken.value)


@pytest.mark.parametrize("case", ["other-columns", "truncated"])
def test_fault_dataset_through_the_cli(workspace, case, tmp_path):
    """--add-page compares with the stored dataset: a broken one is named, not a traceback."""
    workspace.ensure()
    _write_dataset_cases(workspace.path("dataset"), case)
    page = tmp_path / "mine.html"
    page.write_text("<html><body><article><p>" + "Paris is the capital of France. " * 20 +
                    "</p></article></body></html>", encoding="utf-8")
    result = run(workspace, "prepare", "data", "--add-page", str(page))
    assert result.exit_code == 1, result.output
    assert "dataset.parquet" in result.output and "llm-tour prepare data" in result.output


@pytest.mark.parametrize("case", ["other-columns", "truncated"])
def test_fault_dataset_through_the_tokenizer_stage(workspace, case):
    workspace.ensure()
    _write_dataset_cases(workspace.path("dataset"), case)
    result = run(workspace, "prepare", "tokenizer")
    assert result.exit_code == 1, result.output
    assert "dataset.parquet" in result.output and "llm-tour prepare data" in result.output


def test_fault_search_names_the_dataset_not_the_model(workspace):
    """The Tools chapter builds its search index from the dataset; a broken dataset is
    reported as the dataset, with its remedy."""
    from engine.tools.search import Search
    from screens.tools import _load_error

    workspace.ensure()
    _write_dataset_cases(workspace.path("dataset"), "other-columns")
    with pytest.raises(BrokenArtifact) as broken:
        Search(workspace.path("dataset")).prepare()
    shown = _load_error(broken.value)
    assert "chat model" not in shown
    assert "dataset.parquet" in shown and "llm-tour prepare data" in shown


@pytest.mark.parametrize("text", ["not json", "{}", "[1, 2]", '[{"label": "x"}]'])
def test_fault_funnel_file(workspace, text):
    workspace.ensure()
    workspace.path("funnel").write_text(text)
    with pytest.raises(BrokenArtifact, match="llm-tour prepare data"):
        read_funnel(workspace.path("funnel"))


# -- token shards --------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"\x01\x00\x02", b"", b"\x00" * 1001],
                         ids=["odd-3", "empty", "odd-1001"])
def test_fault_token_shard(workspace, data):
    workspace.ensure()
    path = workspace.path("train_shard")
    path.write_bytes(data)
    with pytest.raises(BrokenArtifact) as broken:
        read_shard(path)
    assert str(path) in str(broken.value) and "llm-tour prepare tokenizer" in str(broken.value)


@pytest.mark.parametrize("shard", ["train_shard", "val_shard"])
def test_fault_token_shard_through_training(workspace, shard):
    """The trainer reads its shards through the same check: `prepare train` names the file."""
    import shutil
    from pathlib import Path

    import engine
    from engine.workspace import ARTIFACTS

    bundled = Path(engine.__file__).parent / "bundled"  # the fixture hides it from the tour
    workspace.ensure()
    for name in ("tokenizer", "train_shard", "val_shard"):
        shutil.copy(bundled / ARTIFACTS[name], workspace.path(name))
    workspace.path(shard).write_bytes(workspace.path(shard).read_bytes()[:1001])
    result = run(workspace, "prepare", "train", "--preset", "tiny")
    assert result.exit_code != 0
    assert str(workspace.path(shard)) in result.output
    assert "llm-tour prepare tokenizer" in result.output
    assert "Traceback" not in result.output


def test_fault_token_shard_whole_ids_are_read(workspace):
    workspace.ensure()
    path = workspace.path("val_shard")
    path.write_bytes(b"\x01\x00\x02\x00")
    assert list(read_shard(path)) == [1, 2]


# -- votes.sqlite ----------------------------------------------------------------------------------

def _votes_with_one_vote(path):
    store = VoteStore(path)
    prompt = store.prompts()[0]
    store.vote(prompt.id, list(prompt.candidate_ids), new_session())
    return store


@pytest.mark.parametrize("case", ["random", "text", "truncated", "other-database",
                                  "future-format", "bad-ranking"])
def test_fault_votes_file(workspace, case):
    path = workspace.path("votes")
    workspace.ensure()
    if case == "random":
        path.write_bytes(os.urandom(8192))
    elif case == "text":
        path.write_text("votes: many\n")
    elif case == "truncated":
        _votes_with_one_vote(path)
        con = sqlite3.connect(path)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.execute("PRAGMA journal_mode = DELETE")
        con.close()
        data = path.read_bytes()
        path.write_bytes(data[:100] + os.urandom(len(data) - 100))
    elif case == "other-database":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE recipes (name TEXT)")
        con.commit()
        con.close()
    elif case == "future-format":
        _votes_with_one_vote(path)
        con = sqlite3.connect(path)
        con.execute("PRAGMA user_version = 99")
        con.commit()
        con.close()
    elif case == "bad-ranking":
        _votes_with_one_vote(path)
        con = sqlite3.connect(path)
        con.execute("UPDATE votes SET ranking = '{broken'")
        con.commit()
        con.close()
    result = run(workspace, "votes")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "votes.sqlite" in result.output and "Move it aside" in result.output
    if case == "other-database":  # nothing was added to someone else's database
        tables = {r[0] for r in sqlite3.connect(path).execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"recipes"}


def test_fault_votes_file_is_a_folder(workspace):
    workspace.path("votes").mkdir(parents=True)
    result = run(workspace, "votes")
    assert result.exit_code == 1 and "is a folder" in result.output


def test_fault_votes_opening_a_ready_store_writes_nothing(workspace):
    path = workspace.path("votes")
    _votes_with_one_vote(path)
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    time.sleep(0.01)
    store = VoteStore(path)
    assert store.counts() == (1, 1) and not store.read_only
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_fault_votes_read_only_file_can_be_read(workspace, monkeypatch):
    import engine.preference.votes as votes_module

    path = workspace.path("votes")
    _votes_with_one_vote(path)
    before = path.read_bytes()
    os.chmod(path, 0o444)
    # the tests may run as root, who can write anything: ask as an ordinary user would
    monkeypatch.setattr(votes_module.os, "access", lambda p, mode: mode != os.W_OK)
    try:
        store = VoteStore(path)
        assert store.read_only and store.counts() == (1, 1)
        prompt = store.prompts()[0]
        assert store.tally(prompt.id).votes == 1
        with pytest.raises(ReadOnlyVotes, match="read-only"):
            store.vote(prompt.id, list(prompt.candidate_ids), new_session())
        result = run(workspace, "votes")
        assert result.exit_code == 0, result.output
        assert "1 vote" in result.output
    finally:
        os.chmod(path, 0o644)
    assert path.read_bytes() == before


# -- leftovers of a killed write ----------------------------------------------------------------------

def test_fault_leftover_temporary_files_are_removed_at_start(workspace):
    workspace.ensure()
    old = workspace.root / ".base.pt.abc123.tmp"
    other = workspace.root / ".dataset.parquet.x9.tmp"
    fresh = workspace.root / ".chat.pt.new.tmp"
    keep = workspace.root / "notes.tmp"
    for path in (old, other, fresh, keep):
        path.write_bytes(b"half a file")
    an_hour_ago = time.time() - 3600
    for path in (old, other, keep):
        os.utime(path, (an_hour_ago, an_hour_ago))
    result = run(workspace, "--list")
    assert result.exit_code == 0
    assert not old.exists() and not other.exists()
    assert fresh.exists()  # maybe a write still going on in another process
    assert keep.exists()  # not a name atomic_path makes


def test_fault_atomic_path_leaves_nothing_when_interrupted(workspace):
    target = workspace.root / "thing.bin"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert list(workspace.root.glob(".*.tmp")) == [] and not target.exists()
