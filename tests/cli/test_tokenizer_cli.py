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
