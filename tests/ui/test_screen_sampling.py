"""The Sampling loop chapter: Pilot tests of its keys, and what it looks like."""

from __future__ import annotations

import pytest
from sample_model import install_sample_model
from sizes import SIZE_IDS, SIZES

from screens import sampling
from screens.registry import find_chapter
from screens.sampling import SamplingScreen
from tui.app import TourApp

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

SIZE = (100, 32)


@pytest.fixture
def model_workspace(workspace, tmp_path_factory, monkeypatch):
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    return workspace


def open_chapter(workspace, animations: str = "none") -> TourApp:
    app = TourApp(workspace, start=find_chapter("sampling"))
    app.animation_level = animations
    return app


async def loaded(pilot) -> SamplingScreen:
    """The chapter once its workers are done: one that failed is the chapter's to show (a
    failed worker still listed makes ``wait_for_complete`` raise; the next wait does not)."""
    from textual.worker import WorkerFailed

    for _ in range(20):
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerFailed:
            await pilot.pause()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, SamplingScreen)
    return screen


def context_text(screen: SamplingScreen) -> str:
    return str(screen.context_view.render())


def map_text(screen: SamplingScreen) -> str:
    return str(screen.map_view.render())


@pytest.mark.bundled
async def test_fault_a_broken_base_model_is_named_not_swapped_for_the_bundled_one(workspace):
    """The bundled models are there, but the workspace's own base.pt is truncated: the
    chapter says which file and how to rebuild it, and samples from nothing else."""
    workspace.ensure()
    workspace.path("base").write_bytes(b"PK\x03\x04 half a checkpoint")
    async with open_chapter(workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        line = str(screen.query_one("#model-line").render())
        assert "base.pt" in line and "llm-tour prepare train" in line, line
        assert screen.loaded is None and screen.sampler is None


async def test_space_samples_one_token_into_the_context(model_workspace):
    async with open_chapter(model_workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert context_text(screen) == "The capital of France is"
        assert "for the next token" in str(screen.map_view.border_title)
        assert "base.pt" in str(screen.query_one("#model-line").render())
        assert "prepared in your workspace" in str(screen.query_one("#model-line").render())
        await pilot.press("space")
        event = screen.last
        assert event is not None and event.step == 0
        assert screen.context_view.pieces == [event.text]
        assert context_text(screen) == "The capital of France is" + event.text
        assert "▶" in map_text(screen)
        assert "chose" in str(screen.map_view.border_title)
        await pilot.press("space", "space")
        assert screen.sampler.steps == 3
        assert "token 3/40" in str(screen.query_one("#status").render())


async def test_the_chosen_token_slides_into_the_context(model_workspace, wait_until):
    async with open_chapter(model_workspace, animations="full").run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press(*"[[[[", "space")  # greedy: " Paris"
        assert screen.last.text == " Paris"
        assert len(context_text(screen)) < len("The capital of France is Paris")
        # The slide is an animation: on a busy machine its frames come late, so wait for
        # the last one rather than for a fixed time.
        await wait_until(
            pilot,
            lambda: context_text(screen) == "The capital of France is Paris",
            what="the whole token in the context",
        )


async def test_temperature_zero_says_the_same_thing_with_every_seed(model_workspace):
    async with open_chapter(model_workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press(*"[[[[")
        assert screen.temperature == 0
        assert screen.sampler.next_map().kept_count == 1
        await pilot.press(*["space"] * 4)
        first = context_text(screen)
        assert first.startswith("The capital of France is Paris")
        await pilot.press("s")
        assert screen.sampler.steps == 0
        await pilot.press(*["space"] * 4)
        assert context_text(screen) == first


async def test_the_same_seed_replays_and_settings_change_the_map(model_workspace):
    async with open_chapter(model_workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press(*"]]]")  # 2.0: a flat map, so the draws matter
        assert screen.temperature == 2.0
        await pilot.press(*["space"] * 6)
        first = context_text(screen)
        await pilot.press("r")
        assert context_text(screen) == "The capital of France is"
        await pilot.press(*["space"] * 6)
        assert context_text(screen) == first
        seed = screen.seed
        await pilot.press("s")
        assert screen.seed != seed and screen.sampler.seed == screen.seed

        await pilot.press("k")
        assert screen.top_k == 1
        assert screen.sampler.next_map().kept_count == 1
        assert "cut (the model gave it" in map_text(screen)
        await pilot.press("k", "k")
        assert screen.top_k == 3 and screen.sampler.next_map().kept_count == 3
        await pilot.press("P")
        assert screen.top_p == 0.5
        assert "top-p 0.5" in str(screen.query_one("#status").render())


async def test_play_runs_to_the_end_and_stops(model_workspace, monkeypatch):
    monkeypatch.setattr(sampling, "PACE", 0.01)
    monkeypatch.setattr(sampling, "MAX_TOKENS", 12)
    async with open_chapter(model_workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press(*"]]]", "a")  # warm, so the text runs on for a while
        assert screen._player is not None or screen.sampler.done
        for _ in range(200):
            await pilot.pause(0.02)
            if screen.sampler.done:
                break
        await pilot.pause(0.05)
        assert screen.sampler.done and screen._player is None
        assert screen.last.stop in ("endoftext", "max tokens")
        assert "The loop has ended" in str(screen.query_one("#status").render())
        steps = screen.sampler.steps
        await pilot.press("space")  # at the end, space explains instead of sampling
        assert screen.sampler.steps == steps
        await pilot.press("[")  # new settings after the end: no old map under them
        shown = str(screen.query_one("#map").render())
        assert "%" not in shown and "r runs it again" in shown


async def test_the_viewer_types_a_prompt_and_markup_stays_text(model_workspace):
    async with open_chapter(model_workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        await pilot.press("e")
        box = screen.query_one("#prompt-input")
        assert box.has_focus and box.value == "The capital of France is"
        box.value = ""
        await pilot.press(*"[/b] [red]The capital of Peru is")
        await pilot.press("enter")
        assert not box.has_focus
        assert screen.prompt == "[/b] [red]The capital of Peru is"
        assert context_text(screen) == "[/b] [red]The capital of Peru is"
        await pilot.press("space")
        assert context_text(screen).startswith("[/b] [red]The capital of Peru is")
        # Escape closes the box and keeps the prompt
        await pilot.press("e", "x", "escape")
        assert screen.prompt == "[/b] [red]The capital of Peru is"


async def test_without_a_model_the_chapter_says_how_to_get_one(workspace, monkeypatch):
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    async with open_chapter(workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        line = str(screen.query_one("#model-line").render())
        assert "no base model" in line and "llm-tour prepare train" in line
        await pilot.press("space", "a", "[", "k")  # nothing to run: no crash
        assert screen.sampler is None and screen._player is None

        # A model trained meanwhile (in another chapter) is picked up: the App says so.
        install_sample_model(workspace, workspace.root.parent / "sample-model")
        await pilot.press("left")
        pilot.app.models_changed("base")
        await pilot.press("right")
        screen = await loaded(pilot)
        assert screen.sampler is not None
        assert "base.pt" in str(screen.query_one("#model-line").render())


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_paris_is_chosen(snap_compare, model_workspace, size):
    async def run_before(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()

    assert snap_compare(open_chapter(model_workspace), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_the_end_of_the_document(snap_compare, model_workspace, size):
    async def run_before(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("space", "space", "space")
        await pilot.pause()

    assert snap_compare(open_chapter(model_workspace), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot_greedy_with_top_k(snap_compare, model_workspace, size):
    async def run_before(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("space", "[", "[", "k", "k", "k")
        await pilot.pause()

    assert snap_compare(open_chapter(model_workspace), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("typed, said", [
    ("The capital of France is ", "a trailing space is its own token: ' '"),
    ("The capital of France is paris", "'paris' is a different token from 'Paris'"),
    ("The capital of france is", "'france' is a different token from 'France'"),
])
async def test_the_prompt_box_says_what_a_trailing_space_or_a_lowercase_name_does(
        model_workspace, typed, said):
    async with open_chapter(model_workspace).run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        status = lambda: str(screen.query_one("#status").render())  # noqa: E731
        assert "different token" not in status() and "trailing space" not in status().lower()
        await pilot.press("e")
        box = screen.query_one("#prompt-input")
        box.value = ""
        await pilot.press(*typed)
        await pilot.press("enter")
        await pilot.pause()
        assert said.lower() in status().lower()
        # The same prompt without the surprise says nothing more.
        await pilot.press("e")
        box.value = "The capital of France is"
        await pilot.press("enter")
        await pilot.pause()
        assert "different token" not in status() and "trailing space" not in status().lower()


def in_view(screen: SamplingScreen, *ids: str) -> bool:
    body = screen.query_one("#body")
    return all(body.region.contains_region(screen.query_one(f"#{i}").region) for i in ids)


async def test_a_key_that_drives_the_loop_shows_it_in_a_small_terminal(model_workspace):
    """At 60x20, read down to the notes, then Space: the new token, the status line and the
    map are brought into view, not changed out of sight."""
    async with open_chapter(model_workspace).run_test(size=(60, 20)) as pilot:
        screen = await loaded(pilot)
        assert in_view(screen, "context", "status")  # the status fits the first screen
        for key in ("space", "right_square_bracket", "k", "r"):
            screen.query_one("#body").scroll_end(animate=False)
            await pilot.pause()
            assert not in_view(screen, "status")
            await pilot.press(key)
            await pilot.pause()
            assert in_view(screen, "context", "status"), key
