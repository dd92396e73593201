#!/bin/sh
# Serve one Diary instance with granian's WSGI server (see docs/deploy.md).
#
#     deploy/granian.sh
#
# Diary's own settings come from DIARY_* variables (src/diary/config.py). granian
# reads its own from GRANIAN_* variables; this script sets Diary's defaults for the
# ones below (an operator's value wins) and fixes the rest on the command line:
#
#   GRANIAN_HOST, GRANIAN_PORT     address to listen on (127.0.0.1, 8000)
#   GRANIAN_UDS                    or a unix socket instead (nginx on the same host)
#   GRANIAN_WORKERS                worker processes (default: the number of CPU cores)
#   GRANIAN_BLOCKING_THREADS       threads per worker that run the app (4)
#   GRANIAN_WORKERS_KILL_TIMEOUT   seconds requests in flight get to finish after
#                                  SIGTERM or SIGHUP before a worker is killed (30)
#   GRANIAN_LOG_LEVEL              granian's own messages (info)
#   GRANIAN                        the granian program (granian on PATH: the
#                                  virtual environment's bin/ first on PATH)
#
# Several workers of one instance, like several instances, need DIARY_REDIS_URL
# (shared rate limits and sessions) and PostgreSQL: production mode refuses to start
# otherwise (docs/deploy.md, "Start refusals").
set -eu

# Workers: granian runs each request on a thread of a worker's pool while its own
# Rust threads read and write the sockets, so a request waiting on PostgreSQL or
# Redis leaves its core to another thread: one worker per core keeps the cores
# busy. Each worker keeps its own SQLAlchemy pool: workers x instances x
# (pool_size + max_overflow) must stay below PostgreSQL's max_connections.
GRANIAN_WORKERS="${GRANIAN_WORKERS:-$(nproc 2>/dev/null || echo 2)}"
case "$GRANIAN_WORKERS" in
    '' | *[!0-9]* | 0*)
        echo "deploy/granian.sh: GRANIAN_WORKERS must be a whole number of at least 1, not '$GRANIAN_WORKERS'" >&2
        exit 2 ;;
esac
# The app learns how many processes serve it, so that production mode refuses
# DIARY_SINGLE_PROCESS=true with several workers (diary.production).
DIARY_SERVER_PROCESSES="$GRANIAN_WORKERS"
# Graceful shutdown: on SIGTERM (systemd stop, deploy) or SIGHUP (reload: workers
# replaced one by one) workers stop accepting and finish the requests in flight;
# a worker still busy after this many seconds is killed.
GRANIAN_WORKERS_KILL_TIMEOUT="${GRANIAN_WORKERS_KILL_TIMEOUT:-30}"
# Threads per worker that run the app (the rest of granian is Rust threads that
# read and write the sockets): while one waits on PostgreSQL or Redis, another
# renders. Four, as many as gunicorn's gthread worker in bench/servers, and well
# below the SQLAlchemy pool of each worker (5 + 10 overflow connections): granian's
# own default for WSGI (half its per-worker backpressure, 256 with 2 workers) would
# let a burst start more requests than the pool has connections, and the extra
# ones wait for a connection inside the app (30 s, then an error) instead of in
# granian's queue.
GRANIAN_BLOCKING_THREADS="${GRANIAN_BLOCKING_THREADS:-4}"
export GRANIAN_WORKERS DIARY_SERVER_PROCESSES GRANIAN_WORKERS_KILL_TIMEOUT GRANIAN_BLOCKING_THREADS

# A refused start (diary.production) stops here with its one-line reason and exit
# status 1, before any worker starts: granian loads the app in each worker, where
# a refusal would only show as a traceback per worker. create_app opens no
# connection, so this costs one import of the app (by the Python of granian's
# virtual environment).
GRANIAN="${GRANIAN:-granian}"
"$(dirname "$(command -v "$GRANIAN")")/python" -c 'import sys
from diary import create_app
from diary.production import StartRefused
try:
    create_app()
except StartRefused as refused:
    sys.exit("Error: " + refused.message)'

# --interface wsgi --factory: granian calls diary:create_app() in each worker, after
#     the worker process is made, so no database or Redis connection is ever shared
#     between processes.
# --respawn-failed-workers: a worker that dies (a crash, the kernel's OOM killer)
#     is replaced; without it granian stops altogether. A worker that fails again
#     within seconds of being replaced stops granian (a crash loop).
# --no-access-log: granian's prints the raw request line, and reset, confirmation
#     and change-email tokens travel in Flask-Security's URL paths. Diary writes its
#     own access record per request, by route pattern, with the request id
#     (docs/logging.md) to stderr; granian's own messages (start, workers replaced)
#     go to stdout: journald or the container runtime collects both.
# --no-ws: Diary has no websockets.
# X-Forwarded-For/-Proto are the app's business: DIARY_TRUSTED_PROXIES=1 (ProxyFix).
# Request bodies are limited by nginx (client_max_body_size) and by the app
# (DIARY_MAX_CONTENT_LENGTH).
exec "$GRANIAN" --interface wsgi --factory --respawn-failed-workers \
    --no-access-log --no-ws 'diary:create_app'
