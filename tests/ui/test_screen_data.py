"""The Data chapter: a real crawl on screen, the six steps, the rows table."""

from __future__ import annotations

import pytest
from rich.text import Text
from textual.widgets import DataTable, Input, RichLog
from textual.worker import WorkerState

from engine.data.crawler import CrawlConfig
from screens.data import (
    CrawlLive,
    DataScreen,
    DataStatus,
    Extracted,
    FunnelView,
    OwnPage,
    RawHtml,
    RowModal,
    StoredRows,
    UrlVerdicts,
    page_title,
    short_url,
    url_lines,
)
from screens.registry import find_chapter
from tui.app import TourApp

from sizes import SIZE_IDS, SIZES


@pytest.fixture(autouse=True)
def small_crawl(monkeypatch):
    """A shorter crawl with no pauses between requests: the same order every time."""
    monkeypatch.setattr(DataScreen, "crawl_config",
                        staticmethod(lambda: CrawlConfig(max_pages=30, politeness=0.0)))


def plain(widget) -> str:
    rendered = widget.render()
    if hasattr(rendered, "plain"):
        return rendered.plain
    rendered = widget.content
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(rendered)
    return console.export_text()


async def settle(pilot) -> None:
    """Wait until the crawl is over, no worker runs, and their messages are handled."""
    quiet = 0
    while quiet < 3:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
        screen = pilot.app.screen
        busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                   for w in pilot.app.workers)
        running = isinstance(screen, DataScreen) and screen.run_state.running
        quiet = 0 if busy or running else quiet + 1


def app_at_data(workspace) -> TourApp:
    return TourApp(workspace, start=find_chapter("data"))


async def test_every_step_shows_the_run(workspace):
    async with app_at_data(workspace).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        run = screen.run_state
        assert run.error is None and run.rows
        status = plain(screen.query_one(DataStatus))
        assert f"{len(run.rows)} rows" in status and "written to your workspace" in status
        assert workspace.path("dataset").exists()

        screen.step = 1
        await settle(pilot)
        verdicts = screen.query_one(UrlVerdicts)
        assert verdicts.query_one(DataTable).row_count == len(run.verdicts)
        summary = plain(verdicts.query_one("#verdict-summary"))
        assert f"{len(run.verdicts)} URLs checked" in summary and "file_type" in summary

        screen.step = 2
        await settle(pilot)
        crawl = screen.query_one(CrawlLive)
        assert len(crawl.query_one(RichLog).lines) == len(run.fetches)
        assert "fetches on" in plain(crawl.query_one("#crawl-summary"))

        screen.step = 3
        await settle(pilot)
        raw = screen.query_one(RawHtml)
        assert "travel-notes.example/europe/capitals" in plain(raw.query_one(".title"))

        screen.step = 4
        await settle(pilot)
        text = plain(screen.query_one(Extracted).query_one(".text"))
        assert "The capital of France is Paris." in text
        assert "A Quick Guide To European Capitals" in text

        screen.step = 5
        await settle(pilot)
        funnel = plain(screen.query_one(FunnelView))
        assert "Gopher quality rules" in funnel and "MinHash" in funnel

        screen.step = 6
        await settle(pilot)
        rows = screen.query_one(StoredRows)
        table = rows.query_one(DataTable)
        assert table.row_count == len(run.rows)
        assert str(table.get_row_at(0)[0]) == "travel-notes.example/europe/capitals"
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, RowModal)
        assert pilot.app.screen.row["title"] == "A Quick Guide To European Capitals"
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.screen is screen


async def test_page_keys_walk_through_pages(workspace):
    async with app_at_data(workspace).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        screen.step = 3
        await settle(pilot)
        before = plain(screen.query_one(RawHtml).query_one(".title"))
        await pilot.press("right_square_bracket")
        await pilot.pause()
        after = plain(screen.query_one(RawHtml).query_one(".title"))
        assert before != after and "page " in after


