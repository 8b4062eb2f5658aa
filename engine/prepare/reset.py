"""Back to the bundled artifacts: what ``llm-tour reset`` removes, said before it removes it.

A reset removes what the tour built in the workspace (the dataset with any pages the viewer
added, the tokenizers and token shards, every model version, the fine-tune's scratch file and
the record of what was prepared), so every chapter shows the artifacts that ship with llm-tour
again. It keeps what is the viewer's own and not rebuilt by a stage: the votes (unless asked),
where the tour was left off, the SSH host key, the error log and visitors' sessions.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.workspace import ARTIFACTS, Workspace

BUILT = ("dataset", "dropped", "funnel", "tokenizer", "train_shard", "val_shard", "base", "chat")
# files and folders a stage writes beside the named artifacts
BUILT_EXTRA = ("tokenizer-bpe.json", "train-mix.json", "chat.partial.pt", "prepared.json", "models")


@dataclass(frozen=True)
class ResetPlan:
    remove: tuple[Path, ...]  # what exists and will go
    keep: tuple[Path, ...]  # what exists and stays

    @property
    def empty(self) -> bool:
        return not self.remove

    def lines(self, root: Path) -> list[str]:
        def name(path: Path) -> str:
            rel = path.relative_to(root).as_posix()
            return rel + "/" if path.is_dir() else rel
        out = [f"remove {name(p)}" for p in self.remove]
        out += [f"keep   {name(p)}" for p in self.keep]
        return out


def plan(ws: Workspace, *, votes: bool = False) -> ResetPlan:
    """What a reset of ``ws`` would remove and keep (nothing is touched)."""
    names = [ARTIFACTS[n] for n in BUILT] + list(BUILT_EXTRA)
    if votes:
        names.append(ARTIFACTS["votes"])
    remove = tuple(p for p in (ws.root / n for n in names) if p.exists())
    # temporary files a killed save left behind go too
    if ws.root.is_dir():
        remove += tuple(sorted(p for p in ws.root.glob(".*.tmp") if p.is_file()))
    keep = ()
    if ws.root.is_dir():
        keep = tuple(sorted(p for p in ws.root.iterdir()
                            if p not in remove and not p.name.startswith(".")))
    return ResetPlan(remove, keep)


def reset(ws: Workspace, *, votes: bool = False) -> ResetPlan:
    """Remove what :func:`plan` lists; return the plan that was carried out."""
    done = plan(ws, votes=votes)
    for path in done.remove:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return done
