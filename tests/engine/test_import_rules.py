"""The two import rules, checked in fresh interpreters by looking at sys.modules."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules(package: str) -> list[str]:
    names = [package]
    for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}."):
        if ".sites." in info.name or info.name.endswith(".generate"):
            continue  # the sample web's page generator is a script, not part of the app
        names.append(info.name)
    return names


def _loaded_after_import(modules: list[str], probes: list[str]) -> dict:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(json.dumps({{p: p in sys.modules for p in {probes!r}}}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_app_and_every_screen_loads_no_torch():
    modules = _modules("tui") + _modules("screens")
    loaded = _loaded_after_import(modules, ["torch"])
    assert loaded == {"torch": False}


def test_importing_the_engine_loads_no_textual():
    loaded = _loaded_after_import(_modules("engine"), ["textual", "tui", "screens"])
    assert loaded == {"textual": False, "tui": False, "screens": False}


def test_the_probe_itself_can_see_torch():
    """Guards the two tests above: the same probe does notice torch when it is imported."""
    assert _loaded_after_import(["engine.model.hardware", "torch"], ["torch"]) == {"torch": True}
