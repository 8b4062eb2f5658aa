"""Every ``LLM_TOUR_*`` environment variable, named and read here and nowhere else.

Most are set by a tour server for each visitor's process (``tui/session.py`` writes them);
``LLM_TOUR_HOME`` and ``LLM_TOUR_THREADS`` are also for whoever runs the tour. They are read
when asked for, not at import, so a test (or a server) that sets one sees it take effect.
Also here: how many CPU cores this process may use, which the thread settings start from.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME = "LLM_TOUR_HOME"  # the workspace folder (``--workdir`` says the same)
THREADS = "LLM_TOUR_THREADS"  # a cap on torch's threads (a shared server: one per visitor)
OFFLINE = "LLM_TOUR_OFFLINE"  # "1": the crawler fetches nothing outside the sample web
REMOTE = "LLM_TOUR_REMOTE"  # "1": a remote visitor; "add your own page" reads no file or URL
VOTES = "LLM_TOUR_VOTES"  # the one vote store every visitor of a tour server votes into
SLOW_LINK = "LLM_TOUR_SLOW_LINK"  # "1": a remote screen; fewer frames, no animation
USER = "LLM_TOUR_USER"  # the visitor's name on a tour served over SSH
VOTER = "LLM_TOUR_VOTER"  # who votes: an SSH key's fingerprint, a user, a browser cookie


def _flag(name: str) -> bool:
    return os.environ.get(name) == "1"


def home() -> Path | None:
    """The workspace folder the environment names, if it names one."""
    value = os.environ.get(HOME)
    return Path(value).expanduser() if value else None


def threads_cap() -> int | None:
    """The thread cap a shared server set for this process (a whole number above 0), if any."""
    value = os.environ.get(THREADS, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def offline() -> bool:
    return _flag(OFFLINE)


def remote() -> bool:
    return _flag(REMOTE)


def slow_link() -> bool:
    return _flag(SLOW_LINK)


def voter() -> str | None:
    """Who votes, as a tour server knows them (a key's fingerprint, a user, a cookie)."""
    return os.environ.get(VOTER) or None


def shared_votes() -> Path | None:
    """The shared vote store a tour server names, if it names one."""
    value = os.environ.get(VOTES)
    return Path(value) if value else None


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity, which a container or taskset
    narrows), not every core of the machine."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1
