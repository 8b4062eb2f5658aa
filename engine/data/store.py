"""Step 6: store the rows with their metadata, so training can sample them.

``dataset.parquet`` holds the kept documents, ``dropped.parquet`` every URL or page
that did not make it with its step and reason, ``funnel.json`` the counts per step.
Each file is written under a temporary name and renamed, so a cancelled run leaves
the previous files as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from engine.workspace import BrokenArtifact, Workspace, atomic_path

DATASET_COLUMNS = ("url", "title", "source", "content", "language", "language_score",
                   "token_count", "fetched_at")
DROPPED_COLUMNS = ("url", "step", "reason", "detail")

# The source column of a page the viewer added (engine.data.ownpage), before the page's own
# site name: the training mix counts these pages as the viewer's (engine.tokenizer.tour).
OWN_SOURCE = "Your own page"


def own_source(site_source: str) -> str:
    """The source column for a page the viewer added: "Your own page · <its site>"."""
    return f"{OWN_SOURCE} · {site_source}" if site_source else OWN_SOURCE


def is_own(url: str | None, source: str | None) -> bool:
    """Is this row a page the viewer added? Its source says so; a row from a local file
    (a URL that is a path) is one too, as the crawl only stores http(s) pages."""
    source = source or ""
    return (source == OWN_SOURCE or source.startswith(OWN_SOURCE + " · ")
            or (url or "").startswith("/"))


def write_table(rows: list[dict], columns: tuple[str, ...], target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"language_score": pa.float64(), "token_count": pa.int64()}
    schema = pa.schema([(name, types.get(name, pa.string())) for name in columns])
    table = pa.table({name: [row.get(name) for row in rows] for name in columns}, schema=schema)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)


def write_all(ws: Workspace, rows: list[dict], dropped: list[dict],
              funnel: list[dict]) -> dict[str, str]:
    ws.ensure()
    write_table(rows, DATASET_COLUMNS, ws.path("dataset"))
    write_table(dropped, DROPPED_COLUMNS, ws.path("dropped"))
    with atomic_path(ws.path("funnel")) as tmp:
        tmp.write_text(json.dumps(funnel, indent=2), encoding="utf-8")
    return {name: str(ws.path(name)) for name in ("dataset", "dropped", "funnel")}


TEXT_COLUMNS = ("url", "title", "source", "content", "language", "fetched_at")


def read_dataset(path: str | Path, columns: list[str] | None = None,
                 name: str = "dataset") -> dict[str, list]:
    """Columns of a ``dataset.parquet`` (all of them by default), checked: a file that is
    not Parquet, is cut off, or lacks a column or has one of the wrong type is a
    BrokenArtifact naming the file and the command that rebuilds it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    expected = DATASET_COLUMNS if name == "dataset" else DROPPED_COLUMNS
    wanted = list(columns or expected)
    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise BrokenArtifact(path, "it is a folder", name) from None
    except (pa.ArrowException, OSError, ValueError) as error:
        raise BrokenArtifact(path, f"it is not a readable Parquet file ({error})", name) from None
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise BrokenArtifact(path, f"it has no {', '.join(missing)} column"
                                   f"{'s' if len(missing) > 1 else ''} (it has "
                                   f"{', '.join(schema.names) or 'none'})", name)
    for column in wanted:
        kind = schema.field(column).type
        text = column in TEXT_COLUMNS or name != "dataset"
        ok = (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)
              ) if text else (pa.types.is_integer(kind) or pa.types.is_floating(kind)
                              or pa.types.is_null(kind))
        if not ok:
            raise BrokenArtifact(path, f"its {column} column holds {kind}, not "
                                       f"{'text' if text else 'numbers'}", name)
    try:
        return pq.read_table(path, columns=wanted).to_pydict()
    except (pa.ArrowException, OSError, ValueError) as error:
        raise BrokenArtifact(path, f"it can't be read to the end ({error})", name) from None


def read_rows(path: str | Path, name: str = "dataset") -> list[dict]:
    """Every row of a dataset (or dropped) table, checked as :func:`read_dataset` does."""
    table = read_dataset(path, name=name)
    names = list(table)
    return [dict(zip(names, values)) for values in zip(*table.values())]


def read_funnel(path: str | Path) -> list[dict]:
    path = Path(path)
    try:
        funnel = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as error:
        raise BrokenArtifact(path, f"it is not readable JSON ({error})", "funnel") from None
    if not isinstance(funnel, list) or not all(
            isinstance(s, dict) and {"label", "in", "out", "dropped"} <= set(s) for s in funnel):
        raise BrokenArtifact(path, "it is not a list of steps with label, in, out and dropped",
                             "funnel")
    return funnel


def stored_funnel(ws: Workspace) -> Path | None:
    """The funnel.json written with the dataset in use (the workspace's, else the bundled
    one), or None: a funnel from elsewhere would count another crawl."""
    dataset, funnel = ws.find("dataset"), ws.find("funnel")
    if dataset is None or funnel is None or funnel.source != dataset.source:
        return None
    return funnel.path


def stored_run(ws: Workspace) -> Iterator[object]:
    """The data stage's run as its events, read back from the files it wrote: a Dropped
    for every row of dropped.parquet, a Kept for every dataset row, then Finished with
    funnel.json's steps. For a screen that shows what the workspace holds (a handout)
    rather than crawling again; each file is checked as it is read."""
    from engine.data.events import Dropped, Finished, Kept, Stored

    found = ws.find("dataset")
    if found is None:
        raise FileNotFoundError("No dataset yet: build it in the Data chapter or run "
                                "`llm-tour prepare data`.")
    rows = read_rows(found.path)
    dropped = ws.find("dropped")
    drops = read_rows(dropped.path, name="dropped") if dropped is not None and \
        dropped.source == found.source else []
    funnel_path = stored_funnel(ws)
    funnel = read_funnel(funnel_path) if funnel_path is not None else []
    yield Stored(found.path.name, found.label, len(rows), len(drops), bool(funnel))
    for drop in drops:
        yield Dropped(drop["url"], drop["step"], drop["reason"], drop["detail"] or "")
    for row in rows:
        yield Kept(row)
    yield Finished(funnel, len(rows), len(drops), 0.0)
