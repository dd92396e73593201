"""granian serving Diary as shipped: deploy/granian.sh, the recommended server (issue 13).

Behind the shipped deploy/nginx.conf in production mode, on a throwaway PostgreSQL
and Redis (tests/support/stack.py), it must answer /healthz and a signed-in page,
write no access log of its own, and replace a worker that dies. Started on its own,
it must keep the start refusals that deploy/gunicorn.conf.py gives: the app learns
the worker count, so DIARY_SINGLE_PROCESS=true with two workers is refused in one
line with exit status 1; a bad worker count stops it too.

Skipped where nginx, openssl, granian or PostgreSQL's server programs are missing;
failed instead when DIARY_E2E_REQUIRED is set (CI). It uses its own servers, so it
runs the same in the suite's SQLite and PostgreSQL passes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.support import stack as deployment
from tests.support import throwaway

pytestmark = pytest.mark.deploy

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
EMAIL, PASSWORD = "gran@example.org", "served by granian, signed in"
GRANIAN = deployment.BIN / "granian"


def skip_or_fail(reason: str | None) -> None:
    if reason:
        if os.environ.get("DIARY_E2E_REQUIRED"):
            pytest.fail(f"DIARY_E2E_REQUIRED is set but {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def site():
    skip_or_fail(deployment.unavailable_reason("granian"))
    with deployment.stack(instances=1, workers=2, server="granian") as running:
        deployment.create_users(running, [(EMAIL, PASSWORD)])
        yield running


def children(pid: int) -> set[int]:
    """Return the process ids whose parent is ``pid`` (read from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def test_granian_serves_healthz_and_a_signed_in_page_behind_nginx(site):
    verify = str(site.ca)
    health = requests.get(site.url + "/healthz", verify=verify, timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}

    browser = requests.Session()
    form = browser.get(site.url + "/login", verify=verify, timeout=10)
    token = CSRF_RE.search(form.text).group(1)
    signed = browser.post(site.url + "/login", verify=verify, timeout=30, allow_redirects=False,
                          data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                          headers={"Referer": site.url + "/login"})
    assert signed.status_code == 302, signed.text[:500]
    # The session cookie is Secure: it only comes back because the app saw HTTPS
    # (X-Forwarded-Proto through DIARY_TRUSTED_PROXIES) under granian too.
    page = browser.get(site.url + "/", verify=verify, timeout=10, allow_redirects=False)
    assert page.status_code == 200 and "Your entries" in page.text

    # Diary's own access record is written (by request id); granian writes none, so
    # the token in a path never reaches the log.
    reset = requests.get(site.url + "/reset/not-a-real-token-7c1e", verify=verify,
                         allow_redirects=False, timeout=10)
    log = site.instances[0].log.read_text(errors="replace")
    assert page.headers["X-Request-ID"] in log and reset.headers["X-Request-ID"] in log
    assert "not-a-real-token-7c1e" not in log


def test_granian_replaces_a_worker_that_dies(site):
    main = site.instances[0].process.pid
    workers = children(main)
    assert len(workers) == 2, workers
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = children(main)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"granian did not replace worker {victim}: {children(main)}")
    assert site.instances[0].process.poll() is None
    for _ in range(4):  # both workers answer (nginx keeps no favourite)
        health = requests.get(site.url + "/healthz", verify=str(site.ca), timeout=10)
        assert health.status_code == 200


def start_script(env: dict[str, str], tmp_path) -> tuple[subprocess.Popen, int, Path]:
    """Start deploy/granian.sh with Diary's settings ``env`` on a free port; return
    its process, the port and the file its output goes to (granian's own messages
    on stdout, Diary's log and a refusal on stderr)."""
    skip_or_fail(None if GRANIAN.exists() else f"granian not installed next to {GRANIAN.parent}")
    port = throwaway.free_port()
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("DIARY_", "FLASK_", "GRANIAN_"))}
    environment |= {"DIARY_INSTANCE_PATH": str(tmp_path / "instance"), "GRANIAN": str(GRANIAN),
                    "GRANIAN_HOST": "127.0.0.1", "GRANIAN_PORT": str(port)}
    environment |= env
    output = tmp_path / "output"
    with open(output, "wb") as out:
        process = subprocess.Popen([str(deployment.GRANIAN_SCRIPT)], env=environment,
                                   cwd=deployment.ROOT, stdout=out, stderr=out,
                                   start_new_session=True)
    return process, port, output


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the script's process group (granian and its workers) and wait."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_script(env: dict[str, str], tmp_path) -> tuple[int, str]:
    """Run deploy/granian.sh until it exits (60 s at most); return its exit status
    and output."""
    process, _, stderr = start_script(env, tmp_path)
    try:
        status = process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        stop(process)
        pytest.fail(f"deploy/granian.sh kept running: {stderr.read_text()[-2000:]}")
    return status, stderr.read_text()


def test_granian_refuses_one_process_with_several_workers(tmp_path):
    env = deployment.secrets_env() | {"DIARY_HTTPS": "true", "DIARY_SINGLE_PROCESS": "true",
                                      "GRANIAN_WORKERS": "2"}
    status, stderr = run_script(env, tmp_path)
    assert status == 1, stderr
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if line.strip()]
    assert line.startswith("Error: Diary refuses to start in production (DIARY_HTTPS=true): ")
    assert "DIARY_SINGLE_PROCESS=true, but the server runs 2 worker processes" in line


def test_granian_with_one_worker_serves_one_process_diary(tmp_path):
    env = deployment.secrets_env() | {"DIARY_HTTPS": "true", "DIARY_SINGLE_PROCESS": "true",
                                      "GRANIAN_WORKERS": "1"}
    process, port, stderr = start_script(env, tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, stderr.read_text()
            try:
                health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, stderr.read_text()
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
    finally:
        stop(process)
    assert "Spawning worker-1" in stderr.read_text()
    assert "worker-2" not in stderr.read_text()


@pytest.mark.parametrize("value", ["0", "-2", "three", " 2"])
def test_a_bad_worker_count_stops_granian(tmp_path, value):
    status, stderr = run_script({"GRANIAN_WORKERS": value}, tmp_path)
    assert status == 2, stderr
    assert "GRANIAN_WORKERS must be a whole number of at least 1" in stderr
