"""Shared fixtures: every test gets its own workspace, so nothing touches the user's data."""

from __future__ import annotations

import pytest

from engine.workspace import ENV_VAR, Workspace


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "bundled: the test looks at the artifacts shipped in engine/bundled")


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
