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

from engine import settings
from engine.threads import threads_for
from engine.workspace import ARTIFACTS, ENV_VAR, Workspace

SESSIONS_DIR = "sessions"
OWNER_FILE = "owner.pid"
# The variables a visitor's process is given (engine/settings.py says what each does).
VOTES_ENV = settings.VOTES
OFFLINE_ENV = settings.OFFLINE
REMOTE_ENV = settings.REMOTE
THREADS_ENV = settings.THREADS
SLOW_LINK_ENV = settings.SLOW_LINK
VOTER_ENV = settings.VOTER

# Leave the alternate screen, cursor shown, every mouse mode off, keys and paste back to normal:
# what a terminal needs after a tour that was cut off, whatever the tour had switched on.
RESTORE = ("\x1b[<u\x1b[?2004l\x1b[?1004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l"
           "\x1b[?1006l\x1b[?7h\x1b[0m\x1b[?25h\x1b[?1049l")


def full_message(cap: int) -> str:
    return f"The room is full ({cap} of {cap}). Please try again in a moment."


def idle_message(timeout: float) -> str:
    minutes = timeout / 60
    amount = f"{minutes:g} minutes" if minutes >= 1 else f"{timeout:g} seconds"
    return f"Closed after {amount} without a key press or anything to watch."


def cpu_seconds(pid: int) -> float:
    """CPU seconds used by a process and every process below it (Linux /proc; 0.0 elsewhere).

    A visitor's tour computing something (training, sampling, a crawl in a child process)
    uses CPU; a tour waiting for a key uses next to none. That is how a server tells a
    viewer watching a run from one who walked away, without asking the tour."""
    total = 0.0
    todo, seen = [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        proc = Path(f"/proc/{current}")
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
            for task in (proc / "task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return total


def hide_paths(text: str, workspace_root: Path) -> str:
    """A remote viewer's copy of a message: no path of the server's folders in it.

    ``.../sessions/ssh-xyz/chat.pt`` becomes ``chat.pt`` (the visitor's own folder and the
    presenter's workspace above it), and a bare folder becomes "the tour's folder"; a
    viewer learns nothing of where, or as whom, the server keeps its files."""
    roots = {workspace_root, workspace_root.resolve()}
    for root in list(roots):
        if root.parent.name == SESSIONS_DIR:
            roots |= {root.parent.parent, root.parent.parent.resolve()}
    home = Path.home()
    for root in sorted({str(r) for r in roots if str(r) not in ("/", str(home))},
                       key=len, reverse=True):
        text = text.replace(root + os.sep, "").replace(root, "the tour's folder")
    return text


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
    link_prepared(shared, folder)
    return folder


def link_prepared(shared: Workspace, folder: Path) -> int:
    """Link what the presenter has prepared into a visitor's folder, where the visitor has
    nothing of that name yet (a room's visitor gets what the room's runs built since they
    came in). Returns how many links were made."""
    made = 0
    for source in shared.root.iterdir():
        target = folder / source.name
        if source.is_file() and not _private(source.name) and not os.path.lexists(target):
            try:
                target.symlink_to(source.resolve())
            except FileExistsError:
                continue
            made += 1
    return made


def _private(name: str) -> bool:
    """Files a visitor never sees: the presenter's own place, the votes, the host key."""
    votes = ARTIFACTS["votes"]
    return (name.startswith((".", "ssh_host_", votes)) or name == "state.json")


def close_session(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def session_env(shared: Workspace, folder: Path, limits: SessionLimits,
                client: dict[str, str] | None = None, voter: str = "") -> dict[str, str]:
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
    if voter:
        env[VOTER_ENV] = voter
    return env


def tour_command(*args: str) -> list[str]:
    """The command that starts one tour with this interpreter."""
    return [sys.executable, "-m", "tui.cli", *args]


def run_web_visitor(shared_root: str, limits: SessionLimits, voter: str = "") -> int:
    """One browser visitor: own folder, own environment, then the tour in this process.

    textual-serve starts this for every visitor (``python -m tui.serve --visitor``).
    """
    shared = Workspace(shared_root)
    folder = open_session(shared, "web")
    try:
        # textual-serve's settings (its web driver, the page's size), then the visitor's own
        env = {name: value for name, value in os.environ.items()
               if name.startswith(("TEXTUAL_", "TERM_PROGRAM", "COLUMNS", "ROWS"))}
        env.update(session_env(shared, folder, limits, voter=voter))
        import subprocess

        return subprocess.call(tour_command(), cwd=folder, env=env)
    finally:
        close_session(folder)
