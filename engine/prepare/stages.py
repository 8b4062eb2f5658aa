"""Everything before a talk, in one command: data, tokenizer, pretraining, fine-tuning.

``llm-tour prepare`` runs the stages in order and skips a stage whose outputs are
still current. Current means: the files it wrote are the ones it recorded, and what
went into it is unchanged: the earlier stages' outputs (by content hash), the engine
code that does the work (by content hash) and its settings. The record sits beside
the artifacts, in ``prepared.json``; a stage that did not finish records nothing, so
it runs again next time. A stage that runs changes its outputs' hashes, so every
stage after it runs too, like ``make``.

At the end comes a report card built from the artifacts themselves: the dataset
funnel, the tokenizer, the training run, the assistant's answers, timings and device.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from engine.events import Progress, progress_of
from engine.workspace import Workspace, file_sha256, write_text_atomic

ENGINE_DIR = Path(__file__).parents[1]
RECORD_FILE = "prepared.json"


@dataclass
class PrepareConfig:
    preset: str = "default"  # the training preset (engine.training.loop.PRESETS)
    sft_steps: int | None = None  # fine-tuning steps (None: engine.training.sft.SFTConfig's default)
    force: tuple[str, ...] = ()  # stages to run even when current ("all" for every stage)
    questions: tuple[str, ...] = (  # asked of the assistant for the report card
        "What is the capital of France?",
        "What is the weather in Paris today?",
        "What is 12 * 7?",
    )


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline: what it reads, what it writes, and how it runs."""

    name: str
    title: str
    outputs: tuple[str, ...]  # workspace artifacts it writes
    inputs: tuple[str, ...]  # workspace artifacts it reads (earlier stages' outputs)
    code: tuple[str, ...]  # files under engine/ (globs) whose change means a rebuild
    run: Callable[[Workspace, PrepareConfig], Iterator[object]]
    settings: Callable[[PrepareConfig], dict[str, Any]] = lambda config: {}


# -- the stages -----------------------------------------------------------------------------------

def _run_data(ws: Workspace, config: PrepareConfig) -> Iterator[object]:
    from engine.data import pipeline

    yield from pipeline.run(ws)


def _run_tokenizer(ws: Workspace, config: PrepareConfig) -> Iterator[object]:
    from engine.tokenizer import tour as tokenizer

    yield from tokenizer.prepare(ws)


def _run_train(ws: Workspace, config: PrepareConfig) -> Iterator[object]:
    from engine.training import loop as train

    # Inputs changed (or the run was forced): start over rather than resume an old run.
    # The capitals quiz is left to the report card, which keeps its result with the model.
    yield from train.pretrain(ws, train.preset(config.preset), resume=False, evaluate=False)


def _run_sft(ws: Workspace, config: PrepareConfig) -> Iterator[object]:
    from engine.training import sft

    sft_config = sft.SFTConfig()
    if config.sft_steps is not None:
        sft_config.max_steps = config.sft_steps
    yield from sft.fine_tune(ws, sft_config)


STAGES: tuple[Stage, ...] = (
    Stage("data", "Data: crawl, extract, clean, store", ("dataset", "dropped", "funnel"), (),
          ("data/**/*",), _run_data),
    Stage("tokenizer", "Tokenizer and token shards", ("tokenizer", "train_shard", "val_shard"),
          ("dataset",), ("tokenizer/*.py", "chat/*.py"),
          _run_tokenizer),
    Stage("train", "Pretraining the base model", ("base",),
          ("tokenizer", "train_shard", "val_shard"),
          ("model/*.py", "training/loop.py"), _run_train,
          lambda config: {"preset": config.preset}),
    Stage("sft", "Fine-tuning into an assistant", ("chat",), ("base", "tokenizer", "train_shard"),
          ("training/sft.py", "training/loop.py", "chat/*.py", "chat/places.txt",
           "model/*.py"), _run_sft,
          lambda config: {"steps": config.sft_steps}),
)



def stage_writing(artifact: str) -> Stage:
    """The stage whose outputs include ``artifact`` (a name in ``engine.workspace.ARTIFACTS``)."""
    for stage in STAGES:
        if artifact in stage.outputs:
            return stage
    raise KeyError(f"no stage writes {artifact!r}")