async def test_rerun_and_own_page(workspace, tmp_path):
    page = tmp_path / "mine.html"
    page.write_text(
        "<html><body><article><h1>My Week In Lisbon</h1>"
        "<p>The capital of Portugal is Lisbon. I spent a week there last spring and walked up "
        "and down its hills every day, which was tiring but worth it.</p>"
        "<p>The trams are old and slow, and they are also the best way to see the city. I rode "
        "the yellow tram to the castle twice and still want to go again.</p>"
        "<p>The food was simple and good: grilled fish, bread, olives and custard tarts, with a "
        "view of the river almost every evening.</p></article></body></html>")
    async with app_at_data(workspace).run_test(size=(100, 32)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        first = len(screen.run_state.rows)
        await pilot.press("r")
        await settle(pilot)
        assert len(screen.run_state.rows) == first
        assert "kept on screen" in plain(screen.query_one(DataStatus))
        screen.step = 6
        await settle(pilot)
        box = screen.query_one(OwnPage).query_one(Input)
        box.value = str(page)
        box.focus()
        await pilot.press("enter")
        await settle(pilot)
        result = plain(screen.query_one("#own-page-result"))
        assert "kept" in result and "My Week In Lisbon" in result
        table = screen.query_one(StoredRows).query_one(DataTable)
        assert table.row_count == first + 1
        from engine.data.store import read_rows  # the page is in the dataset training reads

        assert "My Week In Lisbon" in [r["title"] for r in read_rows(workspace.path("dataset"))]
        box.value = str(tmp_path / "missing.html")
        await pilot.press("enter")
        await settle(pilot)
        assert "There is no file" in plain(screen.query_one("#own-page-result"))


def test_a_url_is_shortened_in_the_middle_so_host_and_file_still_show():
    url = "http://travel-notes.example/downloads/travel-reader.exe"
    assert short_url(url, 80) == "travel-notes.example/downloads/travel-reader.exe"
    assert short_url(url, 40) == "travel-notes.example/…/travel-reader.exe"
    assert short_url(url, 30) == "travel-note…/travel-reader.exe"  # as much host as fits
    assert short_url("http://hot-singles-tonight.example/join", 20) == "hot-singles-to…/join"
    for width in range(5, 60):
        assert len(short_url(url, width)) <= width


def test_a_page_title_wraps_its_url_after_a_slash_never_inside_a_name():
    url = "http://travel-notes.example/guides/south-america-week-2.html"
    title = page_title(1, 203, url, "  5,008 bytes of HTML")
    for width in range(26, 80):
        lines = title.content(width).plain.splitlines()
        assert any("south-america-week-2.html" in line for line in lines), (width, lines)
        assert "".join(lines).replace(" ", "") == title.plain.replace(" ", "")


def test_an_example_url_of_the_funnel_breaks_after_a_slash_never_inside_a_name():
    url = "http://copycat-news.example/trending/capitals-of-africa--part-3--gabon-to-libya"
    assert url_lines(url, 0) == [url] == url_lines(url, 80)
    for width in range(20, 80):
        lines = url_lines(url, width)
        assert "".join(lines) == url and all(len(line) <= width for line in lines), lines
        if width >= len("capitals-of-africa--part-3--gabon-to-libya"):  # a name that fits
            assert lines[-1].split("/")[-1] == "capitals-of-africa--part-3--gabon-to-libya"
            assert all(line.endswith("/") for line in lines[:-1]), (width, lines)


async def test_skipped_urls_come_first_and_every_verdict_reads_whole(workspace):
    """The skipped URLs on top of the kept ones; at 60 columns the table fits the pane,
    every verdict whole, each URL shortened to its column, not cut by it."""
    async with app_at_data(workspace).run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        screen = pilot.app.screen
        screen.step = 1
        await settle(pilot)
        for size in ((60, 20), (100, 32)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            table = screen.query_one(UrlVerdicts).query_one(DataTable)
            verdicts = [str(table.get_row_at(n)[0]) for n in range(table.row_count)]
            kept = [v == "kept" for v in verdicts]
            assert not kept[0] and kept == sorted(kept), verdicts  # skipped, then kept
            skipped = {v.category for v in screen.run_state.verdicts if not v.keep}
            assert {v.split()[0] for v in verdicts if v != "kept"} == skipped
            columns = list(table.columns.values())
            assert sum(c.get_render_width(table) for c in columns) + 2 <= table.size.width
            for n in range(table.row_count):
                why, url = table.get_row_at(n)
                assert Text(str(why)).cell_len <= columns[0].width, why
                assert len(str(url)) <= columns[1].width, url
        shown = {str(table.get_row_at(n)[1]) for n in range(table.row_count)}
        assert shown == {v.url.split("://")[1] for v in screen.run_state.verdicts}  # whole


@pytest.mark.parametrize("step", [2, 6])
async def test_small_terminal_does_not_break(workspace, step):
    async with app_at_data(workspace).run_test(size=(60, 20)) as pilot:
        await settle(pilot)
        pilot.app.screen.step = step
        await settle(pilot)
        assert pilot.app.screen.query_one(DataStatus).size.width > 10


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
@pytest.mark.parametrize("steps", [0, 5, 6], ids=["status", "funnel", "rows"])
def test_snapshot(snap_compare, workspace, size, steps):
    async def run_before(pilot):
        await settle(pilot)
        pilot.app.screen.step = steps
        await settle(pilot)
        # where the body scrolls to after a step is mounted depends on timing: pin it
        pilot.app.screen.query_one("#body").scroll_end(animate=False)
        await settle(pilot)

    assert snap_compare(app_at_data(workspace), terminal_size=size, run_before=run_before)
