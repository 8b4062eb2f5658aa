"""Step 6: store the rows with their metadata, so training can sample them.

``dataset.parquet`` holds the kept documents, ``dropped.parquet`` every URL or page
that did not make it with its step and reason, ``funnel.json`` the counts per step.
Each file is written under a temporary name and renamed, so a cancelled run leaves
the previous files as they were.
"""

from __future__ import annotations

import json
from pathlib import Path

from engine.workspace import Workspace, atomic_path

DATASET_COLUMNS = ("url", "title", "source", "content", "language", "language_score",
                   "token_count", "fetched_at")
DROPPED_COLUMNS = ("url", "step", "reason", "detail")


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


def read_rows(path: str | Path) -> list[dict]:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pylist()


def read_funnel(path: str | Path) -> list[dict]:
    return json.loads(Path(path).read_text("utf-8"))
