"""`llm-tour prepare` with no stage: every stage in order with Rich progress, then the report card."""

from __future__ import annotations

import click

from engine.events import StageState
from engine.workspace import Workspace
from tui.commands import show_state

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
        task, state, titles = None, StageState(), {}
        for event in pipeline.prepare_all(workspace, config):
            if isinstance(event, pipeline.StageSkipped):
                console.print(Text.assemble(("  skip ", "dim"), (event.title, "bold"),
                                            (f"  {event.reason}", "dim")))
            elif isinstance(event, pipeline.StageStarted):
                console.print(Text.assemble(("  run  ", "cyan"), (event.title, "bold"),
                                            (f"  {event.reason}", "dim")))
                state, titles[event.stage] = StageState(), event.title
                task = progress.add_task(event.title, total=None, note="")
            elif isinstance(event, pipeline.StageProgress) and task is not None:
                show_state(progress, task, state.update(event.event), note=state.label)
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
