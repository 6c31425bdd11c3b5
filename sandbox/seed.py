"""Seeded account, app, presets and meetings that the sandbox starts with and resets to.

The ids are fixed so that tests and docs can name them.
"""

from collections.abc import Mapping
from dataclasses import dataclass

ACCOUNT_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
APP_ID = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
APP_NAME = "Sandbox webinars"
APP_CREATED_AT = "2026-05-04T09:30:00.000Z"
# A published test token: it only opens this sandbox, which listens on loopback only.
API_TOKEN = "sandbox-token-0123456789abcdef"  # noqa: S105

# Identifier that GET /user/tokens/verify reports for the API token.
API_TOKEN_ID = "e7d6c5b4a3928170f6e5d4c3b2a19080"  # noqa: S105

# Cloudflare account and app identifiers are at most 32 characters.
MAX_IDENTIFIER_LENGTH = 32


@dataclass(frozen=True)
class Identity:
    """Account, app and API token that the sandbox accepts."""

    account_id: str
    app_id: str
    api_token: str
    app_name: str = APP_NAME
    api_token_id: str = API_TOKEN_ID


def identity_from_env(environ: Mapping[str, str]) -> Identity:
    """Build the identity from SANDBOX_ACCOUNT_ID, SANDBOX_APP_ID and SANDBOX_API_TOKEN.

    A variable that is not set keeps its seeded value. Raises ValueError for a blank value
    or an identifier longer than 32 characters.
    """
    account_id = environ.get("SANDBOX_ACCOUNT_ID", ACCOUNT_ID)
    app_id = environ.get("SANDBOX_APP_ID", APP_ID)
    api_token = environ.get("SANDBOX_API_TOKEN", API_TOKEN)

    for name, value in (("SANDBOX_ACCOUNT_ID", account_id), ("SANDBOX_APP_ID", app_id)):
        if not value.strip():
            raise ValueError(f"{name} is blank: unset it or give an identifier")
        if len(value) > MAX_IDENTIFIER_LENGTH:
            raise ValueError(f"{name} is {len(value)} characters long; the maximum is 32")
    if not api_token.strip():
        raise ValueError("SANDBOX_API_TOKEN is blank: unset it or give a token")

    return Identity(account_id=account_id, app_id=app_id, api_token=api_token)


@dataclass(frozen=True)
class PollPermissions:
    can_create: bool
    can_view: bool
    can_vote: bool


@dataclass(frozen=True)
class SeedPreset:
    """A preset with the permissions that the dashboard checks, plus a few that vary by role.

    moderator grants the host's powers (kick, pin, accept waiting participants, record).
    media is the can_produce value for audio, video and screen share.
    """

    id: str
    name: str
    created_at: str
    updated_at: str
    hidden_participant: bool
    polls: PollPermissions
    moderator: bool
    media: str


PRESET_WEBINAR_HOST = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f00000001"
PRESET_OBSERVER = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f00000002"
PRESET_ATTENDEE = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f00000003"

# The observer preset is what the dashboard needs for its hidden participant: hidden, and
# allowed to view polls. The attendee preset can view polls but is visible to everyone.
PRESETS = (
    SeedPreset(
        id=PRESET_WEBINAR_HOST,
        name="webinar_host",
        created_at="2026-05-04T09:35:00.000Z",
        updated_at="2026-05-04T09:35:00.000Z",
        hidden_participant=False,
        polls=PollPermissions(can_create=True, can_view=True, can_vote=True),
        moderator=True,
        media="ALLOWED",
    ),
    SeedPreset(
        id=PRESET_OBSERVER,
        name="observer",
        created_at="2026-05-04T09:40:00.000Z",
        updated_at="2026-06-11T14:05:00.000Z",
        hidden_participant=True,
        polls=PollPermissions(can_create=False, can_view=True, can_vote=False),
        moderator=False,
        media="NOT_ALLOWED",
    ),
    SeedPreset(
        id=PRESET_ATTENDEE,
        name="attendee",
        created_at="2026-05-04T09:45:00.000Z",
        updated_at="2026-05-04T09:45:00.000Z",
        hidden_participant=False,
        polls=PollPermissions(can_create=False, can_view=True, can_vote=True),
        moderator=False,
        media="CAN_REQUEST",
    ),
)


@dataclass(frozen=True)
class SeedSession:
    id: str
    live_participants: int
    started_minutes_ago: int


