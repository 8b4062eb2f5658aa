"""One progress vocabulary: every long stage's events say how far it is in the same words,
and one reducer turns any stage's events into the figures the CLI and the chapters show."""

from __future__ import annotations

from engine.data.crawler import Fetched
from engine.data.events import Dropped, Kept, StepStarted
from engine.events import Progress, StageState, progress_of
from engine.prepare.stages import StageProgress
from engine.tokenizer.bpe import Merge
from engine.tokenizer.tour import MergeLearned, ShardProgress
from engine.training.loop import EvalLoss, TrainStep


def _step(step: int, loss: float) -> TrainStep:
    return TrainStep(step, 10, loss, 1e-3, 1.0, 100.0, 1.0, 9.0)


def test_each_long_stage_reports_progress_in_the_same_words():
    merge = Merge(300, 101, 32, 7, b"e ", 300, 3.1)
    assert progress_of(MergeLearned(merge, 4352)) == Progress(44, 4096, "BPE merges")
    assert progress_of(ShardProgress(3, 12)) == Progress(3, 12, "token shards")
    assert progress_of(_step(4, 2.5)) == Progress(4, 10, "loss 2.500")
    assert progress_of(StepStarted("crawl", "Crawling")) == Progress(0, None, "Crawling")
    assert progress_of(StageProgress("train", _step(4, 2.5))) == Progress(4, 10, "loss 2.500")
    assert progress_of(Kept({})) is None and progress_of("not an event") is None
    assert Progress(4, 10).fraction == 0.4 and Progress(4, None).fraction is None


def test_the_reducer_counts_and_keeps_the_losses():
    state = StageState()
    events = [StepStarted("crawl", "Crawling"),
              Fetched("http://a.example/", 200, "ok", "", 10, 0.1, 3),
              Fetched("http://a.example/robots.txt", 200, "ok", "", 10, 0.1, 3, kind="robots"),
              Kept({"url": "http://a.example/"}), Dropped("http://b.example/", "c4", "short", ""),
              Kept({"url": "http://c.example/"})]
    for event in events:
        state.update(event)
    assert state.counts == {"fetched": 1, "kept": 2, "dropped": 1}
    assert state.label == "Crawling" and state.events == len(events)

    training = StageState()
    for event in (_step(1, 3.0), EvalLoss(1, 3.0, 2.9), _step(2, 2.0), EvalLoss(2, 2.0, 3.1)):
        training.update(event)
    assert (training.loss, training.val_loss, training.best_val_loss) == (2.0, 3.1, 2.9)
    assert training.progress == Progress(2, 10, "loss 2.000")
