"""The packages import from this repository, the SDK stands alone, and --help stays light."""

from __future__ import annotations

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


def test_import_contracts_hold() -> None:
    # The SDK never imports the harness, the layers hold and nothing is cyclic: checked by
    # import-linter against .importlinter (the README's test command runs it too).
    exe = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "The detector SDK never imports the harness" in out.stdout
    assert "0 broken" in out.stdout


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


def test_the_lock_pins_every_dependency_inside_its_declared_range() -> None:
    # The README installs with constraints.txt: it must cover every dependency (extras too),
    # each at a version pyproject.toml allows, or the lock and the ranges have drifted apart.
    import re
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [Requirement(r) for r in project["dependencies"]]
    for extra in project["optional-dependencies"].values():
        declared += [Requirement(r) for r in extra]
    locked = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            locked[norm(name)] = Version(version)
    for requirement in declared:
        version = locked.get(norm(requirement.name))
        assert version is not None, f"{requirement.name} is not in constraints.txt"
        assert requirement.specifier.contains(version, prereleases=True), (
            f"constraints.txt pins {requirement.name}=={version}, outside {requirement}"
        )
