"""Chapter 2: web page to dataset row, in the talk's six steps, with a real crawl behind it.

When the chapter opens, a thread worker runs the data stage (``engine.data.pipeline``):
a local HTTP server serves the sample web, the crawler fetches it, trafilatura extracts
the text and the cleaning passes run. The worker collects events into a shared
:class:`DataRun` and posts a small message that replaces older ones still queued, so the
screen redraws at most a few times a second however fast the crawl goes. Each step's
widget draws itself from the same :class:`DataRun`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import ClassVar
from urllib.parse import urlsplit

from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, RichLog, Static

from engine.events import StageState
from screens.base import ChapterScreen, remote_viewer, room_stream
from screens.widgets.token_spans import TokenFlow, flow_lines, url_pieces, word_pieces

TALK_PAGE = "http://travel-notes.example/europe/capitals"


class DataRun:
    """Everything the run on screen has reported so far. Written on the UI thread as the
    stage's events arrive, read by the widgets (the lock stays for readers that copy)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.verdicts: list = []  # UrlVerdict
        self.fetches: list = []  # Fetched (pages and robots.txt)
        self.pages: list = []  # Extracted: url, title, source, html, text
        self.drops: list = []  # Dropped from extraction and the passes
        self.rows: list[dict] = []
        self.own: list[dict] = []  # rows of pages the viewer added
        self.funnel: list[dict] | None = None
        self.finished = None
        self.error: str | None = None
        self.started = time.perf_counter()
        self.step = "starting"
        self.written = False
        self.stored = None  # a Stored event: the run was read back from its files, not crawled
        self.stored_problem: str | None = None  # why the workspace's dataset can't be read
        self.stage = StageState()  # progress and counts, reduced from the events

    def add(self, event: object) -> None:
        from engine.data import events as ev

        with self.lock:
            self.stage.update(event)
            if isinstance(event, ev.UrlChecked):
                self.verdicts.append(event.verdict)
            elif isinstance(event, ev.Fetched):
                self.fetches.append(event)
            elif isinstance(event, ev.Extracted):
                self.pages.append(event)
            elif isinstance(event, ev.Dropped):
                self.drops.append(event)
            elif isinstance(event, ev.Kept):
                self.rows.append(event.row)
            elif isinstance(event, ev.StepStarted):
                self.step = self.stage.label
            elif isinstance(event, ev.Stored):
                self.stored = event
            elif isinstance(event, ev.Finished):
                self.funnel = event.funnel or None
                self.finished = event
                self.written = bool(event.paths)

    @property
    def running(self) -> bool:
        return self.finished is None and self.error is None



def _screen_run(widget) -> DataRun:
    return widget.screen.run_state


class DataView:
    """A widget that draws itself from the screen's DataRun (its ``update_from``).

    Textual calls ``on_mount`` of every class in the MRO, so subclasses that set
    something up on mount do not call this one themselves."""

    def on_mount(self) -> None:
        self.update_from(_screen_run(self))


def _stored_problem(ws) -> str | None:
    """Why the workspace's dataset (the one this crawl leaves as it is) cannot be read, with
    the command that builds it again; None when it can."""
    from engine.data.store import read_dataset, read_funnel, stored_funnel
    from engine.workspace import BrokenArtifact

    try:
        read_dataset(ws.path("dataset"), ["url"])
        funnel = stored_funnel(ws)
        if funnel is not None:
            read_funnel(funnel)
    except BrokenArtifact as error:
        return str(error)
    except OSError as error:
        return f"{ws.path('dataset')} could not be read ({error.strerror or error})"
    return None


# -- step 0: what is running ------------------------------------------------------------

