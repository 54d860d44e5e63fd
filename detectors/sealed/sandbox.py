"""The sandbox a sealed program runs in: bubblewrap, rlimits and an unprivileged user.

A vendor's program under audit is untrusted: it wants a good number. It runs inside
`bubblewrap <https://github.com/containers/bubblewrap>`_ (``bwrap``, the sandbox Flatpak uses;
Debian package ``bubblewrap``), never a home-made one:

- **no network**: its own network namespace, with nothing but a loopback that is down;
- **a scrubbed environment**: nothing of the harness's environment but the variables the
  config names (``sandbox_env``), plus ``PATH``, ``HOME=/tmp``, ``TMPDIR=/tmp``, ``LANG``;
- **a read-only view of the system** (``/usr`` and the dynamic loader's files in ``/etc``) and
  of the program's own files (``mounts``), and nothing else of the host: no home, no run root,
  no corpus cache, no prediction cache, no other vendor's files;
- **a private, empty, writable** ``/tmp`` as its working folder, gone when it exits;
- **its own PID namespace** (and IPC, UTS, cgroup namespaces), so every child it starts dies
  with it (``--die-with-parent``), and a new session (no terminal to inject keystrokes into);
- **no capabilities**, no nested user namespaces (``--disable-userns``, bubblewrap >= 0.8), and
  an **unprivileged user**: when groombench runs as root, the sandbox is entered as ``nobody``
  (uid 65534), so that the process limit applies;
- **limits** on CPU time, file size, processes and address space (``RLIMIT_CPU``,
  ``RLIMIT_FSIZE``, ``RLIMIT_NPROC``, ``RLIMIT_AS``).

What it does not cover is said in ``docs/sealed.md`` ("What the sandbox does not cover").
"""

from __future__ import annotations

import functools
import hashlib
import os
import resource
import shutil
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: The unprivileged user a root harness drops to before entering the sandbox.
NOBODY = 65534
INSTALL_HINT = (
    "the sealed-program sandbox needs bubblewrap: install it (Debian/Ubuntu: "
    "apt-get install bubblewrap; Fedora: dnf install bubblewrap), or run the program without "
    "a sandbox with detector.sandbox=false (the result is then marked UNSANDBOXED)"
)
#: Files of /etc a dynamically linked program needs to start; nothing else of /etc is shown.
_ETC = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives")
#: Where the example program is placed inside the sandbox.
EXAMPLE_INSIDE = "/opt/groombench/example.py"


class SandboxUnavailable(ValueError):
    """The sandbox tool is missing (a ValueError: a setting the constructor cannot honour)."""


@dataclass(frozen=True)
class Mount:
    """A host path shown read-only inside the sandbox (at ``target``, by default the same)."""

    source: str
    target: str

    @classmethod
    def parse(cls, spec: str) -> Mount:
        """``/host/path`` or ``/host/path:/inside/path``; both absolute.

        Examples:
            >>> Mount.parse("/opt/vendor")
            Mount(source='/opt/vendor', target='/opt/vendor')
            >>> Mount.parse("/srv/m.bin:/opt/model.bin").target
            '/opt/model.bin'
        """
        source, _, target = str(spec).partition(":")
        target = target or source
        if not (os.path.isabs(source) and os.path.isabs(target)):
            raise ValueError(f"sandbox mount {spec!r}: give absolute paths (/host[:/inside])")
        return cls(source, target)


@dataclass(frozen=True)
class Sandbox:
    """How to confine one sealed program.

    Attributes:
        mounts: the program's own files, read-only.
        env: names of environment variables passed through (values are read at start).
        cpu_seconds: CPU time limit of the program (its children count separately).
        file_size_mb: largest file it may write (in its private /tmp).
        max_processes: processes (and threads) it may run at once, as the sandbox's user.
        memory_mb: address-space limit; None: none.
        user: ``nobody`` (drop to uid 65534 when groombench runs as root) or ``current``.
    """

    mounts: tuple[Mount, ...] = ()
    env: tuple[str, ...] = ()
    cpu_seconds: int | None = 3600
    file_size_mb: int | None = 64
    max_processes: int | None = 64
    memory_mb: int | None = 2048
    user: str = "nobody"

    def __post_init__(self) -> None:
        if self.user not in ("nobody", "current"):
            raise ValueError(f"sandbox user must be 'nobody' or 'current', got {self.user!r}")
        for name, value in (
            ("cpu_seconds", self.cpu_seconds),
            ("file_size_mb", self.file_size_mb),
            ("max_processes", self.max_processes),
            ("memory_mb", self.memory_mb),
        ):
            if value is not None and value < 1:
                raise ValueError(f"sandbox {name} must be >= 1 or null, got {value}")

    @property
    def drops_privileges(self) -> bool:
        """True when the sandbox is entered as ``nobody`` (groombench runs as root)."""
        return self.user == "nobody" and os.geteuid() == 0

    def check(self) -> None:
        """Refuse a mount that is missing, or unreadable by the sandbox's user.

        Raises:
            SandboxUnavailable: bubblewrap is not installed.
            ValueError: a mount the program could not read; the message says what to change.
        """
        bwrap()
        for mount in self.mounts:
            path = Path(mount.source)
            if not path.exists():
                raise ValueError(f"sandbox mount {mount.source} does not exist")
            if self.drops_privileges and not open_to_others(path):
                raise ValueError(
                    f"sandbox mount {mount.source} is not readable by the unprivileged user the "
                    "program runs as (uid 65534): put the program's files in a folder others may "
                    "read (e.g. /opt/vendor, chmod -R o+rX), or set detector.sandbox_user=current"
                )

    def wrap(self, command: Sequence[str]) -> list[str]:
        """The bubblewrap command line that runs ``command`` confined."""
        args = [
            bwrap(),
            "--unshare-all",
            "--unshare-user",
            # No nested user namespace: a common first step of a kernel exploit (bwrap >= 0.8).
            *(["--disable-userns"] if _supports("--disable-userns") else []),
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--cap-drop",
            "ALL",
            "--uid",
            str(NOBODY),
            "--gid",
            str(NOBODY),
            "--ro-bind",
            "/usr",
            "/usr",
        ]
        for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(name):  # merged /usr: /lib -> usr/lib
                args += ["--symlink", os.readlink(name), name]
            elif os.path.isdir(name):
                args += ["--ro-bind", name, name]
        for name in _ETC:
            args += ["--ro-bind-try", name, name]
        args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--chdir", "/tmp"]
        for mount in self.mounts:
            args += ["--ro-bind", mount.source, mount.target]
        settings = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/tmp",
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
        }
        settings |= {name: os.environ[name] for name in self.env if name in os.environ}
        for name, value in settings.items():
            args += ["--setenv", name, value]
        return [*args, "--", *command]

    def limits(self) -> list[tuple[int, int]]:
        """The rlimits set in the child before bubblewrap starts (inherited by the program).

        ``RLIMIT_NPROC`` counts every task of the real user, not of the sandbox: entered as
        ``nobody`` (from root) it is the program's own budget; entered as a user who already
        runs other processes, it is that user's current count plus ``max_processes``.
        """
        out = []
        if self.memory_mb is not None:
            out.append((resource.RLIMIT_AS, self.memory_mb * 1024 * 1024))
        if self.cpu_seconds is not None:
            out.append((resource.RLIMIT_CPU, self.cpu_seconds))
        if self.file_size_mb is not None:
            out.append((resource.RLIMIT_FSIZE, self.file_size_mb * 1024 * 1024))
        if self.max_processes is not None:
            base = 0 if self.drops_privileges else _tasks_of(os.getuid())
            # bubblewrap itself and its init need two more tasks than the program.
            out.append((resource.RLIMIT_NPROC, base + self.max_processes + 2))
        return out


