"""UTC timestamps in the ISO 8601 form that the RealtimeKit API uses."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_iso(moment: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with milliseconds and a Z suffix."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; a value without an offset is taken as UTC.

    Raises ValueError when the value is not ISO 8601.
    """
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
