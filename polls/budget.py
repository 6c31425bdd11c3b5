"""The rate-limit budget that Cloudflare reported on its latest response, per organisation.

Readings live in the cache, so every process reads the latest one when the cache is shared
(Redis with REDIS_URL). Without REDIS_URL each process keeps its own.
"""

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from polls.cooldown import Cooldown


@dataclass(frozen=True)
class BudgetReading:
    """One organisation's latest rate-limit reading, with times as Unix timestamps."""

    remaining: int
    quota: int | None
    window_seconds: int | None
    resets_at: float
    read_at: float


class RateBudget:
    """The latest rate-limit reading for one organisation's API token, kept in the cache."""

    def __init__(self, organisation_id):
        self.key = f"cloudflare-rate-budget:{organisation_id}"

    def record(self, rate_limit):
        """Store a RateLimit that a response just reported, replacing the earlier reading."""
        now = time.time()
        reading = {
            "remaining": rate_limit.remaining,
            "quota": rate_limit.quota,
            "window_seconds": rate_limit.window_seconds,
            "resets_at": now + rate_limit.reset_seconds,
            "read_at": now,
        }
        # Kept with no expiry, so a reading from a window that has ended can still be shown.
        cache.set(self.key, reading, timeout=None)

    def latest(self):
        """Return the latest BudgetReading, or None when no response has reported one."""
        stored = cache.get(self.key)
        return BudgetReading(**stored) if stored else None


@dataclass(frozen=True)
class BudgetStatus:
    """The sentences that the Connection page shows admins about calls to Cloudflare."""

    freshness: str
    budget: str
    cooldown: str


def status_for(organisation):
    """Describe the organisation's rate-limit budget and cooldown from the cache alone.

    Never calls Cloudflare, so opening the page costs no part of the budget.
    """
    now = time.time()
    reading = RateBudget(organisation.pk).latest()
    cooldown_seconds = Cooldown(organisation.pk).remaining_seconds()
    return BudgetStatus(
        freshness=_freshness_sentence(settings.REALTIMEKIT_READ_FRESH_SECONDS),
        budget=_budget_sentence(reading, now),
        cooldown=_cooldown_sentence(cooldown_seconds) if cooldown_seconds else "",
    )


def format_duration(seconds):
    """Format a wait, rounded up to whole seconds, as "4 min 13 s", "5 min" or "13 s"."""
    minutes, seconds = divmod(max(0, math.ceil(seconds)), 60)
    if not minutes:
        return f"{seconds} s"
    return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"


def _freshness_sentence(fresh_seconds):
    if fresh_seconds <= 0:
        return (
            "Reads of meetings and live sessions are not reused, so every page asks Cloudflare "
            "again (REALTIMEKIT_READ_FRESH_SECONDS is 0)."
        )
    return (
        f"Every page and worker reuses a read of meetings and live sessions for "
        f"{fresh_seconds:g} {'second' if fresh_seconds == 1 else 'seconds'} before asking "
        "Cloudflare again."
    )


def _budget_sentence(reading, now):
    if reading is None:
        return (
            "No call to Cloudflare is recorded yet, so the remaining budget is unknown. It shows "
            "here after the dashboard's next call."
        )

    calls = _calls_left(reading)
    read_at = _clock_time(reading.read_at)
    if reading.resets_at > now:
        resets_in = format_duration(reading.resets_at - now)
        return (
            f"{calls} left in this {_window_name(reading)}. It resets in {resets_in} "
            f"(read at {read_at})."
        )
    ended_at = _clock_time(reading.resets_at)
    return (
        f"At {read_at}, {calls} remained in that {_window_name(reading)}. The window ended at "
        f"{ended_at}, so the count has started over."
    )


def _calls_left(reading):
    if reading.quota is None:
        noun = "call" if reading.remaining == 1 else "calls"
        return f"{reading.remaining:,} {noun}"
    return f"{reading.remaining:,} of {reading.quota:,} calls"


def _window_name(reading):
    window = reading.window_seconds
    if window is None:
        return "rate-limit window"
    if window % 60 == 0:
        return f"{window // 60}-minute window"
    return f"{window}-second window"


def _clock_time(timestamp):
    """Format a Unix timestamp as a clock time in the dashboard's time zone, e.g. 14:02:11 UTC."""
    moment = timezone.localtime(datetime.fromtimestamp(timestamp, tz=UTC))
    return moment.strftime("%H:%M:%S %Z")


def _cooldown_sentence(seconds):
    return (
        "Cloudflare answered a call with 429 Too Many Requests, so the dashboard holds back "
        f"every call with this token for another {format_duration(seconds)}. Until then, no "
        "call reaches Cloudflare."
    )
