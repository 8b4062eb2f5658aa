"""Chapter: the training loop, on the real data and the real model.

First one step on one window (the map before and after), then the whole run: a child
process trains the live preset (sized for a talk) and streams its events (loss, validation loss, the probe
for "The capital of France is", greedy samples), and this screen draws them as they come.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

from engine.events import StageState
from screens.base import ChapterBody, ChapterScreen, prose, stage_cancelled
from screens.widgets.loss_chart import LossChart
from screens.widgets.figures import figure, percent
from screens.widgets.prob_map import ProbMap, in_text
from screens.widgets.token_spans import TokenFlow

if TYPE_CHECKING:
    from engine.training.loop import TrainConfig

PROBE_TITLE = 'Probe: "The capital of France is"'
SAMPLES_KEPT = 4
WINDOW_TOKENS = 24  # tokens of context shown for the single step (the engine's window)


def val_rising(last: float | None, best: float | None) -> bool:
    """Has the validation loss climbed clearly above its lowest point (2 %)?"""
    return last is not None and best is not None and last > best * 1.02


class TrainingScreen(ChapterScreen):
    """s starts (or goes on), z pauses, x stops, R retrains, w draws another window.

    n and p stay the tour's own keys (next and previous chapter), as in every chapter."""

    # Short labels, and only the keys that do something now, so the bar fits 60 columns:
    # R and w between runs, z and x during one, s always (? lists them all).
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("space,down", "next_step", "Step", id="next_step", show=False,
                tooltip="Read on, then the next chapter (this chapter is one page)"),
        Binding("s", "start", "Train", id="train_start",
                tooltip="Start training, or go on from the model you already have"),
        Binding("z", "pause", "Pause", id="train_pause",
                tooltip="Pause the run after the current step (again to resume)"),
        Binding("x", "stop", "Stop", id="train_stop",
                tooltip="Stop the run; it keeps a checkpoint you can go on from"),
        Binding("R", "retrain", "Redo", id="train_retrain", key_display="R",
                tooltip="Throw the trained model away and train from scratch"),
        Binding("w", "new_window", "Window", id="train_window",
                tooltip="Draw another window from the data and take one step on it"),
        # not in the bar (it would pass 60 columns): the offer on screen names the key
        Binding("u", "use_run", "Use it", id="train_use", show=False,
                tooltip="Make the model this run stopped with the one every chapter uses"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Pause and stop only during a run; retrain and a new window only between runs.
        s stays: during a run it says how to pause or stop."""
        if action in ("pause", "stop"):
            return self.running
        if action in ("retrain", "new_window"):
            return not self.running
        if action == "use_run":
            return not self.running and self.offered is not None
        return True

    @property
    def running(self) -> bool:
        return self._training_now

    @running.setter
    def running(self, value: bool) -> None:
        if value != getattr(self, "_training_now", None):
            self._training_now = value
            if self.is_mounted:
                self.refresh_bindings()  # the keys bar shows the keys that work now

    DEFAULT_CSS = """
    TrainingScreen #data-line, TrainingScreen #run-status, TrainingScreen #nudge-line {
        height: auto;
        padding: 0 1;
    }
    TrainingScreen #window {
        height: auto;
        border-title-color: $text;
    }
    TrainingScreen #maps {
        height: auto;
    }
    TrainingScreen #maps > ProbMap {
        width: 1fr;
    }
    TrainingScreen #samples {
        height: auto;
        min-height: 3;
        border-title-color: $text;
    }
    """

    MODEL_KINDS: ClassVar[tuple[str, ...]] = ("base",)
    # Sized for a talk (engine.training.loop.PRESETS): " Paris" tops the probe within about
    # a minute; the prepared model (the default preset) learned longer and quizzes better.
    preset_name: ClassVar[str] = "live"
    runner: ClassVar[str] = "process"  # "process" (keys stay quick) or "thread"
    # torch threads for the run; None: the thread policy's (engine.threads, every core but one)
    threads: ClassVar[int | None] = None

    def __init__(self, chapter, index: int) -> None:
        super().__init__(chapter, index)
        self.proc: Any = None
        self._training_now = False
        self.paused = False
        self.window_seed = 0
        self.existing: Any = None  # the workspace's base.pt metadata, if there is one
        self.current: Any = None  # the base model every chapter uses (a Version), if any
        # base.pt as a version every chapter could use instead (a run stopped early), if any
        self.offered: Any = None
        self.existing_fits = True  # base.pt was trained with the tokenizer in use now
        self.samples: list[tuple[int, str, str]] = []  # step, prompt, greedy continuation
        self.last_step: Any = None
        self.last_val: float | None = None
        self.best_val: float | None = None  # the lowest validation loss of this run
        self.stage = StageState()
        self.device_label = ""
        self.note: Content | None = None
        self._tokenizing_rows = 0

    @property
    def step_count(self) -> int:
        return 1

    def compose_body(self) -> ComposeResult:
        sections = list(self.sections) + [""] * (4 - len(self.sections))
        with ChapterBody(id="body"):
            yield prose(sections[0], id="training-intro")
            yield Static(Content.styled("Reading the data…", "$text-muted"), id="data-line")
            yield prose(sections[1])
            yield Static(id="window", classes="panel")
            with Horizontal(id="maps"):
                yield ProbMap("Before the step", id="before")
                yield ProbMap("After one step", id="after")
            yield Static(id="nudge-line")
            yield prose(sections[2])
            yield Static(id="run-status")
            yield LossChart(id="chart")
            yield ProbMap(PROBE_TITLE, id="probe")
            yield Static(id="samples", classes="panel")
            yield prose(sections[3], id="training-keys")

    def show_step(self, step: int) -> None:
        """One page: the run is driven by its own keys."""

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#window", Static).border_title = "A window from the training data"
        self.query_one("#samples", Static).border_title = "Greedy samples"
        self.query_one("#probe", ProbMap).clear("The probe appears once training starts.")
        self.query_one("#before", ProbMap).clear("…")
        self.query_one("#after", ProbMap).clear("…")
        self.query_one("#samples", Static).update(
            Content.styled("Samples appear as the model learns.", "italic $text-muted"))
        self.update_status()
        self.take_one_step()

    def on_unmount(self) -> None:
        if self.proc is not None and not self.proc.ended:
            self.proc.stop()  # the child checkpoints, then ends (it is not left behind)

    # -- the single step --------------------------------------------------------
    def take_one_step(self) -> None:
        from engine.training.window import window_step

        ws, preset, seed = self.app.workspace, self.preset_name, self.window_seed
        tokenize = not self.handout  # a handout shows the shards as they are

        def one_step():
            if tokenize:
                yield from _tokenize_if_newer(ws)
            yield _read_existing(ws)
            yield window_step(ws, preset, seed)

        def failed(error: BaseException) -> None:
            self.query_one("#data-line", Static).update(Content.styled(_explain(error), "$error"))

        self.run_stage(one_step, "training-step", on_event=self.show_one_step, on_error=failed)

    def show_one_step(self, event: Any) -> None:
        if isinstance(event, _Existing):
            self.existing, self.current = event.meta, event.current
            self.existing_fits = event.fits
            self.offered = event.offered
            self.refresh_bindings()
            self.update_status()
            return
        if self.show_tokenizing(event, "#data-line"):
            return
        result, tok = event.nudge, event.tokenizer
        data_line = Content.assemble(
            f"Data: {event.train_file} and {event.val_file} ({event.tokenizer_source}), "
            f"{event.tokens:,} tokens · the model reads with tokenizer ",
            (tok.name, "bold"), f", {tok.vocab_size:,} token IDs")
        if event.mix:  # the viewer's own page, upweighted in the training mix
            data_line = Content("\n").join([data_line, Content.styled(event.mix, "$success")])
        self.query_one("#data-line", Static).update(data_line)
        pieces: list[tuple[str, str] | str] = []
        for i, token_id in enumerate(result.window[-WINDOW_TOKENS:]):
            pieces.append((tok.decode([token_id]),
                           "$text-primary on $primary-muted" if i % 2 == 0
                           else "$text-accent on $accent-muted"))
        ids = " ".join(str(t) for t in result.window[-WINDOW_TOKENS:])
        self.query_one("#window", Static).update(Content("\n").join([
            Content.assemble(*pieces, "  → ", (tok.decode([result.actual_id]), "bold $success"),
                             ("  (the actual next token)", "italic $text-muted")),
            Content.styled(f"token IDs: {ids} → {result.actual_id}", "$text-muted"),
        ]))
        for key, probe in (("#before", result.before), ("#after", result.after)):
            self.query_one(key, ProbMap).show(probe.top, None, probe.actual, probe.actual_prob)
        self.query_one("#nudge-line", Static).update(Content.assemble(
            "One step: the probability of ", (in_text(result.before.actual or ""), "bold"),
            f" went from {percent(result.before.actual_prob)} to ",
            (percent(result.after.actual_prob), "bold $success"),
            f"; the loss on this window from {figure(result.loss_before, '.2f')} to "
            f"{figure(result.loss_after, '.2f')}."))
        self.update_status()

    def on_screen_resume(self) -> None:
        from engine.tokenizer.tour import shards_older_than_dataset

        # The Data chapter changed the dataset (your own page): tokenize it before training.
        if not self.running and not self.handout and shards_older_than_dataset(
                self.app.workspace):
            self.take_one_step()

    def show_tokenizing(self, event: Any, where: str) -> bool:
        """Say how tokenizing the viewer's dataset goes; False for any other event."""
        from engine.tokenizer import tour

        line = self.query_one(where, Static)
        if isinstance(event, _Tokenizing):
            self._tokenizing_rows = event.rows
            line.update(Content.styled(
                f"Tokenizing your dataset ({event.rows:,} rows)… the model trains on the "
                "shards made from it.", "italic $warning"))
        elif isinstance(event, tour.ShardProgress):
            line.update(Content.styled(
                f"Tokenizing your dataset ({self._tokenizing_rows:,} rows)… "
                f"{event.documents_done:,}/{event.documents_total:,} documents encoded",
                "italic $warning"))
        elif isinstance(event, tour.TokenizerSaved):
            line.update(Content.assemble(
                f"Tokenized your dataset ({self._tokenizing_rows:,} rows) with ",
                (event.name, "bold"), f", {event.vocab_size:,} token IDs."))
        else:
            return False
        return True

    def action_use_run(self) -> None:
        """The viewer takes the stopped run's model for every chapter (it was only offered)."""
        offered = self.offered
        if self.running or offered is None:
            return
        from engine.model.versions import ModelVersions

        ws = self.app.workspace

        def used(version: Any) -> None:
            self.offered = None
            self.note = Content.assemble(
                "Every chapter now uses ", (version.describe(), "bold"),
                f" ({version.origin}); ", ("m", "bold"), " goes back to another model.")
            self.tell_model_changed("base")

        def failed(error: BaseException) -> None:
            self.note = Content.styled(f"Could not use it: {error}", "$error")
            self.update_status()

        self.run_stage(lambda: [ModelVersions(ws).use(offered.id)], "training-use",
                       on_event=used, on_error=failed)

    def action_new_window(self) -> None:
        self.window_seed += 1
        self.take_one_step()

    # -- the run ------------------------------------------------------------------
    def run_config(self, retrain: bool) -> tuple[TrainConfig, bool]:
        """The chapter's preset for a fresh run. An existing model goes on with the recipe
        it was trained with (its shape and dropout are its own), past its end if it had
        finished (then the learning rate stays at its floor)."""
        from dataclasses import replace

        from engine.training import loop as train

        config = train.preset(self.preset_name, threads=self.threads)
        from engine.tokenizer.tour import shards_older_than_dataset

        meta = self.existing
        if (retrain or meta is None or not self.existing_fits
                or shards_older_than_dataset(self.app.workspace)):
            return config, False  # a new dataset means a new tokenizer: train from scratch
        if meta.train_config:
            config = replace(train.TrainConfig.from_dict(meta.train_config),
                             threads=self.threads, device=config.device)
        if meta.step >= config.max_steps:
            horizon = config.decay_steps or config.max_steps
            config = replace(config, max_steps=meta.step + config.max_steps,
                             decay_steps=horizon)
        return config, True

    def action_start(self) -> None:
        if self.running:
            self.notify("Training is already running: z pauses it, x stops it.", timeout=3)
            return
        self.begin(retrain=False)

    def action_retrain(self) -> None:
        if self.running:
            self.notify("Stop the run first (x), then R retrains from scratch.", timeout=3)
            return
        self.begin(retrain=True)

    def begin(self, retrain: bool) -> None:
        config, resume = self.run_config(retrain)
        self.running, self.paused = True, False
        self.samples, self.last_step, self.last_val, self.note = [], None, None, None
        self.best_val = None
        self.stage = StageState()  # the run's figures, reduced from its events
        self.query_one("#chart", LossChart).reset(config.max_steps)
        self.query_one("#samples", Static).update(
            Content.styled("Samples appear as the model learns.", "italic $text-muted"))
        self.update_status("Starting the trainer…")
        self.query_one("#run-status").scroll_visible(top=True, animate=False)
        self.train_in_background(config, resume)

    def action_pause(self) -> None:
        if not self.running or self.proc is None:
            return
        self.paused = not self.paused
        if self.paused:
            self.proc.pause()
        else:
            self.proc.resume()
        self.update_status()

    def action_stop(self) -> None:
        if self.running and self.proc is not None:
            self.proc.stop()
            self.paused = False
            self.update_status("Stopping after this step, and keeping a checkpoint…")

    def train_in_background(self, config: TrainConfig, resume: bool) -> None:
        from engine.training.child import StageRunner, pretrain_job

        self.proc = StageRunner(pretrain_job, str(self.app.workspace.root), config, resume,
                                where=self.runner)

        def failed(error: BaseException) -> None:
            self.running = False
            self.note = Content.styled(f"Training stopped: {_explain(error)}", "$error")
            self.update_status()

        ws, proc = self.app.workspace, self.proc

        def run() -> Iterator[Any]:
            yield from _tokenize_if_newer(ws)  # the run trains on the dataset as it is now
            yield from proc.events(stage_cancelled)

        self.run_stage(run, "training-run", on_event=self.show_training_event, on_error=failed)

    def show_training_event(self, event: Any) -> None:
        from engine.training import loop as train
        from engine.training.child import ProcessEnded, TrainFailed

        chart = self.query_one("#chart", LossChart)
        if self.show_tokenizing(event, "#data-line"):
            if isinstance(event, _Tokenizing):
                self.update_status("Tokenizing your dataset first…")
            return
        self.stage.update(event)
        if isinstance(event, train.TrainStart):
            self.device_label = event.device
            what = (f"going on from step {event.start_step:,}" if event.resumed_from
                    and event.start_step else "from a fresh model")
            self.note = Content(f"{event.params:,} parameters, {what}.")
            chart.reset(event.max_steps)
        elif isinstance(event, train.TrainStep):
            self.last_step = event
            chart.add_train(event.step, event.loss)
        elif isinstance(event, train.EvalLoss):
            self.last_val, self.best_val = self.stage.val_loss, self.stage.best_val_loss
            chart.add_val(event.step, event.val_loss)
        elif isinstance(event, train.Probe):
            r = event.result
            probe = self.query_one("#probe", ProbMap)
            probe.border_subtitle = f"step {event.step:,}"
            probe.show(r.top, None, r.actual, r.actual_prob)
        elif isinstance(event, train.Sample):
            self.samples = ([*self.samples, (event.step, event.prompt, event.text)]
                            )[-SAMPLES_KEPT:]
            self.show_samples()
        elif isinstance(event, train.TrainDone):
            self.running = False
            self.note = Content(
                f"Stopped at step {event.step:,}; the checkpoint is kept, s goes on from it."
                if event.cancelled else
                f"Done: {event.step:,} steps in {_clock(event.elapsed)}, "
                f"{event.tokens_per_s:,.0f} tokens/s. Checking every capital…")
            if event.cancelled:
                self._refresh_existing()
            else:
                self.tell_model_changed("base")  # the run is now every chapter's base model
        elif isinstance(event, train.CapitalsEvaluated):
            self.note = Content.assemble(
                "Asked for the capital of every country in the data: ",
                (str(event.accuracy), "bold $success"), ".", *self._prepared_hint())
        elif isinstance(event, TrainFailed):
            self.running = False
            self.note = Content.styled(f"Training stopped: {event.message}", "$error")
        elif isinstance(event, ProcessEnded):
            self.running = False
        self.update_status()

    def model_changed(self, kind: str) -> None:
        self._refresh_existing()

    def _refresh_existing(self) -> None:
        ws = self.app.workspace
        self.run_stage(lambda: [_read_existing(ws)], "training-existing",
                       on_event=self.show_one_step)

    # -- what the screen says -------------------------------------------------------
    def show_samples(self) -> None:
        rows = [Content.assemble((f"step {step:>5,}  ", "$text-muted"), (_flat(prompt), "bold"),
                                 _flat(text))
                for step, prompt, text in self.samples]
        self.query_one("#samples", Static).update(Content("\n").join(rows))

    def update_status(self, message: str | None = None) -> None:
        # The figures, then where and how it runs: groups that a narrow terminal moves to
        # the next line whole ("12,345 tok/s" never splits), laid out at the widget's width.
        groups: list[Content] = []
        s = self.last_step
        if s is not None:
            groups += [Content.assemble(("step ", "$text-muted"),
                                        (f"{s.step:,}/{s.max_steps:,}", "bold")),
                       Content.assemble(("  loss ", "$text-muted"), (figure(s.loss, ".3f"), "bold"))]
            if self.last_val is not None:
                groups.append(Content.assemble(("  val ", "$text-muted"),
                                               (figure(self.last_val, ".3f"), "bold")))
            groups.append(Content.assemble(("  ", ""), (figure(s.tokens_per_s, ",.0f"), "bold"),
                                           (" tok/s", "$text-muted")))
            if self.running:
                groups.append(Content.assemble(("  ETA ", "$text-muted"), (_clock(s.eta), "bold")))
        where: list[Content] = []
        if self.running:
            where.append(Content.styled("⏸ paused" if self.paused else "▶ training",
                                        "bold $warning" if self.paused else "bold $success"))
        if self.device_label:
            where.append(Content.assemble((" on " if where else "on ", "$text-muted"),
                                          (self.device_label, "")))
        if groups and where:
            where[0] = Content("\n") + where[0]  # where it runs starts a line of its own
        lines: list[Content] = []
        if val_rising(self.last_val, self.best_val):
            lines.append(Content.styled(
                "The validation loss is rising while the training loss falls: the model has "
                "begun to memorise its training windows (overfitting) rather than learn what "
                "carries over to text it has not seen.", "italic $warning"))
        if message:
            lines.append(Content.styled(message, "italic $text-muted"))
        elif self.note is not None:
            lines.append(self.note)
        if self.running and self.current is not None:
            lines.append(Content.styled(
                f"Until this run finishes, every chapter uses {self.current.describe()} "
                f"({self.current.origin}).", "$text-muted"))
        elif not self.running and self.offered is not None:
            lines.append(self._offer())
        if not self.running and self.last_step is None:  # the offer already names the model
            lines.append(self._invitation(using=self.offered is None))
        flow = [*groups, *where]
        self.query_one("#run-status", Static).update(
            TokenFlow(flow, after=Content("\n").join(lines) if lines else None) if flow
            else Content("\n").join(lines))

    def _prepared_hint(self) -> tuple[str | tuple[str, str], ...]:
        """After a live run: the full-quality model takes longer, and is offered."""
        if self.preset_name != "live":
            return ()
        return (" This run is sized for a talk; the prepared model (the default preset) "
                "read about twice as much text, with dropout: ", ("m", "bold"),
                " picks either.")

    def _offer(self) -> Content:
        """A run stopped early is offered, never imposed: what it is against the model in use."""
        offered, current = self.offered, self.current
        of = ""
        if self.existing is not None and self.existing.train_config.get("max_steps"):
            of = f" of {int(self.existing.train_config['max_steps']):,}"
        using = (f"every chapter still uses {current.describe()} ({current.origin})"
                 if current is not None else "no chapter uses it")
        return Content.assemble(
            ("Use the step-", "bold"), (f"{offered.steps:,}", "bold"), (" model? ", "bold"),
            f"It trained {offered.steps:,}{of} steps; {using}. ", ("u", "bold"),
            " uses it, ", ("m", "bold"), " lists every model.")

    def _invitation(self, using: bool = True) -> Content:
        from_preset = f"the {self.preset_name} preset"
        meta, current = self.existing, self.current
        if not using:
            current = None
        using = Content("")
        if current is not None:
            using = Content.assemble("Every chapter uses ", (current.describe(), "bold"),
                                     f" ({current.origin}). ")
        if meta is None:
            return Content.assemble(using, ("s", "bold"), f" trains a model with {from_preset}.")
        if not self.existing_fits:
            return Content.assemble(
                using, f"base.pt ({meta.step:,} steps) was trained with another tokenizer; ",
                ("s", "bold"), f" trains a new model on your dataset with {from_preset}.")
        return Content.assemble(
            using, ("s", "bold"), f" goes on training base.pt ({meta.step:,} steps), ",
            ("R", "bold"), " retrains from scratch.")


