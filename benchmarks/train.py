"""Training speed and responsiveness, each measured side by side with a reference in one run.

1. The trainer's tokens/s against a bare loop (forward, backward, clip, AdamW) on the same
   model and batches, and against itself with the plain head loss (the whole logits table,
   then cross_entropy); they alternate in rounds so machine load hits all alike.
2. Achieved FLOP/s against this machine's measured matmul peak, in fp32 and bf16, and the
   bare loop's speed with bf16 autocast against fp32.
3. The default preset trained to the end on a copy of the workspace: final loss, capitals
   (and with --without-dropout the same run with dropout 0, to see what dropout buys).
   With --time-to-quality, presets side by side (default: the default and the live one):
   when " Paris" first tops the probe, when the run ends, and the capitals quiz.
4. Key-to-screen latency while a stage runs: pretraining (the Training chapter),
   fine-tuning (Conversations) and the preference nudge (Preferences), each in the
   training child process and in a thread of the UI's own process, against the same keys
   with nothing running. Two clocks per key: to the first frame drawn after the chapter
   scrolled (what a viewer waits for), and the Pilot's press-and-wait-until-idle round
   trip (an upper bound that adds the Pilot's own idle waits).

    python benchmarks/train.py --workdir WORKSPACE [--steps 100] [--skip-full-run]
    python benchmarks/train.py --skip-speed --skip-full-run --stages pretrain sft nudge
    python benchmarks/train.py --skip-speed --skip-full-run --skip-latency --time-to-quality
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace

import torch

from engine.model import device as devices
from engine.model.gpt import GPT
from engine.tokenizer.tour import load_tokenizer
from engine.training import loop as train
from engine.workspace import Workspace


def bare_loop(config: train.TrainConfig, batches, vocab: int, steps: int, dtype) -> float:
    """tokens/s of the plainest loop that trains the same model the same way."""
    torch.manual_seed(config.seed)
    model = GPT(config.model_config(vocab))
    optimizer = model.configure_optimizer(config.weight_decay, config.learning_rate,
                                          (config.beta1, config.beta2))
    cpu = torch.device("cpu")
    start = time.perf_counter()
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = train.learning_rate(config, step)
        x, y = batches("train")
        with devices.autocast(cpu, dtype):
            _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        float(loss.detach())
    return steps * config.batch_size * config.block_size / (time.perf_counter() - start)


def trainer(config: train.TrainConfig, batches, tokenizer, steps: int) -> float:
    """tokens/s of engine.training.loop.train over the whole run, probes and samples included."""
    run = replace(config, max_steps=steps)
    start = time.perf_counter()
    for _ in train.train(run, batches, tokenizer):
        pass
    return steps * config.batch_size * config.block_size / (time.perf_counter() - start)


def matmul_peak(dtype: torch.dtype, sizes: tuple[int, ...] = (256, 512, 1024),
                repeat: int = 3) -> float:
    """The best FLOP/s of square matmuls of a few sizes (the fastest size differs by CPU)."""
    peak = 0.0
    for n in sizes:
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        a @ b
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
        peak = max(peak, 2 * n**3 / best)
    return peak


def share_of_peak(achieved: float, peak: float) -> str:
    if achieved > peak:  # e.g. bf16 on a CPU without bf16 units: no square matmul is fast
        return "above the measured square-matmul peak"
    return f"{achieved / peak:.1%} of the peak"


def full_run(ws: Workspace, threads: int | None, label: str = "default preset",
             **changes) -> list[tuple[str, str]]:
    from engine.data.facts import load_capitals
    from engine.inference.evaluate import capital_accuracy
    from engine.model.checkpoint import load_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        copy = Workspace(tmp)
        for name in ("tokenizer", "train_shard", "val_shard"):
            shutil.copy(ws.find(name).path, copy.path(name))
        config = train.preset("default", threads=threads, **changes)
        done = None
        start = time.perf_counter()
        for event in train.pretrain(copy, config, resume=False, evaluate=False):
            if isinstance(event, train.TrainDone):
                done = event
        wall = time.perf_counter() - start
        tokenizer, _ = load_tokenizer(copy)
        model, _ = load_checkpoint(copy.path("base"), tokenizer)
        accuracy = capital_accuracy(model, tokenizer, load_capitals())
        france = next(a for a in accuracy.answers if a.country == "France")
    return [(f"{label}: steps", f"{done.step}"),
            (f"{label}: wall time", f"{wall:.1f} s ({done.tokens_per_s:,.0f} tokens/s)"),
            (f"{label}: final train / val loss", f"{done.train_loss:.3f} / {done.val_loss:.3f}"),
            (f"{label}: capitals right", f"{accuracy}"),
            (f'{label}: "The capital of France is" ->', repr(france.answer))]


STAGES = ("pretrain", "sft", "nudge")
CHAPTERS = {"pretrain": "training", "sft": "conversations", "nudge": "preferences"}


def _stage_workspace(ws: Workspace, tmp: str) -> Workspace:
    """A scratch workspace with what the three stages read: tokenizer, shards, base and
    chat models, and a vote on every talk prompt (the nudge learns from votes)."""
    from engine.preference.votes import VoteStore

    copy = Workspace(tmp)
    for name in ("tokenizer", "train_shard", "val_shard", "base", "chat"):
        found = ws.find(name)
        if found is not None:
            shutil.copy(found.path, copy.path(name))
    store = VoteStore.open(copy)
    for prompt in store.prompts():
        store.vote(prompt.id, prompt.candidate_ids, "benchmark")
    return copy


def _stage_busy(screen, stage: str) -> bool:
    """Has the stage started its real work (so torch is busy), and is it still running?"""
    if stage == "pretrain":
        return screen.running and screen.last_step is not None
    if stage == "sft":
        return screen.sft_running and screen._sft_progress[1] > 0
    return screen.nudge.running  # short: timed from N to its end, loading included


def _stage_running(screen, stage: str) -> bool:
    if stage == "pretrain":
        return screen.running
    if stage == "sft":
        return screen.sft_running
    return screen.nudge.running


def time_to_quality(ws: Workspace, preset: str, threads: int | None) -> list[tuple[str, str]]:
    """Train ``preset`` from scratch on a copy of the workspace, as the Training chapter does:
    the step and seconds at which " Paris" first tops the probe for "The capital of France
    is" (and whether it stays there), the whole run's time, and the capitals quiz."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Workspace(tmp)
        for name in ("tokenizer", "train_shard", "val_shard"):
            shutil.copy(ws.find(name).path, copy.path(name))
        config = train.preset(preset, threads=threads)
        first = last_lost = None
        on_top = False
        done = accuracy = None
        start = time.perf_counter()
        for event in train.pretrain(copy, config, resume=False):
            if isinstance(event, train.Probe) and event.result.top:
                on_top = event.result.top[0][0] == config.probe_answer
                if on_top and first is None:
                    first = (event.step, time.perf_counter() - start)
                elif not on_top and first is not None:
                    last_lost = event.step
            elif isinstance(event, train.TrainDone):
                done = (event.step, time.perf_counter() - start)
            elif isinstance(event, train.CapitalsEvaluated):
                accuracy = event.accuracy
    label = f"{preset} preset"
    top = (f"step {first[0]:,} of {config.max_steps:,}, {first[1]:.0f} s"
           + (" (and stays)" if not last_lost else
              f" (off it last at step {last_lost:,}; on top at the end: {on_top})")
           if first else "never")
    return [(f'{label}: " Paris" on top', top),
            (f"{label}: run finished", f"step {done[0]:,} at {done[1]:.0f} s"),
            (f"{label}: capitals right", str(accuracy))]


