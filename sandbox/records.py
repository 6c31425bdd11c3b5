"""Records that SandboxState keeps, each with the dict shape that responses use."""

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .times import format_iso

DEFAULT_SESSION_KEEP_ALIVE_SECS = 60
# How long after its last long-poll ended an observer page still counts as connected.
CONNECTED_GRACE_SECONDS = 5


@dataclass
class Meeting:
    id: str
    title: str
    status: str
    created_at: datetime
    updated_at: datetime
    record_on_start: bool
    persist_chat: bool
    summarize_on_end: bool
    live_stream_on_start: bool = False
    transcribe_on_end: bool = False
    session_keep_alive_time_in_secs: int = DEFAULT_SESSION_KEEP_ALIVE_SECS

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "created_at": format_iso(self.created_at),
            "updated_at": format_iso(self.updated_at),
            "record_on_start": self.record_on_start,
            "live_stream_on_start": self.live_stream_on_start,
            "persist_chat": self.persist_chat,
            "summarize_on_end": self.summarize_on_end,
            "transcribe_on_end": self.transcribe_on_end,
            "session_keep_alive_time_in_secs": self.session_keep_alive_time_in_secs,
        }


@dataclass
class Session:
    id: str
    meeting_id: str
    live_participants: int
    started_at: datetime
    ended_at: datetime | None = None

    def to_dict(self, meeting: Meeting, now: datetime) -> dict[str, Any]:
        """Describe the session in the shape of GET active-session, without organization_id."""
        return {
            "id": self.id,
            "associated_id": self.meeting_id,
            "meeting_display_name": meeting.title,
            "status": "LIVE" if self.ended_at is None else "ENDED",
            "type": "meeting",
            "live_participants": self.live_participants,
            "max_concurrent_participants": self.live_participants,
            "minutes_consumed": round((now - self.started_at).total_seconds() / 60, 2),
            "started_at": format_iso(self.started_at),
            "created_at": format_iso(self.started_at),
            "updated_at": format_iso(self.started_at),
            "ended_at": None if self.ended_at is None else format_iso(self.ended_at),
            "breakout_rooms": [],
        }

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "live_participants": self.live_participants,
            "started_at": format_iso(self.started_at),
        }


@dataclass
class PollOption:
    text: str
    count: int = 0
    votes: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Poll:
    id: str
    session_id: str
    question: str
    options: list[PollOption]
    anonymous: bool
    hide_votes: bool
    created_by: str
    created_by_user_id: str
    voted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Describe the poll in the shape of the create-poll response."""
        return {
            "id": self.id,
            "question": self.question,
            "options": [
                {"text": option.text, "count": option.count, "votes": list(option.votes)}
                for option in self.options
            ],
            "anonymous": self.anonymous,
            "hide_votes": self.hide_votes,
            "created_by": self.created_by,
            "voted": list(self.voted),
        }

    def to_sdk_dict(self) -> dict[str, Any]:
        """Describe the poll as RealtimeKit's browser SDK reports it, in camelCase."""
        poll = self.to_dict()
        return {
            "id": poll["id"],
            "question": poll["question"],
            "options": poll["options"],
            "anonymous": poll["anonymous"],
            "hideVotes": poll["hide_votes"],
            "createdBy": poll["created_by"],
            "createdByUserId": self.created_by_user_id,
            "voted": poll["voted"],
        }


@dataclass
class Participant:
    id: str
    meeting_id: str
    custom_participant_id: str
    preset_name: str
    name: str | None
    picture: str | None
    token: str
    created_at: datetime
    updated_at: datetime
    # Long-polls now waiting with this participant's token, and when the last one ended
    # (time.monotonic()), for the overview's connected flag.
    waiting: int = 0
    last_polled: float | None = None
    # Set by meeting.leave() until the next long-poll, which is a new join.
    left: bool = False
    leaves: int = 0

    @property
    def connected(self) -> bool:
        if self.left:
            return False
        if self.waiting > 0:
            return True
        return self.last_polled is not None and (
            time.monotonic() - self.last_polled < CONNECTED_GRACE_SECONDS
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "token": self.token,
            "custom_participant_id": self.custom_participant_id,
            "preset_name": self.preset_name,
            "name": self.name,
            "picture": self.picture,
            "created_at": format_iso(self.created_at),
            "updated_at": format_iso(self.updated_at),
        }
