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
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine import workspace as workspaces
from engine.workspace import ARTIFACTS, Workspace, atomic_path, write_text_atomic

KINDS = ("base", "chat")
FOLDER = "models"
INDEX = "index.json"
KEEP = 5  # versions of each kind kept in the workspace (the current one always stays)
STAGE_OF = {"base": "pretrain", "chat": "sft"}


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
            return {"versions": [], "current": {}}
        if not isinstance(data, dict):
            return {"versions": [], "current": {}}
        data.setdefault("versions", [])
        data.setdefault("current", {})
        return data

    def _write(self, data: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.folder / INDEX, json.dumps(data, indent=2, sort_keys=True))

    def bundled(self, kind: str, *, steps: bool = True) -> Version | None:
        path = workspaces.BUNDLED_DIR / ARTIFACTS[kind]
        if not path.exists():
            return None
        return Version(bundled_id(kind), kind, "bundled", str(path),
                       steps=_steps_of(path) if steps else 0, finished=True)

    def list(self, kind: str | None = None, *, steps: bool = True) -> list[Version]:
        """Every version, the bundled ones first, then the workspace's oldest to newest."""
        kinds = (kind,) if kind else KINDS
        out = [v for k in kinds if (v := self.bundled(k, steps=steps)) is not None]
        for raw in self._index()["versions"]:
            try:
                version = Version(**raw)
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
        if no version of this kind was ever recorded (a workspace from before versions), else
        the bundled model (a run that was stopped early is offered, not imposed).
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
        if legacy.exists() and not recorded:  # a stopped run recorded here is only offered
            return Version(f"workspace-{kind}", kind, STAGE_OF[kind], ARTIFACTS[kind],
                           steps=_steps_of(legacy) if steps else 0)
        return self.bundled(kind, steps=steps)

    def current_path(self, kind: str) -> Path | None:
        version = self.current(kind)
        return self.path(version) if version is not None else None

    # -- writing ------------------------------------------------------------------------------

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
            start = self.current("base" if stage in ("pretrain", "sft") else kind)
            parent = start.id if start is not None and stage != "pretrain" else None
        data = self._index()
        number = 1 + max((int(v["id"].rsplit("-", 1)[1]) for v in data["versions"]
                          if v.get("kind") == kind and v["id"].rsplit("-", 1)[1].isdigit()),
                         default=0)
        version_id = f"{kind}-{number:03d}"
        rel = f"{FOLDER}/{version_id}.pt"
        target = self.ws.root / rel
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(checkpoint, tmp)
        version = Version(version_id, kind, stage, rel, parent=parent, steps=int(steps),
                          data_hash=data_hash, finished=finished,
                          created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          figures=dict(figures or {}))
        data["versions"].append(asdict(version))
        if make_current if make_current is not None else finished:
            data["current"][kind] = version_id
        self._prune(data, kind)
        self._write(data)
        return version

    def set_figures(self, version_id: str, figures: dict[str, Any]) -> None:
        """Attach evaluation figures to a version (``llm-tour eval`` writes them here)."""
        data = self._index()
        for raw in data["versions"]:
            if raw["id"] == version_id:
                raw["figures"] = {**raw.get("figures", {}), **figures}
                self._write(data)
                return
        raise UnknownVersion(version_id)

    def use(self, version_id: str) -> Version:
        """Make ``version_id`` (or ``bundled-base``/``bundled-chat``) the current model."""
        version = self.get(version_id)
        data = self._index()
        data["current"][version.kind] = version.id
        self._write(data)
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
            extra -= 1


def data_hash(*paths: str | os.PathLike[str]) -> str:
    """A short hash of the files a stage trained on (its lineage's "data")."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


def _steps_of(path: Path) -> int:
    """The step count a checkpoint records, read without building the model."""
    try:
        from engine.model.checkpoint import read_meta

        return read_meta(path).step
    except Exception:  # an unreadable file is reported by the loader, not here
        return 0