def command_for(artifact: str) -> str:
    """The command that builds ``artifact``: ``llm-tour prepare <the stage that writes it>``."""
    return f"llm-tour prepare {stage_writing(artifact).name}"


def commands_before(artifact: str) -> list[str]:
    """The commands of the stages the one that builds ``artifact`` reads from, in order."""
    inputs = stage_writing(artifact).inputs
    return [f"llm-tour prepare {stage.name}" for stage in STAGES
            if any(name in stage.outputs for name in inputs)]

# -- events -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StageSkipped:
    stage: str
    title: str
    reason: str  # e.g. "current (built 2026-05-01 10:12 UTC)"


@dataclass(frozen=True)
class StageStarted:
    stage: str
    title: str
    reason: str  # why it runs: "never built", "dataset.parquet changed", ...


@dataclass(frozen=True)
class StageProgress:
    """An event of the stage itself (a training step, a shard written...)."""

    stage: str
    event: object

    @property
    def progress(self) -> Progress | None:
        return progress_of(self.event)


@dataclass(frozen=True)
class StageFinished:
    stage: str
    seconds: float


@dataclass(frozen=True)
class StageFailed:
    stage: str
    error: str  # the message; later stages do not run


@dataclass(frozen=True)
class Figure:
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    figures: list[Figure]


@dataclass(frozen=True)
class StageTiming:
    stage: str
    title: str
    status: str  # "built", "current", "failed" or "not run" (after a failure)
    seconds: float | None  # of the run that built what is there now


@dataclass(frozen=True)
class ReportCard:
    sections: list[Section]
    timings: list[StageTiming]
    device: str

    @property
    def ok(self) -> bool:
        return all(t.status in ("built", "current") for t in self.timings)


@dataclass(frozen=True)
class Prepared:
    report: ReportCard


PrepareEvent = (StageSkipped | StageStarted | StageProgress | StageFinished | StageFailed
                | Prepared)


# -- what "current" means -------------------------------------------------------------------------

def file_hash(path: Path) -> str:
    return file_sha256(path)


def _code_files(patterns: tuple[str, ...]) -> list[Path]:
    found: set[Path] = set()
    for pattern in patterns:
        for path in ENGINE_DIR.glob(pattern):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(path)
    return sorted(found)


def fingerprint(ws: Workspace, stage: Stage, config: PrepareConfig) -> dict[str, str]:
    """Everything that went into a stage, as name -> hash."""
    parts: dict[str, str] = {}
    for name in stage.inputs:
        path = ws.path(name)
        parts[path.name] = file_hash(path) if path.exists() else "missing"
    for path in _code_files(stage.code):
        parts[f"engine/{path.relative_to(ENGINE_DIR).as_posix()}"] = file_hash(path)
    parts["settings"] = json.dumps(stage.settings(config), sort_keys=True)
    return parts


def _outputs(ws: Workspace, stage: Stage) -> dict[str, dict[str, Any]]:
    out = {}
    for name in stage.outputs:
        path = ws.path(name)
        if path.exists():
            stat = path.stat()
            out[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                              "sha256": file_hash(path)}
    return out


