"""The one way to get a model to run: ``load_model(workspace, "base" | "chat")``.

The model is the current version of its kind (``Workspace.find``, which follows
``engine.model.versions``), paired with the tokenizer it was trained with. Nothing is
swapped in silently: a workspace model that cannot be used is an error that names the file
and the command that builds it again, never a quiet switch to the bundled one, and a kind
never stands in for the other (a base model request never returns the chat model). The
bundled model is used only when the workspace has none of that kind, and the result says so
(``source == "bundled"``) so that every caller can show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.tokenizer.protocol import ENDOFTEXT

if TYPE_CHECKING:
    import torch

    from engine.model.checkpoint import CheckpointMeta
    from engine.tokenizer.protocol import HashedTokenizer as Tokenizer
    from engine.workspace import Artifact, Workspace

Kind = Literal["base", "chat"]
KINDS: tuple[str, ...] = ("base", "chat")
WHAT = {"base": "base model", "chat": "chat model"}
# Where in the tour each kind is also made, for the message about a missing one.
CHAPTER = {"base": "the Training loop chapter", "chat": "the Conversations chapter"}


class NoModel(LookupError):
    """No usable model of a kind: there is none, or its file cannot be used.

    The message names the file (when there is one) and the command that builds it again,
    taken from the stage table (``engine.prepare.stages.command_for``) so it cannot drift.
    """

    def __init__(self, message: str, *, kind: str, path: Path | None = None,
                 command: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.path = path
        self.command = command or command_for(kind)

    def __str__(self) -> str:
        return str(self.args[0])


def command_for(kind: str) -> str:
    from engine.prepare.stages import command_for as stage_command

    return stage_command(kind)


def missing(kind: str) -> NoModel:
    """There is no model of ``kind``, in the workspace or bundled."""
    from engine.prepare.stages import commands_before

    before = commands_before(kind)
    after = f"after `{before[-1]}`; " if before else ""
    return NoModel(f"There is no {WHAT[kind]} yet. Build one with\n    {command_for(kind)}\n"
                   f"({after}`llm-tour prepare` builds every stage in order), or in "
                   f"{CHAPTER[kind]}; then try again.", kind=kind)


def broken(kind: str, path: Path, problem: str, *, bundled: bool = False) -> NoModel:
    """The model file at ``path`` exists but cannot be used."""
    command = command_for(kind)
    remedy = (f"This copy ships with llm-tour and is damaged: reinstall llm-tour, or build "
              f"your own with `{command}`." if bundled else f"Rebuild it with `{command}`.")
    return NoModel(f"{path} is not a usable {WHAT[kind]}: {problem.rstrip('.')}. {remedy}",
                   kind=kind, path=path)


@dataclass
class LoadedModel:
    """A model ready to run, with its tokenizer and where both came from."""

    model: torch.nn.Module
    tokenizer: Tokenizer
    kind: str  # "base" or "chat"
    source: str  # "workspace" or "bundled"
    path: Path
    steps: int
    version: str  # the model version's id (engine.model.versions), or the file's name
    tokenizer_hash: str
    meta: CheckpointMeta | None = None
    tokenizer_path: Path | None = None
    tokenizer_source: str = "workspace"

    @property
    def artifact(self) -> Artifact:
        from engine.workspace import Artifact

        return Artifact(self.path, self.source)

    @property
    def tokenizer_artifact(self) -> Artifact | None:
        from engine.workspace import Artifact

        return Artifact(self.tokenizer_path, self.tokenizer_source) if self.tokenizer_path else None

    @property
    def label(self) -> str:
        """What the screens and the CLI say about the model on show."""
        plural = "s" if self.steps != 1 else ""
        trained = f", {self.steps:,} training step{plural}" if self.steps else ""
        return f"{self.kind} model {self.path.name} ({self.artifact.label}{trained})"

    @property
    def stop_ids(self) -> tuple[int, ...]:
        special = getattr(self.tokenizer, "special", {}) or {}
        return tuple(special[name] for name in (ENDOFTEXT,) if name in special)

    def encode(self, prompt: str) -> list[int]:
        """The prompt as ids; an empty prompt starts from <|endoftext|>, a document's start."""
        ids = list(self.tokenizer.encode(prompt)) if prompt else []
        return ids or list(self.stop_ids[:1])


