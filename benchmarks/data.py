"""The data stage against trafilatura alone, side by side in one process.

Whole stage: serve the sample web, crawl it over HTTP, filter URLs, extract, run every
cleaning pass, count tokens and write the Parquet files. Reference: trafilatura's
``extract`` over exactly the HTML the crawl fetched, with metadata. Both run after a
warm-up run (imports, the language model, the tokenizer), best of N.

    .venv/bin/python benchmarks/data.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from engine.data import events as ev
from engine.data.pipeline import run
from engine.workspace import Workspace


def whole_stage() -> tuple[float, list[tuple[str, str]], int]:
    with tempfile.TemporaryDirectory() as root:
        pages: list[tuple[str, str]] = []
        rows = 0
        start = time.perf_counter()
        for event in run(Workspace(root)):
            if isinstance(event, ev.Page):
                pages.append((event.url, event.html))
            elif isinstance(event, ev.Finished):
                rows = event.rows
        return time.perf_counter() - start, pages, rows


def extract_alone(pages: list[tuple[str, str]]) -> float:
    import trafilatura

    start = time.perf_counter()
    for url, html in pages:
        trafilatura.extract(html, url=url, with_metadata=True, deduplicate=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    _, pages, rows = whole_stage()  # warm-up: imports, py3langid, cl100k, datasketch
    extract_alone(pages)
    stage_times, extract_times = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        seconds, pages, rows = whole_stage()
        stage_times.append(seconds)
        extract_times.append(extract_alone(pages))
    n = len(pages)
    stage, extract = min(stage_times), min(extract_times)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"sample web: {n} HTML pages fetched, {rows} rows kept; best of {args.repeat}; "
          f"load average {load:.2f} on {os.cpu_count()} CPUs")
    print(f"{'':<34}{'seconds':>9}{'pages/s':>10}{'median s':>10}")
    print(f"{'trafilatura.extract alone':<34}{extract:>9.2f}{n / extract:>10.1f}"
          f"{statistics.median(extract_times):>10.2f}")
    print(f"{'whole data stage (crawl to Parquet)':<34}{stage:>9.2f}{n / stage:>10.1f}"
          f"{statistics.median(stage_times):>10.2f}")
    print(f"ratio whole stage / extract alone: {stage / extract:.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
