"""A hostile sealed program: it speaks the protocol honestly, and tries every escape it can.

Written for the sandbox tests (stdlib only, run by the system's Python inside the sandbox).
At ``hello`` it probes; it reports what it found in its hello's ``name`` field (JSON), which
the harness keeps as ``ProgramInfo.name``. It scores like the example program would (a few
cue words), so honest scoring can be compared with an unconfined run.

argv: JSON with the paths and ports to attack (written by the test).
"""

import contextlib
import json
import os
import socket
import subprocess
import sys

TARGETS: dict = {}
CUES = {"secret": 0.35, "snap": 0.25, "meet": 0.3}


def attempt(action):
    try:
        value = action()
        return "ok" if value is None else value
    except BaseException as error:  # every failure is what the test wants to see
        return f"refused: {type(error).__name__}"


def read(path):
    with open(path, "rb") as handle:
        return handle.read(64).decode("latin-1")


def write(path):
    with open(path, "w") as handle:
        handle.write("the hostile program was here")


def connect():
    with socket.create_connection(("127.0.0.1", TARGETS["port"]), timeout=2) as conn:
        conn.sendall(b"stolen")


def listen():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", TARGETS["listen_port"]))
    server.listen()
    LISTENERS.append(server)  # kept open for the life of the program


def parent_environ():
    found = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            with contextlib.suppress(OSError):
                found[pid] = read(f"/proc/{pid}/environ")
    return " ".join(found.values())


def orphan():
    # setsid: a child in a session of its own, sleeping long after the run, marked for the test.
    subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", TARGETS["marker"]],
        start_new_session=True,
    )


def fork_bomb():
    children = []
    try:
        for _ in range(200):
            pid = os.fork()
            if pid == 0:
                import time

                time.sleep(3)
                os._exit(0)
            children.append(pid)
    except OSError as error:
        return f"stopped after {len(children)}: {type(error).__name__}"
    return f"forked {len(children)}"


def big_file():
    with open("/tmp/big", "wb") as handle:
        for _ in range(64):
            handle.write(b"\0" * (1 << 20))  # 64 MiB in all


def nested_userns():
    # A new user namespace inside the sandbox: the first step of many kernel exploits.
    done = subprocess.run(["/usr/bin/unshare", "-U", "/usr/bin/true"], capture_output=True)
    if done.returncode:
        raise PermissionError("unshare refused")


LISTENERS = []


def probe():
    return {
        "uid": os.getuid(),
        "env": sorted(os.environ),
        "other_processes_env": attempt(parent_environ),
        "shadow": attempt(lambda: read("/etc/shadow")),
        "bashrc": attempt(lambda: read(os.path.expanduser("~root/.bashrc"))),
        "corpus": attempt(lambda: read(TARGETS["corpus"])),
        "cache_write": attempt(lambda: write(TARGETS["cache"])),
        "run_root_write": attempt(lambda: write(TARGETS["run_root"] + "/planted.txt")),
        "connect": attempt(connect),
        "listen": attempt(listen),
        "home": attempt(lambda: os.listdir("/root")),
        "root": sorted(os.listdir("/")),
        "orphan": attempt(orphan),
        "fork_bomb": attempt(fork_bomb),
        "big_file": attempt(big_file),
        "nested_userns": attempt(nested_userns),
    }


def main():
    TARGETS.update(json.loads(sys.argv[1]))
    seen = {}
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        request = json.loads(line)
        op = request["op"]
        if op == "hello":
            reply = {"ok": True, "name": json.dumps(probe()), "version": "1", "protocol": 1}
        elif op == "open":
            seen[request["conversation"]] = set()
            reply = {"ok": True}
        elif op == "push":
            message = request["message"]
            # Keep a copy of every message, as a data thief would: in its own /tmp.
            with open("/tmp/stolen-" + TARGETS["marker"], "a") as copy:
                copy.write(json.dumps(message) + "\n")
            cues = seen[request["conversation"]]
            cues |= {c for c in CUES if c in message["text"]}
            miss = 1.0
            for cue in sorted(cues):
                miss *= 1.0 - CUES[cue]
            reply = {"ok": True, "score": 1.0 - miss, "author_seen": message["author"]}
        elif op == "close":
            seen.pop(request["conversation"], None)
            reply = {"ok": True}
        else:
            reply = {"ok": False, "error": "unknown op"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
