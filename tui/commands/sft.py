"""`llm-tour prepare sft`: fine-tune the base model on conversations into chat.pt, headless."""

from __future__ import annotations

import click

from engine.events import StageState
from engine.text import printable
from tui.commands import pass_workspace, show_state, stop_on_ctrl_c


@click.command("sft", short_help="Fine-tune base.pt on conversations into chat.pt.")
@click.option("--steps", type=click.IntRange(min=1), default=None,
              help="How many fine-tuning steps [default: 3,000, about 18 minutes on "
                   "one CPU core].")
@click.option("--pretrain-share", type=click.FloatRange(0, 1), default=None,
              help="Share of each batch drawn from the pretraining text, so the facts the "
                   "base model learned are not overwritten [default: 0.5].")
@click.option("--device", type=click.Choice(["auto", "cuda", "mps", "cpu"]), default="auto",
              show_default=True, help="Where to train; auto picks CUDA, then MPS, then the CPU.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="CPU threads for torch [default: the cores free when it starts].")
@click.option("--quiz/--no-quiz", default=True, show_default=True,
              help="Afterwards, ask the capital of every country kept out of the conversations.")
@pass_workspace
def sft(ws, steps: int | None, pretrain_share: float | None, device: str, threads: int | None,
        quiz: bool) -> None:
    """Fine-tune base.pt on the conversation dataset and write chat.pt.

    The loss is taken only on the assistant's tokens; half of every batch is pretraining
    text. Ctrl+C stops the run and keeps the previous chat.pt.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    from engine.training import sft as tuning
    from engine.model.checkpoint import CheckpointMismatch
    from engine.model.load import NoModel
    from engine.chat.eval import Checked
    from engine.training.loop import CopyProbe, TrainDone, TrainStart, TrainStep

    config = tuning.SFTConfig(device=device, threads=threads)
    if steps is not None:
        config.max_steps = steps
    if pretrain_share is not None:
        config.pretrain_share = pretrain_share

    console = Console(stderr=True)
    columns = (TextColumn("[bold]fine-tuning"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[figures]}"), TimeElapsedColumn())
    done = None
    answer = check = None
    try:
        with stop_on_ctrl_c() as stop, \
                Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("sft", total=config.max_steps, figures="")
            state = StageState()
            for event in tuning.fine_tune(ws, config, stop=stop.is_set):
                state.update(event)
                if isinstance(event, tuning.SFTStart):
                    kinds = ", ".join(f"{n} {kind}" for kind, n in event.by_kind.items())
                    console.print(Text(f"{event.conversations:,} conversations ({kinds}); "
                                       f"{event.held_out} held out for validation"))
                    console.print(Text(f"from {event.base}; each batch: {event.batch_rows}"))
                elif isinstance(event, TrainStart):
                    console.print(Text(f"{event.device} · {event.params:,} parameters"))
                elif isinstance(event, TrainStep):
                    held_out = "-" if state.val_loss is None else f"{state.val_loss:.3f}"
                    show_state(progress, task, state, figures=f"{state.label} · held-out "
                                                              f"{held_out}")
                elif isinstance(event, CopyProbe):
                    chat = f"; {event.chat}" if event.chat is not None else ""
                    console.print(Text(f"step {event.step:>5} {event.text}{chat}", "dim"))
                elif isinstance(event, TrainDone):
                    done = event
                elif isinstance(event, tuning.SFTReply):
                    answer = event
                elif isinstance(event, Checked):
                    check = event
    except (NoModel, FileNotFoundError, CheckpointMismatch, ValueError) as error:
        raise click.ClickException(str(error)) from None

    if done is None:
        return
    if done.cancelled:
        click.echo(f"Stopped after {done.step} of {config.max_steps} steps; chat.pt was "
                   "left as it was.")
        return
    click.echo(f"Steps: {done.step}")
    if done.train_loss is not None:
        click.echo(f"Loss on the assistant's tokens: {done.train_loss:.3f}")
    if done.val_loss is not None:
        click.echo(f"On held-out conversations: {done.val_loss:.3f}")
    click.echo(f"Time: {done.elapsed:.1f} s ({done.tokens_per_s:,.0f} tokens/s)")
    click.echo(f"Checkpoint: {done.path}")
    if answer is not None:
        reply = " ".join(f"[{turn.role}] {turn.text}" for turn in answer.turns)
        click.echo(printable(f"{answer.question} -> {reply or '(nothing)'}"))
    if check is not None:
        click.echo(f"Quick check ({', '.join(check.versions) or 'no version'}): {check.text()}")
    if quiz:
        from engine.model.load import load_model

        loaded = load_model(ws, "chat", path=ws.path("chat"))  # the model just written
        result = tuning.held_out_capital_answers(loaded.model, loaded.tokenizer)
        click.echo(f"Held out: {result}")
        for wrong in [a for a in result.answers if not a.correct][:5]:
            click.echo(printable(f"  {wrong.country}: wanted {wrong.capital}, got {wrong.reply!r}"))
