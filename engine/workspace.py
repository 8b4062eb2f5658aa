"""Where the tour keeps what it builds: one folder, one name per artifact.

The folder is the platform's user data dir unless ``--workdir`` or the
``LLM_TOUR_HOME`` environment variable says otherwise. Every stage writes through
:func:`atomic_path`, so a cancelled run never leaves half a file behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from engine import settings

ENV_VAR = settings.HOME
APP_NAME = "llm-tour"

# Artifacts that ship inside the package, produced by the same pipeline
# (``llm-tour prepare``), for a viewer who jumps ahead without preparing.
BUNDLED_DIR = Path(__file__).parent / "bundled"

ERROR_LOG = "errors.log"  # tracebacks of unexpected errors, newest last

# name -> file name inside the workspace
ARTIFACTS = {
    "dataset": "dataset.parquet",
    "dropped": "dropped.parquet",
    "funnel": "funnel.json",
    "tokenizer": "tokenizer.json",
    "train_shard": "train.bin",
    "val_shard": "val.bin",
    "base": "base.pt",
    "chat": "chat.pt",
    "votes": "votes.sqlite",
}


# The command that builds each artifact again, for messages about a broken one.
REBUILD = {
    "dataset": "llm-tour prepare data",
    "dropped": "llm-tour prepare data",
    "funnel": "llm-tour prepare data",
    "tokenizer": "llm-tour prepare tokenizer",
    "train_shard": "llm-tour prepare tokenizer",
    "val_shard": "llm-tour prepare tokenizer",
    "base": "llm-tour prepare train",
    "chat": "llm-tour prepare sft",
}
WHAT = {"dataset": "dataset", "dropped": "table of dropped pages", "funnel": "funnel",
        "tokenizer": "tokenizer", "train_shard": "token shard", "val_shard": "token shard",
        "base": "base model", "chat": "chat model", "votes": "votes file"}


def artifact_name(path: str | os.PathLike[str]) -> str | None:
    """The artifact a file is (``tokenizer.json`` -> "tokenizer"), if it is one."""
    name = Path(path).name
    if name == "tokenizer-bpe.json":
        return "tokenizer"
    return next((key for key, file in ARTIFACTS.items() if file == name), None)


class BrokenArtifact(ValueError):
    """An artifact that exists but cannot be used. The message names the file, says what
    is wrong with it, and gives the command that builds it again."""

    def __init__(self, path: str | os.PathLike[str], problem: str, name: str | None = None
                 ) -> None:
        self.path = Path(path)
        self.name = name or artifact_name(self.path) or self.path.name
        self.problem = problem
        self.command = REBUILD.get(self.name)
        what = WHAT.get(self.name, "file")
        bundled = BUNDLED_DIR in self.path.parents
        if self.name == "votes":
            remedy = ("Move it aside (the votes in it are lost to the tour) and the next vote "
                      "starts a new file.")
        elif bundled:
            remedy = (f"This copy ships with llm-tour and is damaged: reinstall llm-tour, or "
                      f"build your own with `{self.command}`.")
        else:
            remedy = f"Rebuild it with `{self.command}`." if self.command else \
                "Remove it and prepare the tour again (`llm-tour prepare`)."
        super().__init__(f"{self.path} is not a usable {what}: {problem}. {remedy}")


def default_root() -> Path:
    env = settings.home()
    if env is not None:
        return env
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def cache_root() -> Path:
    """Where derived files that any workspace may share are kept (the user's cache folder):
    nothing in it is an artifact, and all of it can be made again."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Artifact:
    """A file a stage needs, and where it came from (always shown to the viewer)."""

    path: Path
    source: str  # "workspace" or "bundled"
    version: str | None = None  # a model's version id (engine.model.versions)

    @property
    def label(self) -> str:
        return "prepared in your workspace" if self.source == "workspace" else "bundled with llm-tour"


class Workspace:
    """The folder the tour works in. Cheap to create; makes the folder on first write."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def path(self, name: str) -> Path:
        """The workspace path of a named artifact (see ``ARTIFACTS``) or a plain file name."""
        return self.root / ARTIFACTS.get(name, name)

    def ensure(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def find(self, name: str) -> Artifact | None:
        """The workspace's copy of an artifact if it was prepared, else the bundled one.

        For a model (``base``, ``chat``) it is the current version (engine.model.versions):
        the one chosen, never a run that was stopped early unless the viewer chose it.
        """
        if name in ("base", "chat"):
            from engine.model.versions import ModelVersions

            versions = ModelVersions(self)
            current = versions.current(name, steps=False)
            if current is None:
                return None
            return Artifact(versions.path(current), "bundled" if current.bundled else "workspace",
                            current.id)
        mine = self.path(name)
        if mine.exists():
            return Artifact(mine, "workspace")
        bundled = BUNDLED_DIR / ARTIFACTS.get(name, name)
        if bundled.exists():
            return Artifact(bundled, "bundled")
        return None

    def log_error(self, error: BaseException) -> Path:
        """Append the error's traceback to ``errors.log`` in the workspace; returns its path."""
        path = self.path(ERROR_LOG)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        lines = traceback.format_exception(type(error), error, error.__traceback__)
        self.root.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"--- {stamp}\n{''.join(lines)}\n")
        return path

    def clean_leftovers(self, older_than: float = 60.0) -> list[Path]:
        """Remove temporary files that a killed write left behind (``.base.pt.x1y2.tmp``).

        Only files named as :func:`atomic_path` names them, and only ones not touched for
        ``older_than`` seconds, so a write still going on in another process is left alone.
        """
        removed: list[Path] = []
        try:
            candidates = list(self.root.glob(".*.tmp"))
        except OSError:
            return removed
        now = time.time()
        for path in candidates:
            try:
                if path.is_file() and now - path.stat().st_mtime >= older_than:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue
        return removed

    # Small JSON state (where the viewer left off, preferences).
    def read_state(self) -> dict:
        try:
            return json.loads(self.path("state.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def write_state(self, **changes: object) -> None:
        state = self.read_state()
        state.update(changes)
        write_text_atomic(self.path("state.json"), json.dumps(state, indent=2))


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` on success.

    On an exception (including KeyboardInterrupt) the temporary file is removed and
    ``target`` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(target: str | os.PathLike[str], text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def file_sha256(*paths: str | os.PathLike[str]) -> str:
    """The sha256 of the files' bytes, one after the other, in hex."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