def enter(limits: Sequence[tuple[int, int]], drop: bool) -> None:
    """Set ``limits`` and, with ``drop``, become ``nobody``: runs in the child before exec.

    Only plain system calls: nothing that could wait on a lock another thread of the parent
    held at fork time.
    """
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        # CPU: SIGXCPU at the soft limit (a program may log it), SIGKILL a second later.
        top = value + 1 if which == resource.RLIMIT_CPU else value
        if hard != resource.RLIM_INFINITY:
            value, top = min(value, hard), min(top, hard)  # one can only lower a hard limit
        resource.setrlimit(which, (value, top))
    if drop:
        os.setgroups([])
        os.setgid(NOBODY)
        os.setuid(NOBODY)


def bwrap() -> str:
    """The bubblewrap executable.

    Raises:
        SandboxUnavailable: it is not installed (the message says how to install it).
    """
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable(INSTALL_HINT)
    return found


@functools.cache
def _supports(flag: str) -> bool:
    """Whether the installed bubblewrap knows ``flag`` (older ones lack the newest options)."""
    import subprocess

    found = subprocess.run([bwrap(), "--help"], capture_output=True, text=True, check=False)
    return flag in found.stdout + found.stderr


def _tasks_of(uid: int) -> int:
    """How many tasks (processes and threads) ``uid`` runs now: RLIMIT_NPROC counts them."""
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid == uid:
                count += len(os.listdir(f"/proc/{entry}/task"))
        except OSError:
            continue  # exited meanwhile
    return count


def open_to_others(path: Path) -> bool:
    """Whether a user with no relation to the owner can reach and read ``path``."""
    path = path.resolve()
    for parent in reversed(path.parents):
        if not parent.stat().st_mode & stat.S_IXOTH:
            return False
    mode = path.stat().st_mode
    return bool(mode & stat.S_IROTH) and (not path.is_dir() or bool(mode & stat.S_IXOTH))


def sandbox_python() -> tuple[str, tuple[Mount, ...]]:
    """An interpreter for the (stdlib-only) example program inside the sandbox, and its mounts.

    The system's Python (under /usr, shown anyway) when there is one; otherwise the one running
    groombench, with its installation mounted read-only.
    """
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate, ()
    prefix = Path(sys.base_prefix).resolve()
    exe = Path(sys.executable).resolve()
    mounts = () if str(prefix).startswith("/usr/") else (Mount(str(prefix), str(prefix)),)
    return str(exe), mounts


_EXAMPLE_COPIES: dict[str, Path] = {}


def example_source(user: str) -> Path:
    """The example program's file, where the sandbox's unprivileged user can read it.

    A checkout under a private folder (``/root/...``, a ``mktemp -d`` folder) is closed to
    ``nobody``; the example is groombench's own public code, so a world-readable copy under
    the system's temporary folder is mounted instead, removed when the process ends. A
    vendor's program gets no such help: its files are the vendor's to place (the sandbox's
    error says how).
    """
    source = Path(__file__).with_name("example.py")
    if user != "nobody" or os.geteuid() != 0 or open_to_others(source):
        return source
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    if digest not in _EXAMPLE_COPIES:
        import atexit
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix=f"groombench-example-{digest}-"))
        folder.chmod(0o755)
        copy = folder / "example.py"
        shutil.copyfile(source, copy)
        copy.chmod(0o644)
        atexit.register(shutil.rmtree, folder, True)
        _EXAMPLE_COPIES[digest] = copy
    return _EXAMPLE_COPIES[digest]
