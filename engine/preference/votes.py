"""Viewers' votes, kept in one SQLite file that many tour processes can write at once.

An audience may vote from several terminals, over SSH or in a browser, all writing the
same ``votes.sqlite``. So the store opens a short connection per operation, the file is
in WAL mode (readers never block the writer), a writer waits for the lock (busy timeout)
instead of failing, and each vote is one ``BEGIN IMMEDIATE`` ... ``COMMIT`` transaction
with ``synchronous=FULL``: a process killed mid-vote leaves either the whole vote or none.

A vote is a ranking of all of a prompt's candidates, best first, or a pairwise choice
(a ranking of two). Each voter has a session id, so the tour can say how many people the
votes came from.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from engine import settings
from engine.preference.prompts import TALK_PROMPTS, Candidate, PromptSet
from engine.workspace import BrokenArtifact, atomic_path


if TYPE_CHECKING:
    from engine.workspace import Workspace

SCHEMA_VERSION = 1
BUSY_TIMEOUT_S = 30.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS prompts (
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    source TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS candidates (
    prompt_id TEXT NOT NULL REFERENCES prompts(id),
    id TEXT NOT NULL,
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (prompt_id, id)
);
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    prompt_id TEXT NOT NULL REFERENCES prompts(id),
    session TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('ranking', 'pair')),
    ranking TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS votes_by_prompt ON votes (prompt_id);
"""


class VoteError(ValueError):
    """A vote the store refuses; the message says what was wrong and what would be right."""


class UnknownPrompt(VoteError):
    pass


class BadRanking(VoteError):
    pass


def new_session() -> str:
    """A fresh voter id: one per tour process, so votes can be counted by person."""
    return uuid.uuid4().hex[:12]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Vote:
    id: int
    prompt_id: str
    session: str
    kind: str  # "ranking" or "pair"
    ranking: tuple[str, ...]  # candidate ids, best first
    created_at: str

    def pairs(self) -> list[tuple[str, str]]:
        """Every (preferred, rejected) pair the vote implies: n(n-1)/2 for a ranking of n."""
        r = self.ranking
        return [(r[i], r[j]) for i in range(len(r)) for j in range(i + 1, len(r))]

    def as_dict(self) -> dict:
        return {"id": self.id, "prompt_id": self.prompt_id, "session": self.session,
                "kind": self.kind, "ranking": list(self.ranking), "created_at": self.created_at}


@dataclass
class Tally:
    """The votes on one prompt: how often each candidate came first, and every pair's wins."""

    prompt_id: str
    votes: int = 0
    sessions: int = 0
    first: dict[str, int] = field(default_factory=dict)  # candidate -> times ranked best
    points: dict[str, int] = field(default_factory=dict)  # Borda: candidates beaten, summed
    wins: dict[tuple[str, str], int] = field(default_factory=dict)  # (winner, loser) -> count


class ReadOnlyVotes(VoteError):
    """The votes file can be read but not written (a read-only file or folder)."""


_TABLES = {"prompts", "candidates", "votes"}


