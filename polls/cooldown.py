"""The pause that Cloudflare requests with a 429, shared through the cache by every process."""

import math
import time

from django.core.cache import cache

# Cloudflare blocks a token for 5 minutes once it passes 1,200 requests in 5 minutes; a 429
# without a usable Retry-After waits that long.
DEFAULT_COOLDOWN_SECONDS = 300


class Cooldown:
    """Until when calls to Cloudflare with one organisation's token are held back."""

    def __init__(self, organisation_id):
        self.key = f"cloudflare-cooldown:{organisation_id}"

    def remaining_seconds(self):
        until = cache.get(self.key)
        return max(0.0, until - time.time()) if until else 0.0

    def start(self, seconds):
        seconds = DEFAULT_COOLDOWN_SECONDS if seconds is None else seconds
        until = max(time.time() + seconds, cache.get(self.key) or 0)
        cache.set(self.key, until, timeout=math.ceil(until - time.time()) + 1)
