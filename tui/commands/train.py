"""`llm-tour prepare train`: train the tiny GPT on the workspace's token shards, headless."""

from __future__ import annotations

import click

from engine.events import StageState
from engine.text import printable
from tui.commands import pass_workspace, show_state, stop_on_ctrl_c


@click.command("train", short_help="Train the base model into base.pt.")
@click.option("--preset", default="default", show_default=True,
              help="Model and run size: default (840 steps, a few minutes on two CPU "
                   "cores), gpu (a larger model for a short GPU run) or tiny (seconds, for a "
                   "quick look).")
@click.option("--device", type=click.Choice(["auto", "cuda", "mps", "cpu"]), default="auto",
              show_default=True, help="Where to train; auto picks CUDA, then MPS, then the CPU.")
@click.option("--dtype", type=click.Choice(["auto", "float32", "bfloat16"]), default="auto",
              show_default=True, help="Number format; auto is bf16 on a GPU and fp32 on a CPU.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="Train this many steps in all instead of the preset's number.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for torch [default: the cores free when it starts].")
@click.option("--restart", is_flag=True,
              help="Start from a fresh model even if base.pt exists (default: go on from it).")
@click.option("--quiz/--no-quiz", default=True, show_default=True,
              help="Afterwards, ask the model the capital of every country in the dataset.")
@pass_workspace
def train(ws, preset: str, device: str, dtype: str, steps: int | None, threads: int | None,
          restart: bool, quiz: bool) -> None:
    """Train the base model into the workspace's base.pt, with live progress.

    Ctrl+C stops after the current step and keeps a checkpoint; run the command again to
    go on from there (the step count continues). The run is a fixed number of steps, so a
    busy machine takes longer but ends with the same model.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from engine.model.checkpoint import CheckpointMismatch
    from engine.tokenizer.tour import read_mix
    from engine.training import loop as training

    try:
        changes = {"device": device, "dtype": dtype, "threads": threads}
        if steps is not None:
            changes["max_steps"] = steps
        config = training.preset(preset, **changes)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--preset") from None

    console = Console(stderr=True)
    columns = (TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[figures]}"), TimeElapsedColumn(),
               TextColumn("ETA {task.fields[eta]}"))
    done = None
    accuracy = None
    try:
        with stop_on_ctrl_c() as stop, \
                Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("train", total=config.max_steps, figures="", eta="-")
            state = StageState()
            for event in training.pretrain(ws, config, resume=not restart, stop=stop.is_set,
                                           evaluate=quiz):
                state.update(event)
                if isinstance(event, training.TrainStart):
                    resumed = (f", going on from step {event.start_step}"
                               if event.resumed_from else "")
                    console.print(Text(f"{event.device} · {event.params:,} parameters"
                                       f"{resumed}"))
                    mix = read_mix(ws)
                    if mix is not None:  # the viewer's own pages, upweighted
                        console.print(Text(mix.line))
                    progress.update(task, completed=event.start_step)
                elif isinstance(event, training.TrainStep):
                    show_state(progress, task, state, eta=_clock(event.eta),
                               figures=f"{state.label} · val {_loss(state.val_loss)} · "
                                       f"{event.tokens_per_s:,.0f} tok/s")
                elif isinstance(event, training.Probe):
                    console.print(_probe_line(event, Text))
                elif isinstance(event, training.CopyProbe):
                    console.print(Text(f"step {event.step:>5} {event.text}", "dim"))
                elif isinstance(event, training.Sample):
                    console.print(Text.assemble((f"step {event.step:>5} sample ", "dim"),
                                                (printable(event.prompt), "bold"),
                                                printable(event.text)))
                elif isinstance(event, training.TrainDone):
                    done = event
                elif isinstance(event, training.CapitalsEvaluated):
                    accuracy = event.accuracy
    except (FileNotFoundError, CheckpointMismatch, ValueError) as error:
        raise click.ClickException(str(error)) from None

    if done is None:
        return
    click.echo(f"Steps: {done.step} of {config.max_steps}"
               + (" (stopped; run again to go on)" if done.cancelled else ""))
    if done.train_loss is not None:
        click.echo(f"Train loss: {done.train_loss:.3f}")
    if done.val_loss is not None:
        click.echo(f"Validation loss: {done.val_loss:.3f}")
    click.echo(f"Speed: {done.tokens_per_s:,.0f} tokens/s over {done.elapsed:.1f} s of training")
    click.echo(f"Checkpoint: {done.path}")
    if accuracy is not None:
        click.echo(f"Capitals: {accuracy}")
        wrong = [a for a in accuracy.answers if not a.correct][:5]
        for answer in wrong:
            click.echo(printable(f"  {answer.country}: wanted {answer.capital}, got {answer.answer!r}"))


def _probe_line(event, text_cls):
    result = event.result
    line = text_cls.assemble((f"step {event.step:>5} probe  ", "dim"), (result.prompt, "bold"))
    for token, prob in result.top:
        line.append(f"  {token!r} {prob:.0%}")
    if result.actual is not None:
        line.append(f"  · {result.actual!r} {result.actual_prob:.1%}", style="green")
    return line


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"
