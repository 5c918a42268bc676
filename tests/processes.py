"""Real processes for the durability tests: our own redis-server, Celery worker, gunicorn
and PostgreSQL cluster, on free loopback ports, to kill and restart at will. Nothing here
touches the shared PostgreSQL or Redis."""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal as os_signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from csrisk.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def kill(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(os_signal.SIGKILL)
        proc.wait(timeout=10)


def stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill(proc)


class Services:
    """Our own redis-server and worker, to kill and restart at will."""

    def __init__(self, tmp: Path, database_url: str) -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.redis: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.log = open(tmp / "worker.log", "a+")  # noqa: SIM115

    def start_redis(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--bind", "127.0.0.1", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_port(self.port, timeout=10)
        except RuntimeError:
            raise RuntimeError("redis-server did not start") from None

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.url,
            "DEBUG": "1",
            **extra,
        }

    def start_worker(self) -> None:
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "csrisk", "worker", "--pool=solo",
             "-Q", "ingest,recompute,notify,default", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self, proc: subprocess.Popen | None) -> None:
        kill(proc)

    def log_tail(self, chars: int = 3000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-chars:]

    def stop(self) -> None:
        stop(self.worker)
        kill(self.redis)
        self.log.close()


def start_gunicorn(env: dict[str, str], port: int, log: IO[str]) -> subprocess.Popen:
    """gunicorn with 2 workers on loopback, like production (minus TLS); waits for /healthz."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "csrisk.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited at start-up") from None
            time.sleep(0.2)
    stop(proc)
    raise RuntimeError("gunicorn did not answer /healthz")


def reset_producer() -> None:
    """Forget the cached connection pool and routing table, so the next publish reads
    the configuration again (and the next test's changes to it take effect)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app.amqp._rtable = None  # the routes, read from conf.task_routes when needed
    celery_app.amqp.__dict__.pop("router", None)


def use_broker(url: str) -> None:
    """Point this process's Celery producer at our own Redis."""
    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    reset_producer()


# --- Our own PostgreSQL -------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian's layout)."""
    versions = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def postgres_missing() -> str | None:
    """Why we cannot run a cluster of our own here, or None."""
    if postgres_bin() is None:
        return "needs PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "runs as root but there is no 'postgres' OS user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "runs as root and needs runuser to run PostgreSQL as 'postgres'"
    return None


class PostgresCluster:
    """A throwaway PostgreSQL cluster on a free port (PostgreSQL refuses to run as root,
    so as root its commands run as the 'postgres' user, in a directory that user owns)."""

    def __init__(self) -> None:
        bin_dir = postgres_bin()
        assert bin_dir is not None
        self.bin = bin_dir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="csrisk-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgres.log"
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/csrisk_faults"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *args], check=True, capture_output=True, text=True, cwd=self.dir, timeout=120
        )

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--no-sync")  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c max_connections=50"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
                  "-o", options, "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, mode: str = "immediate") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self) -> None:
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres"
        )
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("CREATE DATABASE csrisk_faults")
        conn.close()

    def query(self, sql: str) -> tuple:
        return self.rows(sql)[0]

    def rows(self, sql: str) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="csrisk_faults"
        )
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            conn.close()

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.logfile.read_text()[-chars:]
        except OSError:
            return ""

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class OidcProvider:
    """A real OpenID Connect provider (the oidc-provider-mock package) in its own process,
    on a free loopback port: discovery, authorize, token, userinfo, JWKS, end_session."""

    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed by stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "oidc_provider_mock", "--port", str(self.port)],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                discovery = f"{self.issuer}/.well-known/openid-configuration"
                urllib.request.urlopen(discovery, timeout=1).read()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"oidc-provider-mock exited: {self.log_tail()}") from None
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("oidc-provider-mock did not answer its discovery document")

    def put_user(self, sub: str, claims: dict) -> None:
        """Sets the claims the provider gives ``sub`` (its users are whoever the form names)."""
        request = urllib.request.Request(
            f"{self.issuer}/users/{sub}",
            data=json.dumps(claims).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=5).read()

    def log_tail(self, chars: int = 3000) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-chars:]

    def stop(self) -> None:
        stop(self.proc)
        self.log.close()
