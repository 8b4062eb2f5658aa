"""The votes store: votes persist, concurrent voters lose nothing, bad votes are refused."""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.preference.prompts import APPLES, TALK_PROMPTS, TOAST, Candidate, PromptSet
from engine.preference.votes import (
    BadRanking,
    UnknownPrompt,
    VoteError,
    VoteStore,
    copy_votes,
    export_votes,
    new_session,
)

ROOT = Path(__file__).resolve().parents[2]
BEST_APPLES = ["step-by-step", "answer-only", "wrong"]


def test_the_talks_sets_are_there_with_their_exact_answers_and_labels(workspace):
    store = VoteStore.open(workspace)
    prompts = {p.id: p for p in store.prompts()}
    assert set(prompts) == {"apples", "toast"}
    apples = prompts["apples"]
    assert apples.candidates[0].text == (
        "The oranges cost 2 × $2 = $4. The total is $13, so the apples cost $13 - $4 = $9. "
        "There are 3 apples, so each apple costs $9 ÷ 3 = $3.")
    assert [c.label for c in apples.candidates] == [
        "Correct, clear, and works step by step toward the answer.",
        "Correct, but skips the reasoning the user may need.",
        "Confident, but wrong.",
    ]
    assert [c.text for c in prompts["toast"].candidates][1:] == [
        "A good wedding toast should be funny and memorable.",
        "Just roast the couple and tell every embarrassing story you know.",
    ]
    assert prompts["toast"].candidates[2].label == (
        "Likely entertaining in theory, but unhelpful and socially risky.")


