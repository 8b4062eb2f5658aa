"""Supervised fine-tuning: the pretraining loop again, on conversations, with a mask.

The base model (``base.pt``) is an internet-text generator. Fine-tuning it on
conversations written in the chat format (:mod:`engine.chat.format`) teaches it to reply in
turns: the trainer is the same (:func:`engine.training.loop.train`), only the batches change.
Targets are -1 wherever the assistant does not speak, so the loss is taken on the
assistant's tokens alone.

Half of every batch is still pretraining text. Fine-tuning on conversations alone for
a few hundred steps overwrites what pretraining stored: the capitals of countries that
no conversation mentions are forgotten. Mixing the old text back in keeps them, and
the conversations still teach the format.

The stage writes ``chat.pt`` and yields the trainer's events, framed by
:class:`SFTStart` and :class:`SFTReply` (the new model answering a question), then the
quick check's (:func:`engine.chat.eval.quick_check`), whose figures the new version keeps.
"""

from __future__ import annotations

import hashlib

import os
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import torch

from engine.chat import format as chat
from engine.chat.format import Turn
from engine.chat.conversations import (
    HANDWRITTEN_WEIGHT,
    Conversation,
    held_out_conversations,
    training_mix,
    training_set,
)
from engine.chat.eval import QUICK_ITEMS
from engine.inference.evaluate import Score
from engine.training.loop import Checkpointed, ShardBatches, TrainConfig, TrainDone, TrainEvent, train
from engine.model.versions import ModelVersions
from engine.workspace import Workspace
from engine.tokenizer.protocol import Tokenizer

CHAT_SCRATCH = "chat.partial.pt"


@dataclass
class SFTConfig:
    # Copying an unseen name takes many passes over conversations that cannot be memorised
    # (benchmarks/copying.py measures the curve); 300 steps learned the format alone, and
    # the copy probe was still climbing at 1,500 (13 of 40 names) and 3,000 (24 of 40).
    max_steps: int = 3000
    batch_size: int | None = None  # None: the base model's pretraining batch size
    learning_rate: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_frac: float = 0.05
    pretrain_share: float = 0.5  # of each batch, drawn from train.bin (keeps the facts)
    # Of each batch, copy drills (CopyDrills) over the vocabulary, taken from the rows of
    # conversations. Off: continuing the bundled chat model 2,000 steps (lr 5e-4, seed 2031)
    # with 2 or 4 of 32 rows of drills copied better in plain text (copy probe 6 and 7 of 40
    # against 3) but not into searches (6 and 8 of 12 against 6), and forgot capitals (153
    # and 151 of 168 against 165; chat turns 256 against 265 of 280). Four rows taken from
    # the pretraining text instead: search 8, capitals 153, chat turns 256.
    # (python benchmarks/copying.py --recipe drill=0.125 measures it from a base model.)
    drill_share: float = 0.0
    eval_interval: int = 25
    eval_batches: int = 2
    data: str = "copying"  # the conversation set (engine.chat.conversations.training_set)
    handwritten_weight: int = HANDWRITTEN_WEIGHT  # draws of each hand-written conversation
    copy_interval: int = 100  # steps between copy probes (engine.inference.evaluate.copy_probe)
    # No dropout while fine-tuning: copying a name token by token needs every token's signal
    # (continuing the bundled chat model for 2,000 steps, dropout 0 against the base's 0.1:
    # weather 31 vs 29 of 40, calculator 36 vs 29 of 40, search 2 vs 0 of 12, llm-tour eval).
    # None would keep the base model's.
    dropout: float | None = 0.0
    # TrainConfig.freeze_embedding. Off: from the base model, 3,000 steps with the ordinary
    # tokens' rows held learned to copy far less (copy probe 13 of 40 against 32; weather and
    # calculator 0 of 40 against 30 and 32; chat turns 174 against 250 of 280; python
    # benchmarks/copying.py --recipe steps=3000,freeze=1 --recipe steps=3000). Continuing the
    # bundled chat model 2,000-3,000 steps with them held did no better than without (chat
    # turns 267-269 of 280 in four runs, against 262-268).
    freeze_embedding: bool = False
    seed: int = 1337
    device: str = "auto"
    threads: int | None = None
    question: str = "What is the capital of France?"  # answered by the model at the end
    # items of each category the quick check asks of the new model (`llm-tour eval --limit`);
    # 0 skips it
    check_items: int = QUICK_ITEMS


# The Conversations chapter's live fine-tune, sized for a talk: about two minutes on one core
# (the copy probe's curve in benchmarks/copying.py: the format is learned by then, copying
# goes on improving to the 3,000 steps the bundled chat model was given).
LIVE_STEPS = 300


def live_config(**changes: Any) -> SFTConfig:
    """The chapter's fine-tune: the defaults, for :data:`LIVE_STEPS` steps."""
    return replace(SFTConfig(max_steps=LIVE_STEPS), **changes)


