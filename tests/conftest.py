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
