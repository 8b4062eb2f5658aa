"""The training mix upweights the viewer's own pages: a page added to a small dataset, the
shards built by the tokenizer stage, a tiny model trained by the tour's trainer, and the
sampler continues the page's first words with the page's own next words."""

from __future__ import annotations

from pathlib import Path

from own_page import PAGE, PROMPT, SENTENCE

import engine
from engine.data.events import Kept
from engine.data.ownpage import check_page
from engine.data.store import DATASET_COLUMNS, OWN_SOURCE, is_own, read_rows, write_table
from engine.tokenizer import tour

BUNDLED_DATASET = Path(engine.__file__).parent / "bundled" / "dataset.parquet"
SAMPLE_ROWS = 6  # a few rows of the tour's crawl
CONTINUED = 8  # tokens of the page's own continuation the model must write


def small_dataset_with_my_page(workspace, tmp_path) -> dict:
    workspace.ensure()
    write_table(read_rows(BUNDLED_DATASET)[:SAMPLE_ROWS], DATASET_COLUMNS,
                workspace.path("dataset"))
    page = tmp_path / "quillanmore.html"
    page.write_text(PAGE, encoding="utf-8")
    events = list(check_page(workspace, str(page), add=True))  # what the Data chapter runs
    assert isinstance(events[-1], Kept), events[-1]
    return events[-1].row


def build_shards(workspace) -> tour.ShardsWritten:
    # a small BPE beside the model's compact GPT-4 vocabulary keeps the stage quick
    events = list(tour.prepare(workspace, tour.TokenizerConfig(bpe_vocab_size=300)))
    return next(e for e in events if isinstance(e, tour.ShardsWritten))


def count(haystack: list[int], needle: list[int]) -> int:
    return sum(haystack[i:i + len(needle)] == needle
               for i in range(len(haystack) - len(needle) + 1))


def test_an_added_page_is_marked_as_the_viewers_own(workspace, tmp_path):
    row = small_dataset_with_my_page(workspace, tmp_path)
    assert row["source"].startswith(OWN_SOURCE)
    stored = read_rows(workspace.path("dataset"))
    assert [is_own(r["url"], r["source"]) for r in stored] == [False] * SAMPLE_ROWS + [True]


def test_the_mix_repeats_my_page_in_train_and_keeps_it_out_of_val(workspace, tmp_path):
    small_dataset_with_my_page(workspace, tmp_path)
    written = build_shards(workspace)
    tokenizer, _ = tour.load_tokenizer(workspace)
    train = [int(i) for i in tour.read_shard(workspace.path("train_shard"))]
    val = [int(i) for i in tour.read_shard(workspace.path("val_shard"))]
    sentence = tokenizer.encode(SENTENCE)

    assert written.own_documents == 1 and written.own_repeats > 1
    assert count(train, sentence) == written.own_repeats
    assert count(val, sentence) == 0  # validation measures text the model did not train on
    assert written.train_documents + written.val_documents == SAMPLE_ROWS + 1
    assert written.own_tokens == written.own_repeats * (
        len(tokenizer.encode(read_rows(workspace.path("dataset"))[-1]["content"])) + 1)
    assert written.own_tokens <= tour.OWN_SHARE_MAX * written.train_tokens  # the cap holds

    mix = tour.read_mix(workspace)
    assert mix is not None and mix.repeats == written.own_repeats
    assert [p["title"] for p in mix.pages] == ["A Week In Quillanmore"]
    assert f"your page is in train.bin {written.own_repeats} times" in mix.line
    assert mix.line == written.mix_line and "never in val.bin" in mix.line


def test_a_dataset_without_own_pages_has_no_mix_and_the_same_split(workspace, tmp_path):
    workspace.ensure()
    write_table(read_rows(BUNDLED_DATASET)[:SAMPLE_ROWS], DATASET_COLUMNS,
                workspace.path("dataset"))
    written = build_shards(workspace)
    assert (written.own_documents, written.own_repeats, written.mix_line) == (0, 0, "")
    assert tour.read_mix(workspace) is None
    # The mix record of another train.bin is not believed.
    small_dataset_with_my_page(workspace, tmp_path)
    build_shards(workspace)
    assert tour.read_mix(workspace) is not None
    workspace.path("train_shard").write_bytes(b"\x00\x00" * 500)
    assert tour.read_mix(workspace) is None


def test_own_page_repeats_shrink_for_a_long_page_and_never_reach_zero():
    assert tour.own_page_repeats(100, 100_000, 30, 0.25) == 30
    assert tour.own_page_repeats(2_000, 60_000, 30, 0.25) == 10  # 20,000 = 25 % of 80,000
    assert tour.own_page_repeats(500_000, 60_000, 30, 0.25) == 1


def test_a_tiny_model_trained_on_the_mix_continues_my_page(workspace, tmp_path, one_thread):
    """The Sampling chapter's question, asked of the engine: the page's first words, greedy."""
    from engine.inference.sampler import generate, greedy
    from engine.model.load import load_model
    from engine.training import loop

    row = small_dataset_with_my_page(workspace, tmp_path)
    build_shards(workspace)
    config = loop.preset("tiny", threads=1, max_steps=300)
    done = [e for e in loop.pretrain(workspace, config, resume=False, evaluate=False)
            if isinstance(e, loop.TrainDone)]
    assert done and not done[0].cancelled and done[0].step == 300

    loaded = load_model(workspace, "base")  # the model every chapter now uses
    assert loaded.artifact.source == "workspace"
    prompt = loaded.encode(PROMPT)
    page = loaded.tokenizer.encode(row["content"])
    assert page[:len(prompt)] == prompt
    expected = page[len(prompt):len(prompt) + CONTINUED]
    got = [e.token_id for e in generate(loaded.model, prompt, greedy(CONTINUED),
                                        stop_ids=loaded.stop_ids)]
    assert loaded.tokenizer.decode(got) == loaded.tokenizer.decode(expected)
    assert got == expected
