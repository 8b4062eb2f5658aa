"""`llm-tour prepare`: stages run in order, and a second run skips everything current."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from engine.prepare import stages as prepare
from engine.prepare.stages import (
    PrepareConfig,
    Prepared,
    Stage,
    StageFailed,
    StageFinished,
    StageProgress,
    StageSkipped,
    StageStarted,
    prepare_all,
)


@dataclass(frozen=True)
class Tick:
    done: int
    total: int


@dataclass(frozen=True)
class Loss:
    step: int
    max_steps: int
    loss: float
    cancelled: bool = False


class FakeStages:
    """Two fast stages: 'words' writes words.txt, 'counts' reads it and writes counts.json."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.fail: set[str] = set()
        self.text = "the capital of france is paris\n"

    def words(self, ws, config):
        self.runs.append("words")
        if "words" in self.fail:
            raise RuntimeError("the web is down")
        for i in range(3):
            yield Tick(i + 1, 3)
        ws.path("words.txt").write_text(self.text)

    def counts(self, ws, config):
        self.runs.append("counts")
        words = ws.path("words.txt").read_text().split()
        for step in range(1, 4):
            yield Loss(step, 3, 1.0 / step)
        ws.path("counts.json").write_text(json.dumps({"words": len(words), "preset": config.preset}))

    @property
    def stages(self) -> tuple[Stage, ...]:
        return (
            Stage("words", "Words", ("words.txt",), (), (), self.words),
            Stage("counts", "Counts", ("counts.json",), ("words.txt",), ("prepare/stages.py",),
                  self.counts, lambda config: {"preset": config.preset}),
        )


def _run(ws, fake: FakeStages, config: PrepareConfig | None = None) -> list:
    return list(prepare_all(ws, config, stages=fake.stages, report=False))


def _kinds(events: list) -> list[tuple[str, str]]:
    return [(type(e).__name__, e.stage) for e in events if not isinstance(e, StageProgress)]


def test_the_second_run_skips_everything_current(workspace):
    fake = FakeStages()
    first = _run(workspace, fake)
    assert _kinds(first) == [("StageStarted", "words"), ("StageFinished", "words"),
                             ("StageStarted", "counts"), ("StageFinished", "counts")]
    assert [e.event for e in first if isinstance(e, StageProgress)][:3] == [Tick(1, 3), Tick(2, 3),
                                                                           Tick(3, 3)]
    second = _run(workspace, fake)
    assert [type(e) for e in second] == [StageSkipped, StageSkipped]
    assert all("current" in e.reason for e in second)
    assert fake.runs == ["words", "counts"]
    record = json.loads(workspace.path("prepared.json").read_text())
    assert record["counts"]["figures"]["Loss"]["loss"] == pytest.approx(1 / 3)
    assert "engine/prepare/stages.py" in record["counts"]["inputs"]


def test_a_changed_output_reruns_its_stage_and_a_new_result_reruns_the_next(workspace):
    fake = FakeStages()
    _run(workspace, fake)
    workspace.path("words.txt").write_text("edited by hand\n")
    events = _run(workspace, fake)
    started = [e for e in events if isinstance(e, StageStarted)]
    assert [e.stage for e in started] == ["words"] and "words.txt changed" in started[0].reason
    # words wrote the same bytes as before, so counts' input is unchanged: still current
    assert _kinds(events)[-1] == ("StageSkipped", "counts")
    fake.text = "a different web\n"
    events = _run(workspace, fake, PrepareConfig(force=("words",)))
    started = [e for e in events if isinstance(e, StageStarted)]
    assert [e.stage for e in started] == ["words", "counts"]
    assert started[1].reason == "words.txt changed"


def test_an_unchanged_rebuild_keeps_later_stages_current(workspace):
    fake = FakeStages()
    _run(workspace, fake)
    events = _run(workspace, fake, PrepareConfig(force=("words",)))
    assert _kinds(events) == [("StageStarted", "words"), ("StageFinished", "words"),
                              ("StageSkipped", "counts")]


