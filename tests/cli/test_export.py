"""`llm-tour export`: a handout of every chapter, drawn by the real app headless on the
workspace's artifacts, in one HTML file that fetches nothing; the workspace is only read."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from engine.preference.prompts import TALK_PROMPTS
from engine.preference.votes import VoteStore
from engine.workspace import BUNDLED_DIR
from screens.registry import CHAPTERS
from tui.cli import cli

ROOT = Path(__file__).resolve().parents[2]
# What would make a browser fetch something: a source or link, a CSS url() or @import.
FETCHES = re.compile(r"""(?:\b(?:src|href|xlink:href)\s*=\s*["']?\s*(?:https?:)?//"""
                     r"""|url\(\s*["']?\s*(?:https?:)?//|@import|<script|<link|<iframe)""", re.I)


def export(workspace, *args: str):
    return CliRunner().invoke(cli, ["--workdir", str(workspace.root), "export", *args])


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``root`` with its size and modification time."""
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def cast_votes(workspace) -> int:
    store = VoteStore.open(workspace)
    prompt = TALK_PROMPTS[0]
    ids = list(prompt.candidate_ids)
    for session, ranking in (("ada", ids), ("bo", ids[::-1]), ("cy", [ids[1], ids[0], *ids[2:]])):
        store.vote(prompt.id, ranking, session)
    return len(store.votes())


def sites_and_rows(path: Path) -> tuple[int, int]:
    urls = pq.read_table(path, columns=["url"]).column("url").to_pylist()
    return len(urls), len({url.split("/")[2] for url in urls})


@pytest.mark.bundled
def test_every_chapter_in_one_page_that_fetches_nothing_and_writes_nothing_else(
        workspace, tmp_path):
    votes = cast_votes(workspace)
    before = tree(workspace.root)
    target = tmp_path / "talk.html"

    result = export(workspace, "-o", str(target), "--size", "80x24")

    assert result.exit_code == 0, result.output
    page = target.read_text("utf-8")
    assert page.count("<svg") == page.count("</svg>") == len(CHAPTERS)
    for number, chapter in enumerate(CHAPTERS, 1):
        assert f"<h2>{number} · {html.escape(chapter.title)}</h2>" in page
    assert not FETCHES.search(page), FETCHES.search(page).group(0)
    assert "fonts.googleapis" not in page and "cdnjs" not in page
    # Figures measured from the artifacts on show, counted here on their own.
    rows, sites = sites_and_rows(BUNDLED_DIR / "dataset.parquet")
    assert f"{rows:,} pages from {sites:,} sites" in page
    assert f"<th>votes</th><td>{votes:,} from {votes:,} sessions</td>" in page
    assert "dataset.parquet (bundled with llm-tour)" in page  # and it says which ones
    assert "votes.sqlite (in your workspace)" in page
    # Read only: the votes were read from a copy, the tour's place was not remembered.
    assert tree(workspace.root) == before
    assert "Wrote" in result.output and str(target) in result.output


@pytest.mark.bundled
def test_a_read_only_workspace_still_makes_a_handout(workspace, tmp_path):
    cast_votes(workspace)
    before = tree(workspace.root)
    modes = {p: p.stat().st_mode for p in [workspace.root, *workspace.root.rglob("*")]}
    for path in modes:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        result = export(workspace, "-o", str(tmp_path / "h.html"), "-c", "data",
                        "-c", "preferences", "--size", "60x20")
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "h.html").read_text("utf-8")
    assert page.count("<svg") == 2 and "<h2>2 · Data</h2>" in page
    assert "<h2>10 · Preferences</h2>" in page and "<h2>1 · Welcome</h2>" not in page
    assert tree(workspace.root) == before


def test_a_broken_artifact_is_named_with_the_command_that_rebuilds_it(workspace, tmp_path):
    workspace.ensure()
    workspace.path("tokenizer").write_text("{not a tokenizer", encoding="utf-8")
    target = tmp_path / "h.html"
    result = export(workspace, "-o", str(target))
    assert result.exit_code == 1
    assert str(workspace.path("tokenizer")) in result.output
    assert "llm-tour prepare tokenizer" in result.output
    assert not target.exists()


def test_a_broken_votes_file_is_named(workspace, tmp_path):
    workspace.ensure()
    workspace.path("votes").write_bytes(b"these are not votes" * 10)
    result = export(workspace, "-o", str(tmp_path / "h.html"))
    assert result.exit_code == 1
    assert str(workspace.path("votes")) in result.output and "Move it aside" in result.output


def test_a_handout_that_cannot_be_written_is_said_before_any_chapter_is_drawn(
        workspace, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    target = blocker / "handout.html"
    result = export(workspace, "-o", str(target))
    assert result.exit_code == 1
    assert str(target) in result.output and "llm-tour export -o PATH" in result.output
    assert "Making a handout" not in result.output


def test_sizes_and_chapters_are_checked(workspace):
    result = export(workspace, "--size", "big")
    assert result.exit_code == 2 and "not a size such as 100x32" in result.output
    result = export(workspace, "--size", "20x5")
    assert result.exit_code == 2 and "outside 60x20" in result.output
    result = export(workspace, "--chapter", "nonsense")
    assert result.exit_code == 2 and "No chapter called 'nonsense'" in result.output


def test_help_loads_neither_torch_nor_the_app():
    code = (
        "import json, sys\n"
        "from tui.cli import main\n"
        "for args in (['--help'], ['export', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps([m for m in ('torch', 'textual', 'tui.app', 'tui.handout')"
        " if m in sys.modules]))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert "export" in result.stdout and "--output" in result.stdout
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
