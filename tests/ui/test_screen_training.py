"""The Training loop chapter: one step on a real window, then a live run, with a tiny model."""

from __future__ import annotations

import pytest
from sample_model import install_sample_model, write_capital_shards
from sizes import SIZE_IDS, SIZES

from engine.model.checkpoint import read_meta
from screens.registry import find_chapter
from screens.training import TrainingScreen, val_rising
from screens.widgets.loss_chart import LossChart
from tui.app import TourApp

SIZE = (100, 32)


@pytest.fixture
def data_workspace(workspace, tmp_path_factory, monkeypatch):
    """Tokenizer and shards, no trained model."""
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    monkeypatch.setattr(TrainingScreen, "preset_name", "tiny")
    monkeypatch.setattr(TrainingScreen, "runner", "thread")
    install_sample_model(workspace, tmp_path_factory.getbasetemp() / "sample-model")
    workspace.path("base").unlink()
    write_capital_shards(workspace)
    return workspace


def open_chapter(ws) -> TourApp:
    app = TourApp(ws, start=find_chapter("training"))
    app.animation_level = "none"
    return app


async def settled(pilot) -> TrainingScreen:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TrainingScreen)
    return screen


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_one_step_on_the_france_window(data_workspace):
    async with open_chapter(data_workspace).run_test(size=SIZE) as pilot:
        screen = await settled(pilot)
        window = text_of(screen, "#window")
        assert "The capital of France is" in window and "Paris" in window
        assert "token IDs:" in window
        assert '" Paris"' in text_of(screen, "#before") and "✓ next" in text_of(screen, "#after")
        nudge = text_of(screen, "#nudge-line")  # the token quoted as the texts quote it:
        assert 'probability of "␣Paris" went from' in nudge  # no space to break a line at
        assert "s trains a model" in text_of(screen, "#run-status")


def test_val_rising_means_clearly_above_the_lowest_point():
    assert val_rising(1.302, 1.162)
    assert not val_rising(1.17, 1.162) and not val_rising(None, None)


async def test_a_rising_validation_loss_is_explained(data_workspace):
    async with open_chapter(data_workspace).run_test(size=SIZE) as pilot:
        screen = await settled(pilot)
        screen.best_val, screen.last_val = 1.162, 1.302
        screen.update_status()
        assert "overfitting" in text_of(screen, "#run-status")
        screen.last_val = 1.17
        screen.update_status()
        assert "overfitting" not in text_of(screen, "#run-status")


@pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=["60x20", "80x24"])
async def test_the_status_of_a_run_wraps_between_figures_never_inside_one(data_workspace,
                                                                          size):
    from types import SimpleNamespace

    async with open_chapter(data_workspace).run_test(size=size) as pilot:
        screen = await settled(pilot)
        screen.last_step = SimpleNamespace(step=1234, max_steps=1600, loss=2.3456,
                                           tokens_per_s=12345.0, eta=83.0)
        screen.last_val, screen.best_val = 2.4567, 2.4567
        screen.device_label = "CPU, 2 threads · float32"
        screen.running = True
        screen.update_status()
        await pilot.pause()
        status = screen.query_one("#run-status")
        lines = [strip.text.strip() for strip in status.render_lines(status.region.reset_offset)]
        for group in ("step 1,234/1,600", "loss 2.346", "val 2.457", "12,345 tok/s",
                      "ETA 1:23", "▶ training on CPU, 2 threads · float32"):
            assert any(group in line for line in lines), (group, lines)


async def test_a_full_run_draws_loss_probe_and_samples(data_workspace):
    async with open_chapter(data_workspace).run_test(size=SIZE) as pilot:
        screen = await settled(pilot)
        await pilot.press("s")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        chart = screen.query_one("#chart", LossChart)
        assert len(chart.train) == 30 and chart.val
        assert chart.train[-1][1] < chart.train[0][1]
        assert "step 30/30" in text_of(screen, "#run-status")
        assert "capitals" in text_of(screen, "#run-status")
        assert '" Paris"' in text_of(screen, "#probe")
        assert "step" in text_of(screen, "#samples")
        assert read_meta(data_workspace.path("base")).step == 30


async def test_stop_keeps_a_checkpoint_and_start_goes_on(data_workspace, monkeypatch):
    from engine.training import loop as train

    monkeypatch.setitem(train.PRESETS, "tiny",
                        train.preset("tiny", max_steps=400, checkpoint_interval=1000))
    async with open_chapter(data_workspace).run_test(size=SIZE) as pilot:
        screen = await settled(pilot)
        await pilot.press("s")
        while screen.last_step is None or screen.last_step.step < 3:
            await pilot.pause(0.05)
        await pilot.press("x")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        stopped = read_meta(data_workspace.path("base")).step
        assert 3 <= stopped < 400
        assert "Stopped at step" in text_of(screen, "#run-status")
        assert screen.existing is not None and screen.existing.step == stopped
        await pilot.press("s")
        while screen.last_step is None or screen.last_step.step <= stopped:
            await pilot.pause(0.05)
        await pilot.press("x")
        await screen.workers.wait_for_complete()
        assert read_meta(data_workspace.path("base")).step > stopped


