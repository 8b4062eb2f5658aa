"""Models are versions, not overwrites.

Every training stage (pretraining, fine-tuning, each preference nudge) records the model it
made as a new version in the workspace's ``models/`` folder, with its lineage: the version it
started from, the stage, its steps, a hash of the data it trained on, when, and whether it ran
to the end. ``models/index.json`` lists them and names the current model of each kind
(``base`` and ``chat``); the current one is chosen explicitly and changes only when a
finished stage or the viewer says so. A run that was stopped early is kept and offered, never
made current by itself. The bundled models count as versions too (``bundled-base``,
``bundled-chat``), so a viewer can always go back to them.

The workspace keeps a few versions of each kind (``KEEP``); older ones are removed, never the
current one or the version it came from.

Evaluation figures (``llm-tour eval``, and the quick check a fine-tune or a nudge runs when it
ends) are kept by the checkpoint's sha256, in the index's ``measured`` table, so a figure is
only ever shown beside the exact file it was measured on. The bundled models' figures ship in
``engine/bundled/figures.json``, keyed the same way, with the command that measured them.

Pretraining writes its working file (``base.pt``) as it goes, to resume from it; a run marks
that file as a run's (``working``), so a half-trained one never becomes the current model by
itself, during the run or after it was stopped or killed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import workspace as workspaces
from engine.workspace import ARTIFACTS, Workspace, atomic_path, file_sha256, write_text_atomic

KINDS = ("base", "chat")
FOLDER = "models"
INDEX = "index.json"
KEEP = 5  # versions of each kind kept in the workspace (the current one always stays)
STAGE_OF = {"base": "pretrain", "chat": "sft"}
BUNDLED_FIGURES = "figures.json"  # in engine/bundled: what `llm-tour eval` measured there
EVAL = "eval"  # the figures' key of a whole `llm-tour eval`; "eval-10" for `--limit 10`


def bundled_id(kind: str) -> str:
    return f"bundled-{kind}"


@dataclass(frozen=True)
class Version:
    """One model the viewer can choose."""

    id: str
    kind: str  # "base" or "chat"
    stage: str  # "pretrain", "sft", "nudge", or "bundled"
    file: str  # a path relative to the workspace, or absolute for the bundled ones
    parent: str | None = None
    steps: int = 0
    data_hash: str = ""
    created: str = ""
    finished: bool = True
    figures: dict[str, Any] = field(default_factory=dict)  # evaluation figures, by name
    sha256: str = ""  # of the checkpoint file (its measured figures are kept by it)

    @property
    def bundled(self) -> bool:
        return self.stage == "bundled"

    @property
    def origin(self) -> str:
        """Where it came from, in the words every screen uses."""
        return "bundled with llm-tour" if self.bundled else "trained in your workspace"

    def describe(self) -> str:
        """One line: what it is and how far it got ("base-002 · pretrain · 840 steps")."""
        parts = [self.id, self.stage, f"{self.steps:,} steps"]
        if not self.finished:
            parts.append(f"stopped at step {self.steps:,}")
        return " · ".join(parts)

    @property
    def eval_command(self) -> str:
        """The command that measures this version."""
        return f"llm-tour eval --version {self.id}"

    def evaluation(self) -> dict[str, Any] | None:
        """Its fullest measurement: a whole `llm-tour eval`, else the longest ``--limit``."""
        found = [(key, value) for key, value in self.figures.items()
                 if (key == EVAL or key.startswith(EVAL + "-")) and isinstance(value, dict)]
        if not found:
            return None
        return max(found, key=lambda kv: kv[1].get("per_category") or 10**9)[1]

    def headline(self) -> str:
        """Its fullest evaluation's headline, and any other figure, in a few words ("" when
        nothing was measured)."""
        evaluation = self.evaluation()
        parts = [eval_text(evaluation, categories=False)] if evaluation else []
        parts += [f"{name} {value}" for name, value in self.figures.items()
                  if not isinstance(value, dict)]
        return " · ".join(parts)

    def figures_text(self, *, compact: bool = False) -> str:
        """What was measured on this checkpoint, in one line, or how to measure it."""
        evaluation = self.evaluation()
        parts = [eval_text(evaluation, compact=compact) if evaluation else
                 f"not measured yet: {self.eval_command}"]
        parts += [f"{name} {value}" for name, value in self.figures.items()
                  if not isinstance(value, dict)]
        return " · ".join(parts)


def figures_key(per_category: int | None) -> str:
    """Where an evaluation is kept among a version's figures: ``eval`` for all of it,
    ``eval-10`` for the first 10 items of each category."""
    return EVAL if per_category is None else f"{EVAL}-{per_category}"


def eval_text(entry: dict[str, Any], *, compact: bool = False, categories: bool = True) -> str:
    """An evaluation's headline and its share per category, and the command that made it
    ("404 of 455 whole turns right (89%): weather 55%, ... · llm-tour eval")."""
    right, total = int(entry.get("right", 0)), int(entry.get("total", 0))
    share = f"{right / total:.0%}" if total else "-"
    rows = []
    for category, r, t in entry.get("categories", ()):
        cell = f"{r / t:.0%}" if t else "-"
        rows.append(f"{category} {cell}" if compact else f"{category} {r}/{t} ({cell})")
    head = f"{right} of {total} whole turns right ({share})"
    command = entry.get("command", "")
    if categories and rows:
        head += ": " + ", ".join(rows)
    return head + (f" · {command}" if command else "")


class UnknownVersion(KeyError):
    def __str__(self) -> str:
        return (f"no model version {self.args[0]!r} in this workspace; "
                "`llm-tour models` lists the ones there are")


class ModelVersions:
    """The versions in one workspace, read from and written to ``models/index.json``."""

    def __init__(self, workspace: Workspace) -> None:
        self.ws = workspace
        self.folder = workspace.root / FOLDER

    # -- reading ------------------------------------------------------------------------------

    def _index(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / INDEX).read_text("utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        for key in ("versions", "current", "working", "measured"):
            data.setdefault(key, [] if key == "versions" else {})
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.folder / INDEX, json.dumps(data, indent=2, sort_keys=True))

    @contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        """The index to change, written back at the end; one process at a time (the training
        child records figures while the screen's process may switch the current model)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".index.lock", "a+b") as lock:
            _lock(lock)
            data = self._index()
            yield data
            self._write(data)

    def _measured(self, sha: str, index: dict[str, Any] | None = None) -> dict[str, Any]:
        """What was measured on the checkpoint with this sha256: shipped, then in this
        workspace (a later measurement of the same name wins)."""
        if not sha:
            return {}
        index = index if index is not None else self._index()
        found = dict(_bundled_figures().get(sha, {}))
        found.update(index["measured"].get(sha, {}))
        found.pop("file", None)
        return found

    def _version(self, raw: dict[str, Any], index: dict[str, Any]) -> Version:
        version = Version(**raw)
        sha = version.sha256
        if not sha and (path := self.path(version)).exists():  # recorded before hashes were
            sha = checkpoint_hash(path)
        measured = self._measured(sha, index)
        return _replace_figures(version, {**version.figures, **measured}, sha)

    def bundled(self, kind: str, *, steps: bool = True) -> Version | None:
        """The model of ``kind`` that ships with llm-tour; ``steps=False`` reads no file
        (no step count, no figures: what the loader needs, quickly)."""
        path = workspaces.BUNDLED_DIR / ARTIFACTS[kind]
        if not path.exists():
            return None
        version = Version(bundled_id(kind), kind, "bundled", str(path),
                          steps=_steps_of(path) if steps else 0, finished=True)
        if not steps:
            return version
        sha = checkpoint_hash(path)
        return _replace_figures(version, self._measured(sha), sha)

    def list(self, kind: str | None = None, *, steps: bool = True) -> list[Version]:
        """Every version, the bundled ones first, then the workspace's oldest to newest."""
        kinds = (kind,) if kind else KINDS
        out = [v for k in kinds if (v := self.bundled(k, steps=steps)) is not None]
        index = self._index()
        for raw in index["versions"]:
            try:
                version = self._version(raw, index)
            except TypeError:
                continue
            if version.kind in kinds and self.path(version).exists():
                out.append(version)
        return out

    def get(self, version_id: str, *, steps: bool = True) -> Version:
        for kind in KINDS:
            if version_id == bundled_id(kind) and (found := self.bundled(kind, steps=steps)):
                return found
        for version in self.list(steps=False):
            if version.id == version_id:
                return version
        raise UnknownVersion(version_id)

    def path(self, version: Version) -> Path:
        path = Path(version.file)
        return path if path.is_absolute() else self.ws.root / path

    def current(self, kind: str, *, steps: bool = True) -> Version | None:
        """The model of this kind every chapter uses.

        The one chosen in the index; without a choice, the workspace's own ``base.pt``/``chat.pt``
        if no version of this kind was ever recorded and no run of this workspace wrote it
        (a workspace from before versions), else the bundled model (a run that is still going,
        or was stopped early, is offered, not imposed).
        """
        index = self._index()
        chosen = index["current"].get(kind)
        if chosen:
            try:
                return self.get(chosen, steps=steps)
            except UnknownVersion:
                pass
        recorded = any(v.get("kind") == kind for v in index["versions"])
        legacy = self.ws.path(kind)
        if legacy.exists() and not recorded and kind not in index["working"]:
            version = Version(f"workspace-{kind}", kind, STAGE_OF[kind], ARTIFACTS[kind],
                              steps=_steps_of(legacy) if steps else 0)
            if not steps:
                return version
            sha = checkpoint_hash(legacy)
            return _replace_figures(version, self._measured(sha, index), sha)
        return self.bundled(kind, steps=steps)

    def current_path(self, kind: str) -> Path | None:
        version = self.current(kind)
        return self.path(version) if version is not None else None

    def with_file(self, path: str | os.PathLike[str]) -> list[Version]:
        """The versions whose checkpoint is exactly this file's bytes (by sha256)."""
        sha = checkpoint_hash(path)
        return [v for v in self.list() if (v.sha256 or checkpoint_hash(self.path(v))) == sha]

    def working(self, kind: str = "base") -> Version | None:
        """The run's working file (``base.pt``) when it holds a model no version keeps yet (a
        run going on now, or one stopped or killed before it could record itself): the model
        the Training chapter offers. None when there is none, or a version already keeps it."""
        path = self.ws.path(kind)
        if kind not in self._index()["working"] or not path.exists():
            return None
        sha = checkpoint_hash(path)
        if any(v.sha256 == sha for v in self.list(kind, steps=False)):
            return None
        return Version(f"working-{kind}", kind, STAGE_OF[kind], ARTIFACTS[kind],
                       steps=_steps_of(path), finished=False, sha256=sha)

    def newest(self, kind: str) -> Version | None:
        """The version of ``kind`` recorded last, if any."""
        mine = [v for v in self.list(kind, steps=False) if not v.bundled]
        return mine[-1] if mine else None

    # -- writing ------------------------------------------------------------------------------

    def begin_run(self, kind: str = "base") -> None:
        """A run is about to write the workspace's working file of ``kind``: from now on that
        file is only offered, never taken as the current model by itself. A ``base.pt`` from
        before versions that every chapter uses now is kept as a version first."""
        current = self.current(kind, steps=False)
        if current is not None and current.id == f"workspace-{kind}":
            self.record(kind, STAGE_OF[kind], self.ws.path(kind),
                        steps=_steps_of(self.ws.path(kind)), make_current=True)
        with self._changing() as data:
            data["working"][kind] = ARTIFACTS[kind]

    def record(self, kind: str, stage: str, checkpoint: str | os.PathLike[str], *,
               steps: int, data_hash: str = "", finished: bool = True,
               parent: str | None = None, figures: dict[str, Any] | None = None,
               make_current: bool | None = None) -> Version:
        """Keep a copy of ``checkpoint`` as a new version of ``kind``.

        A finished run becomes the current model; a stopped one is kept but not chosen
        (``make_current`` overrides). The parent defaults to the current model of the kind the
        stage started from (the base model for fine-tuning, the chat model for a nudge).
        """
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(KINDS)}")
        if parent is None:
            start = self.current("base" if stage in ("pretrain", "sft") else kind, steps=False)
            parent = start.id if start is not None and stage != "pretrain" else None
        with self._changing() as data:
            number = 1 + max((int(v["id"].rsplit("-", 1)[1]) for v in data["versions"]
                              if v.get("kind") == kind and v["id"].rsplit("-", 1)[1].isdigit()),
                             default=0)
            version_id = f"{kind}-{number:03d}"
            rel = f"{FOLDER}/{version_id}.pt"
            target = self.ws.root / rel
            with atomic_path(target) as tmp:
                shutil.copyfile(checkpoint, tmp)
            version = Version(version_id, kind, stage, rel, parent=parent, steps=int(steps),
                              data_hash=data_hash, finished=finished,
                              created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                              figures=dict(figures or {}), sha256=checkpoint_hash(target))
            data["versions"].append(asdict(version))
            if make_current if make_current is not None else finished:
                data["current"][kind] = version_id
            self._prune(data, kind)
        return version

    def measure(self, checkpoint: str | os.PathLike[str], figures: dict[str, Any]
                ) -> list[Version]:
        """Keep figures measured on ``checkpoint`` (by its sha256) for the versions that are
        this file; returns them (none: nothing is kept, the file is no version here)."""
        sha = checkpoint_hash(checkpoint)
        matching = self.with_file(checkpoint)
        if matching:
            with self._changing() as data:
                data["measured"].setdefault(sha, {}).update(figures)
        return [self.get(v.id) for v in matching]

    def set_figures(self, version_id: str, figures: dict[str, Any]) -> None:
        """Attach figures measured on a version's own checkpoint."""
        version = self.get(version_id)
        self.measure(self.path(version), figures)

    def use(self, version_id: str) -> Version:
        """Make ``version_id`` (or ``bundled-base``/``bundled-chat``) the current model;
        ``working-base`` keeps the run's working file as a version first."""
        prefix, _, kind = version_id.partition("-")
        if prefix == "working" and kind in KINDS:
            offered = self.working(kind)
            if offered is None:
                raise UnknownVersion(version_id)
            return self.record(kind, offered.stage, self.path(offered), steps=offered.steps,
                               finished=False, make_current=True)
        if prefix == "workspace" and kind in KINDS:  # a file from before versions: in use
            current = self.current(kind)
            if current is not None and current.id == version_id:
                return current
        version = self.get(version_id)
        with self._changing() as data:
            data["current"][version.kind] = version.id
        return version

    def undo(self, kind: str = "chat") -> Version:
        """Go back to the version the current one came from (undo a nudge)."""
        current = self.current(kind)
        if current is None or not current.parent:
            raise UnknownVersion(f"the model before {current.id if current else kind}")
        parent = self.get(current.parent)
        if parent.kind != kind:
            raise UnknownVersion(f"the {kind} model before {current.id}")
        return self.use(parent.id)

    def _prune(self, data: dict[str, Any], kind: str) -> None:
        mine = [v for v in data["versions"] if v.get("kind") == kind]
        protected = set(data["current"].values())
        protected |= {v.get("parent") for v in data["versions"] if v["id"] in protected}
        extra = len(mine) - KEEP
        for raw in mine:
            if extra <= 0:
                break
            if raw["id"] in protected:
                continue
            (self.ws.root / raw["file"]).unlink(missing_ok=True)
            data["versions"].remove(raw)
            sha = raw.get("sha256", "")
            if not any(v.get("sha256") == sha for v in data["versions"]):
                data["measured"].pop(sha, None)
            extra -= 1


