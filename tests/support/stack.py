"""Diary as deployed: nginx (deploy/nginx.conf) in front of gunicorn instances
(deploy/gunicorn.conf.py) sharing a throwaway PostgreSQL and Redis.

Used by tests/deploy/test_two_instances.py and bench/load. :func:`stack` starts
everything in a temporary folder of its own (ports, pid file, logs, a throwaway TLS
certificate made with the ``openssl`` command) and stops it all on exit. The nginx
site is the shipped file with only its addresses, certificate, static folder and
log paths substituted (:func:`site_config`), so the tests run what operators get.

Which instance served a request is read from the instances' own logs: nginx passes
its ``$request_id`` to the app as ``X-Request-ID``, the app answers it and writes it
on its access record (docs/logging.md); :meth:`Stack.served_by` finds the id in each
instance's stderr.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import throwaway

ROOT = Path(__file__).resolve().parents[2]
NGINX = "/usr/sbin/nginx"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
NGINX_SITE = ROOT / "deploy" / "nginx.conf"
STATIC = ROOT / "src" / "diary" / "static"
BIN = Path(sys.executable).parent


def unavailable_reason() -> str | None:
    """Return why the stack cannot run here (a missing program), or None."""
    if not os.access(NGINX, os.X_OK):
        return f"nginx not found at {NGINX} (Debian package nginx)"
    if not shutil.which("openssl"):
        return "openssl not found on PATH"
    if not (BIN / "gunicorn").exists():
        return f"gunicorn not installed next to {sys.executable}"
    return throwaway.unavailable_reason("postgresql") or throwaway.unavailable_reason("redis")


def secrets_env() -> dict[str, str]:
    """Return a fresh set of the four production secrets as DIARY_* variables."""
    from diary.instance_secrets import GENERATORS

    env = {}
    for name, make in GENERATORS.items():
        value = make()
        env[f"DIARY_{name}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def site_config(upstreams: list[int], https_port: int, http_port: int, cert: Path,
                key: Path, logs: Path) -> str:
    """Return deploy/nginx.conf with its example addresses and paths replaced.

    Raises AssertionError when a part to replace is missing from the file, so a
    change of the shipped file's shape is noticed rather than silently run as is.
    """
    text = NGINX_SITE.read_text()
    upstream_lines = re.findall(r"^\s*server 10\.0\.0\.\d+:8000 (.*);$", text, re.M)
    assert len(upstream_lines) == 2, "deploy/nginx.conf: expected two example upstreams"
    servers = "".join(f"    server 127.0.0.1:{port} {upstream_lines[0]};\n" for port in upstreams)
    text, count = re.subn(r"(?:^\s*server 10\.0\.0\.\d+:8000 .*;\n)+", servers, text, flags=re.M)
    assert count == 1
    replacements = [
        (r"^\s*listen \[::\]:(80|443)[^;]*;\n", ""),
        (r"listen 80;", f"listen 127.0.0.1:{http_port};"),
        (r"listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        (r"server_name diary\.example\.org;", "server_name localhost;"),
        (r"/etc/letsencrypt/live/diary\.example\.org/fullchain\.pem", str(cert)),
        (r"/etc/letsencrypt/live/diary\.example\.org/privkey\.pem", str(key)),
        (r"/var/log/nginx/", f"{logs}/"),
        (r"alias [^;]*/diary/static/;", f"alias {STATIC}/;"),
    ]
    for pattern, replacement in replacements:
        text, count = re.subn(pattern, replacement, text, flags=re.M)
        assert count, f"deploy/nginx.conf: nothing matches {pattern!r}"
    return text


def main_config(prefix: Path, site: Path) -> str:
    """Return an nginx main configuration around ``site``, everything in ``prefix``."""
    temp = {name: prefix / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    return f"""daemon off;
