"""One pipeline: a page the viewer adds in the Data chapter is in the shards the Training
chapter trains on (the tiny preset, Pilot), upweighted in the training mix, and the Sampling
chapter continues the page's first words with the page's own next words."""

from __future__ import annotations

import pytest
from own_page import PAGE, SENTENCE

from engine.data.events import Kept
from engine.data.ownpage import check_page
from engine.data.store import DATASET_COLUMNS, read_rows, write_table
from engine.model.checkpoint import read_meta
from engine.model.versions import ModelVersions, data_hash
from engine.tokenizer.tour import (
    load_tokenizer,
    read_mix,
    read_shard,
    shards_older_than_dataset,
)
from engine.workspace import BUNDLED_DIR
from screens.registry import find_chapter
from screens.sampling import SamplingScreen
from screens.training import TrainingScreen
from tui.app import TourApp

pytestmark = pytest.mark.bundled



def _add_own_page(workspace, tmp_path) -> dict:
    page = tmp_path / "quillanmore.html"
    page.write_text(PAGE, encoding="utf-8")
    events = list(check_page(workspace, str(page), add=True))  # what the Data chapter runs
    assert isinstance(events[-1], Kept), events[-1]
    return events[-1].row


def _shard_text(workspace) -> str:
    tokenizer, artifact = load_tokenizer(workspace)
    assert artifact.source == "workspace"
    return "".join(tokenizer.decode([int(i) for i in read_shard(workspace.path(name))])
                   for name in ("train_shard", "val_shard"))


async def test_an_own_page_reaches_the_shards_the_training_chapter_trains_on(
        workspace, tmp_path, monkeypatch, wait_until):
    monkeypatch.setattr(TrainingScreen, "preset_name", "tiny")
    monkeypatch.setattr(TrainingScreen, "runner", "thread")
    monkeypatch.setattr(TrainingScreen, "threads", 1)
    _add_own_page(workspace, tmp_path)
    assert shards_older_than_dataset(workspace)  # the bundled shards lack the page

    app = TourApp(workspace, start=find_chapter("training"))
    app.animation_level = "none"
    async with app.run_test(size=(100, 32)) as pilot:
        screen = app.screen
        data_line = lambda: str(screen.query_one("#data-line").render())  # noqa: E731
        await wait_until(pilot, lambda: "Data: train.bin" in data_line(),
                         what="the data line after tokenizing")
        assert not shards_older_than_dataset(workspace)
        assert SENTENCE in _shard_text(workspace)
        assert "prepared in your workspace" in data_line()
        tokenizer, _ = load_tokenizer(workspace)
        assert tokenizer.name in data_line()

        await pilot.press("s")
        await wait_until(pilot, lambda: ModelVersions(workspace).current("base").stage
                         == "pretrain" and not screen.running, timeout=300,
                         what="the tiny run to finish")
        current = ModelVersions(workspace).current("base")
        assert current.data_hash == data_hash(workspace.path("train_shard"))
        assert read_meta(ModelVersions(workspace).path(current)).tokenizer_hash == tokenizer.hash


async def test_the_training_chapter_says_it_tokenizes_the_viewers_dataset(
        workspace, tmp_path, monkeypatch, wait_until):
    """The line it shows while the shards are built, then which tokenizer was made."""
    monkeypatch.setattr(TrainingScreen, "preset_name", "tiny")
    shown: list[str] = []
    original = TrainingScreen.show_tokenizing

    def spy(self, event, where):
        done = original(self, event, where)
        if done:
            shown.append(str(self.query_one(where).render()))
        return done

    monkeypatch.setattr(TrainingScreen, "show_tokenizing", spy)
    row_count = len(read_rows(workspace.find("dataset").path)) + 1  # the bundled rows + mine
    _add_own_page(workspace, tmp_path)
    app = TourApp(workspace, start=find_chapter("training"))
    app.animation_level = "none"
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_until(pilot, lambda: any("Tokenized your dataset" in s for s in shown),
                         what="the end of tokenizing")
        assert shown[0].startswith(f"Tokenizing your dataset ({row_count:,} rows)…")


PROMPT = "The harbour of Quillanmore"  # the page's first words
CONTINUED = 8  # tokens of the page's own continuation the model must write


async def test_sampling_continues_my_page_after_the_training_chapter_trained_on_it(
        workspace, tmp_path, monkeypatch, wait_until):
    """A few crawled rows and my page; the Training chapter says how often my page is in the
    mix and trains a tiny model; Sampling, greedy, given the page's first words, writes the
    page's next words."""
    import torch

    from engine.training import loop

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # sampling in the UI's process: one thread, as the tour runs it
    monkeypatch.setitem(loop.PRESETS, "tiny", loop.preset("tiny", max_steps=300))
    monkeypatch.setattr(TrainingScreen, "preset_name", "tiny")
    monkeypatch.setattr(TrainingScreen, "runner", "thread")
    monkeypatch.setattr(TrainingScreen, "threads", 1)
    workspace.ensure()
    write_table(read_rows(BUNDLED_DIR / "dataset.parquet")[:6], DATASET_COLUMNS,
                workspace.path("dataset"))
    row = _add_own_page(workspace, tmp_path)

    app = TourApp(workspace, start=find_chapter("training"))
    app.animation_level = "none"
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            screen = app.screen
            data_line = lambda: str(screen.query_one("#data-line").render())
            await wait_until(pilot, lambda: "Data: train.bin" in data_line(),
                             what="the data line after tokenizing")
            mix = read_mix(workspace)
            assert mix is not None and mix.repeats > 1 and mix.prompt == PROMPT
            assert f"your page is in train.bin {mix.repeats} times" in data_line()

            await pilot.press("s")
            await wait_until(pilot, lambda: ModelVersions(workspace).current("base").stage
                             == "pretrain" and not screen.running, timeout=300,
                             what="the tiny run to finish")
            samples = str(screen.query_one("#samples").render())
            assert f"step   300  {PROMPT}" in samples  # the run sampled my page too

            app.goto(find_chapter("sampling"))
            await wait_until(pilot, lambda: isinstance(app.screen, SamplingScreen)
                             and app.screen.sampler is not None, what="the sampling loop")
            sampling = app.screen
            assert "· 300 steps" in str(sampling.query_one("#model-line").render())
            await pilot.press(*"[[[[")  # temperature 0: greedy
            assert sampling.temperature == 0
            await pilot.press("e")
            box = sampling.query_one("#prompt-input")
            box.value = PROMPT
            await pilot.press("enter")
            await pilot.press(*["space"] * CONTINUED)
            assert sampling.sampler.steps == CONTINUED

            tokenizer = sampling.loaded.tokenizer
            prompt_ids = tokenizer.encode(PROMPT)
            page_ids = tokenizer.encode(row["content"])
            assert page_ids[:len(prompt_ids)] == prompt_ids
            expected = tokenizer.decode(page_ids[len(prompt_ids):len(prompt_ids) + CONTINUED])
            assert expected.startswith(" keeps forty wooden boats")
            assert str(sampling.context_view.render()) == PROMPT + expected
    finally:
        torch.set_num_threads(threads)
