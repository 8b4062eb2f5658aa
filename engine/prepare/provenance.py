"""What this viewer actually ran: each stage of the pipeline, where its artifact came from, and
its headline figure, read from the artifacts themselves.

A stage's artifact is "ran here" when the viewer built it in a chapter or with a stage command,
"prepared" when ``llm-tour prepare`` built it and recorded it, and "bundled" when the workspace
has none and the one shipped with llm-tour is in use. The Summary chapter and ``llm-tour models``
read these lines; nothing here is remembered from the screens, so it cannot say more than was run.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from engine import settings
from engine.prepare.stages import file_hash
from engine.workspace import Workspace

RAN_HERE = "ran here"
PREPARED = "prepared"
BUNDLED = "bundled"
NOT_RUN = "not run"
BROKEN = "broken"  # the file is there but cannot be read; the figure says which and why


@dataclass(frozen=True)
class StageLine:
    stage: str  # "data", "tokenizer", "pretraining", "fine-tuning", "preferences"
    status: str  # RAN_HERE, PREPARED, BUNDLED, NOT_RUN or BROKEN
    figure: str  # the headline figure, computed from the artifact ("" when there is none)


def _prepared(ws: Workspace) -> dict[str, dict]:
    try:
        record = json.loads(ws.path("prepared.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _status(ws: Workspace, record: dict, stage: str, artifact: str) -> str:
    path = ws.path(artifact)
    if not path.exists():
        found = ws.find(artifact)
        return BUNDLED if found is not None else NOT_RUN
    seen = (record.get(stage) or {}).get("outputs", {}).get(path.name)
    if seen and seen.get("sha256") == file_hash(path):
        return PREPARED
    return RAN_HERE


def _rows(path: Path) -> int | None:
    try:
        import pyarrow.parquet as pq

        return pq.read_metadata(path).num_rows
    except Exception:  # an unreadable dataset is reported where it is loaded
        return None


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def stage_lines(ws: Workspace) -> list[StageLine]:
    """One line per stage of the pipeline, from the data to the preference nudge."""
    from engine.model.versions import ModelVersions

    record = _prepared(ws)
    lines: list[StageLine] = []

    status = _status(ws, record, "data", "dataset")
    found = ws.find("dataset")
    rows = _rows(found.path) if found else None
    lines.append(StageLine("data", status, _plural(rows, "page") + " in the dataset"
                           if rows is not None else ""))

    status = _status(ws, record, "tokenizer", "tokenizer")
    figure = ""
    found, shard = ws.find("tokenizer"), ws.find("train_shard")
    if found is not None:
        try:
            meta = json.loads(found.path.read_text("utf-8"))
            figure = f"{meta.get('name', 'tokenizer')}, {_plural(int(meta['vocab_size']), 'token')}"
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            figure = ""
        if shard is not None and figure:
            figure += f"; {shard.path.stat().st_size // 2:,} training tokens"
    lines.append(StageLine("tokenizer", status, figure))

    versions = ModelVersions(ws)
    for kind, stage, name in (("base", "train", "pretraining"), ("chat", "sft", "fine-tuning")):
        current = versions.current(kind)
        if current is None:
            lines.append(StageLine(name, NOT_RUN, ""))
            continue
        if current.bundled:
            status = BUNDLED
        elif current.stage == "nudge":
            status = RAN_HERE
        else:  # prepared when prepare's record names exactly this file
            seen = (record.get(stage) or {}).get("outputs", {}).get(ws.path(kind).name)
            path = versions.path(current)
            same = bool(seen) and path.exists() and seen.get("sha256") == file_hash(path)
            status = PREPARED if same else RAN_HERE
        figure = current.describe() if not current.bundled else f"{current.steps:,} steps"
        if current.headline():
            figure += " · " + current.headline()
        lines.append(StageLine(name, status, figure))

    nudges = [v for v in versions.list("chat") if v.stage == "nudge"]
    votes = 0
    votes_file = settings.shared_votes() or ws.path("votes")  # a tour server's store when shared
    if votes_file.exists():
        from engine.preference.votes import VoteError, VoteStore
        from engine.workspace import BrokenArtifact

        try:
            votes = VoteStore(votes_file).counts()[0]
        except (BrokenArtifact, VoteError) as error:  # named, never counted as "no votes"
            lines.append(StageLine("preferences", BROKEN, str(error)))
            return lines
        except sqlite3.Error as error:  # busy past the timeout: say so, count nothing
            lines.append(StageLine("preferences", NOT_RUN,
                                   f"{votes_file} could not be read just now ({error})"))
            return lines
    if votes or nudges:
        figure = _plural(votes, "vote")
        if nudges:
            figure += f", {_plural(len(nudges), 'nudge')}"
        lines.append(StageLine("preferences", RAN_HERE, figure))
    else:
        lines.append(StageLine("preferences", NOT_RUN, "no votes yet"))
    return lines