def load_model(ws: Workspace, kind: str = "base", *, path: str | Path | None = None,
               device: str = "cpu") -> LoadedModel:
    """The current ``kind`` model of ``ws`` (or the checkpoint at ``path``) with its tokenizer.

    Raises :class:`NoModel` when there is none, or when the file or its tokenizer cannot be
    used: the message names the file and the command that builds it again.
    """
    from engine import workspace as workspaces
    from engine.model.checkpoint import CheckpointMismatch, build_model, read_checkpoint

    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}; expected one of {', '.join(KINDS)}")
    if path is not None:
        file = Path(path)
        if not file.exists():
            raise NoModel(f"There is no checkpoint at {file}.", kind=kind, path=file)
        bundled = file.resolve().parent == workspaces.BUNDLED_DIR.resolve()
        version = file.name
    else:
        artifact = ws.find(kind)
        if artifact is None:
            raise missing(kind)
        file, bundled, version = artifact.path, artifact.source == "bundled", artifact.version
    source = "bundled" if bundled else "workspace"
    try:
        state, meta = read_checkpoint(file)
    except FileNotFoundError:
        raise missing(kind) from None
    except CheckpointMismatch as error:
        raise broken(kind, file, str(error), bundled=bundled) from None
    tokenizer, tokenizer_artifact = _tokenizer_for(ws, kind, file, meta, bundled)
    try:
        model = build_model(state, meta, file.name)
    except CheckpointMismatch as error:
        raise broken(kind, file, str(error), bundled=bundled) from None
    model.to(device)
    model.eval()
    return LoadedModel(model, tokenizer, kind, source, file, meta.step, version or file.name,
                       meta.tokenizer_hash, meta, tokenizer_artifact.path,
                       tokenizer_artifact.source)


def _tokenizer_for(ws: Workspace, kind: str, file: Path, meta: CheckpointMeta,
                   bundled: bool) -> tuple[Tokenizer, Artifact]:
    """The tokenizer the checkpoint was trained with: the workspace's, else the bundled one.

    A bundled model is tried with the bundled tokenizer first (it was made with it); a
    tokenizer file that is there but broken is an error of its own (BrokenArtifact names it).
    """
    from engine.model.checkpoint import CheckpointMismatch, check_tokenizer
    from engine.workspace import BrokenArtifact

    first = None
    try:
        for tokenizer, artifact in _tokenizers(ws, bundled_first=bundled):
            first = first or (tokenizer, artifact)
            if tokenizer.hash == meta.tokenizer_hash:
                check_tokenizer(meta, tokenizer, file.name)  # the vocabulary must fit too
                return tokenizer, artifact
        if first is None:
            raise NoModel(f"{file} needs a tokenizer and there is none: build one with "
                          f"`{command_for('tokenizer')}`.", kind=kind, path=file,
                          command=command_for("tokenizer"))
        check_tokenizer(meta, first[0], file.name)  # raises: no tokenizer has its hash
    except CheckpointMismatch as error:
        raise broken(kind, file, str(error), bundled=bundled) from None
    except BrokenArtifact as error:  # the tokenizer file itself: its own name and command
        raise NoModel(str(error), kind=kind, path=error.path, command=error.command) from None
    return first


def _tokenizers(ws: Workspace, *, bundled_first: bool) -> Iterator[tuple[Any, Artifact]]:
    from engine.tokenizer.tour import load_tokenizer_file
    from engine.workspace import ARTIFACTS, BUNDLED_DIR, Artifact

    mine = ws.path("tokenizer")
    shipped = BUNDLED_DIR / ARTIFACTS["tokenizer"]
    order = [(shipped, "bundled"), (mine, "workspace")] if bundled_first else \
        [(mine, "workspace"), (shipped, "bundled")]
    for path, source in order:
        if path.exists():
            yield load_tokenizer_file(path), Artifact(path, source)
