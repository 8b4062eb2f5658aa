"""A default preference nudge, and what it does to everything else the chat model can do.

The talk's two prompts (the apples, the toast) are voted the talk's way by ``--voters``
viewers; the chat model is nudged with them (``engine.preference.dpo.nudge_chat``, the
defaults of DPOConfig unless changed here); ``llm-tour eval``'s whole-turn figures, by
category, and the Paris weather demo are measured before and after, side by side, on one
thread (greedy: the figures do not depend on the machine).

    python benchmarks/nudge.py [--checkpoint engine/bundled/chat.pt] [--lr 5e-5]
        [--anchor-weight 5] [--anchor-conversations 64] [--steps 10]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

import torch

PARIS = "What's the weather in Paris today?"


def measure(ws) -> tuple[dict[str, tuple[int, int]], str]:
    from engine.chat.eval import evaluate_report, transcript_of
    from engine.model.load import load_model
    from engine.tools.loop import model_source, run_turn
    from engine.tools.registry import default_registry

    loaded = load_model(ws, "chat")
    registry = default_registry(ws)
    report = evaluate_report(loaded.model, loaded.tokenizer, registry)
    paris = transcript_of(run_turn(PARIS, model_source(loaded.model, loaded.tokenizer),
                                   loaded.tokenizer, registry))
    reading = paris.calls[0].result if paris.calls else "no tool call"
    return ({c.category: (c.right, c.total) for c in report.by_category()},
            f"tool: {reading} -> {paris.answer}")


def main() -> None:
    from engine.preference.dpo import DPOConfig, Nudged, nudge_chat
    from engine.preference.prompts import TALK_PROMPTS, talk_order
    from engine.preference.votes import VoteStore, new_session
    from engine.workspace import BUNDLED_DIR, Workspace

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=str(BUNDLED_DIR / "chat.pt"))
    parser.add_argument("--voters", type=int, default=1)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--anchor-weight", type=float, default=None)
    parser.add_argument("--anchor-conversations", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)

    changes = {"learning_rate": args.lr, "anchor_weight": args.anchor_weight,
               "anchor_conversations": args.anchor_conversations, "steps": args.steps}
    config = DPOConfig(check_items=0, **{k: v for k, v in changes.items() if v is not None})
    ws = Workspace(Path(tempfile.mkdtemp(prefix="nudge-")))
    shutil.copy(args.checkpoint, ws.path("chat"))
    before, paris_before = measure(ws)
    store = VoteStore.open(ws)
    for _ in range(args.voters):
        for prompt in TALK_PROMPTS:
            store.vote(prompt.id, talk_order(prompt), new_session())
    margins = (0.0, 0.0)
    for event in nudge_chat(ws, store, config):
        if isinstance(event, Nudged):
            margins = (event.margin_before, event.margin_after)
    after, paris_after = measure(ws)
    shown = ", ".join(f"{f.name}={getattr(config, f.name)}" for f in fields(config)
                      if f.name in ("learning_rate", "beta", "steps", "anchor_weight",
                                    "anchor_conversations"))
    print(f"nudge: {shown}; voted margin {margins[0]:.1f} -> {margins[1]:.1f}")
    print(f"{'category':<12}{'before':>10}{'after':>10}{'points':>9}")
    for category, (right, total) in before.items():
        later = after[category][0]
        print(f"{category:<12}{right:>6}/{total:<3}{later:>6}/{total:<3}"
              f"{100 * (later - right) / total:>+8.1f}")
    print(f"Paris before: {paris_before}\nParis after:  {paris_after}")
    print("command: python " + " ".join(sys.argv))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
