"""Run the test suite on the newest dependency versions pyproject.toml allows; refresh the lock.

The README's commands install with ``constraints.txt``, the exact versions the suite last passed
with, so a user is not broken on the day a dependency releases a breaking change. This script is
how we find such a break first:

    python scripts/check_latest.py                 # scratch venv, newest allowed versions, tests
    python scripts/check_latest.py --update-lock   # ... and, if green, rewrite constraints.txt
    python scripts/check_latest.py --quick         # ruff, mypy and pytest -m 'not slow'

It clones the committed HEAD into a temporary folder (so uncommitted edits are not tested),
creates a fresh virtual environment there, installs ``.[test,learned]`` without the lock (pip
picks the newest versions the ranges allow), runs the README's checks, and prints the versions
that changed against the lock. With ``--update-lock`` and a green run, ``constraints.txt`` is
rewritten from that environment: review the diff and commit it.

When it fails: read which package moved (the printed diff), fix the code (or add an upper bound
in pyproject.toml where the break is the dependency's, with a comment saying why), and run again.
Needs only the package registry; nothing is downloaded at test time.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
HEADER = """\
# The exact versions the test suite passed with: the README's install commands use this file
# (pip install -c constraints.txt ...), so a user gets a tested set even on the day a dependency
# ships a breaking release. pyproject.toml keeps the honest ranges.
# Refresh: python scripts/check_latest.py --update-lock (newest allowed versions, full suite).
# torch: the CPU build (2.13.0+cpu) is the tested one; a specifier without the local label
# matches it where it is offered (a CUDA build of the same version also satisfies it).
"""
# Not pinned: the project itself and pip's own tooling.
SKIP = re.compile(r"^(-e |#|groombench==|pip==)", re.IGNORECASE)


def sh(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, env=env, check=True)


def freeze(python: Path) -> list[str]:
    out = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = []
    for line in out.splitlines():
        line = line.strip()
        if not line or SKIP.match(line):
            continue
        # Local version labels (2.13.0+cpu) are dropped: "==2.13.0" matches 2.13.0+cpu.
        lines.append(re.sub(r"^([A-Za-z0-9_.\-]+)==([^+\s]+)\+\S+$", r"\1==\2", line))
    return sorted(lines, key=str.lower)


def pins(lines: list[str]) -> dict[str, str]:
    out = {}
    for line in lines:
        name, _, version = line.partition("==")
        if version:
            out[re.sub(r"[-_.]+", "-", name).lower()] = version
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update-lock", action="store_true", help="rewrite constraints.txt")
    parser.add_argument("--quick", action="store_true", help="skip tests marked slow")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="groombench-latest-"))
    src = scratch / "src"
    started = time.monotonic()
    sh(["git", "clone", "--quiet", str(ROOT), str(src)], cwd=scratch)
    sh([sys.executable, "-m", "venv", str(scratch / "venv")], cwd=scratch)
    python = scratch / "venv" / "bin" / "python"
    bin_dir = python.parent
    env = os.environ | {"PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    sh([str(python), "-m", "pip", "install", "-q", "-U", "pip"], cwd=src, env=env)
    sh([str(python), "-m", "pip", "install", "-q", "-e", ".[test,learned]"], cwd=src, env=env)

    newest = freeze(python)
    locked = pins(LOCK.read_text().splitlines()) if LOCK.exists() else {}
    moved = {
        name: (locked.get(name), version)
        for name, version in pins(newest).items()
        if locked.get(name) != version
    }
    print(f"\n{len(moved)} package(s) differ from constraints.txt:")
    for name, (old, new) in sorted(moved.items()):
        print(f"  {name}: {old or '(not locked)'} -> {new}")

    tests = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if args.quick:
        tests += ["-m", "not slow"]
    try:
        sh([str(bin_dir / "ruff"), "check", "."], cwd=src, env=env)
        sh([str(bin_dir / "mypy")], cwd=src, env=env)
        sh([str(bin_dir / "lint-imports")], cwd=src, env=env)
        sh(tests, cwd=src, env=env | {"HF_HUB_OFFLINE": "1"})
    except subprocess.CalledProcessError as error:
        print(f"\nRED on the newest allowed versions ({error.cmd[-1]} failed).", file=sys.stderr)
        print(f"scratch environment kept at {scratch}", file=sys.stderr)
        return 1
    minutes = (time.monotonic() - started) / 60
    print(f"\nGREEN on the newest allowed versions ({minutes:.1f} min).")
    if args.update_lock:
        LOCK.write_text(HEADER + "\n".join(newest) + "\n", encoding="utf-8")
        print(f"wrote {LOCK}: review `git diff constraints.txt` and commit it")
    if not args.keep:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
