"""gunicorn settings for one Diary instance (see docs/deploy.md).

    gunicorn -c deploy/gunicorn.conf.py 'diary:create_app()'

Diary's own settings come from DIARY_* variables (src/diary/config.py). The few
below belong to gunicorn, not to the app, and are read here from the environment:

    GUNICORN_BIND                  address:port to listen on (127.0.0.1:8000);
                                   several, separated by commas
    WEB_CONCURRENCY                worker processes (gunicorn's own variable;
                                   default 2 x CPU cores + 1)
    GUNICORN_THREADS               threads per worker (1: the sync worker)
    GUNICORN_TIMEOUT               seconds a worker may stay silent before the
                                   master kills and replaces it (30)
    GUNICORN_GRACEFUL_TIMEOUT      seconds requests in flight get to finish after
                                   SIGTERM or a restart (30)
    GUNICORN_FORWARDED_ALLOW_IPS   proxies whose X-Forwarded-Proto gunicorn trusts
                                   (127.0.0.1: nginx on the same host)

Several workers of one instance, like several instances, need DIARY_REDIS_URL
(shared rate limits and sessions) and PostgreSQL: production mode refuses to start
otherwise (docs/deploy.md, "Start refusals").
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    """Return the environment variable ``name`` as a positive int, or ``default``.

    Raises ValueError (gunicorn stops with it) when it is set but not a positive
    whole number, so a typo never silently becomes the default.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    value = int(raw)
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {raw!r}")
    return value


bind = [part.strip() for part in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
        if part.strip()]

# Workers: Diary's requests wait on PostgreSQL and Redis and spend their CPU in
# Jinja and, at sign-in, in the password hash (argon2). A sync worker holds one
# request at a time, so while one waits on the database the core is free for
# another worker: gunicorn's own rule of thumb, 2 x cores + 1, keeps the cores busy
# ("cores" alone would leave a core idle during every database round trip) without
# many more processes than cores to switch between. Each worker is a whole Python
# process with the app loaded: on a small-memory host, set fewer. Each worker keeps its own SQLAlchemy pool: workers x
# instances x (pool_size + max_overflow) must stay below PostgreSQL's
# max_connections.
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
# The app learns how many processes serve it, so that production mode refuses
# DIARY_SINGLE_PROCESS=true with several workers (diary.production).
os.environ["DIARY_SERVER_PROCESSES"] = str(workers)

# The sync worker: one request per process at a time, no shared state between
# requests of one process, and nginx in front buffers slow clients (the reason the
# sync worker must not face the Internet directly). With GUNICORN_THREADS > 1
# gunicorn uses the gthread worker instead (issue 13 measures the two).
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# A request that takes longer than this is stuck (a database statement has its own,
# shorter timeout): the master kills the worker and starts another.
timeout = _int("GUNICORN_TIMEOUT", 30)
# Graceful shutdown: on SIGTERM (systemd stop, deploy) or SIGHUP (reload) workers
# stop accepting, finish the requests in flight within this many seconds, then exit.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Seconds an idle keep-alive connection from nginx is held (gthread only; the sync
# worker closes every connection after its response).
keepalive = 5

# nginx on the same host sets X-Forwarded-Proto; gunicorn believes it only from
# these addresses. The client's address (X-Forwarded-For) is the app's business:
# DIARY_TRUSTED_PROXIES=1 (ProxyFix), see docs/deploy.md.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# No access log: gunicorn's prints the raw request line, and reset, confirmation
# and change-email tokens travel in Flask-Security's URL paths. Diary writes its own
# access record per request, by route pattern, with the request id
# (docs/logging.md).
accesslog = None
# gunicorn's own messages (start, worker restarts, timeouts) and Diary's log, which
# goes to the WSGI error stream, on stderr: journald or the container runtime
# collects it.
errorlog = "-"
loglevel = "info"

# The app is loaded once, in the master, before the workers are forked: a refused
# start (diary.production) stops gunicorn with its one-line reason and exit status
# 1, instead of a traceback from every worker. create_app opens no connection (the
# database and Redis pools fill on first use), so no socket is shared across the
# fork; post_fork below empties the database pool in each worker all the same.
preload_app = True
proc_name = "diary"
# Worker heartbeat files on a memory file system where there is one (a disk-backed
# /tmp can stall the heartbeat and get healthy workers killed).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def post_fork(server, worker):
    """Start each worker with an empty database pool (SQLAlchemy's rule for forked
    processes: connections made before a fork must not be used on both sides)."""
    from diary.extensions import db

    with worker.app.wsgi().app_context():
        db.engine.dispose(close=False)
