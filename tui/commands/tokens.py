"""`llm-tour prepare tokenizer`: train the tour's tokenizer and encode the dataset."""

from __future__ import annotations

import click

from engine.events import StageState
from tui.commands import pass_workspace, show_state


@click.command("tokenizer", short_help="Train the tour's tokenizer on the dataset.")
@click.option("--kind", type=click.Choice(["gpt4-compact", "bpe"]), default="gpt4-compact",
              show_default=True,
              help="The model's vocabulary: GPT-4's tokens kept to those the corpus uses, "
                   "or the tour's own BPE.")
@click.option("--vocab-size", type=click.IntRange(min=256, max=65000), default=4096,
              show_default=True, help="Size of the tour's own BPE (256 bytes + merges).")
@click.option("--val-fraction", type=click.FloatRange(min=0, max=0.5), default=0.1,
              show_default=True, help="Share of documents held out for validation.")
@click.option("--seed", type=int, default=1337, show_default=True,
              help="Which documents are held out.")
@click.option("--show-merges", type=click.IntRange(min=0), default=0, metavar="N",
              help="Also print the first N merges of the tour's BPE, in the order learned.")
@pass_workspace
def tokenizer(ws, kind: str, vocab_size: int, val_fraction: float, seed: int,
              show_merges: int) -> None:
    """Train the tour's BPE on the dataset, build the compact GPT-4 vocabulary, keep the
    chosen one as tokenizer.json and write train.bin / val.bin."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table
    from rich.text import Text

    from engine.tokenizer.tour import (
        CorpusLoaded,
        MergeLearned,
        ShardProgress,
        ShardsWritten,
        TokenizerBuilt,
        TokenizerConfig,
        TokenizerSaved,
        prepare,
    )

    console = Console(stderr=True)
    config = TokenizerConfig(kind=kind, bpe_vocab_size=vocab_size, val_fraction=val_fraction,
                             seed=seed, merge_every=1 if show_merges else 32)
    built: list[TokenizerBuilt] = []
    first_merges: list = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[note]}"))
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            merges = progress.add_task("BPE merges", total=vocab_size - 256, note="")
            shards = None
            state = StageState()
            for event in prepare(ws, config):
                state.update(event)
                if isinstance(event, CorpusLoaded):
                    console.print(
                        f"Corpus: {event.documents} documents ({event.source}) + "
                        f"{event.conversations} conversations, {event.bytes:,} bytes")
                elif isinstance(event, MergeLearned):
                    merge = event.merge
                    if len(first_merges) < show_merges:
                        first_merges.append(merge)
                    show_state(progress, merges, state,
                               note=f"{merge.bytes_per_token:.2f} bytes/token")
                elif isinstance(event, TokenizerBuilt):
                    built.append(event)
                elif isinstance(event, ShardProgress):
                    if shards is None:
                        progress.update(merges, visible=False)
                        shards = progress.add_task("Shards", total=None, note="")
                    show_state(progress, shards, state)
                elif isinstance(event, ShardsWritten):
                    console.print(
                        f"Shards: train.bin {event.train_tokens:,} tokens "
                        f"({event.train_documents} documents), val.bin {event.val_tokens:,} "
                        f"tokens ({event.val_documents} documents)")
                    if event.mix_line:
                        console.print(Text(event.mix_line))
                elif isinstance(event, TokenizerSaved):
                    saved = event
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None

    table = Table(title="Tokenizers on the dataset")
    table.add_column("tokenizer")
    table.add_column("vocabulary", justify="right")
    table.add_column("build time", justify="right")
    table.add_column("bytes/token", justify="right")
    for event in built:
        mark = " (the model's)" if event.kind == saved.kind else ""
        table.add_row(event.name + mark, f"{event.vocab_size:,}", f"{event.seconds:.2f} s",
                      f"{event.bytes_per_token:.2f}")
    Console().print(table)
    if first_merges:
        _print_merges(first_merges)
    click.echo(f"Saved {saved.path} ({saved.name}, {saved.vocab_size:,} tokens, "
               f"hash {saved.hash[:12]})")


def _print_merges(merges: list) -> None:
    """Merges as the two parts they join, built from pairs so bytes never become markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def shown(data: bytes) -> Text:
        return Text(data.decode("utf-8", errors="backslashreplace").replace(" ", "·"))

    vocab = {i: bytes([i]) for i in range(256)}
    table = Table(title="The tour's BPE: first merges, in the order learned")
    for name in ("id", "left", "right", "new token", "pair count", "bytes/token"):
        table.add_column(name, justify="right" if name in ("id", "pair count") else "left")
    for merge in merges:
        table.add_row(str(merge.token_id), shown(vocab[merge.left]), shown(vocab[merge.right]),
                      shown(merge.token), f"{merge.count:,}", f"{merge.bytes_per_token:.3f}")
        vocab[merge.token_id] = merge.token
    Console().print(table)