async def key_latency(ws: Workspace, runner: str | None, seconds: float,
                      ui_threads: int | None, stage: str = "pretrain") -> Latencies:
    """Milliseconds from a key press to the repainted screen while a stage runs (``runner``
    None: the same keys with nothing running), on both clocks of ``Latencies``. A nudge is
    short, so it is started again until ``seconds`` of keys are in."""
    from screens.conversations import ConversationsScreen
    from screens.preferences import PreferencesScreen
    from screens.registry import find_chapter
    from screens.training import TrainingScreen
    from tui.app import TourApp

    for screen_class in (TrainingScreen, ConversationsScreen, PreferencesScreen):
        screen_class.runner = runner or "process"
    TrainingScreen.threads = ui_threads
    start_key = {"pretrain": "s", "sft": "s", "nudge": "N"}[stage]
    with tempfile.TemporaryDirectory() as tmp:
        copy = _stage_workspace(ws, tmp)
        app = TourApp(copy, start=find_chapter(CHAPTERS[stage]))
        app.animation_level = "none"  # time the repaint, not a scrolling animation
        async with app.run_test(size=(100, 32)) as pilot:
            await _settle(app)
            screen = app.screen
            if runner is None:
                return await _press_keys(pilot, seconds)
            latencies = Latencies()
            spent = 0.0  # seconds of keys pressed while the stage was busy
            while spent < seconds:
                await pilot.press(start_key)
                deadline = time.perf_counter() + 120
                while not _stage_busy(screen, stage):  # wait until torch is busy
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"{stage} did not start ({runner})")
                    await pilot.pause(0.05)
                began = time.perf_counter()
                latencies.extend(await _press_keys(pilot, seconds - spent,
                                                   lambda: _stage_running(screen, stage)))
                spent += time.perf_counter() - began
                if stage == "nudge":  # short: wait for it to end, then nudge again
                    await _settle(app)
                else:
                    break
            if _stage_running(screen, stage):
                await pilot.press("x" if stage == "pretrain" else "s")  # stop the run
            await _settle(app)
    return latencies