@dataclass(frozen=True)
class _Existing:
    """The workspace's base.pt metadata (None when there is no model yet), and the base model
    every chapter uses now (engine.model.versions)."""

    meta: Any
    current: Any = None
    fits: bool = True  # base.pt was trained with the workspace's tokenizer (it can go on)
    offered: Any = None  # base.pt as a version no chapter uses (a run stopped early), if any


def _read_existing(workspace: Any) -> _Existing:
    from engine.model.checkpoint import read_meta
    from engine.model.versions import ModelVersions
    from engine.tokenizer.tour import load_tokenizer

    versions = ModelVersions(workspace)
    try:
        current = versions.current("base")
    except (OSError, ValueError):
        current = None
    base = workspace.path("base")
    try:
        meta = read_meta(base) if base.exists() else None
    except (OSError, ValueError):
        return _Existing(None, current)
    fits = True
    offered = None
    if meta is not None:
        try:
            fits = load_tokenizer(workspace)[0].hash == meta.tokenizer_hash
        except (OSError, ValueError):
            fits = False
        offered = _offered(versions, base, current)
    return _Existing(meta, current, fits, offered)


def _offered(versions: Any, base: Any, current: Any) -> Any:
    """base.pt as a version no chapter uses yet: the one a stopped run recorded, or the
    run's working file itself (a run killed before it could record one)."""
    try:
        same = [v for v in versions.with_file(base) if v.kind == "base"]
        if not same:
            return versions.working("base")
    except (OSError, ValueError):
        return None
    if current is not None and any(v.id == current.id for v in same):
        return None  # every chapter uses it already
    stopped = [v for v in same if not v.finished]
    return stopped[-1] if stopped else None  # a finished one the viewer left is in m


@dataclass(frozen=True)
class _Tokenizing:
    """The workspace's dataset is newer than its shards: it is tokenized first."""

    rows: int


def _tokenize_if_newer(workspace: Any) -> Iterator[Any]:
    """Build the tokenizer and the shards from the workspace's dataset when it is newer than
    them (a page added in the Data chapter), so training sees the dataset the viewer built."""
    from engine.tokenizer import tour

    if not tour.shards_older_than_dataset(workspace):
        return
    yield _Tokenizing(tour.dataset_rows(workspace.path("dataset")))
    for event in tour.prepare(workspace):
        if isinstance(event, (tour.ShardProgress, tour.TokenizerSaved)):
            yield event


def _flat(text: str) -> str:
    return text.replace("\n", " ⏎ ")


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def _explain(error: BaseException | None) -> str:
    if isinstance(error, FileNotFoundError):
        return (f"{error}\nThe Tokens chapter (or `llm-tour prepare tokenizer`) makes the "
                "tokenizer and the token shards this chapter trains on.")
    return str(error)
