"""Fine-tuning recipes side by side, in one run: the copy probe and the whole-turn evaluation.

Each recipe fine-tunes the same base model (the workspace's, else the bundled one) in a
scratch workspace of its own, then the new chat model is measured the same way as every
other: the copy probe (:func:`engine.inference.evaluate.copy_probe`, an unseen name repeated
in plain text and from a question into a tool call) and ``llm-tour eval``'s whole turns
(:mod:`engine.chat.eval`), on names and numbers no training conversation holds. Existing
checkpoints can be measured beside them (``--checkpoint NAME=PATH``), e.g. the bundled
chat.pt. The table ends with the command that reproduces it.

    python benchmarks/copying.py --threads 1 --limit 20 \\
        --checkpoint bundled=engine/bundled/chat.pt \\
        --recipe data=classic,steps=300 --recipe data=copying,steps=300

A recipe is ``key=value`` pairs joined by commas; the keys are SFTConfig's: ``data``
(copying or classic), ``steps``, ``share`` (pretrain_share), ``lr``, ``batch``, ``freeze``
(freeze_embedding: 1 keeps the ordinary tokens' embedding rows as pretraining left them),
``drill`` (drill_share: the share of each batch given to copy drills, random runs of tokens
shown twice) and ``seed``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from engine.chat.eval import CATEGORIES, EvalReport, evaluate
from engine.inference.evaluate import copy_probe
from engine.model.checkpoint import load_checkpoint
from engine.tokenizer.tour import load_tokenizer
from engine.tools.registry import default_registry
from engine.training.loop import CopyProbe, TrainDone
from engine.training.sft import SFTConfig, fine_tune
from engine.workspace import Workspace


def _yes(value: str) -> bool:
    return value.lower() in ("1", "yes", "true", "on")


KEYS = {"data": ("data", str), "steps": ("max_steps", int), "share": ("pretrain_share", float),
        "lr": ("learning_rate", float), "batch": ("batch_size", int),
        "freeze": ("freeze_embedding", _yes), "drill": ("drill_share", float),
        "seed": ("seed", int)}


@dataclass
class Row:
    name: str
    minutes: float  # of fine-tuning (0 for a checkpoint measured as it is)
    copy_text: str
    copy_chat: str
    report: EvalReport
    curve: list[tuple[int, int, int]]  # (step, text copies, chat copies) during training


def parse_recipe(text: str, threads: int) -> SFTConfig:
    config = SFTConfig(threads=threads, device="cpu", eval_interval=0)
    for part in filter(None, text.split(",")):
        key, _, value = part.partition("=")
        if key not in KEYS:
            raise SystemExit(f"unknown recipe key {key!r} in {text!r}; the keys are "
                             f"{', '.join(KEYS)}")
        field, kind = KEYS[key]
        config = replace(config, **{field: kind(value)})
    return config


def measure(name: str, model, tokenizer, registry, limit: int | None, minutes: float,
            curve: list[tuple[int, int, int]]) -> Row:
    report = EvalReport(tuple(evaluate(model, tokenizer, registry, per_category=limit)))
    text, chat = copy_probe(model, tokenizer, "text"), copy_probe(model, tokenizer, "chat")
    return Row(name, minutes, f"{text.copied}/{text.total}", f"{chat.copied}/{chat.total}",
               report, curve)


def run_recipe(spec: str, config: SFTConfig, source: Workspace, registry, limit: int | None,
               copy_interval: int) -> Row:
    root = Path(tempfile.mkdtemp(prefix="copying-"))
    try:
        ws = Workspace(root)
        ws.ensure()
        for name in ("tokenizer", "train_shard", "val_shard", "base"):
            found = source.find(name)
            if found is not None:
                shutil.copy(found.path, ws.path(name))
        curve: list[tuple[int, int, int]] = []
        start = time.perf_counter()
        for event in fine_tune(ws, replace(config, copy_interval=copy_interval)):
            if isinstance(event, CopyProbe):
                curve.append((event.step, event.text.copied,
                              event.chat.copied if event.chat else 0))
                print(f"  {spec}: step {event.step}: {event.text}; {event.chat}", flush=True)
            elif isinstance(event, TrainDone) and event.cancelled:
                raise SystemExit(f"{spec}: fine-tuning stopped early")
        minutes = (time.perf_counter() - start) / 60
        tokenizer, _ = load_tokenizer(ws)
        model, _ = load_checkpoint(ws.path("chat"), tokenizer)
        return measure(spec, model, tokenizer, registry, limit, minutes, curve)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def print_table(rows: list[Row]) -> None:
    heads = ["recipe", "min", "copy text", "copy chat", *CATEGORIES, "chat turns"]
    lines = [heads]
    for row in rows:
        cats = {c.category: f"{c.right}/{c.total}" for c in row.report.by_category()}
        chat = [s for s in row.report.scored if s.item.category != "base"]
        right = sum(s.right for s in chat)
        lines.append([row.name, f"{row.minutes:.1f}", row.copy_text, row.copy_chat,
                      *(cats.get(c, "-") for c in CATEGORIES),
                      f"{right}/{len(chat)} ({right / max(1, len(chat)):.0%})"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(heads))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                        for i, (cell, w) in enumerate(zip(line, widths))))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    for row in rows:
        if row.curve:
            points = ", ".join(f"{s}: {t}/{c}" for s, t, c in row.curve)
            print(f"copy probe during {row.name} (step: text/chat of 40): {points}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", default=None, help="where the base model comes from "
                        "(default: a fresh workspace, so the bundled artifacts)")
    parser.add_argument("--recipe", action="append", default=[], metavar="KEY=VALUE,...")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="NAME=PATH",
                        help="a chat checkpoint to measure as it is")
    parser.add_argument("--limit", type=int, default=None, help="eval items per category")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--copy-interval", type=int, default=100,
                        help="steps between copy probes during fine-tuning")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    source = Workspace(args.workdir or tempfile.mkdtemp(prefix="copying-source-"))
    registry = default_registry(source)
    registry.prepare()
    tokenizer, _ = load_tokenizer(source)
    rows = []
    for spec in args.checkpoint:
        name, _, path = spec.partition("=")
        model, _ = load_checkpoint(path, tokenizer)
        rows.append(measure(name, model, tokenizer, registry, args.limit, 0.0, []))
        print_table(rows)  # the table so far: a stopped run still leaves its rows
        sys.stdout.flush()
    for spec in args.recipe:
        rows.append(run_recipe(spec, parse_recipe(spec, args.threads), source, registry,
                               args.limit, args.copy_interval))
        print_table(rows)
        sys.stdout.flush()
    print()
    print_table(rows)
    print()
    print("reproduce: PYTHONPATH=. python benchmarks/copying.py "
          + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])))


if __name__ == "__main__":
    main()
