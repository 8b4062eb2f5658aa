"""Fault corpus, chapters: a broken workspace file is named on the chapter that reads it,
with the command that builds it again, and never quietly replaced by another one.

Each case starts from a workspace the earlier chapters would leave (the sample model's
tokenizer and base.pt, shards, a dataset, a chat model), damages one file, opens the
chapter that reads it and looks at every word on the screen.
"""

from __future__ import annotations

import os
import shutil

import pytest
from sample_model import install_sample_model, write_capital_shards
from textual.widgets import Static

from engine.data.store import DATASET_COLUMNS, write_table
from engine.workspace import ARTIFACTS, REBUILD
from screens.registry import find_chapter
from tui.app import TourApp

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

SIZE = (120, 40)


@pytest.fixture
def ready(workspace, tmp_path_factory):
    """What the earlier chapters leave: tokenizer, shards, dataset, base.pt and chat.pt."""
    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    write_capital_shards(workspace)
    shutil.copy(workspace.path("base"), workspace.path("chat"))
    rows = [{"url": f"site.example/{i}", "title": f"Page {i}", "source": "site.example",
             "content": f"The capital of France is Paris. Page {i}. " * 5, "language": "en",
             "language_score": 0.99, "token_count": 40, "fetched_at": "2026-01-01T00:00:00"}
            for i in range(3)]
    write_table(rows, DATASET_COLUMNS, workspace.path("dataset"))
    return workspace


def _half(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _random(path):
    path.write_bytes(os.urandom(4096))


DAMAGE = {"half": _half, "random": _random,
          "not-json": lambda p: p.write_bytes(b"{this is not json"),
          "odd-bytes": lambda p: p.write_bytes(b"\x01\x00\x02")}

CASES = [
    ("tokenizer", "not-json", "tokens"),
    ("tokenizer", "not-json", "sampling"),
    ("train_shard", "odd-bytes", "tokens"),
    ("dataset", "half", "data"),
    ("dataset", "random", "tools"),
    ("funnel", "not-json", "data"),
    ("base", "half", "inside"),
    ("base", "random", "sampling"),
    ("chat", "half", "conversations"),
    ("chat", "random", "tools"),
    ("chat", "half", "preferences"),
    ("votes", "random", "preferences"),
    ("votes", "random", "summary"),
]


def screen_words(app) -> str:
    """Every word on the screen: each widget's content, titles, and the notifications."""
    parts = []
    for widget in app.screen.walk_children():
        parts += [str(widget.border_title or ""), str(widget.border_subtitle or "")]
        if isinstance(widget, Static):
            parts.append(str(widget.render()))
    parts += [str(n.message) for n in app._notifications]
    return "\n".join(parts)


async def read_every_step(pilot, wait_until, name: str) -> str:
    """Step through the chapter as a viewer does until ``name`` is on the screen; on the
    last step, wait for it (the test fails if it never comes). The words on the screen."""

    async def settled():
        # A stage that fails is expected here (its chapter shows why), so wait for the
        # workers to finish rather than for them all to succeed.
        await wait_until(pilot, lambda: all(w.is_finished for w in pilot.app.workers),
                         what="the chapter's stages to finish")
        await pilot.pause()
        return pilot.app.screen

    screen = await settled()
    while name not in screen_words(pilot.app) and screen.step < screen.step_count - 1:
        await screen.action_next_step()
        await settled()
    await wait_until(pilot, lambda: name in screen_words(pilot.app),
                     what=f"{name} named on the screen")
    return screen_words(pilot.app)


@pytest.mark.parametrize("artifact, damage, chapter", CASES,
                         ids=[f"{a}-{d}-{c}" for a, d, c in CASES])
async def test_fault_a_broken_file_is_named_on_its_chapter(ready, wait_until, artifact, damage,
                                                          chapter):
    path = ready.path(artifact)
    if not path.exists():
        path.write_bytes(b"")
    DAMAGE[damage](path)
    app = TourApp(ready, start=find_chapter(chapter))
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        words = await read_every_step(pilot, wait_until, ARTIFACTS[artifact])
    assert app.failure is None
    assert ARTIFACTS[artifact] in words, words
    command = REBUILD.get(artifact, "Move it aside")
    assert command in words, words
