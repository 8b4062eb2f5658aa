"""The training loop: a window of tokens goes in, a probability map comes out, and every step
nudges the parameters toward the tokens that actually came next.

:func:`train` is a generator of small events (a step with its loss, a validation loss, the
probability map for "The capital of France is", a greedy sample), so a screen and the CLI can
watch the same run. Stop iterating, or make ``stop()`` return True, to cancel between steps: the
trainer writes a checkpoint before it lets go. Started again, it resumes from that checkpoint and
the step count carries on.

The default preset runs a fixed number of steps, not a fixed time: on a shared or busy machine
the run takes longer but learns exactly the same thing (same seed, same batches, same model);
the clock is only used for tokens/s and the ETA.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from engine.model import device as devices
from engine.model.checkpoint import CheckpointMismatch, load_checkpoint, save_checkpoint
from engine.inference.evaluate import (
    CapitalAccuracy,
    CopyProbeResult,
    ProbeResult,
    capital_accuracy,
    copy_probe,
    greedy_continue,
    probe,
)
from engine.model.gpt import GPT, GPTConfig
from engine.model.versions import data_hash
from engine.events import Progress
from engine.tokenizer.protocol import HashedTokenizer, Tokenizer


@dataclass
class TrainConfig:
    # the model (the vocabulary size comes from the tokenizer)
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 96
    block_size: int = 128
    rope: bool = False  # rotary position embeddings instead of learned ones (GPTConfig.rope)
    # Dropout makes the small default model recall facts instead of whole passages: without
    # it, the capitals quiz peaks mid-run and then falls as the model memorises the text around
    # each fact (benchmarks/train.py --without-dropout).
    dropout: float = 0.1
    # the optimisation: AdamW, linear warm-up, then cosine decay to min_lr_ratio * learning_rate
    max_steps: int = 840
    batch_size: int = 32
    learning_rate: float = 4e-3
    min_lr_ratio: float = 0.1
    warmup_frac: float = 0.05
    decay_steps: int | None = None  # where the cosine ends (max_steps when None); lr stays low after
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0
    # keep the ordinary tokens' rows of the embedding (shared with the output head) as they
    # are: a fine-tune then has to copy through the geometry pretraining gave every token,
    # not by reshaping only the tokens its conversations happen to copy. The special tokens
    # (<|user|>, <|tool_call|>, ... which pretraining never shows) still learn.
    freeze_embedding: bool = False
    seed: int = 1337
    # where and how it runs
    device: str = "auto"  # auto = CUDA, then MPS, then CPU
    dtype: str = "auto"  # auto = bf16 on a GPU, fp32 on a CPU (measured: no gain there)
    threads: int | None = None  # CPU threads for torch; None = the cores free when it starts
    compile: bool = False
    # what the viewer sees along the way
    eval_interval: int = 100  # steps between validation losses
    eval_batches: int = 4
    probe_interval: int = 10  # steps between probability maps for the probe prompt
    probe_prompt: str = "The capital of France is"
    probe_answer: str = " Paris"
    sample_interval: int = 100  # steps between greedy samples
    sample_prompt: str = "The capital of France is"
    sample_tokens: int = 24
    # more prompts sampled with it: pretrain adds the first words of the viewer's own page
    sample_prompts: tuple[str, ...] = ()
    # steps between copy probes: does the model repeat a name it never saw, just shown to it
    # (engine.inference.evaluate.copy_probe)? 0 turns it off
    copy_interval: int = 100
    checkpoint_interval: int = 100  # steps between checkpoints (and one at the end)

    def model_config(self, vocab_size: int) -> GPTConfig:
        return GPTConfig(vocab_size=vocab_size, block_size=self.block_size, n_layer=self.n_layer,
                         n_head=self.n_head, n_embd=self.n_embd, dropout=self.dropout,
                         rope=self.rope)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


PRESETS: dict[str, TrainConfig] = {
    # A few minutes on two CPU cores (measured by benchmarks/train.py); learns the capitals of
    # the tour's web.
    "default": TrainConfig(),
    # The Training chapter's live run, sized for a talk: small batches and a high learning
    # rate put " Paris" on top for "The capital of France is" within about a minute on two
    # CPU cores, and the run ends in a few (benchmarks/train.py --time-to-quality measures
    # both against the default preset; one thread, in one run: " Paris" on top at step 340
    # after 49 s against step 280 after 108 s, the run done in 206 s against 397 s, and 171
    # of 175 capitals against 169). Half the text the default preset reads; the prepared
    # model stays the default preset's.
    "live": TrainConfig(batch_size=8, learning_rate=1e-2, max_steps=1600, dropout=0.0,
                        eval_interval=100, probe_interval=10, sample_interval=100,
                        checkpoint_interval=200),
    # A short run on a GPU: a wider, deeper model with a longer context and bigger batches.
    "gpu": TrainConfig(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=64,
                       max_steps=1500, learning_rate=1.5e-3, eval_interval=250,
                       eval_batches=10, probe_interval=25, sample_interval=250,
                       checkpoint_interval=500),
    # Seconds, for tests and a quick look at the screens.
    "tiny": TrainConfig(n_layer=2, n_head=2, n_embd=32, block_size=32, batch_size=8,
                        dropout=0.0, max_steps=30, learning_rate=1e-2, eval_interval=10,
                        eval_batches=2, probe_interval=5, sample_interval=10, sample_tokens=8,
                        copy_interval=0, checkpoint_interval=10),
}


def preset(name: str, **changes: Any) -> TrainConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **changes)


def learning_rate(config: TrainConfig, step: int) -> float:
    """Linear warm-up over the first ``warmup_frac`` of the run, then cosine down to the floor."""
    horizon = config.decay_steps or config.max_steps
    warmup = max(1, int(config.warmup_frac * horizon))
    floor = config.learning_rate * config.min_lr_ratio
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    if step >= horizon:
        return floor
    progress = (step - warmup) / max(1, horizon - warmup)
    return floor + 0.5 * (1.0 + math.cos(math.pi * progress)) * (config.learning_rate - floor)


# -- batches ------------------------------------------------------------------------------------

class BatchSource(Protocol):
    """Gives (x, y) batches of token IDs for a split ("train" or "val"); y holds the next token
    of every position, or -1 where the loss should not look (fine-tuning masks that way)."""

    def __call__(self, split: str) -> tuple[torch.Tensor, torch.Tensor]: ...


class ShardBatches:
    """Random windows from the token shards train.bin / val.bin (uint16), nanoGPT-style.

    Its own seeded generator makes the batches reproducible, and its state goes into the
    checkpoint so a resumed run reads the batches it would have read.
    """

    def __init__(self, train_path: str | os.PathLike[str], val_path: str | os.PathLike[str],
                 batch_size: int, block_size: int, seed: int = 1337) -> None:
        from engine.tokenizer.tour import read_shard  # checked: a broken shard is named

        self.paths = {"train": Path(train_path), "val": Path(val_path)}
        self.data = {split: read_shard(p) for split, p in self.paths.items()}
        for split, data in self.data.items():
            if len(data) <= block_size + 1:
                raise ValueError(f"{self.paths[split].name} holds {len(data)} tokens, too few "
                                 f"for a window of {block_size}")
        self.batch_size = batch_size
        self.block_size = block_size
        self.generator = torch.Generator().manual_seed(seed)

    def __call__(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        data = self.data[split]
        starts = torch.randint(len(data) - self.block_size - 1, (self.batch_size,),
                               generator=self.generator).tolist()
        chunks = np.stack([data[i:i + self.block_size + 1] for i in starts]).astype(np.int64)
        chunk = torch.from_numpy(chunks)
        return chunk[:, :-1], chunk[:, 1:]

    def window(self, split: str = "train") -> tuple[list[int], int]:
        """One window and the token that actually came next."""
        x, y = self(split)
        return x[0].tolist(), int(y[0, -1])

    def state_dict(self) -> dict[str, Any]:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["generator"])


def shard_batches(workspace: Any, config: TrainConfig) -> ShardBatches:
    """Batches from train.bin and val.bin: the workspace's own, else the bundled ones."""
    found = [workspace.find(name) for name in ("train_shard", "val_shard")]
    if None in found:
        raise FileNotFoundError(f"train.bin/val.bin are missing in {workspace.root}; "
                                "run `llm-tour prepare tokenizer` first")
    return ShardBatches(found[0].path, found[1].path, config.batch_size, config.block_size,
                        config.seed)


