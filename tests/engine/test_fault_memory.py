"""Fault corpus, memory: the heaviest bad inputs stay under 300 MB of resident memory.

tracemalloc (in the other fault tests) sees only what Python allocates; this measures the
whole process, C libraries included (zlib, lxml, trafilatura), as the kernel counts it: a
fresh interpreter reads each input the way ``llm-tour prepare data --add-page`` does and
reports its peak resident set size (``VmHWM`` in /proc/self/status).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.data.ownpage import MAX_FILE_BYTES

MB = 1024 * 1024
LIMIT = 300 * MB
ROOT = Path(__file__).resolve().parents[2]

READ_EACH = """
import json, sys
from engine.data.ownpage import OwnPageError, check_page
from engine.workspace import Workspace

ws, fates = Workspace(sys.argv[1]), {}
for path in sys.argv[2:]:
    try:
        events = list(check_page(ws, path, add=False))
        fates[path] = type(events[-1]).__name__ if events else "nothing"
    except OwnPageError as refused:
        fates[path] = "refused: " + str(refused)
# VmHWM: this program's own peak (ru_maxrss would carry over the parent's across exec)
status = open("/proc/self/status").read().split("VmHWM:")[1].split()
print(json.dumps({"fates": fates, "peak": int(status[0]) * 1024}))
"""


def heaviest() -> dict[str, bytes]:
    word = b"Paris is the capital of France and a city of many bridges. "
    under_cap = b"<html><body><article><p>" + word * ((MAX_FILE_BYTES - 200) // len(word))
    return {
        "just-under-the-cap.html": under_cap + b"</p></article></body></html>",
        "twenty-megabytes.html": b"<html><body><p>" + b"word " * (4 * MB) + b"</p>",
        "gzip-bomb.html.gz": gzip.compress(b"<p>" + b"a" * (200 * MB), compresslevel=9),
        "deep.html": b"<html><body>" + b"<div>" * 50_000 + b"deep" + b"</div>" * 50_000,
        "one-long-line.html": b"<html><body><p>" + b"x" * (MAX_FILE_BYTES - 100) + b"</p>",
    }


CASES = sorted(heaviest())


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("name", CASES)
def test_fault_the_heaviest_pages_stay_under_300_mb(workspace, tmp_path, name):
    """Each case in a process of its own: the peak is that case's, not the sum of many."""
    from engine.data.passes.language import _unpacked_model

    _unpacked_model()  # the language model unpacked into the cache, as after a first page check
    path = tmp_path / name
    path.write_bytes(heaviest()[name])
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", READ_EACH, str(workspace.root), str(path)],
                          capture_output=True, text=True, env=env, timeout=600, check=False)
    assert done.returncode == 0, done.stderr  # a verdict, not a traceback
    report = json.loads(done.stdout.strip().splitlines()[-1])
    fate = report["fates"][str(path)]
    if name == "twenty-megabytes.html":
        assert "bytes; a page may have at most" in fate
    elif name == "gzip-bomb.html.gz":
        assert "unpacks to more than" in fate
    else:
        assert fate in ("Kept", "Dropped")
    assert report["peak"] < LIMIT, f"{name}: peak {report['peak'] / MB:.0f} MB ({fate})"
