"""Direct Preference Optimization: nudge the chat model toward the answers people preferred.

RLHF's classic recipe trains a reward model on the rankings, then runs reinforcement
learning against it. DPO (Rafailov et al., 2023) reaches the same optimum in one supervised
step: for each pair (preferred ``w``, rejected ``l``) it raises

    beta * ((log pi(w) - log ref(w)) - (log pi(l) - log ref(l)))

through a log-sigmoid, where ``pi`` is the model being nudged and ``ref`` a frozen copy of
it from before. The reference keeps the nudge small: the model gains nothing by drifting
far from what it was, only by putting preferred answers ahead of rejected ones.

The log-probability of an answer is the sum of the model's log-probabilities of the
assistant's tokens in the rendered conversation (the same mask fine-tuning trains on).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch.nn import functional as F

from engine.chat import format as chat
from engine.chat.eval import QUICK_ITEMS
from engine.events import Progress
from engine.model.load import load_model
from engine.tokenizer.protocol import Tokenizer

if TYPE_CHECKING:
    from engine.preference.votes import VoteStore
    from engine.workspace import Workspace

Key = tuple[str, str]  # (prompt id, candidate id)


@dataclass
class DPOConfig:
    beta: float = 0.1  # how strongly the reference holds the model back
    # A few votes on two prompts must not undo what fine-tuning built (tool calls, small talk,
    # the capitals). Measured with the talk's two prompts voted the talk's way, 10 steps,
    # then `llm-tour eval` (whole turns, before -> after). On an earlier bundled chat model:
    #   lr 3e-4, DPO alone:        small talk 19 -> 5 of 20, capitals 167 -> 121 of 168
    #   lr 1e-4, anchor 1 (24 conversations at random): small talk 19 -> 17
    # On the bundled one, with the anchor below (64: as many of each kind, and plain
    # sentences): lr 1e-4, small talk 20 -> 18; lr 5e-5, small talk 20 -> 19, search 7 -> 8
    # of 12, every other category unchanged, the Paris demo unchanged, the voted margin
    # 69 -> 111; lr 3e-5, small talk 20 -> 18 (a greedy reply to small talk flips on a
    # small change); weight 10 or 20 instead of 5 did no better.
    learning_rate: float = 5e-5
    steps: int = 10
    # each step also pays the KL divergence from the frozen model's next-token distributions
    # on a fixed sample of the fine-tuning conversations and plain sentences, times this
    # weight (0: DPO alone)
    anchor_weight: float = 5.0
    anchor_conversations: int = 64
    sample_temperature: float = 0.8
    sample_top_k: int | None = 40
    sample_max_tokens: int = 48
    seed: int = 1337
    # items of each category the quick check asks of the nudged model (`llm-tour eval
    # --limit`), beside the same check of the model it came from; 0 skips it
    check_items: int = QUICK_ITEMS


@dataclass(frozen=True)
class Preference:
    """One (preferred, rejected) pair of answers to a question, and how many votes said so."""

    prompt_id: str
    question: str
    chosen_id: str
    chosen: str
    rejected_id: str
    rejected: str
    count: int = 1


# -- events -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NudgeStart:
    """What goes in: the model, the votes behind the pairs, each answer's log-prob before."""

    model_label: str
    votes: int
    sessions: int
    pairs: int
    logps: dict[Key, float]
    margin: float  # mean (preferred - rejected) log-prob over the pairs, weighted by votes
    answers: dict[Key, str] = field(default_factory=dict)  # the text of every answer


@dataclass(frozen=True)
class DPOStep:
    step: int  # 1 .. steps
    steps: int
    loss: float
    margin: float
    accuracy: float  # share of pair votes where the preferred answer gained more than the other
    logps: dict[Key, float]

    @property
    def progress(self) -> Progress:
        return Progress(self.step, self.steps, f"loss {self.loss:.3f}")


@dataclass(frozen=True)
class Nudged:
    before: dict[Key, float]
    after: dict[Key, float]
    margin_before: float
    margin_after: float
    saved_to: Path | None = None


@dataclass(frozen=True)
class SampleToken:
    """A token of the fresh sample the nudged model writes."""

    question: str
    text: str  # the piece of text this token adds


@dataclass(frozen=True)
class Sampled:
    question: str
    answer: str


class NothingToNudge(LookupError):
    """No chat model, or no votes yet: the message says what to do."""


# -- log-probabilities ---------------------------------------------------------------------------


