"""What software produced a result: package versions and the git commit, when there is one."""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "groombench",
    "datasets",
    "scikit-learn",
    "numpy",
    "hydra-core",
    "mlflow",
    "torch",
    "transformers",
)


@functools.cache
def git_sha() -> str:
    """Return the commit of the groombench checkout, or "" when not in a git checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


@functools.cache
def software_versions() -> dict[str, str]:
    """Return installed versions of the packages that shape results, and the git sha."""
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    versions["git_sha"] = git_sha()
    return versions
