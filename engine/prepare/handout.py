"""What a handout prints beside each chapter's screen: the figures the workspace's stages
measured, and where every artifact on show came from.

Everything is read from the artifacts the chapters use (the workspace's, else the bundled
ones) and from ``prepared.json``; nothing here writes to the workspace. The report card's
model figures (the capitals quiz, the sample answers, the short evaluation) are taken from
``prepared.json`` when it holds them for this very model file, and measured again (not
kept) when it does not. :func:`check` finds an artifact that exists but cannot be used
before a handout is made of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from engine.prepare.stages import (
    Figure,
    PrepareConfig,
    Section,
    _funnel_figures,
    _tokenizer_figures,
    _training_figures,
    chat_figures,
    eval_figure,
    read_record,
)
from engine.workspace import BrokenArtifact, Workspace


class NotBuilt(LookupError):
    """An artifact a section needs is not there (not broken: not made yet)."""


@dataclass(frozen=True)
class Made:
    """When a handout was made, and from what."""

    at: str  # UTC, to the minute
    workspace: Path
    artifacts: list[Figure]  # what each artifact on show is, and where it came from


def check(ws: Workspace, votes: Path | None = None) -> None:
    """Raise for the first artifact the chapters would read that exists but cannot be used:
    a BrokenArtifact, or a NoModel naming the file, each with the command that rebuilds it.
    Missing artifacts are not an error: the chapters say what is not built yet."""
    from engine.data.store import read_dataset, read_funnel
    from engine.model.load import NoModel, load_model
    from engine.tokenizer.tour import BPE_FILE, load_tokenizer, read_shard

    for name, read in (("dataset", read_dataset),
                       ("dropped", lambda path: read_dataset(path, name="dropped")),
                       ("funnel", read_funnel), ("train_shard", read_shard),
                       ("val_shard", read_shard)):
        found = ws.find(name)
        if found is not None:
            read(found.path)
    for name in ("tokenizer", BPE_FILE):
        if ws.find(name) is not None:
            load_tokenizer(ws, name)
    for kind in ("base", "chat"):
        try:
            load_model(ws, kind)
        except NoModel as error:
            if error.path is not None:  # the file is there and cannot be used
                raise
    if votes is not None:
        from engine.preference.votes import VoteStore

        VoteStore(votes).counts()


def made(ws: Workspace, votes_from: Path | None = None) -> Made:
    """The time, the workspace, and which dataset, tokenizer and model versions are on show."""
    from engine.model.versions import ModelVersions

    artifacts = []
    for name, what in (("dataset", "dataset"), ("funnel", "funnel"), ("tokenizer", "tokenizer")):
        found = ws.find(name)
        artifacts.append(Figure(what, f"{found.path.name} ({found.label})" if found else
                                "not built yet"))
    versions = ModelVersions(ws)
    for kind in ("base", "chat"):
        current = versions.current(kind)
        if current is None:
            artifacts.append(Figure(f"{kind} model", "not built yet"))
            continue
        when = f", made {current.created.replace('T', ' ')[:16]} UTC" if current.created else ""
        parent = f", from {current.parent}" if current.parent else ""
        artifacts.append(Figure(f"{kind} model",
                                f"{current.describe()} ({current.origin}{parent}{when})"))
    if votes_from is None:
        artifacts.append(Figure("votes", "none yet"))
    elif votes_from.parent == ws.root:
        artifacts.append(Figure("votes", f"{votes_from.name} (in your workspace)"))
    else:  # the store a tour server shares (LLM_TOUR_VOTES)
        artifacts.append(Figure("votes", f"{votes_from} (the tour server's shared store)"))
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return Made(stamp, ws.root, artifacts)


# -- the sections, by topic --------------------------------------------------------------------

def _machine(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.model.hardware import describe

    hw = describe()
    return [Figure("CPU", f"{hw.cpu} · {hw.cores} cores"),
            Figure("memory", f"{hw.memory_gb:.1f} GB" if hw.memory_gb else "unknown"),
            Figure("accelerator", hw.gpu_name or "none: training runs on the CPU"),
            Figure("torch", f"{hw.torch_version} · device {hw.accelerator}")]


def _dataset(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.data.store import read_dataset

    found = ws.find("dataset")
    if found is None:
        raise NotBuilt("no dataset yet: `llm-tour prepare data` builds it")
    table = read_dataset(found.path, ["url", "source", "content", "language", "token_count"])
    rows = len(table["url"])
    hosts = {url.split("/")[2] for url in table["url"] if url and url.count("/") >= 2}
    languages = Counter(table["language"])
    figures = [
        Figure("dataset", f"{found.path.name} ({found.label})"),
        Figure("rows", f"{rows:,} pages from {len(hosts):,} sites"),
        Figure("text", f"{sum(len(t) for t in table['content']):,} characters, "
                       f"{sum(n or 0 for n in table['token_count']):,} GPT-4 tokens"),
        Figure("languages", ", ".join(f"{lang} {n:,}" for lang, n in languages.most_common())),
    ]
    if ws.find("funnel") is None:
        figures.append(Figure("funnel", "not kept with this dataset (`llm-tour prepare data` "
                                        "writes funnel.json with the crawl's counts)"))
    else:
        figures += [f for f in _funnel_figures(ws) if f.label != "source"]
    return figures


def _tokenizer(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.tokenizer.tour import BPE_FILE, bytes_per_token, load_tokenizer, tokenizer_corpus

    figures = _tokenizer_figures(ws, read_record(ws))
    if any(f.label.endswith(" on the dataset") for f in figures):
        return figures  # measured by `llm-tour prepare` when it built them
    try:
        documents = tokenizer_corpus(ws).documents
    except FileNotFoundError:
        return figures
    for name in ("tokenizer", BPE_FILE):
        if ws.find(name) is None:
            continue
        tokenizer, _ = load_tokenizer(ws, name)
        ratio = bytes_per_token(tokenizer, documents)
        figures.append(Figure(f"{tokenizer.name} on the dataset",
                              f"{ratio:.2f} bytes per token over {len(documents):,} pages"))
    return figures


def _training(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.model.versions import ModelVersions

    figures = _training_figures(ws, read_record(ws))
    current = ModelVersions(ws).current("base")
    if current is not None:
        figures.insert(1, Figure("version", current.describe()
                                 + (f", data {current.data_hash}" if current.data_hash else "")))
    return figures


def _parameters(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.model.inside import layer_rows
    from engine.model.load import load_model

    loaded = load_model(ws, "base")
    config = loaded.model.config
    figures = [Figure("model", loaded.label),
               Figure("shape", f"{config.n_layer} layers, {config.n_head} heads, "
                               f"{config.n_embd} wide, context {config.block_size}, "
                               f"vocabulary {config.vocab_size:,}")]
    blocks: Counter[str] = Counter()
    total = 0
    for part, shape, count in layer_rows(loaded.model):
        total += count
        if part.startswith("block "):
            blocks[" ".join(part.split()[:2])] += count
        else:
            figures.append(Figure(part, f"{shape}: {count:,}"))
    figures += [Figure(block, f"{count:,}") for block, count in blocks.items()]
    figures.append(Figure("in all", f"{total:,} parameters"))
    return figures


def _sampling(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.inference.evaluate import probe
    from engine.model.device import one_thread
    from engine.model.load import load_model

    loaded = load_model(ws, "base")
    prompt = "The capital of France is"
    with one_thread():
        result = probe(loaded.model, loaded.tokenizer, prompt, actual=" Paris", k=3)
    top = ", ".join(f"{token!r} {p:.0%}" for token, p in result.top)
    return [Figure("model", loaded.label),
            Figure(f"after \u201c{prompt}\u201d", top),
            Figure("\u201c Paris\u201d", f"{result.actual_prob:.1%}, ranked {result.actual_rank}")]


def _fine_tuning(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.chat.conversations import load_conversations
    from engine.model.load import load_model

    loaded = load_model(ws, "chat")
    figures = chat_figures(loaded, read_record(ws), PrepareConfig())
    kinds = Counter(c.kind for c in load_conversations())
    figures.append(Figure("conversations", f"{sum(kinds.values()):,}: " + ", ".join(
        f"{kind} {n:,}" for kind, n in kinds.most_common())))
    return figures


def _tools(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.model.load import load_model
    from engine.model.versions import ModelVersions

    loaded = load_model(ws, "chat")
    figures = [Figure("model", loaded.label), eval_figure(ws, loaded, read_record(ws))]
    current = ModelVersions(ws).current("chat")
    if current is not None and current.figures:
        figures += [Figure(str(name), str(value)) for name, value in current.figures.items()]
    return figures


def _votes(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.model.versions import ModelVersions
    from engine.preference.bradley_terry import rank_votes
    from engine.preference.votes import VoteStore

    figures = []
    if votes is None:
        figures.append(Figure("votes", "none yet"))
    else:
        store = VoteStore(votes)
        total, sessions = store.counts()
        figures.append(Figure("votes", f"{total:,} from {sessions:,} "
                                       f"session{'s' if sessions != 1 else ''}"))
        for prompt in store.prompts():
            cast = store.votes(prompt.id)
            if not cast:
                continue
            ranking = rank_votes(prompt.candidate_ids, cast)  # as the chapter ranks them
            best = ranking.strengths[0]
            text = prompt.candidate(best.item).text
            sure = f", {ranking.sure[0]:.0%} sure it beats the next" if ranking.sure else ""
            figures.append(Figure(prompt.question, f"{len(cast):,} vote"
                                  f"{'s' if len(cast) != 1 else ''}; Bradley-Terry's best: "
                                  f"\u201c{text[:80]}\u201d ({best.score:+.2f}{sure})"))
    nudges = [v for v in ModelVersions(ws).list("chat") if v.stage == "nudge"]
    for version in nudges:
        figures.append(Figure(version.id, ", ".join(f"{k} {v}" for k, v in
                                                    version.figures.items()) or "a nudge"))
    return figures


def _what_ran(ws: Workspace, votes: Path | None) -> list[Figure]:
    from engine.prepare.provenance import stage_lines
    from engine.prepare.stages import STAGES

    figures = [Figure(line.stage, f"{line.status}: {line.figure}" if line.figure else line.status)
               for line in stage_lines(ws)]
    record = read_record(ws)
    for stage in STAGES:
        entry = record.get(stage.name)
        if entry:
            figures.append(Figure(f"prepared: {stage.name}",
                                  f"built {entry.get('built', '?')} in "
                                  f"{entry.get('seconds', 0):.1f} s"))
    return figures


TOPICS: dict[str, tuple[str, Callable[[Workspace, Path | None], list[Figure]]]] = {
    "machine": ("This machine", _machine),
    "dataset": ("Dataset", _dataset),
    "tokenizer": ("Tokenizer", _tokenizer),
    "training": ("Training", _training),
    "parameters": ("Parameters", _parameters),
    "sampling": ("The base model's next token", _sampling),
    "fine-tuning": ("Fine-tuning and sample answers", _fine_tuning),
    "tools": ("Tool use on unseen names", _tools),
    "votes": ("Votes and nudges", _votes),
    "what ran": ("What ran", _what_ran),
}


def section(ws: Workspace, topic: str, votes: Path | None = None) -> Section:
    """One topic's figures; a topic whose artifact is not built says so instead. A broken
    artifact is not hidden here: it raises (``check`` finds it first)."""
    from engine.model.load import NoModel

    title, build = TOPICS[topic]
    try:
        figures = build(ws, votes)
    except (NotBuilt, FileNotFoundError) as missing:
        figures = [Figure("not built yet", str(missing))]
    except NoModel as error:
        if error.path is not None:
            raise
        figures = [Figure("not built yet", str(error).replace("\n    ", " "))]
    except BrokenArtifact:
        raise
    return Section(title, figures)