def answer_ids(question: str, answer: str, tokenizer: Tokenizer) -> tuple[list[int], list[int]]:
    """The conversation (user question, assistant answer) and its mask on the answer."""
    return chat.render([chat.Turn("user", question), chat.Turn("assistant", answer)], tokenizer)


def _windows(ids: list[int], mask: list[int], block: int
             ) -> Iterator[tuple[list[int], list[int], list[int]]]:
    """(inputs, targets, mask) windows of at most ``block`` tokens that score every target once.

    A sequence that fits the model's window is one window. A longer one is read in windows
    that overlap by half, each scoring only the targets the previous one did not, so every
    token after the first half-window is predicted from at least half a window of context.
    """
    n = len(ids) - 1  # targets: ids[1:]
    ends = [min(n, block)]
    while ends[-1] < n:
        ends.append(min(n, ends[-1] + max(1, block // 2)))
    scored = 0
    for end in ends:
        start = max(0, end - block)
        keep = [mask[j + 1] if j >= scored else 0 for j in range(start, end)]
        yield ids[start:end], ids[start + 1 : end + 1], keep
        scored = end


def sequence_logprobs(model: torch.nn.Module, sequences: Sequence[tuple[list[int], list[int]]]
                      ) -> torch.Tensor:
    """Sum of log p(token) over each sequence's masked tokens, as one batched forward pass.

    Sequences longer than the model's context window are read in overlapping windows
    (see :func:`_windows`), so every answer token counts, however long the answer.
    """
    block = int(model.config.block_size)
    rows: list[tuple[list[int], list[int], list[int]]] = []
    owner: list[int] = []
    for i, (ids, mask) in enumerate(sequences):
        for window in _windows(ids, mask, block):
            rows.append(window)
            owner.append(i)
    width = max(len(r[0]) for r in rows)
    device = next(model.parameters()).device
    x = torch.zeros((len(rows), width), dtype=torch.long)
    y = torch.zeros((len(rows), width), dtype=torch.long)
    m = torch.zeros((len(rows), width))
    for i, (inp, tgt, msk) in enumerate(rows):
        x[i, : len(inp)] = torch.tensor(inp)
        y[i, : len(tgt)] = torch.tensor(tgt)
        m[i, : len(msk)] = torch.tensor(msk, dtype=torch.float)
    x, y, m = x.to(device), y.to(device), m.to(device)
    logits, _ = model(x)
    logp = F.log_softmax(logits.float(), dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    per_window = (logp * m).sum(dim=1)
    totals = torch.zeros(len(sequences), device=device, dtype=per_window.dtype)
    return totals.index_add(0, torch.tensor(owner, device=device), per_window)


# -- the nudge -------------------------------------------------------------------------------------


def dpo(model: torch.nn.Module, tokenizer: Tokenizer, preferences: Sequence[Preference],
        config: DPOConfig | None = None, *, model_label: str = "the chat model",
        votes: int = 0, sessions: int = 0) -> Iterator[NudgeStart | DPOStep | Nudged]:
    """A few DPO steps on ``model`` in place, against a frozen copy of it.

    Yields the log-probability of every answer before, after each step, and at the end.
    Stop iterating to cancel (the model keeps the steps taken so far).
    """
    config = config or DPOConfig()
    if not preferences:
        raise NothingToNudge("There are no preferences to learn from: vote on some answers first.")
    torch.manual_seed(config.seed)

    # Every distinct answer once; pairs index into that list.
    keys: list[Key] = []
    sequences: list[tuple[list[int], list[int]]] = []
    where: dict[Key, int] = {}
    answers: dict[Key, str] = {}
    for p in preferences:
        for cid, text in ((p.chosen_id, p.chosen), (p.rejected_id, p.rejected)):
            key = (p.prompt_id, cid)
            if key not in where:
                where[key] = len(keys)
                keys.append(key)
                answers[key] = text
                sequences.append(answer_ids(p.question, text, tokenizer))
    chosen = torch.tensor([where[(p.prompt_id, p.chosen_id)] for p in preferences])
    rejected = torch.tensor([where[(p.prompt_id, p.rejected_id)] for p in preferences])
    weight = torch.tensor([float(p.count) for p in preferences])
    weight = weight / weight.sum()

    reference = copy.deepcopy(model).eval()
    for param in reference.parameters():
        param.requires_grad_(False)
    with torch.no_grad():
        ref = sequence_logprobs(reference, sequences)

    def margin_of(logps: torch.Tensor) -> float:
        return float((weight * (logps[chosen] - logps[rejected])).sum())

    def as_dict(logps: torch.Tensor) -> dict[Key, float]:
        return {key: float(v) for key, v in zip(keys, logps.tolist())}

    before = as_dict(ref)
    yield NudgeStart(model_label, votes, sessions, sum(p.count for p in preferences), before,
                     margin_of(ref), answers)

    anchor = _Anchor(model, reference, tokenizer, config) if config.anchor_weight else None
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)

    def report(step: int, loss: float, logps: torch.Tensor) -> DPOStep:
        gained = logps - ref
        won = (gained[chosen] > gained[rejected]).float()
        return DPOStep(step, config.steps, loss, margin_of(logps), float((weight * won).sum()),
                       as_dict(logps))

    # One forward pass per step: the pass that computes step k's loss also measures where
    # step k-1 left the model, so each step is reported one pass later.
    # Dropout stays off (eval mode; gradients still flow): DPO compares the model's
    # log-probabilities with the frozen reference's, and dropout noise on one side only would
    # be read as a change the votes asked for, and would move an unvoted model.
    model.eval()
    try:
        loss_before = 0.0
        for step in range(1, config.steps + 1):
            logps = sequence_logprobs(model, sequences)
            if step > 1:
                yield report(step - 1, loss_before, logps.detach())
            gained = logps - ref
            loss = -(weight * F.logsigmoid(config.beta * (gained[chosen] - gained[rejected]))).sum()
            optimizer.zero_grad(set_to_none=True)
            if anchor is not None:
                (loss + config.anchor_weight * anchor.kl(model)).backward()
            else:
                loss.backward()
            optimizer.step()
            loss_before = float(loss.detach())
        model.eval()
        with torch.no_grad():
            after = sequence_logprobs(model, sequences)
        yield report(config.steps, loss_before, after)
    finally:
        model.eval()
    yield Nudged(before, as_dict(after), margin_of(ref), margin_of(after))


class _Anchor:
    """What holds a nudge to the model it started from, beyond the voted answers: a fixed
    sample of the fine-tuning conversations (as many of each kind: small talk as much as
    weather) and of plain sentences of fact ("The capital of Chile is Santiago."), and the
    frozen model's next-token distributions on the tokens the assistant writes in them (on
    every token of a plain sentence)."""

    def __init__(self, model: torch.nn.Module, reference: torch.nn.Module, tokenizer: Tokenizer,
                 config: DPOConfig) -> None:
        import random

        from engine.chat.conversations import load_conversations, trained_capitals

        rng = random.Random(config.seed)
        by_kind: dict[str, list] = {}
        for conversation in load_conversations():
            by_kind.setdefault(conversation.kind, []).append(conversation)
        each = max(1, config.anchor_conversations // (len(by_kind) + 1))
        rows = [chat.render(list(c.turns), tokenizer)
                for kind in sorted(by_kind)
                for c in rng.sample(by_kind[kind], min(each, len(by_kind[kind])))]
        for row in rng.sample(trained_capitals(), each):  # plain text, as a base prompt reads
            ids = tokenizer.encode(row.sentence)
            rows.append((ids, [0] + [1] * (len(ids) - 1)))
        block = int(model.config.block_size)
        rows = [(ids[:block], mask[1:block + 1]) for ids, mask in rows]
        width = max(len(ids) for ids, _ in rows)
        device = next(model.parameters()).device
        self.x = torch.zeros((len(rows), width), dtype=torch.long, device=device)
        self.m = torch.zeros((len(rows), width), device=device)
        for i, (ids, mask) in enumerate(rows):
            self.x[i, : len(ids)] = torch.tensor(ids)
            self.m[i, : len(mask)] = torch.tensor(mask, dtype=torch.float)
        with torch.no_grad():
            logits, _ = reference(self.x)
            self.ref = F.log_softmax(logits.float(), dim=-1)

    def kl(self, model: torch.nn.Module) -> torch.Tensor:
        """Mean KL(frozen ‖ model) per assistant token of the sample."""
        logits, _ = model(self.x)
        logp = F.log_softmax(logits.float(), dim=-1)
        per_token = (self.ref.exp() * (self.ref - logp)).sum(-1)
        return (per_token * self.m).sum() / self.m.sum().clamp(min=1)


def preferences_from_votes(store: VoteStore) -> tuple[list[Preference], int, int]:
    """Every (preferred, rejected) pair that the votes imply, counted; and (votes, sessions)."""
    prompts = {p.id: p for p in store.prompts()}
    votes = store.votes()
    counts: Counter[tuple[str, str, str]] = Counter()
    for vote in votes:
        for winner, loser in vote.pairs():
            counts[(vote.prompt_id, winner, loser)] += 1
    preferences = []
    for (prompt_id, winner, loser), count in counts.items():
        prompt = prompts[prompt_id]
        preferences.append(Preference(prompt_id, prompt.question, winner,
                                      prompt.candidate(winner).text, loser,
                                      prompt.candidate(loser).text, count))
    return preferences, len(votes), len({v.session for v in votes})


# -- the tour's chat model ----------------------------------------------------------------------


def sample_answer(model: torch.nn.Module, tokenizer: Tokenizer, question: str,
                  config: DPOConfig | None = None) -> Iterator[SampleToken | Sampled]:
    """The model's reply to ``question``, token by token."""
    from engine.inference.sampler import SampleConfig, generate

    config = config or DPOConfig()
    ids = chat.prompt_ids([chat.Turn("user", question)], tokenizer)
    stops = chat.stop_ids(tokenizer)
    pieces: list[str] = []
    sampling = SampleConfig(temperature=config.sample_temperature, top_k=config.sample_top_k,
                            seed=config.seed, max_tokens=config.sample_max_tokens, map_size=1)
    for event in generate(model, ids, sampling, stop_ids=stops, tokenizer=tokenizer):
        if event.token_id in stops:
            break
        pieces.append(event.text)
        yield SampleToken(question, event.text)
    yield Sampled(question, "".join(pieces).strip())


def nudge_chat(ws: Workspace, store: VoteStore, config: DPOConfig | None = None,
               *, sample_question: str | None = None
               ) -> Iterator[NudgeStart | DPOStep | Nudged | SampleToken | Sampled]:
    """Nudge the tour's chat model with every vote so far, save it, and sample from it.

    The nudged model is written (atomically) to the workspace's chat.pt; a bundled model
    is only ever read. Raises :class:`NothingToNudge` when there is no vote, and
    :class:`engine.model.load.NoModel` when there is no usable chat model.
    """
    from engine.model.checkpoint import save_checkpoint
    from engine.workspace import BUNDLED_DIR

    config = config or DPOConfig()
    preferences, votes, sessions = preferences_from_votes(store)
    if not preferences:
        raise NothingToNudge("No votes yet: rank the answers to a prompt first, then nudge.")
    loaded = load_model(ws, "chat")
    target = ws.path("chat")
    if BUNDLED_DIR.resolve() in target.resolve().parents:
        raise NothingToNudge(f"Refusing to write the nudged model into {BUNDLED_DIR}: "
                             "choose a workspace folder with --workdir.")
    done: Nudged | None = None
    for event in dpo(loaded.model, loaded.tokenizer, preferences, config,
                     model_label=loaded.label, votes=votes, sessions=sessions):
        if isinstance(event, Nudged):
            done = event
            break
        yield event
    assert done is not None
    extra = dict(loaded.meta.extra) if loaded.meta is not None else {}
    history = list(extra.get("nudges", []))
    history.append({"votes": votes, "sessions": sessions, "pairs": len(preferences),
                    "steps": config.steps, "beta": config.beta, "from": loaded.label,
                    "margin_before": done.margin_before, "margin_after": done.margin_after})
    step = loaded.meta.step if loaded.meta is not None else 0
    from engine.model.versions import ModelVersions

    versions = ModelVersions(ws)
    before = versions.current("chat", steps=False)
    if before is not None and before.id.startswith("workspace-") and target.exists():
        # a chat.pt from before versions were kept: keep it, so the nudge can be undone
        before = versions.record("chat", "sft", target, steps=step)
    saved = save_checkpoint(target, loaded.model, tokenizer=loaded.tokenizer, step=step,
                            train_config=getattr(loaded.meta, "train_config", None),
                            extra={**extra, "nudges": history})
    # the parent is the model the nudge started from, named before chat.pt was written
    version = versions.record("chat", "nudge", saved, steps=step,
                              parent=before.id if before is not None else "",
                              figures={"nudge": f"{votes} votes, {config.steps} DPO steps"})
    yield Nudged(done.before, done.after, done.margin_before, done.margin_after, saved)
    question = sample_question or preferences[0].question
    yield from sample_answer(loaded.model, loaded.tokenizer, question, config)
    if config.check_items:
        from engine.chat.eval import quick_check

        yield from quick_check(ws, versions.path(version), loaded.model, loaded.tokenizer,
                               parent=version.parent, per_category=config.check_items)
