"""When does a training run continue the viewer's own page? Steps and seconds, measured.

The bundled dataset plus one made-up page, added the
way the Data chapter adds it, tokenized by the tour's own stage (each own page repeated
``--repeats`` times in train.bin, as the training mix does), then a preset trained by the
tour's own trainer. Every ``--every`` steps the checkpoint is read back and greedy
decoding continues the page's first words; the table says how many of the page's next
``--target`` tokens it reproduced, and the first step that reproduced them all. At the end
the capitals quiz, to see what the mix costs the rest of the model.

    LLM_TOUR_THREADS=1 python benchmarks/ownpage.py [--preset live] [--repeats 30]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

PAGE_SENTENCE = ("The harbour of Quillanmore keeps forty wooden boats painted in saffron "
                 "and teal.")
PAGE = (
    "<html><head><title>A Week In Quillanmore</title></head><body><article>"
    "<h1>A Week In Quillanmore</h1>"
    f"<p>{PAGE_SENTENCE} I spent a week there last spring and walked along the quay every "
    "morning, which was cold but worth it.</p>"
    "<p>The ferries are old and slow, and they are also the best way to see the coast. I rode "
    "the early ferry to the lighthouse twice and still want to go again.</p>"
    "<p>The food was simple and good: grilled fish, bread, olives and apple cake, with a "
    "view of the bay almost every evening.</p></article></body></html>")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="live")
    parser.add_argument("--repeats", type=int, default=None,
                        help="times the page stands in train.bin (default: the tour's)")
    parser.add_argument("--prompt-words", type=int, default=4)
    parser.add_argument("--target", type=int, default=8, help="tokens to reproduce")
    parser.add_argument("--every", type=int, default=50, help="steps between checks")
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    from engine.data.events import Kept
    from engine.data.facts import load_capitals
    from engine.data.ownpage import check_page
    from engine.inference.evaluate import capital_accuracy, greedy_continue
    from engine.model.checkpoint import load_checkpoint
    from engine.tokenizer import tour
    from engine.training import loop
    from engine.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="llm-tour-ownpage-") as tmp:
        ws = Workspace(Path(tmp) / "ws")
        ws.ensure()
        found = ws.find("dataset")  # the bundled dataset: the new workspace has none
        shutil.copy(found.path, ws.path("dataset"))
        page = Path(tmp) / "quillanmore.html"
        page.write_text(PAGE, encoding="utf-8")
        events = list(check_page(ws, str(page)))
        if not isinstance(events[-1], Kept):
            print(f"the page was not kept: {events[-1]}", file=sys.stderr)
            return 1
        config = tour.TokenizerConfig()
        if args.repeats is not None:
            config.own_page_repeats = args.repeats
        written = next(e for e in tour.prepare(ws, config) if isinstance(e, tour.ShardsWritten))
        print(f"dataset: {found.label}, {written.train_documents} train documents; "
              f"{written.mix_line}")

        tokenizer, _ = tour.load_tokenizer(ws)
        words = PAGE_SENTENCE.split()
        prompt = " ".join(words[:args.prompt_words])
        text = events[-1].row["content"]
        ids = tokenizer.encode(text)
        prompt_ids = tokenizer.encode(prompt)
        assert ids[:len(prompt_ids)] == prompt_ids, "the page does not start with the prompt"
        target = ids[len(prompt_ids):len(prompt_ids) + args.target]
        print(f"prompt {prompt!r} -> target {tokenizer.decode(target)!r} ({len(target)} tokens)")

        train_config = loop.preset(args.preset, threads=args.threads,
                                   checkpoint_interval=args.every, sample_interval=0,
                                   probe_interval=0, copy_interval=0, eval_interval=0)
        if args.steps:
            train_config = replace(train_config, max_steps=args.steps)
        batches = loop.shard_batches(ws, train_config)
        path = ws.path("base")
        first = None
        elapsed = 0.0
        print(f"{'step':>6} {'train s':>8} {'match':>6}  continuation")
        for event in loop.train(train_config, batches, tokenizer, checkpoint_path=path,
                                resume=False):
            if isinstance(event, loop.TrainStep):
                elapsed = event.elapsed
            if isinstance(event, loop.Checkpointed):
                model, _ = load_checkpoint(path, tokenizer)
                got = greedy_continue(model, prompt_ids, len(target), [tokenizer.eot])
                match = next((i for i, (a, b) in enumerate(zip(got, target)) if a != b),
                             min(len(got), len(target)))
                print(f"{event.step:>6} {elapsed:>8.1f} {match:>3}/{len(target)}  "
                      f"{tokenizer.decode(got)!r}", flush=True)
                if match == len(target) and first is None:
                    first = (event.step, elapsed)
        model, _ = load_checkpoint(path, tokenizer)
        print(f"capitals: {capital_accuracy(model, tokenizer, load_capitals())}")
        if first is None:
            print("the page's next tokens were never reproduced")
        else:
            print(f"first reproduced at step {first[0]} after {first[1]:.1f} s of training "
                  f"({args.preset} preset, {args.threads} thread(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main())
