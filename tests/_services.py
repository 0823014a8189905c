"""Throwaway Redis and PostgreSQL servers for the tests that need a real one.

Both run from the binaries Debian's packages install (``redis-server``; ``postgresql``'s
``initdb``/``postgres``), bound to loopback on a free port, with all their files in a
temporary directory that is removed afterwards. ``.ci/run`` installs the packages when
they are missing; without them the tests that ask for a server are skipped.

Each server object can be stopped and started again on the same port and data directory,
so outage tests can take it away mid-run and bring it back.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not accept connections on port {port} within {START_TIMEOUT}s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


# --------------------------------------------------------------------------- Redis


def redis_binary() -> str | None:
    return shutil.which("redis-server") or next(iter(glob.glob("/usr/bin/redis-server")), None)


class RedisServer:
    """``redis-server`` on 127.0.0.1:<port>, no persistence, data dir in a temp folder."""

    def __init__(self) -> None:
        binary = redis_binary()
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.binary = binary
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="patera-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--protected-mode", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.proc, "redis-server")

    def stop(self) -> None:
        _stop(self.proc)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> str | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "postgres")) and os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    postgres = shutil.which("postgres")
    return os.path.dirname(os.path.realpath(postgres)) if postgres else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1:<port> (trust auth, user ``postgres``).

    PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs to
    the ``postgres`` system user (created by Debian's package) and is run through ``runuser``.
    """

    user = "postgres"
    database = "patera_test"

    def __init__(self) -> None:
        bindir = postgres_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bindir = bindir
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="patera-pg-")
        self.data = os.path.join(self.dir, "data")
        self.proc: subprocess.Popen[bytes] | None = None
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.dir, 0o700)
            self._as_user = ["runuser", "-u", "postgres", "--"]
        self._run([os.path.join(bindir, "initdb"), "-D", self.data, "-U", self.user, "-A", "trust",
                   "-E", "UTF8", "--no-sync", "--locale", "C"])

    def _run(self, argv: list[str]) -> None:
        subprocess.run(self._as_user + argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def url(self, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*self._as_user, os.path.join(self.bindir, "postgres"), "-D", self.data, "-p", str(self.port),
                             "-h", "127.0.0.1", "-k", self.dir, "-F",
                             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                             "-c", "max_connections=300"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port, self.proc, "postgres")
        # Accepting TCP is not the same as accepting logins: wait until a query runs.
        psql = os.path.join(self.bindir, "psql")
        if not os.path.exists(psql):
            psql = shutil.which("psql") or "psql"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            done = subprocess.run(
                [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "postgres", "-tAc",
                 f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"],
                capture_output=True, text=True,
            )
            if done.returncode == 0:
                if done.stdout.strip() != "1":
                    subprocess.run(
                        [psql, "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", "postgres",
                         "-c", f"CREATE DATABASE {self.database}"],
                        check=True, capture_output=True,
                    )
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not accept logins: {done.stderr}")
            time.sleep(0.1)

    def stop(self) -> None:
        # SIGINT = "fast" shutdown: open sessions are ended, which is what an outage looks like.
        # NOTE: runuser does not forward SIGINT, so the postmaster (its pid is the first line of
        # postmaster.pid) is signalled directly; otherwise it outlives the test run.
        if self.proc is not None and self.proc.poll() is None and self._as_user:
            with contextlib.suppress(OSError, ValueError), open(os.path.join(self.data, "postmaster.pid")) as pidfile:
                os.kill(int(pidfile.readline().strip()), signal.SIGINT)
        _stop(self.proc, signal.SIGINT)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def redis_service() -> Iterator[RedisServer]:
    """One Redis for the whole run; tests isolate themselves by key prefix or ``FLUSHDB``."""
    if redis_binary() is None:
        pytest.skip("needs redis-server (Debian package redis-server)")
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_service() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole run; tests isolate themselves by table/schema."""
    if postgres_bindir() is None:
        pytest.skip("needs PostgreSQL (Debian package postgresql)")
    with postgres_server() as server:
        yield server
