from __future__ import annotations

from click.testing import CliRunner

from screens.registry import CHAPTERS
from tui import __version__
from tui.cli import _starting_chapter, cli


def test_list_prints_every_registered_chapter_in_order():
    result = CliRunner().invoke(cli, ["--list"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == len(CHAPTERS)
    for number, (line, chapter) in enumerate(zip(lines, CHAPTERS), 1):
        assert line.split()[0] == str(number)
        assert chapter.title in line


def test_version_and_help():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for option in ("--chapter", "--list", "--workdir", "--version", "LLM_TOUR_HOME"):
        assert option in result.output


def test_unknown_chapter_is_a_clear_error():
    result = CliRunner().invoke(cli, ["--chapter", "nonsense"])
    assert result.exit_code == 2
    assert "No chapter called 'nonsense'" in result.output
    result = CliRunner().invoke(cli, ["--chapter", "99"])
    assert result.exit_code == 2
    assert "There is no chapter 99" in result.output


def test_chapter_by_number_or_name(workspace):
    last = len(CHAPTERS)
    assert _starting_chapter(workspace, 0) == (0, None)
    ctype = cli.params[0].type
    assert ctype.convert("1", None, None) == 0
    assert ctype.convert(str(last), None, None) == last - 1
    assert ctype.convert("summary", None, None) == last - 1
    assert ctype.convert("Summary", None, None) == last - 1


def test_resume_where_the_viewer_left_off_and_say_so(workspace):
    assert _starting_chapter(workspace, None) == (0, None)
    workspace.write_state(chapter="summary")
    index, notice = _starting_chapter(workspace, None)
    assert index == len(CHAPTERS) - 1
    assert "Resuming at" in notice and "Summary" in notice
    # --chapter wins over the saved place
    assert _starting_chapter(workspace, 0) == (0, None)


def test_a_saved_chapter_that_no_longer_exists_starts_at_the_beginning(workspace):
    workspace.write_state(chapter="gone")
    assert _starting_chapter(workspace, None) == (0, None)