def test_the_file_is_in_wal_mode_in_the_workspace(workspace):
    store = VoteStore.open(workspace)
    assert store.path == workspace.path("votes")
    with sqlite3.connect(store.path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_votes_survive_a_restart(workspace):
    session = new_session()
    store = VoteStore.open(workspace)
    first = store.vote("apples", BEST_APPLES, session)
    store.vote_pair("toast", "warm", "roast", session)
    del store

    reopened = VoteStore.open(workspace)
    votes = reopened.votes()
    assert [v.ranking for v in votes] == [tuple(BEST_APPLES), ("warm", "roast")]
    assert votes[0] == first
    assert reopened.counts() == (2, 1)
    tally = reopened.tally("apples")
    assert tally.first == {"step-by-step": 1, "answer-only": 0, "wrong": 0}
    assert tally.wins[("answer-only", "wrong")] == 1


def test_a_sampled_set_is_kept_with_its_answers(workspace):
    sampled = PromptSet("sampled-x", "What is the capital of France?",
                        (Candidate("s1", "Paris."), Candidate("s2", "Lyon.")), "chat.pt")
    VoteStore.open(workspace).add_prompt(sampled)
    store = VoteStore.open(workspace)
    assert store.prompt("sampled-x") == sampled
    store.vote("sampled-x", ["s1", "s2"], "viewer")
    assert store.counts("sampled-x") == (1, 1)


def _vote_many(path: str, session: str, count: int) -> None:
    store = VoteStore(path)
    for i in range(count):
        if i % 2:
            store.vote("apples", BEST_APPLES, session)
        else:
            store.vote_pair("toast", "warm", "generic", session)


def test_several_processes_voting_at_once_lose_nothing(workspace):
    path = str(workspace.path("votes"))
    VoteStore(path)
    processes, each = 4, 24
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_vote_many, args=(path, f"voter-{i}", each))
               for i in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    store = VoteStore(path)
    assert store.counts() == (processes * each, processes)
    assert store.counts("apples") == (processes * each // 2, processes)
    ids = [v.id for v in store.votes()]
    assert len(set(ids)) == len(ids) == processes * each


def test_a_killed_voter_keeps_every_vote_it_made(workspace):
    path = workspace.path("votes")
    VoteStore(path)
    code = (
        "import sys\n"
        "from engine.preference.votes import VoteStore\n"
        "store = VoteStore(sys.argv[1])\n"
        "for i in range(10):\n"
        "    store.vote('apples', ['wrong', 'answer-only', 'step-by-step'], 'doomed')\n"
        "print('voted', flush=True)\n"
        "sys.stdin.read()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(path)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "voted"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert VoteStore(path).counts() == (10, 1)


@pytest.mark.parametrize("prompt_id", ["oranges", "", "APPLES"])
def test_an_unknown_prompt_is_refused_clearly(workspace, prompt_id):
    store = VoteStore.open(workspace)
    with pytest.raises(UnknownPrompt, match="no prompt called .* Known prompts: apples, toast"):
        store.vote(prompt_id, BEST_APPLES, "viewer")
    assert store.counts() == (0, 0)


def test_a_half_ranking_is_refused_clearly(workspace):
    store = VoteStore.open(workspace)
    with pytest.raises(BadRanking, match="orders all 3 candidates .* leaves out wrong"):
        store.vote("apples", ["step-by-step", "answer-only"], "viewer")
    assert store.counts() == (0, 0)


@pytest.mark.parametrize("ranking,message", [
    (["step-by-step", "step-by-step", "wrong"], "appears twice"),
    (["step-by-step", "answer-only", "bananas"], "no candidate 'bananas'"),
    ("step-by-step", "list of candidate ids"),
])
def test_other_bad_rankings_are_refused(workspace, ranking, message):
    store = VoteStore.open(workspace)
    with pytest.raises(BadRanking, match=message):
        store.vote("apples", ranking, "viewer")


def test_bad_pairs_and_sessions_are_refused(workspace):
    store = VoteStore.open(workspace)
    with pytest.raises(BadRanking, match="two different"):
        store.vote_pair("toast", "warm", "warm", "viewer")
    with pytest.raises(BadRanking, match="no candidate 'step-by-step'"):
        store.vote_pair("toast", "warm", "step-by-step", "viewer")
    with pytest.raises(VoteError, match="session id"):
        store.vote("apples", BEST_APPLES, "  ")
    assert store.counts() == (0, 0)


def test_export_as_csv_and_json(workspace, tmp_path):
    store = VoteStore.open(workspace)
    store.vote("apples", BEST_APPLES, "a")
    store.vote("toast", ["roast", "warm", "generic"], "b")
    assert export_votes(store, tmp_path / "votes.csv") == 2
    rows = list(csv.DictReader((tmp_path / "votes.csv").open(encoding="utf-8")))
    assert [r["ranking"] for r in rows] == ["step-by-step > answer-only > wrong",
                                           "roast > warm > generic"]
    assert export_votes(store, tmp_path / "out.json") == 2
    data = json.loads((tmp_path / "out.json").read_text("utf-8"))
    assert data["votes"][1]["ranking"] == ["roast", "warm", "generic"]
    assert data["votes"][1]["session"] == "b"
    assert [p["id"] for p in data["prompts"]] == [p.id for p in TALK_PROMPTS]
    with pytest.raises(ValueError, match="csv or json"):
        export_votes(store, tmp_path / "votes.xlsx")


def test_prompt_sets_refuse_nonsense():
    with pytest.raises(ValueError, match="at least two"):
        PromptSet("one", "?", (Candidate("a", "x"),))
    with pytest.raises(ValueError, match="same id"):
        PromptSet("dup", "?", (Candidate("a", "x"), Candidate("a", "y")))
    assert APPLES.candidate("wrong").text == "Each apple costs $4."
    assert TOAST.from_talk


def test_the_votes_command_prints_tallies_and_exports(workspace, tmp_path):
    from click.testing import CliRunner

    from tui.cli import cli

    store = VoteStore.open(workspace)
    for session in ("a", "b", "c"):
        store.vote("apples", BEST_APPLES, session)
    store.vote("toast", ["roast", "generic", "warm"], "a")
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "votes", "--export",
                                      str(tmp_path / "all.json")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4 votes from 3 sessions" in out
    assert "3 votes from 3 sessions" in out and "1 vote from 1 session" in out
    assert "Each apple costs $4." in out and "Confident, but wrong." in out
    assert "Wrote 4 votes to" in out
    assert len(json.loads((tmp_path / "all.json").read_text("utf-8"))["votes"]) == 4

    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "votes", "--export",
                                      str(tmp_path / "votes.txt")])
    assert result.exit_code != 0 and "csv or json" in result.output


def test_a_changed_vote_replaces_the_sessions_earlier_ranking(workspace):
    store = VoteStore.open(workspace)
    store.vote("apples", BEST_APPLES, "a")
    store.vote("apples", BEST_APPLES, "b")
    changed = list(reversed(BEST_APPLES))
    store.change_vote("apples", changed, "a")
    assert sorted((v.session, v.ranking) for v in store.votes("apples")) == [
        ("a", tuple(changed)), ("b", tuple(BEST_APPLES))]
    assert store.tally("apples").votes == 2


def test_a_copy_holds_every_vote_and_leaves_the_folder_as_it_was(workspace, tmp_path):
    """A handout reads the votes from a copy: not even a lock file appears beside them."""
    store = VoteStore.open(workspace)
    prompt = TALK_PROMPTS[0]
    for session in ("ada", "bo"):
        store.vote(prompt.id, list(prompt.candidate_ids), session)
    before = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in workspace.root.iterdir()}
    copy = tmp_path / "copy.sqlite"
    copy_votes(workspace.path("votes"), copy)
    assert VoteStore(copy).counts() == (2, 2)
    assert VoteStore(copy).tally(prompt.id).first == store.tally(prompt.id).first
    after = {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in workspace.root.iterdir()}
    assert after == before