user {getpass.getuser()};
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp['body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include {site};
}}
"""


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """Make a throwaway self-signed certificate for localhost; return (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    return cert, key


@dataclass
class Instance:
    """One gunicorn instance: its port, its stderr log file and its process."""

    name: str
    port: int
    log: Path
    env: dict[str, str]
    process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start gunicorn and wait until /healthz answers on its port.

        Raises RuntimeError (with the end of its log) when it exits or does not
        answer within 60 s.
        """
        import urllib.request

        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONF), "diary:create_app()"],
                env=self.env | {"GUNICORN_BIND": f"127.0.0.1:{self.port}"},
                stdout=log, stderr=log, cwd=ROOT, start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} does not answer: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole instance (master and workers) and wait for it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the instance gracefully (SIGTERM), or kill it after 15 s."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.process:
            try:  # workers left behind by a master that died first
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class Stack:
    """The running deployment; talk to it at ``url`` with ``verify=ca``."""

    url: str
    http_url: str
    ca: Path
    instances: list[Instance]
    postgres: throwaway.ThrowawayPostgres
    redis: throwaway.ThrowawayRedis
    env: dict[str, str]
    folder: Path

    @property
    def nginx_access_log(self) -> Path:
        """The site's access log (deploy/nginx.conf's format, in the stack's folder)."""
        return self.folder / "diary.access.log"

    def served_by(self, request_id: str) -> str | None:
        """Return the name of the instance whose log has ``request_id``, or None."""
        for instance in self.instances:
            if request_id in instance.log.read_text(errors="replace"):
                return instance.name
        return None

    def app_config(self) -> dict:
        """Return a create_app mapping for this stack's database, Redis and secrets
        (to prepare data in-process)."""
        config = {"DATABASE_URL": self.postgres.url, "REDIS_URL": self.redis.url}
        for name, value in self.env.items():
            if name.startswith("DIARY_SECURITY_") or name == "DIARY_SECRET_KEY":
                key = name.removeprefix("DIARY_")
                config[key] = value if key in ("SECRET_KEY", "SECURITY_PASSWORD_SALT") \
                    else json.loads(value)
        return config


def _run(command: list[str], **kwargs) -> None:
    """Run ``command``; raise RuntimeError with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout}{done.stderr}")


def _wait_for_file(path: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"nginx did not start: {log.read_text() if log.exists() else ''}")
        time.sleep(0.05)


@contextmanager
def stack(instances: int = 2, workers: int = 2, settings: dict[str, str] | None = None):
    """Yield a started :class:`Stack` of ``instances`` gunicorn instances with
    ``workers`` sync workers each, production mode (DIARY_HTTPS=true) behind nginx,
    ``settings`` added to their environment; stop and remove everything on exit."""
    with ExitStack() as cleanup:
        folder = Path(tempfile.mkdtemp(prefix="diary-stack-"))
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        pg = cleanup.enter_context(throwaway.postgres())
        rd = cleanup.enter_context(throwaway.redis())
        https_port, http_port = throwaway.free_port(), throwaway.free_port()
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("DIARY_", "GUNICORN_", "FLASK_"))}
        env |= secrets_env() | {
            "DIARY_HTTPS": "true",
            "DIARY_DATABASE_URL": pg.url,
            "DIARY_REDIS_URL": rd.url,
            "DIARY_TRUSTED_PROXIES": "1",
            "DIARY_BASE_URL": f"https://localhost:{https_port}",
            "DIARY_MAIL_FILE_PATH": str(folder / "mail"),  # mails saved as .eml files
            "DIARY_LOG_FORMAT": "json",
            "WEB_CONCURRENCY": str(workers),
        } | (settings or {})
        _run([str(BIN / "flask"), "--app", "diary", "db", "upgrade"], env=env, cwd=folder)

        started = []
        for number in range(instances):
            instance = Instance(f"instance-{number + 1}", throwaway.free_port(),
                                folder / f"instance-{number + 1}.log", env)
            cleanup.callback(instance.stop)
            instance.start()
            started.append(instance)

        cert, key = make_certificate(folder)
        site = folder / "diary-site.conf"
        site.write_text(site_config([i.port for i in started], https_port, http_port,
                                    cert, key, folder))
        conf = folder / "nginx.conf"
        conf.write_text(main_config(folder, site))
        _run([NGINX, "-t", "-q", "-p", str(folder), "-c", str(conf)])
        nginx = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(conf)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def stop_nginx():
            nginx.terminate()
            nginx.wait(timeout=10)

        cleanup.callback(stop_nginx)
        _wait_for_file(folder / "nginx.pid", nginx, folder / "error.log")
        throwaway._wait_for_port(https_port)
        yield Stack(f"https://localhost:{https_port}", f"http://localhost:{http_port}",
                    cert, started, pg, rd, env, folder)


# Run inside the stack's environment: the app as the instances run it.
_CREATE_USERS = """
import json, sys
from datetime import timedelta
from flask_security import hash_password
from flask_security.utils import naive_utcnow
from diary import create_app
from diary.extensions import db
from diary.models.types import Strength
from diary.security.core import security
from diary.services import tokens

wanted, scopes = json.loads(sys.argv[1]), json.loads(sys.argv[2])
app = create_app()
secrets = {}
with app.test_request_context():
    for email, password in wanted:
        user = security.datastore.create_user(
            email=email, password=hash_password(password), roles=["Writer"],
            confirmed_at=naive_utcnow())
        db.session.commit()
        if scopes:
            made = tokens.create_token(user, "load", scopes, timedelta(days=1),
                                       strength=Strength.PASSWORD)
            db.session.commit()
            secrets[email] = made.secret
print(json.dumps(secrets))
"""


def create_users(running: Stack, users: list[tuple[str, str]],
                 token_scopes: tuple[str, ...] = ()) -> dict[str, str]:
    """Create confirmed Writer accounts ``(email, password)`` in the stack's database;
    with ``token_scopes``, also a personal access token each. Return email -> token
    secret (empty without scopes). Raises CalledProcessError when that fails."""
    done = subprocess.run([sys.executable, "-c", _CREATE_USERS, json.dumps(users),
                           json.dumps(list(token_scopes))],
                          env=running.env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