# -- events -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainStart:
    device: str  # a label, e.g. "CPU, 2 threads · float32"
    params: int
    param_counts: dict[str, int]
    start_step: int  # > 0 when resuming
    max_steps: int
    tokens_per_step: int
    resumed_from: str | None = None


@dataclass(frozen=True)
class TrainStep:
    step: int  # steps done so far (1 after the first)
    max_steps: int
    loss: float
    lr: float
    grad_norm: float
    tokens_per_s: float  # over the last few steps
    elapsed: float  # seconds of training in this run
    eta: float  # seconds until max_steps at the current pace

    @property
    def progress(self) -> Progress:
        return Progress(self.step, self.max_steps, f"loss {self.loss:.3f}")


@dataclass(frozen=True)
class EvalLoss:
    step: int
    train_loss: float
    val_loss: float


@dataclass(frozen=True)
class Probe:
    step: int
    result: ProbeResult


@dataclass(frozen=True)
class Sample:
    step: int
    prompt: str
    text: str  # the greedy continuation


@dataclass(frozen=True)
class CopyProbe:
    """How often the model repeats an unseen name it was just shown: in plain text, and (for
    a chat model) from the question into a tool call."""

    step: int
    text: CopyProbeResult
    chat: CopyProbeResult | None = None


@dataclass(frozen=True)
class Checkpointed:
    step: int
    path: str