class DataStatus(DataView, Static):
    DEFAULT_CLASSES = "panel"  # the bordered box of tui/tour.tcss
    DEFAULT_CSS = """
    DataStatus {
        width: 1fr;
        height: auto;
    }
    """

    def update_from(self, run: DataRun) -> None:
        with run.lock:
            fetched, rows = run.stage.counts["fetched"], run.stage.counts["kept"]
            queued = run.fetches[-1].queued if run.fetches else 0
            checked = len(run.verdicts)
        if run.error:
            self.update(Text.assemble(("The crawl stopped: ", "bold red"), (run.error, "")))
            return
        stored = run.stored
        if stored is not None:
            self.update(Text.assemble(
                ("✓ ", "green"), ("The stored run: ", "bold"), (f"{stored.rows} rows", "bold"),
                f" in {stored.file} ({stored.source}), read back rather than crawled again; ",
                "the funnel counts are the crawl's own (funnel.json)." if stored.funnel else
                "no funnel.json came with it, so the crawl's counts are not known."))
            return
        if run.running:
            self.update(Text.assemble(
                ("● ", "yellow"), (f"{run.step}: ", "bold"),
                f"{checked} URLs checked · {fetched} pages fetched · {queued} queued · "
                f"{rows} rows kept"))
            return
        where = ("written to your workspace (dataset.parquet, dropped.parquet, funnel.json)"
                 if run.written else
                 "kept on screen; the dataset prepared in your workspace is left as it is")
        self.update(Text.assemble(
            ("✓ ", "green"), ("Crawl finished: ", "bold"),
            f"{checked} URLs checked, {fetched} pages fetched, ",
            (f"{rows} rows", "bold"), f" {where}.",
            *((("\n", ""), ("But the dataset in your workspace is broken: ", "bold red"),
               (run.stored_problem, "")) if run.stored_problem else ())))


# -- step 1: URL verdicts ---------------------------------------------------------------

def short_url(url: str, width: int) -> str:
    """A URL in at most ``width`` cells, shortened on purpose: without its scheme, then
    with the middle of its path left out, so the host and the file name still show."""
    shown = url.split("://", 1)[-1]
    if len(shown) <= width:
        return shown
    host, _, path = shown.partition("/")
    tail = "/" + path.rsplit("/", 1)[-1] if path else ""
    if "/" in path and len(host) + 2 + len(tail) <= width:
        return f"{host}/…{tail}"
    keep = width - 1 - len(tail)  # as much of the host as there is room for
    return shown[:keep] + "…" + tail if keep >= 4 else shown[: max(1, width - 1)] + "…"


def verdict_cell(verdict, detail: bool = True) -> Text:
    """Why a URL was kept or skipped; with ``detail``, the detail too, unless it only
    repeats the URL's host."""
    if verdict.keep:
        return Text("kept", style="green")
    host = (urlsplit(verdict.url).hostname or "") if "://" in verdict.url else ""
    why = verdict.detail if detail and verdict.detail and verdict.detail != host else ""
    return Text.assemble((verdict.category, "red"), (f"  {why}" if why else "", "dim"))


