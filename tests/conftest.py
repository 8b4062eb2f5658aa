"""Shared fixtures: every test gets its own workspace, so nothing touches the user's data."""

from __future__ import annotations

import pytest

from engine.workspace import ENV_VAR, Workspace


@pytest.fixture(autouse=True)
def workspace(tmp_path_factory, monkeypatch) -> Workspace:
    root = tmp_path_factory.mktemp("workspace")
    monkeypatch.setenv(ENV_VAR, str(root))
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    return Workspace(root)