async def _settle(app) -> None:
    """Wait for the chapter's workers; one that failed (it shows why on screen) is done too."""
    from textual.worker import WorkerFailed

    for worker in list(app.workers):
        try:
            await worker.wait()
        except WorkerFailed:
            pass


class Latencies:
    """Two clocks on the same key presses.

    ``to_frame``: from the key reaching the app to the first frame drawn after the chapter
    has scrolled, what a viewer waits for. ``to_idle``: the Pilot's round trip (press, then
    pause until the app looks idle), which adds the Pilot's own waits for idleness (several
    sleeps of Textual's idle granularity, and longer while any thread of the process works)
    on top of the app's work."""

    def __init__(self) -> None:
        self.to_frame: list[float] = []
        self.to_idle: list[float] = []

    def extend(self, other: Latencies) -> None:
        self.to_frame += other.to_frame
        self.to_idle += other.to_idle

    def __len__(self) -> int:
        return len(self.to_idle)


def _scrolled(screen) -> tuple[float, ...]:
    return tuple(w.scroll_y for w in screen.query("*") if w.max_scroll_y > 0)


async def _press_keys(pilot, seconds: float, going=lambda: True) -> Latencies:
    """Press End and Home in turn (each scrolls the chapter: a repaint) for ``seconds``,
    or until ``going()`` turns false; each key timed on both clocks of ``Latencies``."""
    app = pilot.app
    frames: list[tuple[float, tuple[float, ...]]] = []
    display = app._display

    def timed_display(screen, renderable) -> None:  # the compositor hands over a frame
        if renderable is not None:
            frames.append((time.perf_counter(), _scrolled(app.screen)))
        display(screen, renderable)

    app._display = timed_display
    latencies = Latencies()
    end = time.perf_counter() + seconds
    try:
        while time.perf_counter() < end and going():
            before = _scrolled(app.screen)
            frames.clear()
            start = time.perf_counter()
            await pilot.press(("end", "home")[len(latencies) % 2])
            await pilot.pause()
            latencies.to_idle.append((time.perf_counter() - start) * 1000)
            drawn = next((at for at, where in frames if where != before), None)
            if drawn is not None:  # a key that scrolled nothing drew no new frame
                latencies.to_frame.append((drawn - start) * 1000)
            await asyncio.sleep(0.1)
    finally:
        app._display = display
    return latencies


def _summary(values: list[float]) -> str:
    if not values:
        return "no key timed"
    return (f"median {statistics.median(values):.0f} ms, p95 {_p95(values):.0f} ms "
            f"({len(values)} keys)")


