"""The Inside the neural net chapter on a small trained model: ids, layers, attention, map."""

from __future__ import annotations

import pytest
from sample_model import install_sample_model
from sizes import SIZE_IDS, SIZES

from engine.model.inside import layer_rows
from screens.inside import InsideScreen, heatmap

SIZE = (100, 32)


@pytest.fixture
def model_workspace(workspace, tmp_path_factory, monkeypatch):
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    return workspace


@pytest.fixture
def loaded(settle):
    async def loaded_(pilot) -> InsideScreen:
        screen = await settle(pilot)
        assert isinstance(screen, InsideScreen)
        return screen

    return loaded_


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_the_real_model_opened_up(model_workspace, open_chapter, loaded):
    async with open_chapter("inside").run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        model = screen.loaded.model
        ids = screen.loaded.tokenizer.encode("The capital of France is")
        context = text_of(screen, "#context")
        assert all(str(i) in context for i in ids)
        assert f"{model.num_params():,}" in text_of(screen, "#total")
        assert "base.pt" in text_of(screen, "#model-line")
        assert '" Paris"' in text_of(screen, "#out")
        assert "layer 1 of 2, head 1 of 2" in str(
            screen.query_one("#attention").border_title)


async def test_keys_choose_layer_and_head_and_a_context(model_workspace, open_chapter, loaded,
                                                        settle):
    async with open_chapter("inside").run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        first = screen.shown_view.attention
        await pilot.press("l", "h")
        await settle(pilot)
        assert "layer 2 of 2, head 2 of 2" in str(screen.query_one("#attention").border_title)
        assert screen.shown_view.attention != first
        await pilot.press("e")
        screen.query_one("#context-input").value = "The capital of Peru is"
        await pilot.press("enter")
        await settle(pilot)
        assert screen.context_text == "The capital of Peru is"
        assert '" Lima"' in text_of(screen, "#out")


async def test_no_model_is_explained(workspace, monkeypatch, open_chapter, loaded):
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    async with open_chapter("inside").run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert "Training loop" in text_of(screen, "#model-line")


def test_layer_rows_add_up_to_the_total():
    from engine.model.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(vocab_size=50, block_size=8, n_layer=2, n_head=2, n_embd=16))
    rows = layer_rows(model)
    assert sum(count for _, _, count in rows) == model.num_params()
    assert rows[0][:2] == ("token embedding", "50 × 16")


def test_heatmap_prints_tokens_as_text_and_hides_the_future():
    text = heatmap(["[/b]", "x"], [[1.0, 0.0], [0.25, 0.75]], 60)
    plain = text.plain
    assert "[/b]" in plain
    rows = plain.splitlines()[1:]
    assert rows[0].split()[1:] == ["1.0"]  # the future is blank, not 0
    assert rows[1].split()[1:] == [".25", ".75"]  # weights as they are: a row adds up to 1


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot(model_workspace, snap_compare, size, open_chapter, loaded):
    async def run_before(pilot):
        await loaded(pilot)  # the maps drawn: the chapter is as long as it gets
        await pilot.press("end")
        await loaded(pilot)

    app = open_chapter("inside")
    assert snap_compare(app, terminal_size=size, run_before=run_before)
