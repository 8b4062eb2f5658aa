"""`llm-tour prepare tokenizer`, headless."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner

from engine.tokenizer.tour import load_tokenizer
from tui.cli import cli

DOCS = [f"The capital of {country} is {capital}. A good wedding toast should be brief."
        for country, capital in [("France", "Paris"), ("Japan", "Tokyo"), ("Peru", "Lima"),
                                 ("Kenya", "Nairobi"), ("Chile", "Santiago")]]


def test_prepare_tokenizer_prints_both_and_saves_the_chosen(workspace):
    workspace.ensure()
    pq.write_table(pa.table({"content": DOCS}), workspace.path("dataset"))
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "prepare", "tokenizer",
                                      "--kind", "bpe", "--vocab-size", "300",
                                      "--show-merges", "3"])
    assert result.exit_code == 0, result.output
    assert "bytes/token" in result.output and "gpt4-compact" in result.output
    assert "tour-bpe-300 (the model's)" in result.output
    assert "first merges" in result.output
    tok, artifact = load_tokenizer(workspace)
    assert tok.name == "tour-bpe-300" and artifact.source == "workspace"
    assert f"hash {tok.hash[:12]}" in result.output


def test_prepare_tokenizer_without_data_is_a_clear_error(workspace):
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "prepare", "tokenizer"])
    assert result.exit_code == 1
    assert "llm-tour prepare data" in result.output


def test_prepare_tokenizer_and_train_say_how_often_my_page_is_in_the_mix(workspace):
    """A page the viewer added is upweighted in train.bin; both commands say how much."""
    from engine.data.store import own_source
    from engine.tokenizer.tour import read_mix

    workspace.ensure()
    crawled = DOCS * 8
    mine = ("The harbour of Quillanmore keeps forty wooden boats painted in saffron and teal. "
            "The ferries are old and slow.")
    pq.write_table(pa.table({
        "url": [f"travel-notes.example/{i}" for i in range(len(crawled))] + ["/home/me/q.html"],
        "source": ["Public travel notes"] * len(crawled) + [own_source("")],
        "content": [*crawled, mine]}), workspace.path("dataset"))
    runner = CliRunner()
    root = ["--workdir", str(workspace.root), "prepare"]
    result = runner.invoke(cli, [*root, "tokenizer", "--vocab-size", "300"])
    assert result.exit_code == 0, result.output
    mix = read_mix(workspace)
    assert mix is not None and mix.repeats > 1
    assert f"Training mix: your page is in train.bin {mix.repeats} times" in result.output
    assert "never in val.bin" in result.output

    result = runner.invoke(cli, [*root, "train", "--preset", "tiny", "--steps", "2",
                                 "--threads", "1", "--no-quiz"])
    assert result.exit_code == 0, result.output
    assert f"your page is in train.bin {mix.repeats} times" in result.output
