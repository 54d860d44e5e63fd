"""A team's MLflow tracking server on PostgreSQL, really started, with 8 jobs logging at once.

The test starts Debian's PostgreSQL 15 (``initdb``, ``pg_ctl``) in a temporary folder, listening
on 127.0.0.1 only, and ``mlflow server`` on it (127.0.0.1 only, artifacts proxied to a local
folder), with the database password in the server's environment, never on a command line.
Eight ``groombench`` processes log to it at once; the leaderboard and ``groombench-compare``
read from it; the password appears nowhere. Without PostgreSQL the tests are skipped locally
and fail under CI (`.ci/run` installs it).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

INITDB = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))), None)
if INITDB is None:
    if os.environ.get("CI"):
        raise RuntimeError("CI must install postgresql (.ci/run does): the team server is untested")
    pytest.skip("PostgreSQL is not installed (apt-get install postgresql)", allow_module_level=True)

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Server:
    def __init__(self, uri: str, password: str, folder: Path, pid: int) -> None:
        self.uri, self.password, self.folder, self.pid = uri, password, folder, pid


class Postgres:
    def __init__(self, port: int, password: str, folder: Path) -> None:
        self.port, self.password, self.folder = port, password, folder

    def create(self, database: str) -> str:
        """Create ``database``; return its URI (no password: libpq reads PGPASSWORD)."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="groombench", password=self.password,
            dbname="postgres", autocommit=True,
        ) as connection:  # fmt: skip
            connection.execute(f"CREATE DATABASE {database}")
        return f"postgresql+psycopg://groombench@127.0.0.1:{self.port}/{database}"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """Debian's PostgreSQL in a temporary folder, on 127.0.0.1, a random password."""
    assert INITDB is not None
    folder = Path(tempfile.mkdtemp(prefix="groombench-pg-"))
    folder.chmod(0o755)
    data, password = folder / "data", secrets.token_hex(16)
    pwfile = folder / "pw"
    pwfile.write_text(password)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        shutil.chown(pwfile, "postgres")
    pg_ctl = str(INITDB.parent / "pg_ctl")
    initdb = [str(INITDB), "-D", str(data), "-U", "groombench", f"--pwfile={pwfile}"]
    subprocess.run(as_postgres([*initdb, "-A", "scram-sha-256"]), check=True, capture_output=True)
    pwfile.unlink()
    port = free_port()
    start = [pg_ctl, "-D", str(data), "-l", str(folder / "pg.log"), "-w", "-o"]
    subprocess.run(
        as_postgres([*start, f"-h 127.0.0.1 -p {port} -k {folder}", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield Postgres(port, password, folder)
    finally:
        subprocess.run(
            as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def mlflow_server(
    postgres: Postgres, database: str, artifacts: str, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``mlflow server`` on 127.0.0.1, on a new database, artifacts proxied to ``artifacts``."""
    folder = Path(tempfile.mkdtemp(prefix="groombench-mlflow-"))
    port = free_port()
    server_env = (
        os.environ
        | (env or {})
        | {
            # The password reaches libpq from the environment, never a command line.
            "PGPASSWORD": postgres.password,
            "MLFLOW_BACKEND_STORE_URI": postgres.create(database),
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        }
    )
    command = [str(BIN / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--artifacts-destination", artifacts],
        env=server_env,
        stdout=(folder / "mlflow.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        uri = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert process.poll() is None, (folder / "mlflow.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "mlflow server did not start in 180 s"
            time.sleep(0.5)
        yield Server(uri, postgres.password, folder, process.pid)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server(postgres: Postgres) -> Iterator[Server]:
    artifacts = Path(tempfile.mkdtemp(prefix="groombench-artifacts-"))
    with mlflow_server(postgres, "mlflow", str(artifacts)) as running:
        yield running
    shutil.rmtree(artifacts, ignore_errors=True)


def groombench(tmp: Path, *args: str) -> subprocess.Popen[str]:
    env = os.environ | {"GROOMBENCH_HOME": str(tmp / "runs"), "HF_HUB_OFFLINE": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.Popen(
        [str(BIN / "groombench"), *args],
        env=env,
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_eight_jobs_log_at_once_and_the_tools_read_them_back(
    server: Server, tmp_path: Path
) -> None:
    common = [
        "corpus.n_conversations=300",
        f"tracking.uri={server.uri}",
        "runner.progress=false",
        "audit.n_resamples=200",
        "audit.reliability_sample=0",
    ]
    # The corpus is built once; the eight jobs then start together.
    prepare = subprocess.run(
        [str(BIN / "groombench-prepare"), "corpus.n_conversations=300"],
        cwd=tmp_path,
        env=os.environ | {"GROOMBENCH_HOME": str(tmp_path / "runs")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert prepare.returncode == 0, prepare.stdout[-2000:] + prepare.stderr[-2000:]
    jobs = [groombench(tmp_path, "detector=lexicon", f"seed={i}", *common) for i in range(1, 8)]
    jobs.append(groombench(tmp_path, "detector=lexicon,random", "seed=0", *common))
    outputs = [job.communicate(timeout=600)[0] for job in jobs]
    for job, output in zip(jobs, outputs, strict=True):
        assert job.returncode == 0, output[-3000:]

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=server.uri)
    experiment = client.get_experiment_by_name("groombench")
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`groombench.detector` != ''"
    )
    assert len(runs) == 9 and all("f1" in run.data.metrics for run in runs)
    parents = {run.data.tags.get("mlflow.parentRunId") for run in runs}
    assert len(parents) == 8  # one parent run per launch, none shared
    first = runs[0]
    names = {f.path for f in client.list_artifacts(first.info.run_id)}
    assert {"results.json", "traces.parquet", "report"} <= names  # proxied artifacts

    env = os.environ | {"GROOMBENCH_HOME": str(tmp_path / "runs")}
    board = subprocess.run(
        [str(BIN / "groombench-leaderboard"), "--uri", server.uri, "--format", "json"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert board.returncode == 0, board.stderr[-2000:]
    assert len(json.loads(board.stdout)) == 9
    seed0 = [r for r in runs if r.data.params.get("seed") == "0"]
    debug = [
        (r.data.tags["groombench.detector"], r.data.params.get("seed"),
         r.data.tags["groombench.corpus_sha256"][:8], r.data.tags.get("mlflow.parentRunId", "")[:8])
        for r in runs
    ]  # fmt: skip
    assert sorted(r.data.tags["groombench.detector"] for r in seed0) == ["lexicon", "random"], debug
    assert len({r.data.tags["groombench.corpus_sha256"] for r in seed0}) == 1, debug
    compare = subprocess.run(
        [str(BIN / "groombench-compare"), "--uri", server.uri, "--resamples", "200"]
        + [f"runs:/{r.info.run_id}" for r in seed0],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert compare.returncode == 0, compare.stderr[-2000:]
    assert "random vs lexicon" in compare.stdout or "lexicon vs random" in compare.stdout

    # The database password is nowhere: not in any output, run, result or server log, and not
    # on the server's command line.
    seen = [*outputs, board.stdout, board.stderr, compare.stdout, compare.stderr]
    seen += [json.dumps(r.data.params) + json.dumps(r.data.tags) for r in runs]
    seen += [p.read_text(errors="replace") for p in (tmp_path / "runs").rglob("*.json")]
    seen.append((server.folder / "mlflow.log").read_text(errors="replace"))
    seen.append(Path(f"/proc/{server.pid}/cmdline").read_bytes().decode(errors="replace"))
    assert not [text for text in seen if server.password in text]


def test_an_unknown_run_is_one_line(server: Server, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(BIN / "groombench-compare"),
            "--uri",
            server.uri,
            "runs:/0123456789abcdef",
            "runs:/fedcba9876543210",
        ],
        env=os.environ | {"GROOMBENCH_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "cannot read the run" in done.stderr


def test_artifacts_go_to_an_s3_compatible_store(postgres: Postgres, tmp_path: Path) -> None:
    """moto's S3 server on 127.0.0.1 as the artifact store; its keys stay in the environment."""
    pytest.importorskip("moto")
    import boto3

    port = free_port()
    moto = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    key, secret = "groombench-test", secrets.token_hex(16)
    s3_env = {
        "MLFLOW_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        s3 = boto3.client(
            "s3", endpoint_url=s3_env["MLFLOW_S3_ENDPOINT_URL"], aws_access_key_id=key,
            aws_secret_access_key=secret, region_name="us-east-1",
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            try:
                s3.create_bucket(Bucket="runs")
                break
            except Exception:
                assert time.monotonic() < deadline, "moto did not start"
                time.sleep(0.5)
        with mlflow_server(postgres, "mlflow_s3", "s3://runs/mlflow", s3_env) as server:
            job = groombench(
                tmp_path,
                "detector=lexicon",
                "corpus.n_conversations=200",
                f"tracking.uri={server.uri}",
                "runner.progress=false",
                "audit.n_resamples=200",
                "audit.reliability_sample=0",
            )
            output = job.communicate(timeout=600)[0]
            assert job.returncode == 0, output[-3000:]
            log = (server.folder / "mlflow.log").read_text(errors="replace")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="runs").get("Contents", [])]
        assert any(k.endswith("/results.json") for k in keys)
        assert any(k.endswith("/report/report.html") for k in keys)
        # The client needs no storage credentials (the server proxies), and prints none.
        assert secret not in output and secret not in log
    finally:
        os.killpg(moto.pid, signal.SIGTERM)
        moto.wait(timeout=30)
