"""What ``llm-tour sample`` and ``llm-tour chat -p`` load on their way to the first token,
checked in fresh interpreters (a process's start-up is what is looked at, so the test's own
imports must not be in it). The times are measured by benchmarks/startup.py, not here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WATCHED = ("textual", "pyarrow", "engine.data.store", "engine.tools.search")

PROBE = f"""
import atexit, json, os, sys

def report():
    from engine.tokenizer import cl100k
    torch = sys.modules.get("torch")
    print("PROBE " + json.dumps({{
        "modules": {{name: name in sys.modules for name in {WATCHED!r}}},
        "full_gpt4_encoding": cl100k.cl100k.cache_info().currsize > 0,
        "omp_threads": os.environ.get("OMP_NUM_THREADS"),
        "torch_threads": torch.get_num_threads() if torch else None,
    }}), flush=True)

atexit.register(report)
from tui.cli import main
main()
"""


def run_probed(tmp_path: Path, *args: str) -> tuple[str, dict]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "LLM_TOUR_THREADS")}
    env["LLM_TOUR_HOME"] = str(tmp_path / "workspace")  # empty: the bundled models
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                            text=True, cwd=ROOT, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    probe = json.loads(next(line for line in lines if line.startswith("PROBE "))[6:])
    return "\n".join(line for line in lines if not line.startswith("PROBE ")), probe


@pytest.mark.bundled
def test_sample_loads_the_model_and_its_tokens_only(tmp_path):
    out, probe = run_probed(tmp_path, "sample", "The capital of France is", "--seed", "1",
                            "-n", "3")
    assert out.startswith("The capital of France is") and len(out) > len("The capital of France is")
    assert probe["modules"] == dict.fromkeys(WATCHED, False)
    # the compact tokenizer encodes the prompt without building GPT-4's whole encoding
    assert probe["full_gpt4_encoding"] is False
    # one thread, asked for before torch started (its first operations would start a pool)
    assert probe["omp_threads"] == "1" and probe["torch_threads"] == 1


@pytest.mark.bundled
def test_one_question_builds_the_search_index_only_if_the_model_searches(tmp_path):
    out, probe = run_probed(tmp_path, "chat", "-p", "What is the capital of France?")
    assert "assistant>" in out
    if "running search" not in out:  # the bundled chat model answers this one itself
        assert probe["modules"]["pyarrow"] is False  # no dataset read, no index built
    assert probe["modules"]["textual"] is False
    assert probe["full_gpt4_encoding"] is False
    assert probe["omp_threads"] == "1" and probe["torch_threads"] == 1
