"""What a newcomer reads first: the command's help, the votes print-out, the Welcome text."""

from __future__ import annotations

import re

from click.testing import CliRunner

from engine.preference.votes import VoteStore
from tui.cli import cli


def test_help_gives_every_command_summary_whole():
    for args in (["--help"], ["prepare", "--help"]):
        result = CliRunner().invoke(cli, args, terminal_width=80)
        assert result.exit_code == 0, result.output
        commands = result.output.split("Commands:")[1]
        assert commands.strip() and "..." not in commands and "…" not in commands
        assert all(len(line) <= 80 for line in commands.splitlines())


def test_votes_names_answers_by_their_text_not_letters(workspace):
    store = VoteStore.open(workspace)
    prompt = store.prompt("apples")
    store.vote("apples", list(prompt.candidate_ids), "a")
    result = CliRunner().invoke(cli, ["--workdir", str(workspace.root), "votes"])
    assert result.exit_code == 0, result.output
    # The chapter numbers answers [1] [2] [3] in each viewer's own order; a letter here
    # would name another answer than the viewer saw. The text is the same for everyone.
    apples = result.output.split("[apples]")[1].split("The talk ranks them:")[0]
    assert not re.search(r"^\s*\d+\s+[ABC]\s", apples, re.MULTILINE)
    assert re.search(r"^\s*\d+\s+Each apple costs \$4\.", apples, re.MULTILINE)
    talk = result.output.split("The talk ranks them:")[1]
    assert "Each apple costs $3." in talk


def test_welcome_puts_the_fine_tune_with_training():
    from screens.base import TEXT_DIR

    text = " ".join((TEXT_DIR / "welcome.md").read_text("utf-8").split())
    second = text.split("are about the second.")[0].rsplit("first phase;", 1)[1]
    assert "conversations" not in second.lower()
    assert "Conversations (a fine-tune) and preferences go back to training" in text


def test_chapter_texts_quote_a_token_with_a_visible_space():
    """A quoted token such as " France" would break at its own space where a line ends
    ('encodes: "' / 'France"'): the texts write it "␣France"."""
    from screens.base import TEXT_DIR

    for path in sorted(TEXT_DIR.glob("*.md")):
        text = path.read_text("utf-8")
        breakable = re.findall(r'(?:^|[\s(])" [A-Za-z]\w*"', text, re.MULTILINE)
        assert breakable == [], (path.name, breakable)
    assert '"␣France"' in (TEXT_DIR / "tokens.md").read_text("utf-8")


def test_readme_answers_the_first_questions_with_two_set_up_commands():
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text("utf-8")
    start = readme.split("## Start", 1)[1].split("\n## ", 1)[0]
    flat = " ".join(readme.split())
    assert "Python 3.10 or newer" in flat and "python3 -m venv" in flat  # an environment
    assert "--index-url https://download.pytorch.org/whl/cpu" in flat  # CPU torch first
    assert "minutes" in flat.split("### How long it takes")[1].split("###")[0]  # time on a CPU
    assert "replaces its bundled twin" in flat  # what a run of one's own changes
    assert "stopped part-way is kept but only offered" in flat and "`llm-tour models`" in flat
    assert "`llm-tour reset`" in flat and "LLM_TOUR_HOME" in flat  # reset; where things are
    assert "llm-tour --present" in flat  # presenting
    blocks = re.findall(r"```bash\n(.*?)```", start, re.DOTALL)
    assert blocks == ["pip install . && llm-tour\n"]  # the two commands
    test_block = re.findall(r"```bash\n(.*?)```", readme.split("## Test", 1)[1], re.DOTALL)[0]
    assert test_block.strip() == "pip install -e '.[test]' && pytest"
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text("utf-8")
    assert "pip install -e '.[test]' && pytest\n" in ci  # CI runs README's command, exactly


def test_the_slow_test_runs_only_when_asked_for():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).parents[2]
    node = ("tests/engine/test_sft.py::"
            "test_after_sft_on_the_default_preset_held_out_capitals_are_answered")
    default = subprocess.run([sys.executable, "-m", "pytest", node, "-q", "-rs", "-n", "0",
                              "-p", "no:cacheprovider"], cwd=root, capture_output=True,
                             text=True, timeout=300)
    assert "1 skipped" in default.stdout and "pytest -m slow" in default.stdout, default.stdout
    asked = subprocess.run([sys.executable, "-m", "pytest", node, "-m", "slow", "-n", "0",
                            "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=root,
                           capture_output=True, text=True, timeout=300)
    assert "1 test collected" in asked.stdout, asked.stdout
