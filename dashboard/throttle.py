"""Counting failed logins per username and per client address, and locking either out.

The counts live in Django's cache, so they work with the local-memory cache in one process and
are shared between processes through Redis. The address is REMOTE_ADDR as the WSGI server sets
it. Behind a reverse proxy that is the proxy's own address, so every client would share one count:
the deployment must then have the server put the client's address in REMOTE_ADDR. X-Forwarded-For
is not read, because any client can send it.
"""

import hashlib
import logging
import math
import time
import unicodedata

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

USERNAME = "username"
ADDRESS = "address"


def _now():
    """Return the current Unix time in seconds. Tests patch this function to move the clock."""
    return time.time()


def lockout_seconds(*, username, address):
    """Return how many seconds the username or the address stays locked out, or 0."""
    now = _now()
    locked_until = [
        cache.get(_key("lockout", USERNAME, username)) or 0,
        cache.get(_key("lockout", ADDRESS, address)) or 0,
    ]
    return max(0, math.ceil(max(locked_until) - now))


def record_failure(*, username, address):
    """Count one failed login, and lock out the username or the address that reaches its limit."""
    limits = {
        USERNAME: (username, settings.LOGIN_FAILURE_LIMIT_PER_USERNAME),
        ADDRESS: (address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
    }
    for kind, (value, limit) in limits.items():
        failures = _increment(_key("failures", kind, value))
        if failures >= limit:
            _lock_out(kind, value, failures, username=username, address=address)


def reset_username(*, username):
    cache.delete(_key("failures", USERNAME, username))


def _increment(key):
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    # The window starts at the first failure: add() sets its expiry, and incr() keeps it.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:
        # The count expired between add() and incr().
        cache.set(key, 1, timeout=window)
        return 1


def _lock_out(kind, value, failures, *, username, address):
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    cache.set(_key("lockout", kind, value), _now() + window, timeout=window)
    # Cleared now, so counting starts again from zero when the lockout ends.
    cache.delete(_key("failures", kind, value))
    logger.warning(
        "Login lockout for %d s after %d failed attempts per %s: username %r, address %s",
        window,
        failures,
        kind,
        username,
        address,
    )


def _key(purpose, kind, value):
    """Return a cache key that is safe for any backend, whatever characters the value has."""
    if kind == USERNAME:
        # The login form applies NFKC too. Case is ignored, so "Maya" counts against "maya".
        value = unicodedata.normalize("NFKC", value).casefold()
    digest = hashlib.sha256(value.encode()).hexdigest()
    return f"login-{purpose}:{kind}:{digest}"