class VoteStore:
    """The votes file. Every method opens its own connection, so it is safe in any thread.

    Opening a store that is already set up writes nothing, so a read-only file can still
    be read (``read_only`` is then true and a vote raises ReadOnlyVotes). A file that is
    not a votes database is a BrokenArtifact naming it."""

    def __init__(self, path: str | Path, *, timeout: float = BUSY_TIMEOUT_S,
                 prompts: Sequence[PromptSet] = TALK_PROMPTS) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.read_only = False
        if self.path.is_dir():
            raise BrokenArtifact(self.path, "it is a folder", "votes")
        if not self._ready(prompts):
            try:
                self._init(prompts)
            except ReadOnlyVotes:  # a read-only disk, or a file root can't write either
                self.read_only = True
                with self._connect() as check:
                    self._check_schema(check)

    @classmethod
    def open(cls, ws: Workspace, **kwargs) -> VoteStore:
        """The workspace's votes, or the shared store a tour server names in LLM_TOUR_VOTES."""
        return cls(settings.shared_votes() or ws.path("votes"), **kwargs)

    # -- connections -----------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if self.read_only:  # immutable: no -shm or -wal file is needed, or made
                con = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True,
                                      timeout=self.timeout, isolation_level=None)
            else:
                con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as error:
            raise self._broken(error) from None
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            if not self.read_only:
                con.execute("PRAGMA synchronous = FULL")
            con.execute("PRAGMA foreign_keys = ON")
            yield con
        except sqlite3.OperationalError as error:
            text = str(error)
            if "locked" in text or "busy" in text:
                raise
            if "readonly" in text or "read-only" in text:
                raise ReadOnlyVotes(f"{self.path} is read-only, so no vote can be kept; the "
                                    "votes in it can still be read.") from None
            raise self._broken(error) from None
        except sqlite3.DatabaseError as error:
            raise self._broken(error) from None
        finally:
            con.close()

    def _broken(self, error: sqlite3.Error) -> BrokenArtifact:
        return BrokenArtifact(self.path, f"SQLite can't use it ({error})", "votes")

    def _ready(self, prompts: Sequence[PromptSet]) -> bool:
        """Whether the file is already a votes store holding every prompt (reads only)."""
        try:
            if not self.path.is_file() or self.path.stat().st_size == 0:
                return False
        except OSError:
            return False
        if not os.access(self.path, os.W_OK) or not os.access(self.path.parent, os.W_OK):
            self.read_only = True  # read what is there; a vote will say it can't be kept
            with self._connect() as check:
                self._check_schema(check)
            return True
        try:
            con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                  timeout=self.timeout, isolation_level=None)
        except sqlite3.Error:
            return False
        return self._looks_ready(con, prompts)

    def _looks_ready(self, con: sqlite3.Connection, prompts: Sequence[PromptSet]) -> bool:
        try:
            self._check_schema(con)
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                return False
            known = {r[0] for r in con.execute("SELECT id FROM prompts")}
            return all(p.id in known for p in prompts)
        except (sqlite3.Error, BrokenArtifact):
            return False
        finally:
            con.close()

    def _check_schema(self, con: sqlite3.Connection) -> None:
        try:
            tables = {r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = con.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            raise self._broken(error) from None
        if not _TABLES <= tables:
            raise BrokenArtifact(self.path, "it is an SQLite file without the votes tables "
                                 f"(it has {', '.join(sorted(tables)) or 'none'})", "votes")
        if version != SCHEMA_VERSION:
            raise BrokenArtifact(self.path, f"it is in format {version}, this llm-tour reads "
                                 f"format {SCHEMA_VERSION}", "votes")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, holding the write lock from its first statement."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def _init(self, prompts: Sequence[PromptSet]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise VoteError(f"Can't make the folder for {self.path}: "
                            f"{error.strerror or error}.") from None
        fresh = not self.path.exists() or self.path.stat().st_size == 0
        if not fresh:
            with self._connect() as con:  # never add tables to some other database
                tables = {r[0] for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'")}
                version = con.execute("PRAGMA user_version").fetchone()[0]
            if tables and not _TABLES <= tables:
                raise BrokenArtifact(self.path, "it is an SQLite file without the votes "
                                     f"tables (it has {', '.join(sorted(tables))})", "votes")
            if version not in (0, SCHEMA_VERSION):
                raise BrokenArtifact(self.path, f"it is in format {version}, this llm-tour "
                                     f"reads format {SCHEMA_VERSION}", "votes")
        deadline = time.monotonic() + self.timeout
        while True:  # switching to WAL needs a moment alone with the file
            try:
                with self._connect() as con:
                    con.execute("PRAGMA journal_mode = WAL")
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with self._write() as con:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            for prompt in prompts:
                self._add_prompt(con, prompt)

    # -- prompts -----------------------------------------------------------------------
    def add_prompt(self, prompt: PromptSet) -> None:
        """Register a set of candidates so it can be voted on (again: no change)."""
        if self.read_only:
            known = {p.id for p in self.prompts()}
            if prompt.id in known:
                return
            raise ReadOnlyVotes(f"{self.path} is read-only, so the prompt {prompt.id!r} can't "
                                "be added to it.")
        with self._write() as con:
            self._add_prompt(con, prompt)

    @staticmethod
    def _add_prompt(con: sqlite3.Connection, prompt: PromptSet) -> None:
        known = con.execute("SELECT 1 FROM prompts WHERE id = ?", (prompt.id,)).fetchone()
        if known:
            return
        con.execute("INSERT INTO prompts VALUES (?, ?, ?, ?)",
                    (prompt.id, prompt.question, prompt.source, _now()))
        con.executemany("INSERT INTO candidates VALUES (?, ?, ?, ?, ?)",
                        [(prompt.id, c.id, i, c.text, c.label)
                         for i, c in enumerate(prompt.candidates)])

    def prompts(self) -> list[PromptSet]:
        with self._connect() as con:
            rows = con.execute("SELECT id, question, source FROM prompts ORDER BY rowid").fetchall()
            return [self._prompt(con, *row) for row in rows]

    def prompt(self, prompt_id: str) -> PromptSet:
        with self._connect() as con:
            row = con.execute("SELECT id, question, source FROM prompts WHERE id = ?",
                              (prompt_id,)).fetchone()
            if row is None:
                known = [r[0] for r in con.execute("SELECT id FROM prompts ORDER BY rowid")]
                raise UnknownPrompt(f"There is no prompt called {prompt_id!r} to vote on. "
                                    f"Known prompts: {', '.join(known) or 'none'}.")
            return self._prompt(con, *row)

    @staticmethod
    def _prompt(con: sqlite3.Connection, prompt_id: str, question: str, source: str) -> PromptSet:
        rows = con.execute("SELECT id, text, label FROM candidates WHERE prompt_id = ? "
                           "ORDER BY position", (prompt_id,)).fetchall()
        return PromptSet(prompt_id, question, tuple(Candidate(*r) for r in rows), source)

    # -- voting --------------------------------------------------------------------------
    def vote(self, prompt_id: str, ranking: Sequence[str], session: str,
             replace: bool = False) -> Vote:
        """Record a ranking of all the prompt's candidates, best first. With ``replace``, it
        takes the place of the session's earlier votes on the prompt, in one transaction:
        a room's viewer who ranks again, or comes back, still counts once."""
        prompt = self.prompt(prompt_id)
        ranking = _check_ranking(prompt, ranking)
        return self._insert(prompt.id, session, "ranking", ranking, replace)

    def change_vote(self, prompt_id: str, ranking: Sequence[str], session: str) -> Vote:
        """A session ranks a prompt again: the new ranking replaces the session's earlier
        rankings of it (in one transaction), so a change of mind counts once."""
        prompt = self.prompt(prompt_id)
        ranking = _check_ranking(prompt, ranking)
        return self._insert(prompt.id, session, "ranking", ranking, replace=True)

    def vote_pair(self, prompt_id: str, preferred: str, rejected: str, session: str) -> Vote:
        """Record a choice between two of the prompt's candidates."""
        prompt = self.prompt(prompt_id)
        pair = (preferred, rejected)
        for candidate in pair:
            if candidate not in prompt.candidate_ids:
                raise BadRanking(f"{prompt_id!r} has no candidate {candidate!r}; its candidates "
                                 f"are {', '.join(prompt.candidate_ids)}.")
        if preferred == rejected:
            raise BadRanking("A pairwise choice needs two different candidates.")
        return self._insert(prompt.id, session, "pair", pair)

    def _insert(self, prompt_id: str, session: str, kind: str, ranking: tuple[str, ...],
                replace: bool = False) -> Vote:
        if not isinstance(session, str) or not session.strip():
            raise VoteError("A vote needs a session id (see new_session()).")
        if self.read_only:
            raise ReadOnlyVotes(f"{self.path} is read-only, so no vote can be kept; the votes "
                                "in it can still be read.")
        created = _now()
        with self._write() as con:
            if replace:
                con.execute("DELETE FROM votes WHERE prompt_id = ? AND session = ? AND kind = ?",
                            (prompt_id, session, kind))
            cursor = con.execute(
                "INSERT INTO votes (prompt_id, session, kind, ranking, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (prompt_id, session, kind, json.dumps(list(ranking)), created))
            vote_id = int(cursor.lastrowid)
        return Vote(vote_id, prompt_id, session, kind, ranking, created)

    # -- reading ---------------------------------------------------------------------------
    def votes(self, prompt_id: str | None = None) -> list[Vote]:
        query = "SELECT id, prompt_id, session, kind, ranking, created_at FROM votes"
        args: tuple = ()
        if prompt_id is not None:
            query, args = query + " WHERE prompt_id = ?", (prompt_id,)
        with self._connect() as con:
            rows = con.execute(query + " ORDER BY id", args).fetchall()
        votes = []
        for i, p, s, k, r, c in rows:
            try:
                ranking = json.loads(r)
            except (TypeError, ValueError):
                ranking = None
            if not isinstance(ranking, list) or not all(isinstance(x, str) for x in ranking) \
                    or len(ranking) < 2:
                raise BrokenArtifact(self.path, f"vote {i} holds a ranking that is not a list "
                                     f"of candidates ({str(r)[:40]!r})", "votes")
            votes.append(Vote(i, p, s, k, tuple(ranking), c))
        return votes

    def counts(self, prompt_id: str | None = None) -> tuple[int, int]:
        """(votes, distinct sessions), over one prompt or all of them."""
        query = "SELECT COUNT(*), COUNT(DISTINCT session) FROM votes"
        args: tuple = ()
        if prompt_id is not None:
            query, args = query + " WHERE prompt_id = ?", (prompt_id,)
        with self._connect() as con:
            votes, sessions = con.execute(query, args).fetchone()
        return int(votes), int(sessions)

    def tally(self, prompt_id: str) -> Tally:
        prompt = self.prompt(prompt_id)
        votes = self.votes(prompt_id)
        tally = Tally(prompt_id, len(votes), len({v.session for v in votes}))
        tally.first = {c: 0 for c in prompt.candidate_ids}
        tally.points = {c: 0 for c in prompt.candidate_ids}
        for vote in votes:
            if any(c not in tally.points for c in vote.ranking):
                raise BrokenArtifact(self.path, f"vote {vote.id} ranks a candidate {prompt_id!r} "
                                     "does not have", "votes")
            if vote.kind == "ranking":
                tally.first[vote.ranking[0]] += 1
            for winner, loser in vote.pairs():
                tally.points[winner] += 1
                tally.wins[(winner, loser)] = tally.wins.get((winner, loser), 0) + 1
        return tally


def _check_ranking(prompt: PromptSet, ranking: Sequence[str]) -> tuple[str, ...]:
    expected = prompt.candidate_ids
    if isinstance(ranking, str) or not all(isinstance(c, str) for c in ranking):
        raise BadRanking(f"A ranking is a list of candidate ids, best first, such as "
                         f"{list(expected)}.")
    ranking = tuple(ranking)
    unknown = [c for c in ranking if c not in expected]
    if unknown:
        raise BadRanking(f"{prompt.id!r} has no candidate {unknown[0]!r}; its candidates are "
                         f"{', '.join(expected)}.")
    repeated = sorted({c for c in ranking if ranking.count(c) > 1})
    if repeated:
        raise BadRanking(f"A ranking names each candidate once; {repeated[0]!r} appears twice.")
    missing = [c for c in expected if c not in ranking]
    if missing:
        raise BadRanking(
            f"A ranking orders all {len(expected)} candidates of {prompt.id!r}, best first; "
            f"this one leaves out {', '.join(missing)}. (To choose between two, vote on a pair.)")
    return ranking


def copy_votes(source: str | Path, target: str | Path) -> None:
    """A consistent copy of the votes file ``source`` at ``target``, made without writing
    anything beside ``source``: a handout reads (and samples into) the copy.

    A file with a write-ahead log beside it (a tour is voting now) is read with the log;
    one without is read as it is on disk, so not even a lock file is made next to it. A
    file that is not a votes database is a BrokenArtifact naming it."""
    source, target = Path(source), Path(target)
    if source.is_dir():
        raise BrokenArtifact(source, "it is a folder", "votes")
    live = Path(f"{source}-wal").exists()
    uri = f"{source.resolve().as_uri()}?{'mode=ro' if live else 'immutable=1'}"
    try:
        src = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as error:
        raise BrokenArtifact(source, f"SQLite can't open it ({error})", "votes") from None
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.DatabaseError as error:
        raise BrokenArtifact(source, f"SQLite can't use it ({error})", "votes") from None
    finally:
        src.close()


# -- export ------------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "json")


def export_votes(store: VoteStore, target: str | Path, fmt: str | None = None) -> int:
    """Write every vote to ``target`` as CSV or JSON (from the suffix unless ``fmt``).

    Returns the number of votes written. The file is written atomically.
    """
    target = Path(target)
    fmt = (fmt or target.suffix.lstrip(".") or "csv").lower()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"Votes can be exported as {' or '.join(EXPORT_FORMATS)}, not {fmt!r}.")
    votes = store.votes()
    if fmt == "json":
        prompts = {p.id: p for p in store.prompts()}
        data = {
            "prompts": [{"id": p.id, "question": p.question, "source": p.source,
                         "candidates": [{"id": c.id, "text": c.text, "label": c.label}
                                        for c in p.candidates]}
                        for p in prompts.values()],
            "votes": [v.as_dict() for v in votes],
        }
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["id", "prompt_id", "session", "kind", "ranking", "created_at"])
        for v in votes:
            writer.writerow([v.id, v.prompt_id, v.session, v.kind, " > ".join(v.ranking),
                             v.created_at])
        text = buffer.getvalue()
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return len(votes)
