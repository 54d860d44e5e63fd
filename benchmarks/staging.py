"""Staging files and folders: written beside their final name, then renamed into place.

A crash between the two leaves the staging entry behind: a 40 MB ``.corpus-….arrow``, a
half-saved model folder. Each staging name records the host and process that made it, so the
next start removes the entries of processes that are gone (on this host only: a cache folder
shared over the network may hold another machine's work in progress).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
from pathlib import Path

log = logging.getLogger(__name__)

_NAME = re.compile(r"^\..*@(?P<host>[A-Za-z0-9.-]{1,80})@(?P<pid>\d{1,10})@")


def host_id() -> str:
    """This machine and process namespace: whose process ids a staging name's pid is.

    Containers may share a hostname but not a process table; the PID namespace's inode tells
    them apart, so one never takes another's live process for a dead one.

    Examples:
        >>> host_id() == host_id() and "@" not in host_id()
        True
    """
    name = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname())[:48] or "host"
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return name
    return f"{name}.ns{namespace:x}"


def _host() -> str:
    return host_id()


def prefix(stem: str) -> str:
    """A staging name's prefix for ``stem``: hidden, with this host and process.

    Examples:
        >>> prefix("corpus").startswith(".corpus@") and prefix("corpus").endswith("@")
        True
    """
    return f".{stem}@{_host()}@{os.getpid()}@"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process, or a number no process can have: keep it
    return True


def clean_stale(*folders: Path) -> list[Path]:
    """Remove staging entries in ``folders`` (and their subfolders) left by dead processes.

    Returns:
        The entries removed. Entries of live processes and of other hosts are kept.
    """
    host = _host()
    removed: list[Path] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for entry in _candidates(folder):
            match = _NAME.match(entry.name)
            if not match or match["host"] != host or _alive(int(match["pid"])):
                continue
            try:
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink(missing_ok=True)
            except OSError as error:  # another user's file, a read-only cache: leave it
                log.warning("could not remove %s: %s", entry, error)
                continue
            removed.append(entry)
    if removed:
        log.info("removed %d staging file(s) left by killed runs", len(removed))
    return removed


def _candidates(folder: Path, depth: int = 3) -> list[Path]:
    """Hidden entries of ``folder`` and of its subfolders, ``depth`` levels down."""
    found: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            found.append(path)
        elif depth > 1 and entry.is_dir(follow_symlinks=False):
            found.extend(_candidates(path, depth - 1))
    return found