def test_a_touched_but_identical_output_is_still_current(workspace):
    fake = FakeStages()
    _run(workspace, fake)
    path = workspace.path("words.txt")
    path.write_text(path.read_text())  # new mtime, same bytes
    assert [type(e) for e in _run(workspace, fake)] == [StageSkipped, StageSkipped]


def test_changed_settings_or_inputs_rerun_the_stage(workspace):
    fake = FakeStages()
    _run(workspace, fake)
    events = _run(workspace, fake, PrepareConfig(preset="tiny"))
    assert _kinds(events)[0] == ("StageSkipped", "words")
    started = [e for e in events if isinstance(e, StageStarted)]
    assert [e.stage for e in started] == ["counts"] and "settings changed" in started[0].reason
    workspace.path("counts.json").unlink()
    events = _run(workspace, fake, PrepareConfig(preset="tiny"))
    assert [e.reason for e in events if isinstance(e, StageStarted)] == ["counts.json is missing"]


def test_a_failed_stage_stops_the_run_and_records_nothing(workspace):
    fake = FakeStages()
    fake.fail.add("words")
    events = _run(workspace, fake)
    failed = [e for e in events if isinstance(e, StageFailed)]
    assert len(failed) == 1 and "the web is down" in failed[0].error
    assert fake.runs == ["words"]  # counts never ran
    fake.fail.clear()
    events = _run(workspace, fake)
    assert [e.stage for e in events if isinstance(e, StageFinished)] == ["words", "counts"]


def test_a_cancelled_stage_runs_again_next_time(workspace):
    fake = FakeStages()
    events = prepare_all(workspace, stages=fake.stages, report=False)
    for event in events:
        if isinstance(event, StageProgress) and event.stage == "counts":
            events.close()  # the consumer stops: Ctrl+C in the CLI
            break
    events = _run(workspace, fake)
    assert _kinds(events) == [("StageSkipped", "words"), ("StageStarted", "counts"),
                              ("StageFinished", "counts")]


def test_the_cli_runs_every_stage_then_prints_the_report_card(workspace, monkeypatch):
    from tui.cli import cli

    fake = FakeStages()
    monkeypatch.setattr(prepare, "STAGES", fake.stages)
    runner = CliRunner()
    result = runner.invoke(cli, ["prepare", "--preset", "tiny"])
    assert result.exit_code == 0, result.output
    assert "report card" in result.output
    assert "Dataset funnel" in result.output and "Device" in result.output
    assert "built" in result.output
    again = runner.invoke(cli, ["prepare", "--preset", "tiny"])
    assert again.exit_code == 0, again.output
    assert "skip" in again.output and "current" in again.output
    assert fake.runs == ["words", "counts"]
    bad = runner.invoke(cli, ["prepare", "--force", "nonsense"])
    assert bad.exit_code == 2 and "no stage 'nonsense'" in bad.output


@pytest.mark.skipif(importlib.util.find_spec("engine.data.pipeline") is None,
                    reason="the data pipeline is not in this tree")
def test_a_real_tiny_run_is_idempotent(workspace):
    """The real stages with the tiny preset; the second run skips all four."""
    config = PrepareConfig(preset="tiny", sft_steps=10, questions=("What is the capital of France?",))
    events = list(prepare_all(workspace, config))
    failures = [e for e in events if isinstance(e, StageFailed)]
    assert not failures, failures
    card = events[-1].report
    assert isinstance(events[-1], Prepared) and card.ok
    titles = [s.title for s in card.sections]
    assert titles == ["Dataset funnel", "Tokenizer", "Training", "Sample answers"]
    for section in card.sections:
        assert section.figures and section.figures[0].label != "not available", section
    again = list(prepare_all(workspace, config, report=False))
    assert [type(e) for e in again] == [StageSkipped] * 4
