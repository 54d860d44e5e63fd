"""The packages import from this repository, the SDK stands alone, and --help stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import benchmarks
import detectors

ROOT = Path(__file__).resolve().parents[1]


def test_packages_import_from_this_repository() -> None:
    # `detectors` and `benchmarks` are also unrelated PyPI distributions: never those.
    assert Path(detectors.__file__).resolve().parent == ROOT / "detectors"
    assert Path(benchmarks.__file__).resolve().parent == ROOT / "benchmarks"


def test_detectors_never_import_benchmarks() -> None:
    for file in (ROOT / "detectors").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "benchmarks" for n in names), file


def test_cli_module_import_stays_light() -> None:
    code = (
        "import sys, benchmarks.cli, detectors;"
        "heavy = {'mlflow', 'datasets', 'sklearn', 'torch', 'transformers', 'evaluate'};"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_python_api() -> None:
    assert callable(benchmarks.evaluate_detector)
    assert "evaluate_detector" in benchmarks.__all__