@dataclass(frozen=True)
class TrainDone:
    step: int
    train_loss: float | None
    val_loss: float | None
    elapsed: float
    tokens_per_s: float
    cancelled: bool
    path: str | None


TrainEvent = (TrainStart | TrainStep | EvalLoss | Probe | Sample | CopyProbe | Checkpointed
              | TrainDone)


# -- the loop -----------------------------------------------------------------------------------

@dataclass
class _Run:
    """What the loop carries between steps (and what a cancel needs to checkpoint)."""

    step: int = 0
    consistent: bool = True  # False while an optimizer step is half done
    elapsed: float = 0.0
    tokens: int = 0
    times: deque = field(default_factory=lambda: deque(maxlen=20))


@torch.no_grad()
def estimate_loss(model: GPT, batches: BatchSource, n: int, device: torch.device,
                  dtype: torch.dtype) -> dict[str, float]:
    """Mean loss over ``n`` batches of each split, in eval mode."""
    was_training = model.training
    model.eval()
    out = {}
    for split in ("train", "val"):
        losses = []
        for _ in range(n):
            x, y = batches(split)
            with devices.autocast(device, dtype):
                _, loss = model(x.to(device), y.to(device))
            losses.append(float(loss))
        out[split] = sum(losses) / len(losses)
    model.train(was_training)
    return out


class _Frozen:
    """The ordinary tokens' embedding rows, held where they are through every step (no
    gradient, and weight decay undone); the special tokens' rows after them still learn."""

    def __init__(self, model: GPT, tokenizer: Tokenizer) -> None:
        special = getattr(tokenizer, "special", None) or {}
        self.table = model.transformer.wte.weight
        self.rows = min(special.values()) if special else self.table.shape[0]
        self.saved = self.table.detach()[:self.rows].clone()

    def before_step(self) -> None:
        if self.table.grad is not None:
            self.table.grad[:self.rows] = 0

    def after_step(self) -> None:
        with torch.no_grad():
            self.table[:self.rows].copy_(self.saved)