@dataclass(frozen=True)
class SeedMeeting:
    id: str
    title: str
    status: str
    created_at: str
    session: SeedSession | None = None
    persist_chat: bool = False
    record_on_start: bool = False
    summarize_on_end: bool = False


MEETING_PRODUCT_UPDATE = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30001"
MEETING_TOWN_HALL = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30002"
MEETING_ONBOARDING = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30003"
MEETING_OFFICE_HOURS = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30004"
MEETING_NON_ASCII = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30005"
MEETING_CUSTOMER_STORIES = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30006"
MEETING_ACCESSIBILITY = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30007"
MEETING_PARTNER_PRICING = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30008"
MEETING_LAUNCH_REHEARSAL = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30009"
MEETING_HOLIDAY_READINESS = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30010"
MEETING_PRIVACY_101 = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30011"
MEETING_SECURITY_TRAINING = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30012"
MEETING_OBSERVABILITY = "0b7f6a2c-1d3e-4f50-8a9b-c0d1e2f30013"

NON_ASCII_TITLE = (
    "Café Zürich × 東京: Datenschutz für Einsteiger — señales, ölçek ve güvenlik 🚀 "
    "(Łódź, Ærøskøbing, São Paulo, Kraków) 第二回セミナー"
)

# Listed newest first, which is also the order of GET meetings.
MEETINGS = (
    SeedMeeting(
        id=MEETING_PRODUCT_UPDATE,
        title="Quarterly product update: Q4 roadmap",
        status="ACTIVE",
        created_at="2026-11-30T16:00:00.000Z",
        session=SeedSession("5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10001", 48, 23),
        record_on_start=True,
    ),
    SeedMeeting(
        id=MEETING_TOWN_HALL,
        title="Town hall with the leadership team",
        status="ACTIVE",
        created_at="2026-11-26T13:30:00.000Z",
        session=SeedSession("5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10002", 230, 41),
        persist_chat=True,
        summarize_on_end=True,
    ),
    SeedMeeting(
        id=MEETING_ONBOARDING,
        title="Onboarding webinar for new customers",
        status="ACTIVE",
        created_at="2026-11-19T10:00:00.000Z",
        session=SeedSession("5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10003", 12, 9),
    ),
    SeedMeeting(
        id=MEETING_OFFICE_HOURS,
        title="Office hours: API migration questions",
        status="ACTIVE",
        created_at="2026-11-12T15:00:00.000Z",
        session=SeedSession("5d4c3b2a-1908-4e7f-a6b5-c4d3e2f10004", 1, 2),
    ),
    SeedMeeting(
        id=MEETING_NON_ASCII,
        title=NON_ASCII_TITLE,
        status="ACTIVE",
        created_at="2026-11-05T08:00:00.000Z",
    ),
    SeedMeeting(
        id=MEETING_CUSTOMER_STORIES,
        title="Customer success stories: retail edition",
        status="ACTIVE",
        created_at="2026-10-29T17:00:00.000Z",
        persist_chat=True,
    ),
    SeedMeeting(
        id=MEETING_ACCESSIBILITY,
        title="Hands-on workshop: building accessible forms",
        status="ACTIVE",
        created_at="2026-10-21T14:00:00.000Z",
        record_on_start=True,
    ),
    SeedMeeting(
        id=MEETING_PARTNER_PRICING,
        title="Partner enablement: pricing changes in 2027",
        status="ACTIVE",
        created_at="2026-10-14T09:00:00.000Z",
    ),
    SeedMeeting(
        id=MEETING_LAUNCH_REHEARSAL,
        title="Launch rehearsal (cancelled)",
        status="INACTIVE",
        created_at="2026-10-02T11:00:00.000Z",
    ),
    SeedMeeting(
        id=MEETING_HOLIDAY_READINESS,
        title="Holiday season readiness briefing",
        status="INACTIVE",
        created_at="2026-09-18T15:30:00.000Z",
    ),
    SeedMeeting(
        id=MEETING_PRIVACY_101,
        title="Archived: data privacy 101",
        status="INACTIVE",
        created_at="2026-08-27T10:00:00.000Z",
        summarize_on_end=True,
    ),
    SeedMeeting(
        id=MEETING_SECURITY_TRAINING,
        title="Security awareness training — spring cohort",
        status="INACTIVE",
        created_at="2026-07-09T13:00:00.000Z",
    ),
    SeedMeeting(
        id=MEETING_OBSERVABILITY,
        title="Intro to observability dashboards",
        status="INACTIVE",
        created_at="2026-06-16T16:00:00.000Z",
    ),
)
