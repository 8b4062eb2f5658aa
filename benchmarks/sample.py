"""Sampling speed: the KV cache against running the whole context, and key press to token.

- Tokens per second generating 200 tokens with the KV cache and without it (nanoGPT's
  loop: the whole context, cropped to the window, runs again for every token), side by
  side in the same run, as a ratio. The model is the workspace's base model when there is
  one; otherwise a random-weight model of the default training preset's shape (the speed
  of a forward pass does not depend on what the weights learned).
- Key press to token on screen: the Sampling loop chapter, driven headless by Textual's
  Pilot; from pressing Space until the new token is in the context window.

    python benchmarks/sample.py [--workdir DIR] [--tokens 200] [--repeats 5] [--device cpu]
                                [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from engine.inference.sampler import SampleConfig, Sampler
from engine.model.load import NoModel, load_model
from engine.workspace import Workspace

PROMPT = "The capital of France is"


def tokens_per_second(model, ids, tokens: int, use_kv_cache: bool) -> float:
    config = SampleConfig(temperature=1.0, seed=0, max_tokens=tokens)
    start = time.perf_counter()
    sampler = Sampler(model, ids, config, use_kv_cache=use_kv_cache)  # no stop token: all 200
    for _ in sampler:
        pass
    if model.parameters().__next__().is_cuda:
        torch.cuda.synchronize()
    return tokens / (time.perf_counter() - start)


def random_default_model(ws: Workspace, device: str):
    """A random-weight model of the default preset's shape, with the tour's tokenizer (or,
    before one is prepared, GPT-4's tokens of the capitals table)."""
    from engine.data.facts import load_capitals
    from engine.model.gpt import GPT
    from engine.tokenizer.tour import CompactGPT4Tokenizer, load_tokenizer
    from engine.training.loop import PRESETS

    try:
        tokenizer, artifact = load_tokenizer(ws)
        which = f"tokenizer.json ({artifact.label})"
    except FileNotFoundError:
        tokenizer = CompactGPT4Tokenizer.from_texts([c.sentence for c in load_capitals()])
        which = "GPT-4's tokens of the capitals table (no tokenizer prepared)"
    torch.manual_seed(0)
    model = GPT(PRESETS["default"].model_config(tokenizer.vocab_size)).to(device).eval()
    return model, tokenizer, which


async def press_to_screen(ws: Workspace, presses: int) -> list[float]:
    """Seconds from pressing Space until the chosen token is in the context window."""
    from screens.registry import find_chapter
    from tui.app import TourApp

    app = TourApp(ws, start=find_chapter("sampling"))
    app.animation_level = "none"  # the token lands at once, no slide
    times = []
    async with app.run_test(size=(100, 32)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        if screen.sampler is None:
            raise RuntimeError("the chapter could not load a model")
        while len(times) < presses:
            if screen.sampler.done:
                await pilot.press("r")
            before = len(screen.context_view.pieces)
            start = time.perf_counter()
            await pilot.press("space")
            while len(screen.context_view.pieces) == before:
                await asyncio.sleep(0)
            await pilot.pause()  # the frame with the token has been drawn
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=None, help="workspace with base.pt (optional)")
    parser.add_argument("--tokens", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--presses", type=int, default=40)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    ws = Workspace(args.workdir)
    try:
        loaded = load_model(ws, "base", device=args.device)
        model, tokenizer = loaded.model, loaded.tokenizer
        what = f"the workspace's {loaded.label}"
    except (NoModel, ValueError):
        model, tokenizer, which = random_default_model(ws, args.device)
        loaded = None
        what = ("a random-weight model of the default preset's shape (no trained model "
                f"found); vocabulary from {which}")
    c = model.config
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {what}")
    print(f"       {c.n_layer} layers x {c.n_embd} wide, {c.n_head} heads, context {c.block_size}, "
          f"vocabulary {c.vocab_size}, {n_params / 1e6:.2f}M parameters, on {args.device}")
    print(f"load: {os.getloadavg()[0]:.2f} (1-minute average) on {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")

    ids = tokenizer.encode(PROMPT)
    tokens_per_second(model, ids, 20, True)  # warm up both paths
    tokens_per_second(model, ids, 20, False)
    cached, plain = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        cached.append(tokens_per_second(model, ids, args.tokens, True))
        plain.append(tokens_per_second(model, ids, args.tokens, False))
    print(f"generating {args.tokens} tokens after a {len(ids)}-token prompt "
          f"(median of {args.repeats}; past the {c.block_size}-token window the cache restarts "
          f"from the last {c.block_size // 2} tokens)")
    print(f"{'':<22}{'tokens/s':>10}{'best':>10}")
    print(f"{'with KV cache':<22}{statistics.median(cached):>10.0f}{max(cached):>10.0f}")
    print(f"{'without (full context)':<22}{statistics.median(plain):>10.0f}{max(plain):>10.0f}")
    print(f"{'ratio':<22}{statistics.median(cached) / statistics.median(plain):>9.2f}x"
          f"{max(cached) / max(plain):>9.2f}x\n")

    steps = []
    sampler = Sampler(model, ids, SampleConfig(seed=0, max_tokens=args.presses, map_size=8),
                      tokenizer=tokenizer)
    while not sampler.done:
        start = time.perf_counter()
        sampler.step()
        steps.append(time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        screen_ws = ws
        if loaded is None:  # give the chapter the same random model to load
            from engine.model.checkpoint import save_checkpoint

            screen_ws = Workspace(Path(tmp))
            tokenizer.save(screen_ws.path("tokenizer"))
            save_checkpoint(screen_ws.path("base"), model.cpu(), tokenizer=tokenizer, step=0)
        os.environ["LLM_TOUR_HOME"] = str(screen_ws.root)
        times = asyncio.run(press_to_screen(screen_ws, args.presses))
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    print(f"Sampling loop chapter, Space to token on screen ({len(ms)} presses, headless "
          f"100x32):")
    print(f"  median {statistics.median(ms):.1f} ms   p95 {p95:.1f} ms   max {ms[-1]:.1f} ms")
    print(f"  of which the engine's step (model + map of 8): median "
          f"{statistics.median(steps) * 1000:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
