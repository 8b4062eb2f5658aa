"""Shared fixtures: every test gets its own workspace, so nothing touches the user's data.

The ``slow`` test (the default preset, trained in full) runs only when asked for:
``pytest -m slow``. Snapshot tests see every model figure masked (screens.widgets.figures),
so a stored screen holds layout and words, never the last digits of a CPU's floating point.
"""

from __future__ import annotations

import pytest

from engine.workspace import ENV_VAR, Workspace


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "bundled: the test looks at the artifacts shipped in engine/bundled")


def pytest_collection_modifyitems(config, items) -> None:
    if config.getoption("markexpr"):  # `-m slow` (or any -m) chooses for itself
        return
    skip = pytest.mark.skip(reason="trains for minutes: run it with `pytest -m slow`")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)


@pytest.fixture
def snap_compare(snap_compare, monkeypatch):
    """pytest-textual-snapshot's ``snap_compare``, with model figures masked on screen."""
    monkeypatch.setattr("screens.widgets.figures.MASKED", True)
    return snap_compare


@pytest.fixture(autouse=True, scope="session")
def cache_folder(tmp_path_factory):
    """Derived files the tour caches (the unpacked language model) go to a folder of the test
    run's, not the user's cache; child processes inherit it."""
    import os

    folder = tmp_path_factory.mktemp("cache")
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(autouse=True)
def workspace(request, tmp_path_factory, monkeypatch) -> Workspace:
    """A fresh workspace. The shipped artifacts are hidden unless the test is marked
    ``bundled``, so a test sees exactly what it prepared itself."""
    root = tmp_path_factory.mktemp("workspace")
    monkeypatch.setenv(ENV_VAR, str(root))
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    if request.node.get_closest_marker("bundled") is None:
        monkeypatch.setattr("engine.workspace.BUNDLED_DIR", root / "nothing-bundled")
    return Workspace(root)


WAIT_S = 60.0  # the longest any test waits for the tour's workers or a condition


@pytest.fixture
def open_chapter(workspace):
    """``open_chapter(slug, ws=None)``: the tour opened at that chapter, animations off."""
    from screens.registry import find_chapter
    from tui.app import TourApp

    def open_(slug: str, ws: Workspace | None = None) -> TourApp:
        app = TourApp(ws or workspace, start=find_chapter(slug))
        app.animation_level = "none"
        return app

    return open_


@pytest.fixture
def settle():
    """``await settle(pilot)``: every worker of the tour has finished (at most ``timeout``
    seconds, then the test fails), and the messages they posted are handled."""
    import asyncio

    from textual.worker import WorkerCancelled

    async def finished(app) -> None:
        """Every worker done; one the chapter cancelled (it started a newer one in its
        group) is done too, and what replaced it is waited for."""
        while app.workers:
            try:
                await app.workers.wait_for_complete()
                return
            except WorkerCancelled:
                await asyncio.sleep(0.01)  # the manager lets go of the cancelled one

    async def settle_(pilot, timeout: float = WAIT_S):
        try:
            await asyncio.wait_for(finished(pilot.app), timeout)
        except TimeoutError:
            running = ", ".join(w.name or w.group for w in pilot.app.workers)
            pytest.fail(f"workers still running after {timeout:.0f} s: {running}")
        await pilot.pause()
        return pilot.app.screen

    return settle_


@pytest.fixture
def wait_until():
    """``await wait_until(pilot, condition)``: pause until ``condition()`` holds; the test
    fails after ``timeout`` seconds."""
    import time

    async def wait_(pilot, condition, timeout: float = WAIT_S, what: str = "the condition"):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} did not come within {timeout:.0f} s")
            await pilot.pause(0.05)

    return wait_


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module's tests: tiny models run fastest on one, the numbers are
    the same everywhere, and a busy machine's cores are not fought over."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