def train(config: TrainConfig, batches: BatchSource, tokenizer: HashedTokenizer, *,
          checkpoint_path: str | os.PathLike[str] | None = None, resume: bool = True,
          init_model: GPT | None = None, stop: Callable[[], bool] | None = None,
          eval_batches: BatchSource | None = None, kind: str = "base",
          ) -> Iterator[TrainEvent]:
    """Train and yield events; see the module docstring.

    ``batches`` gives training (and validation) batches; ``eval_batches`` optionally a separate,
    seeded source for validation so measuring the loss does not change the training batches.
    ``init_model`` starts from given weights (fine-tuning a base model) instead of a fresh model.
    With ``resume`` and an existing ``checkpoint_path`` of the same shape and tokenizer, the run
    continues from it; otherwise it starts over and overwrites the checkpoint.
    """
    devices.set_threads(config.threads)
    device = devices.choose_device(config.device)
    dtype = devices.choose_dtype(device, config.dtype)
    torch.manual_seed(config.seed)

    model_config = config.model_config(tokenizer.vocab_size)
    resumed_from = None
    meta = None
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    if resume and path is not None and path.exists():
        model, meta = load_checkpoint(path, tokenizer)
        if meta.model_config != model_config and init_model is None:
            raise CheckpointMismatch(
                f"{path.name} holds a {_shape(meta.model_config)} model but this run asks for "
                f"{_shape(model_config)}; retrain instead of resuming")
        resumed_from = str(path)
    elif init_model is not None:
        # the weights of init_model, the dropout of this run (a fine-tune may set its own)
        model = GPT(replace(init_model.config, dropout=config.dropout))
        model.load_state_dict(getattr(init_model, "_orig_mod", init_model).state_dict())
    else:
        model = GPT(model_config)
    model.to(device)
    model.train()
    kept = _Frozen(model, tokenizer) if config.freeze_embedding else None

    optimizer = model.configure_optimizer(config.weight_decay, config.learning_rate,
                                          (config.beta1, config.beta2))
    run = _Run()
    if meta is not None:
        run.step = meta.step
        if meta.optimizer is not None:
            optimizer.load_state_dict(meta.optimizer)
        if "batches" in meta.extra and hasattr(batches, "load_state_dict"):
            batches.load_state_dict(meta.extra["batches"])
    step_model = torch.compile(model) if config.compile else model
    validation = eval_batches or batches
    tokens_per_step = config.batch_size * config.block_size
    probe_ids = tokenizer.encode(config.probe_prompt) if config.probe_prompt else None
    sample_ids = [(prompt, tokenizer.encode(prompt))
                  for prompt in (config.sample_prompt, *config.sample_prompts) if prompt]
    stop_ids = [i for name, i in getattr(tokenizer, "special", {}).items()
                if name in ("<|endoftext|>", "<|end|>")]

    def save() -> str | None:
        if path is None:
            return None
        extra = {"kind": kind, "device": devices.describe(device, dtype)}
        if hasattr(batches, "state_dict"):
            extra["batches"] = batches.state_dict()
        save_checkpoint(path, model, tokenizer=tokenizer, step=run.step, optimizer=optimizer,
                        train_config=config.to_dict(), extra=extra)
        return str(path)

    def look(step: int) -> Iterator[TrainEvent]:
        if probe_ids and config.probe_interval and (step % config.probe_interval == 0
                                                    or step == config.max_steps):
            yield Probe(step, probe(model, tokenizer, config.probe_prompt, config.probe_answer,
                                    ids=probe_ids))
        if sample_ids and config.sample_interval and (step % config.sample_interval == 0
                                                      or step == config.max_steps):
            for prompt, prompt_ids in sample_ids:
                ids = greedy_continue(model, prompt_ids, config.sample_tokens, stop_ids)
                yield Sample(step, prompt, tokenizer.decode(ids))
        if config.copy_interval and (step % config.copy_interval == 0
                                     or step == config.max_steps):
            chat = copy_probe(model, tokenizer, "chat") if kind == "chat" else None
            yield CopyProbe(step, copy_probe(model, tokenizer, "text"), chat)

    yield TrainStart(devices.describe(device, dtype), model.num_params(), model.param_counts(),
                     run.step, config.max_steps, tokens_per_step, resumed_from)
    losses: dict[str, float] = {}
    last_loss = None
    saved_at = run.step if resumed_from else -1
    cancelled = False
    try:
        if run.step == 0:
            yield from look(0)
        while run.step < config.max_steps:
            if stop is not None and stop():
                cancelled = True
                break
            t0 = time.perf_counter()
            lr = learning_rate(config, run.step)
            for group in optimizer.param_groups:
                group["lr"] = lr
            x, y = batches("train")
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            run.consistent = False
            with devices.autocast(device, dtype):
                _, loss = step_model(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if kept is not None:
                kept.before_step()
            norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            if kept is not None:
                kept.after_step()
            last_loss = float(loss.detach())  # waits for the device, so the timing below is honest
            run.step += 1
            run.consistent = True
            dt = time.perf_counter() - t0
            run.elapsed += dt
            run.tokens += tokens_per_step
            run.times.append(dt)
            pace = sum(run.times) / len(run.times)
            yield TrainStep(run.step, config.max_steps, last_loss, lr, float(norm),
                            tokens_per_step / pace, run.elapsed,
                            (config.max_steps - run.step) * pace)
            if config.eval_interval and (run.step % config.eval_interval == 0
                                         or run.step == config.max_steps):
                losses = estimate_loss(model, validation, config.eval_batches, device, dtype)
                yield EvalLoss(run.step, losses["train"], losses["val"])
            yield from look(run.step)
            if path is not None and config.checkpoint_interval and (
                    run.step % config.checkpoint_interval == 0):
                saved_at = run.step
                yield Checkpointed(run.step, save())
    finally:
        # Also on GeneratorExit (the consumer stopped iterating): never lose finished steps.
        final_save = path is not None and run.consistent and run.step not in (saved_at, 0)
        if final_save:
            save()
    if final_save:
        yield Checkpointed(run.step, str(path))
    yield TrainDone(run.step, losses.get("train", last_loss), losses.get("val"), run.elapsed,
                    run.tokens / run.elapsed if run.elapsed else 0.0, cancelled,
                    str(path) if path is not None else None)


@dataclass(frozen=True)
class CapitalsEvaluated:
    """After a finished run: how many capitals the model now continues correctly."""

    step: int
    accuracy: CapitalAccuracy


def pretrain(workspace: Any, config: TrainConfig, *, resume: bool = True,
             stop: Callable[[], bool] | None = None, evaluate: bool = True,
             ) -> Iterator[TrainEvent | CapitalsEvaluated]:
    """Train the base model on the workspace's shards into its base.pt, then quiz the capitals.

    base.pt is the run's working file (it resumes from it): while the run goes on, and after
    it was stopped, it is offered, never the model every chapter uses by itself
    (``ModelVersions.begin_run``). A finished run's quiz is kept with its version, as the
    figures of `llm-tour eval --version ID` (the same items, scored the same way).
    """
    from engine.data.facts import load_capitals
    from engine.model.versions import ModelVersions
    from engine.tokenizer.tour import load_tokenizer, read_mix

    tokenizer, _ = load_tokenizer(workspace)
    mix = read_mix(workspace)  # the viewer's own page is in the mix: watch it being learned
    if mix is not None and mix.prompt and mix.prompt not in config.sample_prompts:
        config = replace(config, sample_prompts=(*config.sample_prompts, mix.prompt))
    batches = shard_batches(workspace, config)
    # Validation batches come from their own generator, so measuring never shifts training.
    held_out = ShardBatches(batches.paths["train"], batches.paths["val"], config.batch_size,
                            config.block_size, config.seed + 1)
    workspace.ensure()
    ModelVersions(workspace).begin_run("base")
    events = train(config, batches, tokenizer, checkpoint_path=workspace.path("base"),
                   resume=resume, stop=stop, eval_batches=held_out)
    model = kept = None
    try:
        for event in events:
            if isinstance(event, TrainDone) and event.path and Path(event.path).exists():
                version = _keep_version(workspace, "base", "pretrain", event,
                                        data_hash(batches.paths["train"]))
                kept = ModelVersions(workspace).path(version)
            yield event
            if isinstance(event, TrainDone) and evaluate and not event.cancelled and kept:
                model, _ = load_checkpoint(kept, tokenizer)
    finally:
        events.close()
    if model is not None:
        from engine.chat.eval import base_report

        accuracy = capital_accuracy(model, tokenizer, load_capitals())
        ModelVersions(workspace).measure(kept, base_report(accuracy).figures(
            per_category=None, command=f"llm-tour eval --version {version.id}"))
        yield CapitalsEvaluated(event.step, accuracy)


def _keep_version(workspace: Any, kind: str, stage: str, done: TrainDone, data: str) -> Any:
    """Keep the model a run made as a new version (engine.model.versions): a finished run
    becomes the current model, a stopped one is only offered."""
    from engine.model.versions import ModelVersions

    return ModelVersions(workspace).record(kind, stage, done.path, steps=done.step,
                                           data_hash=data, finished=not done.cancelled)


def _shape(c: GPTConfig) -> str:
    return (f"{c.n_layer}-layer, {c.n_head}-head, {c.n_embd}-wide "
            f"(context {c.block_size}, vocabulary {c.vocab_size})")


# -- one nudge, for the screen ------------------------------------------------------------------

@dataclass(frozen=True)
class Nudge:
    """The probability map for one real window before and after a single training step."""

    window: list[int]
    actual_id: int
    before: ProbeResult
    after: ProbeResult
    loss_before: float
    loss_after: float


def nudge(model: GPT, tokenizer: Tokenizer, window: list[int], actual_id: int,
          learning_rate: float = 4e-3, k: int = 3) -> Nudge:
    """One AdamW step on one window, so its actual next token becomes more likely."""
    device = next(model.parameters()).device
    text = tokenizer.decode(window)
    before = probe(model, tokenizer, text, k=k, ids=window, actual_id=actual_id)
    x = torch.tensor([window], dtype=torch.long, device=device)
    y = torch.full_like(x, -1)  # score only the last position: the token that came next
    y[0, -1] = actual_id
    optimizer = model.configure_optimizer(0.0, learning_rate, (0.9, 0.95))
    model.eval()  # no dropout: the losses before and after are of the same network
    _, loss_before = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss_before.backward()
    optimizer.step()
    with torch.no_grad():
        _, loss_after = model(x, y)
    after = probe(model, tokenizer, text, k=k, ids=window, actual_id=actual_id)
    return Nudge(window, actual_id, before, after, float(loss_before.detach()), float(loss_after))
