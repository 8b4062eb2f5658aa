"""Torch threads for the tiny model: the measurement behind engine/threads.py's policy.

For each thread count (1, 2, ... up to the usable cores): tokens/s sampling from the
workspace's base model (the KV cache on, as the tour samples) and training steps/s of the
default preset, first on the machine as it is (quiet, on a presenter's laptop; the load
average is printed), then beside two busy processes (pure-Python loops, started before
and stopped after the measurement). Rounds alternate the thread
counts so load hits all alike; the best of the rounds is kept, and every figure is
printed as a ratio to one thread measured in the same run.

    python benchmarks/threads.py [--workdir DIR] [--rounds 3] [--tokens 100] [--steps 10]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import contextmanager

import torch

from engine.inference.sampler import SampleConfig, Sampler
from engine.model.load import load_model
from engine.threads import ROLES, threads_for, usable_cores
from engine.training import loop as train
from engine.workspace import Workspace

PROMPT = "The capital of France is"
BUSY = "while True: pass"


@contextmanager
def busy_processes(n: int):
    """``n`` processes that each keep a core busy, for as long as the block runs."""
    procs = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(n)]
    try:
        time.sleep(0.5)  # let them get going
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def sample_rate(model, ids: list[int], tokens: int) -> float:
    config = SampleConfig(temperature=1.0, seed=0, max_tokens=tokens)
    start = time.perf_counter()
    for _ in Sampler(model, ids, config):
        pass
    return tokens / (time.perf_counter() - start)


def train_rate(config: train.TrainConfig, batches, tokenizer, steps: int, threads: int) -> float:
    # the trainer sets torch's threads from its config (None: every usable core)
    run = train.replace(config, max_steps=steps, eval_interval=0, probe_interval=0,
                        sample_interval=0, checkpoint_interval=0, threads=threads)
    start = time.perf_counter()
    for _ in train.train(run, batches, tokenizer):
        pass
    return steps / (time.perf_counter() - start)


def measure(counts: list[int], rounds: int, work) -> dict[int, float]:
    best = {n: 0.0 for n in counts}
    for _ in range(rounds):
        for n in counts:
            torch.set_num_threads(n)
            best[n] = max(best[n], work(n))
    return best


def show(what: str, quiet: dict[int, float], loaded: dict[int, float], unit: str) -> None:
    print(f"\n{what} ({unit}, best of the rounds; ratio to 1 thread in the same conditions)")
    print(f"{'threads':>8}{'as found':>12}{'ratio':>8}{'+2 busy':>12}{'ratio':>8}"
          f"{'busy/found':>12}")
    for n in quiet:
        print(f"{n:>8}{quiet[n]:>12.1f}{quiet[n] / quiet[1]:>7.2f}x{loaded[n]:>12.1f}"
              f"{loaded[n] / loaded[1]:>7.2f}x{loaded[n] / quiet[n]:>11.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default=os.environ.get("LLM_TOUR_HOME"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--busy", type=int, default=2, help="busy processes for the load")
    args = parser.parse_args()

    ws = Workspace(args.workdir)
    loaded = load_model(ws, device="cpu")
    ids = loaded.encode(PROMPT)
    cores = usable_cores()
    counts = sorted({1, 2, cores})
    config = train.preset("default", device="cpu", dtype="float32")
    batches = train.shard_batches(ws, config)
    print(f"{cores} usable cores, load {os.getloadavg()[0]:.1f}, torch {torch.__version__}; "
          f"{loaded.label}")
    print("policy: " + ", ".join(f"{role} {threads_for(role)}" for role in ROLES))

    def sampling(threads: int) -> float:
        return sample_rate(loaded.model, ids, args.tokens)

    def training(threads: int) -> float:
        return train_rate(config, batches, loaded.tokenizer, args.steps, threads)

    sampling(1)  # warm up
    for what, work, unit in (("sampling, KV cache", sampling, "tokens/s"),
                             ("training, default preset", training, "steps/s")):
        quiet = measure(counts, args.rounds, work)
        with busy_processes(args.busy):
            under_load = measure(counts, args.rounds, work)
            loaded_policy = threads_for("headless-training")
        show(what, quiet, under_load, unit)
    print(f"\nheadless training as found: {threads_for('headless-training')} threads; beside "
          f"{args.busy} busy processes: {loaded_policy} (engine.threads: the cores found free)")


if __name__ == "__main__":
    sys.exit(main())