# -- batches ------------------------------------------------------------------------------------

def encode_conversation(conversation: Conversation | list[Turn], tokenizer: Tokenizer,
                        block_size: int) -> tuple[list[int], list[int]]:
    """(inputs, targets) of one conversation: targets are -1 where the mask is 0."""
    turns = list(conversation.turns if isinstance(conversation, Conversation) else conversation)
    ids, mask = chat.render(turns, tokenizer)
    ids, mask = ids[:block_size + 1], mask[:block_size + 1]
    targets = [t if m else -1 for t, m in zip(ids[1:], mask[1:])]
    return ids[:-1], targets


class ConversationBatches:
    """Rows of conversations, packed one after another into windows of ``block_size``.

    Each row is filled with whole conversations drawn at random (seeded) until the next
    one would not fit; the rest of the row is padding whose targets are -1. A conversation
    longer than a window is cut at the window's end.
    """

    def __init__(self, conversations: list[Conversation], tokenizer: Tokenizer, block_size: int,
                 batch_size: int, seed: int = 1337,
                 val_conversations: list[Conversation] | None = None) -> None:
        if not conversations:
            raise ValueError("there are no conversations to fine-tune on")
        self.block_size = block_size
        self.batch_size = batch_size
        self.pad = tokenizer.special[chat.ENDOFTEXT]
        encoded = {"train": [encode_conversation(c, tokenizer, block_size) for c in conversations]}
        encoded["val"] = ([encode_conversation(c, tokenizer, block_size) for c in val_conversations]
                          if val_conversations else encoded["train"])
        self.encoded = encoded
        self.rng = random.Random(seed)

    def row(self, split: str) -> tuple[list[int], list[int]]:
        pool = self.encoded[split]
        xs: list[int] = []
        ys: list[int] = []
        while True:
            x, y = pool[self.rng.randrange(len(pool))]
            if xs and len(xs) + len(x) > self.block_size:
                break
            xs += x
            ys += y
            if len(xs) >= self.block_size:
                break
        pad = self.block_size - len(xs)
        return xs + [self.pad] * pad, ys + [-1] * pad

    def __call__(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [self.row(split) for _ in range(self.batch_size)]
        x = torch.tensor([r[0] for r in rows], dtype=torch.long)
        y = torch.tensor([r[1] for r in rows], dtype=torch.long)
        return x, y

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.setstate(state["rng"])


class CopyDrills:
    """Rows of copy drills (the induction task of Olsson et al. 2022): a run of 4 to 24
    tokens drawn at random, then the same run again, one drill after another. The loss is
    on the second showing alone, which can only be predicted by finding the first and
    copying what followed it; drawn from (almost) the whole vocabulary, so copying is
    learned for tokens no conversation ever copies."""

    def __init__(self, tokens: list[int], block_size: int, batch_size: int, pad: int,
                 seed: int = 1337) -> None:
        if not tokens:
            raise ValueError("there are no tokens to drill")
        self.tokens = tokens
        self.block_size = block_size
        self.batch_size = batch_size
        self.pad = pad  # starts each drill
        self.rng = random.Random(seed)

    def row(self) -> tuple[list[int], list[int]]:
        xs: list[int] = []
        ys: list[int] = []
        while len(xs) < self.block_size:
            k = self.rng.randint(4, 24)
            run = [self.rng.choice(self.tokens) for _ in range(k)]
            drill = [self.pad, *run, *run]
            xs += drill[:-1]
            # nothing to copy yet while the run is first shown, nor for its first token again
            ys += [-1] * (k + 1) + drill[k + 2:]
        return xs[: self.block_size], ys[: self.block_size]

    def __call__(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [self.row() for _ in range(self.batch_size)]
        return (torch.tensor([r[0] for r in rows], dtype=torch.long),
                torch.tensor([r[1] for r in rows], dtype=torch.long))


class MixedBatches:
    """Each batch: rows of pretraining text (and copy drills, where given), the rest
    conversations."""

    def __init__(self, conversations: Callable[[str], tuple[torch.Tensor, torch.Tensor]],
                 pretraining: Callable[[str], tuple[torch.Tensor, torch.Tensor]] | None,
                 drills: Callable[[str], tuple[torch.Tensor, torch.Tensor]] | None = None
                 ) -> None:
        self.conversations = conversations
        self.pretraining = pretraining
        self.drills = drills

    def __call__(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [source(split) for source in (self.pretraining, self.drills, self.conversations)
                 if source is not None]
        return torch.cat([x for x, _ in parts]), torch.cat([y for _, y in parts])


def pretraining_batches(ws: Workspace, batch_size: int, block_size: int,
                        seed: int) -> ShardBatches:
    """Windows of the pretraining text (train.bin / val.bin, the workspace's or bundled)."""
    found = [ws.find(name) for name in ("train_shard", "val_shard")]
    if found[0] is None or found[1] is None:
        from engine.prepare.stages import command_for

        raise FileNotFoundError("fine-tuning mixes in the pretraining text, and train.bin or "
                                f"val.bin is missing: run `{command_for('train_shard')}` first")
    return ShardBatches(found[0].path, found[1].path, batch_size, block_size, seed)


# -- events -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SFTStart:
    conversations: int
    by_kind: dict[str, int]
    held_out: int  # conversations kept for the validation loss
    base: str  # where the base model came from (its label)
    rows_conversations: int  # rows of each batch holding conversations
    rows_pretraining: int  # rows of each batch holding pretraining text
    max_steps: int
    rows_drills: int = 0  # rows of each batch holding copy drills

    @property
    def batch_rows(self) -> str:
        """What each batch holds: "12 rows of conversations, 16 of pretraining text"."""
        drills = f", {self.rows_drills} of copy drills" if self.rows_drills else ""
        return (f"{self.rows_conversations} rows of conversations, {self.rows_pretraining} of "
                f"pretraining text{drills}")


@dataclass(frozen=True)
class SFTReply:
    """The fine-tuned model answering a question, in turns (greedy)."""

    question: str
    turns: list[Turn]
    ids: list[int]


SFTEvent = SFTStart | TrainEvent | SFTReply


def sft_train_config(base_train_config: dict[str, Any] | TrainConfig,
                     config: SFTConfig) -> TrainConfig:
    """The base model's training config, turned into a short fine-tune."""
    base = (base_train_config if isinstance(base_train_config, TrainConfig)
            else TrainConfig.from_dict(base_train_config))
    return replace(
        base,
        max_steps=config.max_steps,
        batch_size=config.batch_size or base.batch_size,
        learning_rate=config.learning_rate,
        min_lr_ratio=config.min_lr_ratio,
        warmup_frac=config.warmup_frac,
        decay_steps=None,
        eval_interval=config.eval_interval,
        eval_batches=config.eval_batches,
        copy_interval=config.copy_interval,
        probe_prompt="",
        sample_prompt="",
        checkpoint_interval=0,
        dropout=base.dropout if config.dropout is None else config.dropout,
        seed=config.seed,
        freeze_embedding=config.freeze_embedding,
        device=config.device,
        threads=config.threads,
        compile=False,
    )


def fine_tune(ws: Workspace, config: SFTConfig | None = None, *,
              stop: Callable[[], bool] | None = None) -> Iterator[SFTEvent]:
    """Fine-tune the workspace's base model on the conversations; write ``chat.pt``."""
    from engine.model.checkpoint import load_checkpoint
    from engine.model.load import load_model

    config = config or SFTConfig()
    loaded = load_model(ws, "base")  # NoModel names the missing or broken file
    base, meta, tokenizer = loaded.model, loaded.meta, loaded.tokenizer
    train_config = sft_train_config(meta.train_config, config)
    train_config = replace(train_config, block_size=base.config.block_size)

    n_rows = train_config.batch_size
    n_pre = round(n_rows * config.pretrain_share)
    n_drill = round(n_rows * config.drill_share)
    n_conv = max(1, n_rows - n_pre - n_drill)
    conversations = training_set(config.data)
    held_out = held_out_conversations()
    conv_batches = ConversationBatches(training_mix(conversations, config.handwritten_weight),
                                       tokenizer, train_config.block_size, n_conv, config.seed,
                                       val_conversations=held_out)
    pre_batches = None
    if n_pre:
        pre_batches = pretraining_batches(ws, n_pre, train_config.block_size, config.seed)
    drills = None
    if n_drill:
        from engine.chat.pools import drill_tokens

        drills = CopyDrills(drill_tokens(tokenizer), train_config.block_size, n_drill,
                            tokenizer.special[chat.ENDOFTEXT], config.seed + 2)
    batches = MixedBatches(conv_batches, pre_batches, drills)
    # validation: the held-out conversations alone, from a generator of their own
    eval_batches = ConversationBatches(conversations, tokenizer, train_config.block_size, n_conv,
                                       config.seed + 1, val_conversations=held_out)

    kinds: dict[str, int] = {}
    for c in conversations:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    yield SFTStart(len(conversations), kinds, len(held_out), f"{loaded.path.name} "
                   f"({loaded.artifact.label})", n_conv, n_pre, config.max_steps, n_drill)
    # Train into a scratch file: chat.pt is replaced only by a finished run, never by a
    # cancelled one (the trainer checkpoints whatever it has when it is stopped).
    scratch = ws.path(CHAT_SCRATCH)
    finished = False
    version = None
    try:
        for event in train(train_config, batches, tokenizer, checkpoint_path=scratch,
                           resume=False, init_model=base, stop=stop, eval_batches=eval_batches,
                           kind="chat"):
            if isinstance(event, TrainDone):
                finished = not event.cancelled and scratch.exists()
                if finished:
                    os.replace(scratch, ws.path("chat"))
                    version = ModelVersions(ws).record(
                        "chat", "sft", ws.path("chat"), steps=event.step,
                        data_hash=hashlib.sha256("\n".join(
                            c.text for c in conversations).encode()).hexdigest()[:16])
                event = replace(event, path=str(ws.path("chat")) if finished else None)
            elif isinstance(event, Checkpointed):
                continue  # the scratch file is not news; TrainDone says where chat.pt is
            yield event
    finally:
        scratch.unlink(missing_ok=True)
    if finished:
        kept = ModelVersions(ws).path(version)  # chat.pt's bytes, as the version keeps them
        model, _ = load_checkpoint(kept, tokenizer)
        turns, ids = reply(model, tokenizer, [Turn("user", config.question)])
        yield SFTReply(config.question, turns, ids)
        if config.check_items:
            from engine.chat.eval import quick_check

            yield from quick_check(ws, kept, model, tokenizer, stop=stop,
                                   per_category=config.check_items)


# -- using the chat model -----------------------------------------------------------------------

def reply(model: Any, tokenizer: Tokenizer, turns: list[Turn], max_tokens: int = 48
          ) -> tuple[list[Turn], list[int]]:
    """The model's greedy reply to a conversation: the new turns and the IDs it wrote
    (the last one ``<|end|>`` when it closed its turn)."""
    from engine.inference.sampler import generate, greedy

    ids = [event.token_id for event in generate(
        model, chat.prompt_ids(turns, tokenizer), greedy(max_tokens),
        stop_ids=chat.stop_ids(tokenizer), tokenizer=tokenizer)]
    return chat.parse(ids, tokenizer), ids


@dataclass(frozen=True)
class HeldOutAnswer:
    country: str
    capital: str
    reply: str
    in_format: bool  # one assistant turn, closed by <|end|>
    correct: bool  # ... and it names the capital


@dataclass(frozen=True)
class HeldOutResult(Score):
    answers: list[HeldOutAnswer]

    @property
    def in_format(self) -> int:
        return sum(a.in_format for a in self.answers)

    def __str__(self) -> str:
        return (f"{self.correct} of {self.total} held-out capitals answered in the assistant "
                f"format ({self.fraction:.0%}); {self.in_format} replies well-formed")


def held_out_capital_answers(model: Any, tokenizer: Tokenizer, capitals: list | None = None,
                             question: str = "What is the capital of {country}?") -> HeldOutResult:
    """Ask each held-out country's capital as a user turn and check the reply.

    Correct means: the reply is a single assistant turn closed by ``<|end|>`` whose text
    names the capital as a whole word (the training answers read "The capital of X is Y.").
    """
    import re

    from engine.chat.conversations import held_out_capitals

    answers = []
    for row in capitals if capitals is not None else held_out_capitals():
        turns, ids = reply(model, tokenizer, [Turn("user", question.format(country=row.country))])
        closed = bool(ids) and ids[-1] == tokenizer.special[chat.END]
        in_format = closed and len(turns) == 1 and turns[0].role == "assistant"
        text = turns[0].text if turns else ""
        named = re.search(rf"(?<!\w){re.escape(row.capital)}(?!\w)", text) is not None
        answers.append(HeldOutAnswer(row.country, row.capital, text, in_format,
                                     in_format and named))
    return HeldOutResult(answers)


# -- base model vs assistant-shaped model -------------------------------------------------------

def base_prompt(question: str, tokenizer: Tokenizer) -> list[int]:
    """What the base model sees: the question as plain text, like the start of a web page."""
    return tokenizer.encode(question) or [tokenizer.special[chat.ENDOFTEXT]]


def continue_as_base(model: Any, tokenizer: Tokenizer, question: str, max_tokens: int = 40
                     ) -> Iterator[Any]:
    """The base model continuing the question as text (greedy), token by token."""
    from engine.inference.sampler import generate, greedy

    return generate(model, base_prompt(question, tokenizer), greedy(max_tokens),
                    stop_ids=[tokenizer.special[chat.ENDOFTEXT]], tokenizer=tokenizer)


def reply_as_assistant(model: Any, tokenizer: Tokenizer, question: str, max_tokens: int = 48
                       ) -> Iterator[Any]:
    """The chat model replying to the question in a turn (greedy), token by token."""
    from engine.inference.sampler import generate, greedy

    return generate(model, chat.prompt_ids([Turn("user", question)], tokenizer),
                    greedy(max_tokens), stop_ids=chat.stop_ids(tokenizer), tokenizer=tokenizer)
