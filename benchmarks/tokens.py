"""The tokenizers side by side on the tour's corpus (dataset + conversations).

- Training time of the tour's BPE: the watchable Python trainer (engine.tokenizer.bpe) against
  rustbpe, the Rust trainer, on the same text and vocabulary size; both must learn the
  same merges.
- Encoding throughput through tiktoken: the tour's BPE and the compact GPT-4 vocabulary
  against GPT-4's cl100k_base, in the same run, as a ratio.
- Bytes per token on the dataset for all three.

    python benchmarks/tokens.py [--workdir DIR] [--vocab-size 4096] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from engine.tokenizer.bpe import rustbpe_merges, train_bpe
from engine.tokenizer.cl100k import cl100k
from engine.tokenizer.tour import (
    BPETokenizer,
    CompactGPT4Tokenizer,
    conversation_texts,
    dataset_texts,
)
from engine.workspace import Workspace


def best_of(repeats: int, fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None, help="workspace holding dataset.parquet")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    ws = Workspace(args.workdir)
    found = ws.find("dataset")
    if found is None:
        sys.exit(f"No dataset in {ws.root}: run `llm-tour prepare data` first.")
    documents = dataset_texts(found.path)
    corpus = documents + conversation_texts()
    doc_bytes = sum(len(t.encode()) for t in documents)
    corpus_bytes = sum(len(t.encode()) for t in corpus)
    print(f"corpus: {len(documents)} documents ({doc_bytes:,} bytes, {found.label}) + "
          f"{len(corpus) - len(documents)} conversations = {corpus_bytes:,} bytes")
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average) on {os.cpu_count()} CPUs\n")

    repeats = max(1, args.repeats // 2)
    ours_s, merges = best_of(repeats, lambda: list(train_bpe(corpus, args.vocab_size)))
    rust_s, rust = best_of(repeats, lambda: rustbpe_merges(corpus, args.vocab_size))
    same = [(m.left, m.right) for m in merges] == rust
    print(f"BPE training to {args.vocab_size} tokens (best of {repeats})")
    print(f"  {'trainer':<28}{'seconds':>10}{'ratio':>8}")
    print(f"  {'engine.tokenizer.bpe (watchable)':<28}{ours_s:>10.3f}{ours_s / rust_s:>8.2f}")
    print(f"  {'rustbpe':<28}{rust_s:>10.3f}{1.0:>8.2f}")
    print(f"  same merges: {same}\n")

    bpe = BPETokenizer.from_merge_events(merges)
    compact = CompactGPT4Tokenizer.from_texts(corpus)
    gpt4 = cl100k()
    bpe.encode("warm up")
    rows = [
        ("cl100k_base (GPT-4)", gpt4.n_vocab, lambda: [gpt4.encode_ordinary(t) for t in documents]),
        (bpe.name + " (tiktoken)", bpe.vocab_size, lambda: [bpe.encode(t) for t in documents]),
        ("gpt4-compact (renumbered)", compact.vocab_size,
         lambda: [compact.encode(t) for t in documents]),
    ]
    print(f"Encoding the dataset, one document at a time (best of {args.repeats})")
    print(f"  {'tokenizer':<28}{'vocab':>8}{'MB/s':>9}{'vs GPT-4':>10}{'bytes/token':>13}")
    reference = None
    for name, vocab, fn in rows:
        seconds, encoded = best_of(args.repeats, fn)
        tokens = sum(len(ids) for ids in encoded)
        speed = doc_bytes / seconds / 1e6
        reference = reference or speed
        print(f"  {name:<28}{vocab:>8,}{speed:>9.2f}{speed / reference:>10.2f}"
              f"{doc_bytes / tokens:>13.2f}")
    times = [best_of(1, lambda: bpe.encode(documents[0]))[0] for _ in range(3)]
    print(f"\n  (a single document: {statistics.median(times) * 1e6:.0f} µs with {bpe.name})")


if __name__ == "__main__":
    main()
