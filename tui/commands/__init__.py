"""Headless commands, one module per stage. Each imports its engine stage lazily."""

from __future__ import annotations

import click

from engine.workspace import Workspace

# Subcommands receive the workspace chosen by ``--workdir`` / LLM_TOUR_HOME.
pass_workspace = click.make_pass_decorator(Workspace, ensure=True)
