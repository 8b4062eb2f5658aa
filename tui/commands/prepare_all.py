"""`llm-tour prepare` with no stage: every stage in order with Rich progress, then the report card."""

from __future__ import annotations

import click

from engine.workspace import Workspace

# (done, total) attribute pairs that stages' progress events carry
_PROGRESS_FIELDS = (("step", "max_steps"), ("documents_done", "documents_total"),
                    ("done", "total"), ("completed", "total"), ("index", "total"))


def _progress_of(event: object) -> tuple[float, float] | None:
    """How far a stage is, from whichever progress fields its event has."""
    merge, target = getattr(event, "merge", None), getattr(event, "target", None)
    if merge is not None and isinstance(target, int) and hasattr(merge, "vocab_size"):
        return merge.vocab_size - 256, target - 256  # BPE merges beyond the 256 bytes
    for done, total in _PROGRESS_FIELDS:
        a, b = getattr(event, done, None), getattr(event, total, None)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
            return a, b
    return None


def _note_of(event: object, last: str) -> str:
    """A few words on what the stage is doing; the last note stays until a better one."""
    loss = getattr(event, "loss", None)
    if isinstance(loss, float):
        return f"loss {loss:.3f}"
    label = getattr(event, "label", None)
    if isinstance(label, str):
        return label
    return last


def prepare_everything(workspace: Workspace, preset: str, sft_steps: int | None,
                       force: tuple[str, ...]) -> None:
    from rich.console import Console, Group
    from rich.panel import Panel
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table
    from rich.text import Text

    from engine.prepare import stages as pipeline
    from engine.training.loop import PRESETS

    if preset not in PRESETS:
        raise click.BadParameter(f"choose one of {', '.join(PRESETS)}", param_hint="--preset")
    names = {stage.name for stage in pipeline.STAGES} | {"all"}
    unknown = [name for name in force if name not in names]
    if unknown:
        raise click.BadParameter(f"no stage {unknown[0]!r}; stages: {', '.join(sorted(names))}",
                                 param_hint="--force")
    console = Console(stderr=True)
    out = Console()
    config = pipeline.PrepareConfig(preset=preset, sft_steps=sft_steps, force=force)
    console.print(Text.assemble(("Preparing the tour in ", ""), (str(workspace.root), "bold")))
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.percentage:>3.0f}%"), TextColumn("{task.fields[note]}"),
               TimeElapsedColumn())
    report = None
    with Progress(*columns, console=console, transient=True) as progress:
        task, note, titles = None, "", {}
        for event in pipeline.prepare_all(workspace, config):
            if isinstance(event, pipeline.StageSkipped):
                console.print(Text.assemble(("  skip ", "dim"), (event.title, "bold"),
                                            (f"  {event.reason}", "dim")))
            elif isinstance(event, pipeline.StageStarted):
                console.print(Text.assemble(("  run  ", "cyan"), (event.title, "bold"),
                                            (f"  {event.reason}", "dim")))
                note, titles[event.stage] = "", event.title
                task = progress.add_task(event.title, total=None, note=note)
            elif isinstance(event, pipeline.StageProgress) and task is not None:
                where = _progress_of(event.event)
                note = _note_of(event.event, note)
                if where is not None:
                    progress.update(task, completed=where[0], total=where[1], note=note)
                else:
                    progress.update(task, note=note)
            elif isinstance(event, pipeline.StageFinished) and task is not None:
                progress.remove_task(task)
                task = None
                console.print(Text.assemble(("  done ", "green"), (titles[event.stage], "bold"),
                                            (f"  in {event.seconds:.1f} s", "dim")))
            elif isinstance(event, pipeline.StageFailed):
                if task is not None:
                    progress.remove_task(task)
                    task = None
                console.print(Text.assemble(("  failed ", "bold red"),
                                            (titles.get(event.stage, event.stage), "bold"),
                                            ("  ", ""), (event.error, "red")))
            elif isinstance(event, pipeline.Prepared):
                report = event.report
    if report is None:
        raise click.ClickException("prepare ended without a report")
    panels = []
    for section in report.sections:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, max_width=40)
        table.add_column()
        for figure in section.figures:
            table.add_row(Text(figure.label), Text(figure.value))
        panels.append(Panel(table, title=Text(section.title, style="bold"), title_align="left"))
    timings = Table("stage", "status", "seconds", title="Timings", title_justify="left")
    for timing in report.timings:
        style = {"built": "green", "current": "dim", "failed": "red"}.get(timing.status, "yellow")
        seconds = f"{timing.seconds:.1f}" if timing.seconds is not None else "-"
        timings.add_row(Text(timing.title), Text(timing.status, style=style), Text(seconds))
    panels.append(timings)
    panels.append(Text.assemble(("Device: ", "bold"), (report.device, "")))
    out.print(Panel(Group(*panels), title="llm-tour report card", border_style="cyan"))
    if not report.ok:
        raise click.ClickException("some stages did not finish; see above")