def _p95(values: list[float]) -> float:
    """The nearest-rank 95th percentile: with few keys, the slowest of them."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def emit(*rows: tuple[str, str]) -> None:
    """Print rows as they are measured (a long benchmark shows its figures as it goes)."""
    for name, value in rows:
        print(f"{name:<40}  {value}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=os.environ.get("LLM_TOUR_HOME"))
    parser.add_argument("--steps", type=int, default=100,
                        help="steps per speed measurement (the trainer evaluates every 100)")
    parser.add_argument("--bf16-steps", type=int, default=10,
                        help="steps for the bf16 measurement (slow on CPUs without bf16 units)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--latency-seconds", type=float, default=15.0)
    parser.add_argument("--skip-speed", action="store_true",
                        help="skip the tokens/s and FLOP/s measurements")
    parser.add_argument("--skip-full-run", action="store_true")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--stages", nargs="*", choices=STAGES, default=list(STAGES),
                        help="stages whose key latency is measured (training, fine-tuning, "
                             "the preference nudge)")
    parser.add_argument("--time-to-quality", nargs="*", metavar="PRESET", default=None,
                        help="train these presets (default: default and live) and time when "
                             '" Paris" tops the probe, as the Training chapter shows it')
    parser.add_argument("--without-dropout", action="store_true",
                        help="also train the default preset with dropout 0, for comparison")
    parser.add_argument("--ui-threads", type=int, nargs="*", default=[None],
                        help="torch threads for training inside the tour (one row each)")
    args = parser.parse_args()

    ws = Workspace(args.workdir)
    threads = devices.set_threads(args.threads)
    tokenizer, artifact = load_tokenizer(ws)
    config = train.preset("default", threads=threads, device="cpu", dtype="float32")
    emit(
        ("workspace", (f"{ws.root} (tokenizer {artifact.label}, vocabulary "
                      f"{tokenizer.vocab_size:,})")),
        ("threads / load average", f"{threads} / {os.getloadavg()[0]:.1f}"))

    if not args.skip_speed:
        bare, ours, plain, ours_bf16 = [], [], [], []
        for _ in range(args.rounds):
            batches = train.shard_batches(ws, config)
            bare.append(bare_loop(config, batches, tokenizer.vocab_size, args.steps, torch.float32))
            batches = train.shard_batches(ws, config)
            ours.append(trainer(config, batches, tokenizer, args.steps))
            batches = train.shard_batches(ws, config)
            GPT.chunked_loss = False  # the reference: the whole logits table, then cross_entropy
            try:
                plain.append(trainer(config, batches, tokenizer, args.steps))
            finally:
                GPT.chunked_loss = True
            batches = train.shard_batches(ws, config)
            ours_bf16.append(bare_loop(config, batches, tokenizer.vocab_size, args.bf16_steps,
                                       torch.bfloat16))
        b, t, p, t16 = max(bare), max(ours), max(plain), max(ours_bf16)
        emit(("bare loop, fp32", f"{b:,.0f} tokens/s"),
             ("trainer, fp32", f"{t:,.0f} tokens/s"),
             ("trainer / bare loop", f"{t / b:.2f}"),
             ("trainer, plain head loss", f"{p:,.0f} tokens/s (chunked head: {t / p:.2f}x)"),
             ("bare loop, bf16 autocast", f"{t16:,.0f} tokens/s ({t16 / b:.2f}x fp32)"))

        model = GPT(config.model_config(tokenizer.vocab_size))
        flops = model.flops_per_token()
        peak32, peak16 = matmul_peak(torch.float32), matmul_peak(torch.bfloat16)
        emit(("model", f"{model.num_params():,} parameters, {flops:,} FLOPs per token"),
                 ("matmul peak fp32 / bf16", f"{peak32 / 1e9:,.1f} / {peak16 / 1e9:,.1f} GFLOP/s"),
                 ("trainer achieved, fp32", (f"{t * flops / 1e9:,.2f} GFLOP/s = "
                                            f"{share_of_peak(t * flops, peak32)}")),
                 ("bare loop achieved, bf16", (f"{t16 * flops / 1e9:,.2f} GFLOP/s = "
                                              f"{share_of_peak(t16 * flops, peak16)}")))

    if args.time_to_quality is not None:
        for name in args.time_to_quality or ["default", "live"]:
            emit(*time_to_quality(ws, name, threads))
    if not args.skip_full_run:
        emit(*full_run(ws, threads))
        if args.without_dropout:
            emit(*full_run(ws, threads, "without dropout", dropout=0.0))
    if not args.skip_latency:
        runs = [(None, None, "pretrain")]
        for stage in args.stages:
            threads_rows = args.ui_threads if stage == "pretrain" else [None]
            runs += [("process", n, stage) for n in threads_rows] + [("thread", None, stage)]
        for runner, ui_threads, stage in runs:
            timed = asyncio.run(key_latency(ws, runner, args.latency_seconds, ui_threads,
                                            stage))
            label = f", {ui_threads} thread(s)" if ui_threads else ""
            where = f"{stage} in a {runner}{label}" if runner else "nothing running"
            emit((f"key to frame, {where}", _summary(timed.to_frame)),
                 (f"key to idle (Pilot), {where}", _summary(timed.to_idle)))


if __name__ == "__main__":
    sys.exit(main())
