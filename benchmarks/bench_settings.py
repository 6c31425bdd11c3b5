"""Settings for the dashboard that the benchmark starts: the soak test's settings, plus a
middleware that reports each request's server time, and a baseline view in the URLs.

The timing middleware comes first, so the time it reports covers every other middleware, the
view and the template rendering, but not gunicorn's own work or the network.
"""

from benchmarks.soak_settings import *  # noqa: F403
from benchmarks.soak_settings import MIDDLEWARE

MIDDLEWARE = ["benchmarks.bench_middleware.ServerTimingMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "benchmarks.bench_urls"