async def test_missing_data_is_explained_in_the_chapter(workspace, monkeypatch):
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", workspace.root / "nothing-bundled")
    async with open_chapter(workspace).run_test(size=SIZE) as pilot:
        screen = await settled(pilot)
        assert "prepare tokenizer" in text_of(screen, "#data-line")


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_snapshot(data_workspace, snap_compare, size):
    async def run_before(pilot):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        window = pilot.app.screen.query_one("#window")
        # Lines above the window (the data and mix lines) fill in as their workers report:
        # scroll again until the window stays put at the top, as a viewer would see it.
        where = None
        for _ in range(20):
            window.scroll_visible(top=True, animate=False)
            await pilot.pause()
            if window.region == where:
                break
            where = window.region

    app = open_chapter(data_workspace)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


async def test_training_in_a_child_process_streams_events_and_stops_cleanly(data_workspace,
                                                                            monkeypatch):
    from engine.training import loop as train

    monkeypatch.setattr(TrainingScreen, "runner", "process")
    monkeypatch.setitem(train.PRESETS, "tiny",
                        train.preset("tiny", max_steps=5000, checkpoint_interval=10000))
    async with open_chapter(data_workspace).run_test(size=SIZE) as pilot:
        screen = await settled(pilot)
        await pilot.press("s")
        while screen.running and (screen.last_step is None or screen.last_step.step < 2):
            await pilot.pause(0.1)
        assert screen.last_step is not None, text_of(screen, "#run-status")
        await pilot.press("x")
        await screen.workers.wait_for_complete()
        assert not screen.proc.alive
        assert 2 <= read_meta(data_workspace.path("base")).step < 5000


@pytest.fixture
def first_run_workspace(data_workspace, tmp_path, tmp_path_factory, monkeypatch):
    """A first run: the tokenizer and shards, no base.pt of the workspace's own, and a
    shipped base model (the sample model) that every chapter uses."""
    from engine.workspace import Workspace

    shipped = Workspace(tmp_path / "shipped")
    install_sample_model(shipped, tmp_path_factory.getbasetemp() / "sample-model")
    monkeypatch.setattr("engine.workspace.BUNDLED_DIR", shipped.root)
    shipped.path("tokenizer").unlink()  # the workspace's own tokenizer is the same one
    return data_workspace


async def test_a_first_run_is_offered_not_imposed_while_it_runs_and_once_stopped(
        first_run_workspace, monkeypatch, wait_until):
    from engine.training import loop as train

    ws = first_run_workspace
    monkeypatch.setitem(train.PRESETS, "tiny",
                        train.preset("tiny", max_steps=4000, checkpoint_interval=10))
    async with open_chapter(ws).run_test(size=SIZE) as pilot:
        screen = await settled(pilot)
        assert "Every chapter uses bundled-base" in text_of(screen, "#run-status")
        await pilot.press("s")
        await wait_until(pilot, lambda: screen.last_step is not None
                         and screen.last_step.step >= 15, what="15 steps of the run")
        assert ws.path("base").exists()  # the run's working file, written at step 10
        assert ws.find("base").version == "bundled-base"  # ... and no chapter uses it
        assert "Until this run finishes, every chapter uses bundled-base" in \
            text_of(screen, "#run-status")
        await pilot.press("x")
        await screen.workers.wait_for_complete()
        await wait_until(pilot, lambda: screen.offered is not None, what="the offer")
        stopped = read_meta(ws.path("base")).step
        status = text_of(screen, "#run-status")
        assert f"Use the step-{stopped:,} model?" in status
        assert f"It trained {stopped:,} of 4,000 steps" in status
        assert "every chapter still uses bundled-base" in status
        assert ws.find("base").version == "bundled-base"
        assert screen.check_action("use_run", ()) is True
        await pilot.press("u")
        await wait_until(pilot, lambda: ws.find("base").version == "base-001",
                         what="the stopped run as every chapter's base model")
        await wait_until(pilot, lambda: "Every chapter now uses base-001" in
                         text_of(screen, "#run-status"), what="the screen saying so")
        await wait_until(pilot, lambda: screen.offered is None, what="no offer left")
        assert screen.check_action("use_run", ()) is False
