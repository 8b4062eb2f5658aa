"""A remote visitor's own workspace: what they write stays theirs, what was prepared is shared.

A tour served over SSH or the web runs one process per visitor. Each visitor gets a
folder under ``<workspace>/sessions/`` holding links to the presenter's prepared
artifacts. Stages write through ``atomic_path``, which renames a new file over the
link and never writes into the file it points to, so a visitor can rebuild anything
without touching the presenter's copy. Votes are the exception: every visitor's vote
goes to the one shared store named by ``LLM_TOUR_VOTES``.

The folder is removed when the visitor leaves; a folder left behind by a process
that died is swept the next time a session opens.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from engine.threads import THREADS_ENV, threads_for
from engine.workspace import ARTIFACTS, ENV_VAR, Workspace

SESSIONS_DIR = "sessions"
OWNER_FILE = "owner.pid"
VOTES_ENV = "LLM_TOUR_VOTES"  # the shared vote store (engine/preference/votes.py reads it)
OFFLINE_ENV = "LLM_TOUR_OFFLINE"  # "1": the crawler fetches nothing outside the sample web
REMOTE_ENV = "LLM_TOUR_REMOTE"  # "1": a remote visitor; "add your own page" reads no file or URL
SLOW_LINK_ENV = "LLM_TOUR_SLOW_LINK"  # "1": fewer frames, no animation

# What a visitor's process inherits from the server's environment; nothing else
# (no credentials or tokens the server happens to hold).
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "VIRTUAL_ENV",
              "TIKTOKEN_CACHE_DIR", "TMPDIR", "SYSTEMROOT")
# What a visitor's own client may set (ssh's SendEnv): colours and language only.
CLIENT_ENV = ("COLORTERM", "LANG", "LC_ALL", "LC_CTYPE")


@dataclass(frozen=True)
class SessionLimits:
    """What one visitor's process may use. Defaults suit a laptop serving a small room."""

    threads: int = field(default_factory=lambda: threads_for("visitor"))  # torch/BLAS threads
    slow_link: bool = True  # a remote screen: 10 frames a second, no animation
    fps: int = 10


def slow_link_env(fps: int = 10) -> dict[str, str]:
    """Textual settings for a link where every frame costs: fewer frames, nothing animated."""
    return {"TEXTUAL_FPS": str(fps), "TEXTUAL_ANIMATIONS": "none", SLOW_LINK_ENV: "1"}


def thread_env(threads: int) -> dict[str, str]:
    """Cap every thread pool the engine can reach (torch, BLAS, the tokenizer's Rust)."""
    value = str(max(1, threads))
    return {name: value for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                     "OPENBLAS_NUM_THREADS", "RAYON_NUM_THREADS", THREADS_ENV)}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(shared: Workspace) -> int:
    """Remove session folders whose owning process is gone. Returns how many."""
    root = shared.root / SESSIONS_DIR
    removed = 0
    if not root.is_dir():
        return 0
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        try:
            pid = int((folder / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            pid = 0
        if pid and _alive(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def open_session(shared: Workspace, kind: str, owner: int | None = None) -> Path:
    """Make a visitor's folder, linked to the shared prepared artifacts.

    ``owner`` is the process that will remove the folder (this one by default).
    """
    sweep_stale(shared)
    root = shared.root / SESSIONS_DIR
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=root))
    (folder / OWNER_FILE).write_text(str(owner or os.getpid()))
    for source in shared.root.iterdir():
        if source.is_file() and not _private(source.name):
            (folder / source.name).symlink_to(source.resolve())
    return folder


def _private(name: str) -> bool:
    """Files a visitor never sees: the presenter's own place, the votes, the host key."""
    votes = ARTIFACTS["votes"]
    return (name.startswith((".", "ssh_host_", votes)) or name == "state.json")


def close_session(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def session_env(shared: Workspace, folder: Path, limits: SessionLimits,
                client: dict[str, str] | None = None) -> dict[str, str]:
    """The whole environment of a visitor's process."""
    env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
    passed = CLIENT_ENV if not limits.slow_link else tuple(n for n in CLIENT_ENV
                                                           if n != "COLORTERM")
    # On a slow link, 256 colours: an escape of 38;5;n instead of 38;2;r;g;b per colour change.
    env.update({name: value for name, value in (client or {}).items() if name in passed})
    env.update(thread_env(limits.threads))
    if limits.slow_link:
        env.update(slow_link_env(limits.fps))
    env.update({
        ENV_VAR: str(folder),
        VOTES_ENV: str(shared.path("votes").resolve()),
        OFFLINE_ENV: "1",
        REMOTE_ENV: "1",
        "HOME": str(folder),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def tour_command(*args: str) -> list[str]:
    """The command that starts one tour with this interpreter."""
    return [sys.executable, "-m", "tui.cli", *args]


def run_web_visitor(shared_root: str, limits: SessionLimits) -> int:
    """One browser visitor: own folder, own environment, then the tour in this process.

    textual-serve starts this for every visitor (``python -m tui.serve --visitor``).
    """
    shared = Workspace(shared_root)
    folder = open_session(shared, "web")
    try:
        # textual-serve's settings (its web driver, the page's size), then the visitor's own
        env = {name: value for name, value in os.environ.items()
               if name.startswith(("TEXTUAL_", "TERM_PROGRAM", "COLUMNS", "ROWS"))}
        env.update(session_env(shared, folder, limits))
        import subprocess

        return subprocess.call(tour_command(), cwd=folder, env=env)
    finally:
        close_session(folder)
