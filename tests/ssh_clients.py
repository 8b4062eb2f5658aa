"""What the SSH tests share: reading a terminal's output as plain text, and a client key
that the server's authorized_keys file lets in."""

from __future__ import annotations

import re

import asyncssh
import pytest

ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-B]|[=>78])")
TIMEOUT = 60  # seconds; the machine may be busy


def plain(text: str) -> str:
    """A terminal's output without its escape sequences."""
    return ANSI.sub("", text)


@pytest.fixture
def client_key():
    return asyncssh.generate_private_key("ssh-ed25519")


@pytest.fixture
def keys_file(tmp_path, client_key):
    path = tmp_path / "authorized_keys"
    path.write_bytes(client_key.export_public_key())
    return path