def read_record(ws: Workspace) -> dict[str, Any]:
    try:
        return json.loads(ws.path(RECORD_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def _write_record(ws: Workspace, record: dict[str, Any]) -> None:
    write_text_atomic(ws.path(RECORD_FILE), json.dumps(record, indent=2, sort_keys=True))


def why_stale(ws: Workspace, stage: Stage, config: PrepareConfig,
              entry: dict[str, Any] | None) -> str | None:
    """None when the stage is current; otherwise the first reason it is not."""
    if entry is None:
        return "never built here"
    for name in stage.outputs:
        path = ws.path(name)
        seen = entry.get("outputs", {}).get(path.name)
        if not path.exists():
            return f"{path.name} is missing"
        if seen is None:
            return f"{path.name} was not recorded"
        stat = path.stat()
        if stat.st_size != seen["size"] or (stat.st_mtime_ns != seen["mtime_ns"]
                                            and file_hash(path) != seen["sha256"]):
            return f"{path.name} changed since it was built"
    recorded = entry.get("inputs", {})
    for name, value in fingerprint(ws, stage, config).items():
        if recorded.get(name) != value:
            if name == "settings":
                return f"settings changed ({recorded.get(name)} -> {value})"
            return f"{name} changed"
    return None


# -- figures picked up while a stage runs ----------------------------------------------------------

def _scalars(event: object) -> dict[str, Any]:
    if not is_dataclass(event):
        return {}
    out = {}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[f.name] = value
    return out


def _capture(figures: dict[str, dict[str, Any]], event: object) -> None:
    """Keep the last event of each type (by kind where there are several), scalars only."""
    values = _scalars(event)
    if not values:
        return
    key = type(event).__name__
    if isinstance(values.get("kind"), str):
        key = f"{key}.{values['kind']}"
    figures[key] = values


# -- the run --------------------------------------------------------------------------------------

def _forced(stage: Stage, config: PrepareConfig) -> bool:
    return "all" in config.force or stage.name in config.force


def prepare_all(ws: Workspace, config: PrepareConfig | None = None,
                stages: tuple[Stage, ...] | None = None, report: bool = True
                ) -> Iterator[PrepareEvent]:
    """Run every stage that is not current, in order; end with the report card.

    Stop iterating to cancel: the stage in progress records nothing and runs again
    next time.
    """
    config = config or PrepareConfig()
    stages = STAGES if stages is None else stages
    ws.ensure()
    record = read_record(ws)
    timings: list[StageTiming] = []
    failed = False
    for stage in stages:
        if failed:
            break
        entry = record.get(stage.name)
        reason = "asked to rebuild" if _forced(stage, config) else why_stale(ws, stage, config,
                                                                                entry)
        if reason is None:
            timings.append(StageTiming(stage.name, stage.title, "current", entry.get("seconds")))
            yield StageSkipped(stage.name, stage.title, f"current (built {entry['built']})")
            continue
        yield StageStarted(stage.name, stage.title, reason)
        inputs = fingerprint(ws, stage, config)
        figures: dict[str, dict[str, Any]] = {}
        start = time.perf_counter()
        try:
            for event in stage.run(ws, config):
                _capture(figures, event)
                yield StageProgress(stage.name, event)
        except Exception as error:  # noqa: BLE001 - reported; the stages after it do not run
            timings.append(StageTiming(stage.name, stage.title, "failed", None))
            yield StageFailed(stage.name, f"{type(error).__name__}: {error}")
            failed = True
            continue
        seconds = time.perf_counter() - start
        if any(v.get("cancelled") for v in figures.values()):
            timings.append(StageTiming(stage.name, stage.title, "failed", None))
            yield StageFailed(stage.name, "cancelled before it finished")
            failed = True
            continue
        record[stage.name] = {
            "inputs": inputs,
            "outputs": _outputs(ws, stage),
            "figures": figures,
            "seconds": round(seconds, 3),
            "built": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }
        _write_record(ws, record)
        timings.append(StageTiming(stage.name, stage.title, "built", seconds))
        yield StageFinished(stage.name, seconds)
    for stage in stages[len(timings):]:
        timings.append(StageTiming(stage.name, stage.title, "not run", None))
    if report:
        yield Prepared(report_card(ws, config, timings))


# -- the report card ------------------------------------------------------------------------------

def _section(title: str, build: Callable[[], list[Figure]]) -> Section:
    """A section of the card; one that can't be built says why instead."""
    try:
        figures = build()
    except Exception as error:  # noqa: BLE001 - a missing artifact must not hide the rest
        figures = [Figure("not available", f"{type(error).__name__}: {error}")]
    return Section(title, figures)


def _funnel_figures(ws: Workspace) -> list[Figure]:
    artifact = ws.find("funnel")
    if artifact is None:
        raise FileNotFoundError("no funnel.json: the data stage has not run")
    from engine.data.store import read_funnel

    steps = read_funnel(artifact.path)  # checked: a broken file is named with its command
    figures = [Figure("source", artifact.label)]
    for step in steps:
        kept, seen = step.get("out"), step.get("in")
        value = f"{kept:,} of {seen:,} kept" if isinstance(kept, int) and isinstance(seen, int) \
            else ", ".join(f"{k} {v}" for k, v in step.items() if isinstance(v, (int, float)))
        dropped = step.get("dropped") or {}
        if dropped:
            reasons = sorted(dropped.items(), key=lambda kv: -kv[1])
            value += " (" + ", ".join(f"{reason} {n}" for reason, n in reasons) + ")"
        if step.get("edited"):
            value += f"; {step['edited']:,} edited"
        figures.append(Figure(str(step.get("label") or step.get("step") or "?"), value))
    if steps and isinstance(steps[0].get("in"), int) and isinstance(steps[-1].get("out"), int):
        first, last = steps[0]["in"], steps[-1]["out"]
        figures.append(Figure("overall", f"{last:,} of {first:,} URLs became dataset rows "
                              f"({last / first:.0%})" if first else "no URLs"))
    return figures


def _tokenizer_figures(ws: Workspace, record: dict[str, Any]) -> list[Figure]:
    from engine.tokenizer.tour import load_tokenizer, read_mix

    tok, artifact = load_tokenizer(ws)
    figures = [Figure("tokenizer", f"{tok.name} ({artifact.label})"),
               Figure("vocabulary", f"{tok.vocab_size:,} tokens, {len(tok.special)} special")]
    for name in ("train_shard", "val_shard"):
        shard = ws.find(name)
        if shard is not None:
            figures.append(Figure(shard.path.name,
                                  f"{shard.path.stat().st_size // 2:,} tokens ({shard.label})"))
    mix = read_mix(ws)
    if mix is not None:
        figures.append(Figure("training mix", mix.line.removeprefix("Training mix: ")))
    seen = record.get("tokenizer", {}).get("figures", {})
    for key, values in sorted(seen.items()):
        if key.startswith("TokenizerBuilt.") and "bytes_per_token" in values:
            figures.append(Figure(f"{values['kind']} on the dataset",
                                  f"{values['bytes_per_token']:.2f} bytes per token, "
                                  f"vocabulary {values['vocab_size']:,}, "
                                  f"built in {values['seconds']:.1f} s"))
    example = "The capital of France is Paris."
    figures.append(Figure(f"\u201c{example}\u201d", f"{len(tok.encode(example))} tokens "
                          f"(GPT-4: {len(_cl100k_encode(example))})"))
    return figures


def _cl100k_encode(text: str) -> list[int]:
    from engine.tokenizer.cl100k import cl100k

    return cl100k().encode(text)


def _run_figures(stage: str, record: dict[str, Any]) -> list[Figure]:
    seen = record.get(stage, {}).get("figures", {})
    figures = []
    start, done = seen.get("TrainStart", {}), seen.get("TrainDone", {})
    if start:
        figures.append(Figure("parameters", f"{start['params']:,}"))
        figures.append(Figure("ran on", start["device"]))
    if done:
        figures.append(Figure("steps", f"{done['step']:,} in {done['elapsed']:.1f} s, "
                              f"{done['tokens_per_s']:,.0f} tokens/s"))
        losses = [f"{name} {done[key]:.3f}" for name, key in (("train", "train_loss"),
                                                                  ("validation", "val_loss"))
                  if done.get(key) is not None]
        if losses:
            figures.append(Figure("final loss", ", ".join(losses)))
    return figures


def _measured(record: dict[str, Any], key: str, path: Path, compute: Callable[[], Any]) -> Any:
    """A figure computed from a model file, kept in the record until the file changes,
    so a second ``prepare`` prints its card at once."""
    digest = file_hash(path)
    cache = record.setdefault("card", {})
    hit = cache.get(key)
    if hit is not None and hit.get("sha256") == digest:
        return hit["value"]
    from engine.model.device import one_thread

    with one_thread():
        value = compute()
    cache[key] = {"sha256": digest, "value": value}
    return value


def _training_figures(ws: Workspace, record: dict[str, Any]) -> list[Figure]:
    from engine.data.facts import load_capitals
    from engine.inference.evaluate import capital_accuracy
    from engine.model.load import load_model

    loaded = load_model(ws, "base")  # NoModel: the section says which file and command
    config = loaded.model.config
    figures = [Figure("model", f"{loaded.path.name} ({loaded.artifact.label}), "
                      f"{config.n_layer} layers, {config.n_embd} wide, "
                      f"context {config.block_size}")]
    figures += _run_figures("train", record)
    accuracy = _measured(record, "capital_accuracy", loaded.path, lambda: str(
        capital_accuracy(loaded.model, loaded.tokenizer, load_capitals())))
    figures.append(Figure("\u201cThe capital of {country} is\u201d", accuracy))
    return figures


CARD_EVAL_ITEMS = 10  # per category: the card's short version of `llm-tour eval`


def _answer_figures(ws: Workspace, record: dict[str, Any], config: PrepareConfig
                    ) -> list[Figure]:
    from engine.model.load import load_model

    loaded = load_model(ws, "chat")
    return chat_figures(loaded, record, config) + [eval_figure(ws, loaded, record)]


def chat_figures(loaded: Any, record: dict[str, Any], config: PrepareConfig) -> list[Figure]:
    """The chat model, its fine-tuning run, and its answers to the card's questions."""
    from engine.chat.format import Turn
    from engine.training.sft import reply

    model, tok, artifact = loaded.model, loaded.tokenizer, loaded.artifact
    figures = [Figure("model", f"{artifact.path.name} ({artifact.label})")]
    figures += [f for f in _run_figures("sft", record) if f.label in ("steps", "final loss")]

    def answers() -> list[list[str]]:
        out = []
        for question in config.questions:
            turns, _ = reply(model, tok, [Turn("user", question)])
            out.append([question, " | ".join(f"{t.role}: {t.text}" for t in turns) or "(nothing)"])
        return out

    key = "answers:" + json.dumps(list(config.questions))
    for question, answer in _measured(record, key, artifact.path, answers):
        figures.append(Figure(question, answer))
    return figures


def eval_figure(ws: Workspace, loaded: Any, record: dict[str, Any]) -> Figure:
    """The card's short version of `llm-tour eval`: whole turns right on unseen names."""
    def whole_turns() -> str:
        from engine.chat.eval import CHAT_CATEGORIES, evaluate_report
        from engine.tools.registry import default_registry

        registry = default_registry(ws)
        report = evaluate_report(loaded.model, loaded.tokenizer, registry,
                                 categories=CHAT_CATEGORIES, per_category=CARD_EVAL_ITEMS)
        return f"{report.headline()}: {report.short()}"

    evaluation = _measured(record, f"eval:{CARD_EVAL_ITEMS}", loaded.artifact.path, whole_turns)
    return Figure("unseen names, whole turns (`llm-tour eval` for all)", evaluation)


def _device() -> str:
    from engine.model.hardware import describe

    hardware = describe()
    return f"{hardware.cpu}; {hardware.summary()}; torch {hardware.torch_version}"


def report_card(ws: Workspace, config: PrepareConfig | None = None,
                timings: list[StageTiming] | None = None) -> ReportCard:
    """The card, computed from the artifacts now in the workspace (or bundled)."""
    config = config or PrepareConfig()
    record = read_record(ws)
    if timings is None:
        timings = [StageTiming(s.name, s.title, "current" if s.name in record else "not run",
                               record.get(s.name, {}).get("seconds")) for s in STAGES]
    sections = [
        _section("Dataset funnel", lambda: _funnel_figures(ws)),
        _section("Tokenizer", lambda: _tokenizer_figures(ws, record)),
        _section("Training", lambda: _training_figures(ws, record)),
        _section("Sample answers", lambda: _answer_figures(ws, record, config)),
    ]
    if record.get("card"):
        _write_record(ws, record)
    try:
        device = _device()
    except Exception as error:  # noqa: BLE001 - torch missing or broken: say so on the card
        device = f"unknown ({error})"
    return ReportCard(sections, timings, device)

