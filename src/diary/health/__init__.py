"""``/healthz`` and ``/readyz``: the health endpoints for load balancers and
monitors (issue 12). The checks are :mod:`diary.services.health`.

They take no credential (:mod:`diary.pipeline`), set no cookie, count against no
rate limit and are not redirected to HTTPS: a load balancer probes each instance
over plain HTTP on its own port. Their answers name each check and ``ok`` or
``failing``, nothing else: no version, host name or error.
"""

from flask import Blueprint

from diary.extensions import limiter

bp = Blueprint("health", __name__)
# A monitor polls these every few seconds from one address: no limit may count it.
limiter.exempt(bp)

from diary.health import views  # noqa: E402,F401  (routes register on import)
