"""Which vocabulary should the tour's model read with? Train it on each and count capitals.

For every candidate tokenizer the same dataset is encoded into shards, the same training
preset runs (same seed, same number of steps) and the model is asked "The capital of
{country} is" for every country of the sample web. Validation loss is also given per
byte of text (bits per byte), since a loss per token cannot be compared across
vocabularies that cut the text differently.

    python benchmarks/vocab.py [--workdir DIR] [--preset default] [--bpe 4096 --bpe 1024]

Slow: one full training run per candidate (about a minute each on two idle CPU cores).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

from engine.model.checkpoint import load_checkpoint
from engine.data.facts import load_capitals
from engine.inference.evaluate import capital_accuracy
from engine.tokenizer.tour import (
    TokenizerBuilt,
    TokenizerConfig,
    dataset_texts,
    load_tokenizer,
    prepare,
    read_shard,
    split_on_eot,
)
from engine.training.loop import TrainDone, preset, shard_batches, train
from engine.workspace import Workspace


def run_candidate(dataset: Path, root: Path, kind: str, bpe_size: int, preset_name: str,
                  steps: int | None) -> dict:
    ws = Workspace(root)
    ws.ensure()
    shutil.copy(dataset, ws.path("dataset"))
    built = {}
    for event in prepare(ws, TokenizerConfig(kind=kind, bpe_vocab_size=bpe_size)):
        if isinstance(event, TokenizerBuilt):
            built[event.kind] = event
    tokenizer, _ = load_tokenizer(ws)
    changes = {"max_steps": steps} if steps else {}
    config = preset(preset_name, **changes)
    done = None
    start = time.perf_counter()
    for event in train(config, shard_batches(ws, config), tokenizer,
                       checkpoint_path=ws.path("base"), resume=False):
        if isinstance(event, TrainDone):
            done = event
    seconds = time.perf_counter() - start
    model, _ = load_checkpoint(ws.path("base"), tokenizer)
    accuracy = capital_accuracy(model, tokenizer, load_capitals())
    val = read_shard(ws.path("val_shard"))
    val_bytes = sum(len(tokenizer.decode(doc).encode()) for doc in split_on_eot(val, tokenizer.eot))
    bytes_per_token = val_bytes / len(val)
    val_loss = done.val_loss if done and done.val_loss is not None else float("nan")
    return {
        "name": tokenizer.name,
        "vocab": tokenizer.vocab_size,
        "train_tokens": len(read_shard(ws.path("train_shard"))),
        "bytes_per_token": built[kind].bytes_per_token,
        "val_loss": val_loss,
        "bits_per_byte": val_loss / math.log(2) / bytes_per_token,
        "correct": accuracy.correct,
        "total": accuracy.total,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None, help="workspace holding dataset.parquet")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--steps", type=int, default=None, help="override the preset's steps")
    parser.add_argument("--bpe", type=int, action="append",
                        help="sizes of the tour's BPE to try (default: 4096)")
    args = parser.parse_args()

    found = Workspace(args.workdir).find("dataset")
    if found is None:
        raise SystemExit("No dataset: run `llm-tour prepare data` first.")
    documents = dataset_texts(found.path)
    print(f"dataset: {len(documents)} documents, {sum(len(d.encode()) for d in documents):,} "
          f"bytes ({found.label}); preset {args.preset!r}"
          + (f", {args.steps} steps" if args.steps else ""))
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average) on {os.cpu_count()} CPUs")
    candidates = [("gpt4-compact", 4096)] + [("bpe", size) for size in (args.bpe or [4096])]
    rows = []
    with tempfile.TemporaryDirectory(prefix="llm-tour-vocab-") as tmp:
        for index, (kind, size) in enumerate(candidates):
            row = run_candidate(found.path, Path(tmp) / str(index), kind, size, args.preset,
                                args.steps)
            rows.append(row)
            print(f"  {row['name']}: {row['correct']}/{row['total']} capitals "
                  f"in {row['seconds']:.0f} s", flush=True)
    print()
    print(f"{'tokenizer':<22}{'vocab':>7}{'train tok':>11}{'bytes/tok':>10}{'val loss':>10}"
          f"{'bits/byte':>10}{'capitals':>12}{'train s':>9}")
    for row in rows:
        print(f"{row['name']:<22}{row['vocab']:>7,}{row['train_tokens']:>11,}"
              f"{row['bytes_per_token']:>10.2f}{row['val_loss']:>10.3f}{row['bits_per_byte']:>10.3f}"
              f"{row['correct']:>6}/{row['total']:<5}{row['seconds']:>9.0f}")
    best = max(rows, key=lambda r: (r["correct"], -r["bits_per_byte"]))
    print(f"\nmost capitals: {best['name']}")


if __name__ == "__main__":
    main()