class UrlVerdicts(DataView, Vertical):
    """Every URL the crawl checked, the skipped ones first (they are the point of the step):
    why, then the URL, shortened to the room the table has left."""

    DEFAULT_CSS = """
    UrlVerdicts { height: auto; }
    UrlVerdicts > Static { height: auto; }
    UrlVerdicts > DataTable { height: 10; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="verdict-summary")
        yield DataTable(id="verdict-table", cursor_type="row", zebra_stripes=True)

    URL_CELLS = 36  # below this, a URL would lose more than the middle of its path

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.verdicts: list = []
        self.laid_out_at = 0  # the width the rows were shortened for

    def on_resize(self) -> None:
        if self.size.width != self.laid_out_at:
            self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        self.laid_out_at = width = self.size.width
        verdicts = sorted(self.verdicts, key=lambda v: v.keep)  # the skipped ones first
        for detail in (True, False):  # a narrow table: the details give way to the URLs
            cells = [verdict_cell(v, detail) for v in verdicts]
            why = max([len("verdict"), *(cell.cell_len for cell in cells)])
            # each column has a cell of padding either side; 2 more for the scrollbar
            room = max(12, width - why - 4 - 2)
            if room >= self.URL_CELLS:
                break
        table.clear(columns=True)
        table.add_column("verdict", width=why, key="verdict")
        table.add_column("URL", width=room, key="url")
        table.add_rows((cell, Text(short_url(v.url, room))) for cell, v in zip(cells, verdicts))

    def update_from(self, run: DataRun) -> None:
        with run.lock:
            verdicts = list(run.verdicts)
        if len(verdicts) != len(self.verdicts):
            self.verdicts = verdicts
            self._fill()
        blocked = Counter(v.category for v in verdicts if not v.keep)
        summary = Text.assemble(
            (f"{len(verdicts)}", "bold"), " URLs checked · ",
            (f"{len(verdicts) - sum(blocked.values())}", "bold green"), " kept · ",
            (f"{sum(blocked.values())}", "bold red"), " skipped")
        if blocked:
            summary.append(": " + ", ".join(f"{k} {n}" for k, n in blocked.most_common()))
        self.query_one("#verdict-summary", Static).update(summary)


# -- step 2: the crawl, live ----------------------------------------------------------

class CrawlLive(DataView, Vertical):
    DEFAULT_CSS = """
    CrawlLive { height: auto; }
    CrawlLive > Static { height: auto; }
    CrawlLive > RichLog { height: 10; border: round $primary-darken-2; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="crawl-summary")
        yield RichLog(id="crawl-log", max_lines=400, wrap=False, markup=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shown = 0

    def update_from(self, run: DataRun) -> None:
        with run.lock:
            fetches = list(run.fetches)
        log = self.query_one(RichLog)
        for fetch in fetches[self.shown:]:
            status = str(fetch.status) if fetch.status is not None else "---"
            ok = fetch.reason == "ok"
            log.write(Text.assemble(
                (f"{status:>3} ", "green" if ok else "red"),
                (f"{fetch.elapsed * 1000:5.0f} ms ", "dim"),
                (fetch.url, ""),
                ("" if ok else f"  {fetch.reason}", "bold red")))
        self.shown = len(fetches)
        pages = [f for f in fetches if f.kind == "page"]
        reasons = Counter(f.reason for f in pages)
        statuses = Counter(f.status for f in pages if f.status is not None)
        hosts = len({f.url.split("/")[2] for f in fetches if f.url.count("/") >= 2})
        summary = Text.assemble(
            (f"{len(pages)}", "bold"), " fetches on ", (f"{hosts}", "bold"), " hosts · ",
            "status " + ", ".join(f"{code}×{n}" for code, n in sorted(statuses.items())),
            " · queue ", (str(fetches[-1].queued if fetches else 0), "bold"))
        problems = {k: n for k, n in reasons.items() if k != "ok"}
        if problems:
            summary.append("\nnot kept: " + ", ".join(f"{k} {n}" for k, n in problems.items()),
                           style="red")
        self.query_one("#crawl-summary", Static).update(summary)


# -- steps 3 and 4: raw HTML, then the text beside it ------------------------------------

def _current_page(widget):
    screen = widget.screen
    run = screen.run_state
    with run.lock:
        pages = list(run.pages)
    if not pages:
        return None, 0, 0
    index = screen.page_index
    if index is None:
        index = next((i for i, p in enumerate(pages) if p.url == TALK_PAGE), 0)
    index %= len(pages)
    return pages[index], index, len(pages)


def _new_page(widget, run: DataRun):
    """The page a page view should now show, with its index and the count; ``None`` when
    there is no page yet (the title then says what the crawl is doing) or the view already
    shows this one."""
    page, index, total = _current_page(widget)
    if page is None:
        widget.query_one(".title", Static).update(_waiting(run))
        return None, index, total
    if getattr(widget, "_url", None) == page.url:
        return None, index, total
    widget._url = page.url
    return page, index, total


def _waiting(run: DataRun) -> Text:
    """What a page view says before it has a page to show."""
    if run.stored is not None:  # the dataset keeps each page's text, not its HTML
        return Text("The stored dataset keeps each page's text, not its HTML: r crawls again "
                    "to see the pages.", style="dim")
    return Text("Waiting for the first page…", style="dim")


def _html(html: str) -> Syntax:
    return Syntax(html, "html", theme="ansi_dark", word_wrap=True, line_numbers=False)


class RawHtml(DataView, Vertical):
    DEFAULT_CSS = """
    RawHtml { height: auto; }
    RawHtml > Static.title { height: auto; }
    RawHtml > VerticalScroll { height: 14; border: round $primary-darken-2; }
    """

    def compose(self) -> ComposeResult:
        yield Static(classes="title")
        with VerticalScroll():
            yield Static(classes="html")

    def update_from(self, run: DataRun) -> None:
        page, index, total = _new_page(self, run)
        if page is None:
            return
        size = len(page.html.encode("utf-8"))
        self.query_one(".title", Static).update(
            page_title(index, total, page.url, f"  {size:,} bytes of HTML"))
        self.query_one(".html", Static).update(_html(page.html))


def page_title(index: int, total: int, url: str, after: str) -> TokenFlow:
    """ "page 2/203 URL  5,008 bytes": a narrow pane wraps the URL after a "/", never
    inside a name ("south-america" stays whole)."""
    return TokenFlow([*((piece, "dim") for piece in word_pieces(f"page {index + 1}/{total}")),
                      *((piece, "bold") for piece in url_pieces(" " + url)),
                      *((piece, "dim") for piece in word_pieces(after))])


class Extracted(DataView, Vertical):
    DEFAULT_CSS = """
    Extracted { height: auto; }
    Extracted > Static.title { height: auto; }
    Extracted > Horizontal { height: 14; }
    Extracted VerticalScroll { width: 1fr; border: round $primary-darken-2; }
    """

    def compose(self) -> ComposeResult:
        yield Static(classes="title")
        with Horizontal():
            with VerticalScroll(id="extract-html"):
                yield Static(classes="html")
            with VerticalScroll(id="extract-text"):
                yield Static(classes="text")

    def update_from(self, run: DataRun) -> None:
        page, index, total = _new_page(self, run)
        if page is None:
            return
        html_size, text_size = len(page.html.encode("utf-8")), len(page.text.encode("utf-8"))
        self.query_one(".title", Static).update(page_title(
            index, total, page.url, f"  {html_size:,} bytes of HTML → {text_size:,} bytes "
            f"of text ({text_size / max(1, html_size):.0%})"))
        self.query_one("#extract-html").border_title = "raw HTML"
        self.query_one("#extract-text").border_title = "extracted text"
        self.query_one(".html", Static).update(_html(page.html))
        self.query_one(".text", Static).update(Text.assemble(
            ("title  ", "dim"), (page.title, "bold"), "\n",
            ("source ", "dim"), (page.source, "italic"), "\n\n", page.text))


# -- step 5: the funnel -----------------------------------------------------------------

# The funnel's step names where the full ones ("Normalise Unicode and whitespace") don't fit.
SHORT_LABELS = {
    "url_filter": "Filter URLs", "crawl": "Crawl", "extract": "Extract",
    "normalise": "Normalise", "language": "Language ID", "gopher_repetition": "Repetition",
    "gopher_quality": "Quality", "c4": "C4 rules", "fineweb": "FineWeb", "exact_dedup":
    "Exact dedup", "minhash": "MinHash", "anonymise": "Anonymise", "store": "Store",
}
FUNNEL_FIXED = 26  # columns the counts, the bars and the padding take
FUNNEL_REASONS = 24  # the least room the reasons need beside the full names


class FunnelView(DataView, Static):
    DEFAULT_CSS = """
    FunnelView { height: auto; }
    """

    def on_resize(self) -> None:
        self.update_from(_screen_run(self))

    def update_from(self, run: DataRun) -> None:
        if run.funnel is None:
            self.update(Text("This dataset came without its funnel (funnel.json): r crawls "
                             "again and counts every step." if run.stored is not None else
                             "The funnel fills in when the crawl is over…", style="dim"))
            return
        with run.lock:
            drops = list(run.drops)
            funnel = run.funnel
        examples: dict[str, object] = {}
        for drop in drops:  # prefer an article to a site's home page as the example
            if drop.step not in examples or urlsplit(examples[drop.step].url).path in ("", "/"):
                examples[drop.step] = drop
        top = max(1, funnel[0]["in"])
        # Full step names where they fit beside the counts, the bars and room for the reasons.
        longest = max(len(step["label"]) for step in funnel)
        wide = self.size.width == 0 or self.size.width - FUNNEL_FIXED - longest >= FUNNEL_REASONS
        table = Table(box=None, padding=(0, 1), expand=True, show_edge=False)
        table.add_column("step", no_wrap=True)
        table.add_column("in", justify="right")
        table.add_column("out", justify="right")
        table.add_column("", width=10, no_wrap=True)
        table.add_column("dropped because", ratio=4)
        for step in funnel:
            bar = "█" * max(1, round(10 * step["out"] / top)) if step["out"] else ""
            reasons = ", ".join(f"{k} {n}" for k, n in step["dropped"].items())
            if step.get("edited"):
                reasons = (reasons + ", " if reasons else "") + f"{step['edited']} edited"
            label = step["label"] if wide else SHORT_LABELS.get(step["step"], step["label"])
            table.add_row(Text(label), str(step["in"]), str(step["out"]),
                          Text(bar, style="green"), Text(reasons, style="red"))
        lines = [Text("An example of what each pass dropped, and why:", style="bold")]
        for step in funnel:
            drop = examples.get(step["step"])
            if drop is None:
                continue
            snippet = " ".join(drop.text.split())[:110]
            lines.append(Text.assemble(
                (f"{step['label']}: ", "bold"), (drop.reason, "red"),
                (f" ({drop.detail})" if drop.detail else "", "dim"), "\n  ",
                ("\n  ".join(url_lines(drop.url, self.size.width - 2)), "underline"),
                ("\n  “" + snippet + "…”" if snippet else "", "dim")))
        from rich.console import Group

        self.update(Group(table, Text(""), *lines))


def url_lines(url: str, width: int) -> list[str]:
    """A URL in lines of at most ``width`` cells, broken after a "/", never inside a name
    ("capitals-of-afr" / "ica" would be); all on one line before the pane is laid out."""
    if width <= 0:
        return [url]
    return [line.plain for line in flow_lines([Content(p) for p in url_pieces(url)], width)]


# -- step 6: stored rows ----------------------------------------------------------------

class RowModal(ModalScreen):
    """One stored row in full."""

    BINDINGS: ClassVar[list[Binding]] = [
        Binding("escape,enter,q", "dismiss", "Close", id="close_row", tooltip="Back to the table"),
    ]
    DEFAULT_CSS = """
    RowModal { align: center middle; }
    RowModal > VerticalScroll {
        width: 90%; height: 80%; border: thick $primary; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, row: dict) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        row = self.row
        meta = Text()
        for key in ("url", "title", "source", "language", "language_score", "token_count",
                    "fetched_at"):
            meta.append(f"{key:<15}", style="dim")
            meta.append(f"{row.get(key, '')}\n")
        with VerticalScroll():
            yield Static(meta)
            yield Static(Text(row.get("content", "")))


def _row_cells(row: dict) -> tuple[Text, Text, Text, Text]:
    content = " ".join(row["content"].split())
    return (Text(row["url"], overflow="ellipsis", no_wrap=True),  # cut on purpose, with …
            Text(row["title"], overflow="ellipsis", no_wrap=True),
            Text(row["source"], overflow="ellipsis", no_wrap=True),
            Text(content[:80] + ("..." if len(content) > 80 else "")))


TALK_ROWS = ("travel-notes.example/europe/capitals", "small-events.example/blog/wedding-toast")


def _talk_first(rows: list[dict]) -> list[dict]:
    """The talk's two rows on top, as in its table; the others in stored order."""
    first = sorted((r for r in rows if r["url"] in TALK_ROWS), key=lambda r: TALK_ROWS.index(r["url"]))
    return first + [r for r in rows if r["url"] not in TALK_ROWS]


class StoredRows(DataView, Vertical):
    DEFAULT_CSS = """
    StoredRows { height: auto; }
    StoredRows > Static { height: auto; }
    StoredRows > DataTable { height: 10; }
    StoredRows > #row-detail { height: 2; color: $text-muted; }
    """

    # Column widths; in a narrow pane the URL gives way (cut with …) so the title still reads.
    WIDE: ClassVar[tuple[tuple[str, int], ...]] = (
        ("url", 39), ("title", 34), ("source", 38), ("content", 60))
    NARROW: ClassVar[tuple[tuple[str, int], ...]] = (
        ("url", 18), ("title", 34), ("source", 38), ("content", 60))

    def compose(self) -> ComposeResult:
        yield Static(id="rows-summary")
        yield DataTable(id="rows-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="row-detail")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shown: list[dict] = []
        self.narrow: bool | None = None

    def on_resize(self) -> None:
        narrow = self.size.width < 80
        if narrow == self.narrow:
            return
        self.narrow = narrow
        table = self.query_one(DataTable)
        table.clear(columns=True)
        for name, width in self.NARROW if narrow else self.WIDE:
            table.add_column(name, width=width, key=name)
        for row in self.shown:
            table.add_row(*_row_cells(row))

    def update_from(self, run: DataRun) -> None:
        with run.lock:
            rows = list(run.own) + _talk_first(run.rows)
        if self.narrow is None:
            self.on_resize()  # the columns first
        if rows[: len(self.shown)] != self.shown:
            self.query_one(DataTable).clear()
            self.shown = []
        table = self.query_one(DataTable)
        for row in rows[len(self.shown):]:
            table.add_row(*_row_cells(row))
        self.shown = rows
        tokens = sum(r["token_count"] for r in rows)
        chars = sum(len(r["content"]) for r in rows)
        self.query_one("#rows-summary", Static).update(Text.assemble(
            (f"{len(rows)}", "bold"), " rows · ", (f"{tokens:,}", "bold"),
            " GPT-4 tokens · ", (f"{chars:,}", "bold"), " characters of text"))

    @on(DataTable.RowHighlighted)
    def describe_row(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.shown):
            row = self.shown[event.cursor_row]
            content = " ".join(row["content"].split())
            self.query_one("#row-detail", Static).update(Text.assemble(
                (row["source"], "italic"), ("  ·  ", "dim"), (content[:150] + "...", "")))

    @on(DataTable.RowSelected)
    def show_row(self, event: DataTable.RowSelected) -> None:
        if 0 <= event.cursor_row < len(self.shown):
            self.app.push_screen(RowModal(self.shown[event.cursor_row]))


class OwnPage(Vertical):
    """Send a page of one's own through the same steps."""

    DEFAULT_CSS = """
    OwnPage { height: auto; }
    OwnPage > Static { height: auto; }
    """

    def compose(self) -> ComposeResult:
        if remote_viewer():  # it would read the server's files and URLs: not offered at all
            yield Static(Text("Adding a page of your own is switched off in a shared tour: "
                              "run llm-tour on your own machine to try it.", style="dim"),
                         id="own-page-off")
            return
        yield Input(placeholder="path/to/page.html or https://…", id="own-page-input")
        yield Static(id="own-page-result")

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        source = event.value.strip()
        if source:
            self.query_one(Static).update(Text(f"Checking {source}…", style="dim"))
            self.check(source)

    def check(self, source: str) -> None:
        """The page goes through extraction and every pass; a page that survives is added
        to the workspace's dataset, the one the Tokens and Training chapters read."""
        from engine.data.ownpage import check_page

        screen = self.screen
        result = self.query_one(Static)
        if screen.run_state.running:
            result.update(Text("The crawl is still writing the dataset: add your page once it "
                               "has finished.", style="bold red"))
            return
        ws = screen.workspace

        def failed(error: BaseException) -> None:
            result.update(Text(str(error), style="bold red"))

        screen.run_stage(lambda: [list(check_page(ws, source, add=True))], "own-page",
                         on_event=self.show_result, on_error=failed)

    def show_result(self, events: list) -> None:
        from engine.data import events as ev

        passed = [e.step for e in events if isinstance(e, ev.StepDone)]
        last = events[-1] if events else None
        line = Text.assemble(("passed: ", "dim"), (", ".join(passed) or "nothing", ""), "\n")
        if isinstance(last, ev.Kept):
            line.append_text(Text.assemble(("kept ", "bold green"), (last.row["title"], "bold"),
                                           f"  {last.row['token_count']} tokens, "
                                           "added to the table above and to your dataset "
                                           "(the Training chapter tokenizes it)"))
            run = self.screen.run_state
            with run.lock:
                run.own.insert(0, last.row)
            self.screen.refresh_views()
        elif isinstance(last, ev.Dropped):
            line.append_text(Text.assemble(("dropped at ", "bold red"), (last.step, "bold"),
                                           f": {last.reason}", (f" ({last.detail})", "dim")))
        result = self.query_one(Static)
        result.update(line)
        self.call_after_refresh(result.scroll_visible, animate=False)  # the verdict in view


# -- the chapter ------------------------------------------------------------------------

class DataScreen(ChapterScreen):
    WIDGETS: ClassVar[dict] = {"data_status": DataStatus, "url_verdicts": UrlVerdicts, "crawl_live": CrawlLive,
               "raw_html": RawHtml, "extracted": Extracted, "funnel": FunnelView,
               "stored_rows": StoredRows, "own_page": OwnPage}
    BINDINGS: ClassVar[list[Binding]] = [
        Binding("r", "rerun", "Crawl again", id="data_rerun",
                tooltip="Run the whole data stage again, from the URL list to the stored rows"),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="data_prev_page",
                key_display="[", show=False, tooltip="Show the previous crawled page"),
        Binding("right_square_bracket", "page(1)", "Next page", id="data_next_page",
                key_display="]", show=False, tooltip="Show the next crawled page"),
        Binding("o", "own_page", "Own page", id="data_own_page", show=False,
                tooltip="Type a page of your own (a file or a URL) and send it through the "
                        "same steps; Esc leaves the box"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "own_page" and remote_viewer():
            return False  # a remote viewer is not offered their own page
        return super().check_action(action, parameters)

    def action_own_page(self) -> None:
        """Straight to the own-page box, from anywhere in the chapter: its step first."""
        if not self.query("#own-page-input"):
            self.step = self.step_count - 1
        self.call_after_refresh(self._focus_own_page)

    def _focus_own_page(self) -> None:
        inputs = self.query("#own-page-input")
        if inputs:
            inputs.first().focus()
            inputs.first().scroll_visible(animate=False)

    # The crawl's settings; tests replace this with a deterministic one.
    crawl_config = None

    def __init__(self, chapter, index: int) -> None:
        super().__init__(chapter, index)
        self.run_state = DataRun()
        self.page_index: int | None = None

    @property
    def workspace(self):
        return self.app.workspace

    def on_mount(self) -> None:  # ChapterScreen.on_mount runs too (Textual walks the MRO)
        if self.handout:
            self.show_stored()
        else:
            self.start_run()

    def handout_step(self) -> int:
        """The funnel, where the crawl's counts are; the stored rows when there are none."""
        from engine.data.store import stored_funnel

        funnel = self.step_count - 2
        return funnel if stored_funnel(self.workspace) is not None else self.step_count - 1

    def start_run(self) -> None:
        self.run_state = DataRun()
        self.refresh_views()
        self.crawl()

    def show_stored(self) -> None:
        """The run the workspace's dataset came from, read back from its files."""
        from engine.data.store import stored_run

        ws = self.workspace
        self.run_state = DataRun()
        self.refresh_views()
        self._show_run(lambda: stored_run(ws))

    def crawl(self) -> None:
        from engine.data.pipeline import DataConfig, run

        ws = self.workspace
        config = DataConfig(write=not ws.path("dataset").exists())
        self.run_state.stored_problem = None if config.write else _stored_problem(ws)
        if self.crawl_config is not None:
            config.crawl = self.crawl_config()
        self._show_run(lambda: room_stream(self, "data-run", lambda: run(ws, config)))

    def _show_run(self, events) -> None:
        """Draw a run's events (``events()`` makes them, in the worker) as they come."""
        state = self.run_state
        last = 0.0

        def shown(event: object) -> None:
            nonlocal last
            state.add(event)
            now = time.monotonic()
            if now - last > 0.1:  # the views redraw ten times a second at most
                last = now
                self.refresh_views()

        def failed(error: BaseException) -> None:
            state.error = f"{type(error).__name__}: {error}"
            self.refresh_views()

        self.run_stage(events, "data-run", on_event=shown,
                       on_done=lambda _: self.refresh_views(), on_error=failed,
                       on_cancel=self.refresh_views)

    def refresh_views(self) -> None:
        for view in self.query("DataStatus, UrlVerdicts, CrawlLive, RawHtml, Extracted, "
                               "FunnelView, StoredRows"):
            if view.is_mounted:  # one still mounting draws itself in on_mount
                view.update_from(self.run_state)

    def action_rerun(self) -> None:
        if self.run_state.running:
            self.notify("The crawl is still running.", timeout=3)
            return
        for table in self.query(DataTable):
            table.clear()
        for view in self.query("UrlVerdicts, CrawlLive"):
            view.shown = 0
        for log in self.query(RichLog):
            log.clear()
        for view in self.query("RawHtml, Extracted"):
            view._url = None
        self.start_run()

    def action_page(self, delta: int) -> None:
        with self.run_state.lock:
            total = len(self.run_state.pages)
        if not total:
            return
        _page, index, _total = _current_page(self)
        self.page_index = (index + delta) % total
        self.refresh_views()
