"""The bench scripts import the app inside ``main()`` (after their own setup), so a moved module or a removed
name only shows when someone runs them: every ``from training… import …`` they hold must resolve."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(BENCH.glob("*.py"))


def app_imports(script: Path) -> list[tuple[str, str]]:
    tree = ast.parse(script.read_text(), filename=str(script))
    return [
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "training"
        for alias in node.names
    ]


def test_there_are_bench_scripts_importing_the_app():
    assert len(SCRIPTS) >= 10 and sum(bool(app_imports(s)) for s in SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_app_import_of_a_bench_script_resolves(script):
    missing = []
    for module, name in app_imports(script):
        try:
            imported = importlib.import_module(module)
        except ImportError as exc:
            missing.append(f"{module}: {exc}")
            continue
        if not hasattr(imported, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{module}.{name}")
    assert missing == []
