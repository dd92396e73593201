"""Throwaway PostgreSQL and Redis servers that a test may stop and start again.

Fault tests (the database or Redis going down, then coming back) must never stop
the machine's shared servers, which the rest of the suite is using. These start a
server of their own on a free port, in a temporary folder, from the same Debian
packages: PostgreSQL 15's ``initdb``/``pg_ctl`` (run as the ``postgres`` user when
the tests run as root, since PostgreSQL refuses to run as root) and
``redis-server``.

Both are context managers yielding a small handle with ``url``, ``stop()`` and
``start()``; everything is stopped and removed on exit. :func:`unavailable_reason`
says why one cannot be started here (the caller skips, or fails where CI requires).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob(PG_BIN_GLOB))
    return Path(found[-1]) if found else None


def unavailable_reason(what: str) -> str | None:
    """Return why a throwaway ``"postgresql"`` or ``"redis"`` cannot be started
    here, or None when it can."""
    if what == "postgresql":
        pg_bin = _pg_bin()
        if pg_bin is None or not (pg_bin / "initdb").exists():
            return "PostgreSQL server binaries not found under /usr/lib/postgresql"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres user to run PostgreSQL as"
        return None
    if what == "redis":
        return None if shutil.which("redis-server") else "redis-server not found on PATH"
    raise ValueError(what)


def _wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class ThrowawayPostgres:
    """A PostgreSQL cluster of one test: ``url`` names its ``postgres`` database."""

    data_dir: Path
    port: int
    pg_bin: Path
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.pg_bin / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-l", str(self.data_dir / "log"),
                  "-o", f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1",
                  "start")
        _wait_for_port(self.port)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate)."""
        self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-m", mode, "stop")


@contextmanager
def postgres():
    """Yield a started :class:`ThrowawayPostgres`; stop and remove it afterwards."""
    pg_bin = _pg_bin()
    run_as = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="diary-pg-"))
    data_dir = base / "data"
    data_dir.mkdir()
    if run_as:
        user = pwd.getpwnam(run_as)
        for path in (base, data_dir):
            os.chown(path, user.pw_uid, user.pw_gid)
    server = ThrowawayPostgres(data_dir, free_port(), pg_bin, run_as)
    try:
        server._run("initdb", "-D", str(data_dir), "-U", "postgres", "--auth=trust",
                    "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
        with open(data_dir / "postgresql.conf", "a") as conf:
            # A test cluster: no durability wanted, quick to stop.
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        server.start()
        yield server
    finally:
        try:
            server.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class ThrowawayRedis:
    """A redis-server of one test, keeping nothing on disk."""

    port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_for_port(self.port)

    def stop(self) -> None:
        """Kill the server and wait for it to be gone."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis():
    """Yield a started :class:`ThrowawayRedis`; stop it afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="diary-redis-"))
    server = ThrowawayRedis(free_port(), workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