def _replace_figures(version: Version, figures: dict[str, Any], sha: str | None = None
                     ) -> Version:
    from dataclasses import replace

    return replace(version, figures=figures, sha256=sha if sha is not None else version.sha256)


def _lock(handle: Any) -> None:
    """Hold an exclusive lock on ``handle`` until it is closed (where the platform has one)."""
    try:
        import fcntl
    except ImportError:  # no fcntl (Windows): one writer at a time is then up to the tour
        return
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def data_hash(*paths: str | os.PathLike[str]) -> str:
    """A short hash of the files a stage trained on (its lineage's "data")."""
    return file_sha256(*paths)[:16]


_HASHES: dict[tuple[str, int, int], str] = {}


def checkpoint_hash(path: str | os.PathLike[str]) -> str:
    """The sha256 of a checkpoint file, kept while the file is unchanged (size and mtime)."""
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = file_sha256(path)
    return _HASHES[key]


def _bundled_figures() -> dict[str, Any]:
    """``engine/bundled/figures.json``: sha256 of a shipped checkpoint -> its figures."""
    try:
        data = json.loads((workspaces.BUNDLED_DIR / BUNDLED_FIGURES).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _steps_of(path: Path) -> int:
    """The step count a checkpoint records, read without building the model."""
    try:
        from engine.model.checkpoint import read_meta

        return read_meta(path).step
    except Exception:  # an unreadable file is reported by the loader, not here
        return 0
