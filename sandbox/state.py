"""In-memory meetings, live sessions, polls and participants, guarded by one lock.

Every public method takes the lock and returns fresh dicts, so callers can serialize the
result without holding the lock.
"""

import secrets
import threading
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from . import seed
from .errors import Conflict, InvalidInput, NotFound
from .times import format_iso, parse_iso, utc_now
from .validation import MeetingFilters, ParticipantFields, PollFields, VoteFields

# created_by of polls made through the REST API; the real value is not documented.
API_POLL_CREATOR = "REST API"
DEFAULT_SESSION_KEEP_ALIVE_SECS = 60


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


def normalize_text(text: str) -> str:
    """Fold case and Unicode composition so that "É" typed either way matches "é"."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def new_participant_token() -> str:
    return secrets.token_urlsafe(48)


class SandboxState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Restore the seeded meetings and live sessions, dropping polls and participants."""
        now = utc_now()
        with self._lock:
            self._meetings = {item.id: _meeting_from_seed(item) for item in seed.MEETINGS}
            self._live_sessions: dict[str, Session] = {}
            self._polls: dict[str, list[Poll]] = {meeting_id: [] for meeting_id in self._meetings}
            self._participants: dict[str, Participant] = {}
            for item in seed.MEETINGS:
                if item.session is not None:
                    self._live_sessions[item.id] = _session_from_seed(item, now)

    # Cloudflare API

    def list_meetings(self, filters: MeetingFilters) -> list[dict[str, Any]]:
        """Return the meetings that pass the filters, newest created_at first."""
        with self._lock:
            meetings = [m for m in self._meetings.values() if _passes(m, filters)]
            meetings.sort(key=lambda meeting: meeting.created_at, reverse=True)
            return [meeting.to_dict() for meeting in meetings]

    def get_meeting(self, meeting_id: str) -> dict[str, Any]:
        with self._lock:
            return self._meeting(meeting_id).to_dict()

    def get_live_session(self, meeting_id: str) -> dict[str, Any]:
        with self._lock:
            meeting = self._meeting(meeting_id)
            return self._live_session(meeting_id).to_dict(meeting, utc_now())

    def create_poll(self, meeting_id: str, fields: PollFields, created_by: str) -> dict[str, Any]:
        """Add a poll to the meeting's live session; raises NotFound when none is live."""
        with self._lock:
            return self._add_poll(meeting_id, fields, created_by).to_dict()

    def add_participant(self, meeting_id: str, fields: ParticipantFields) -> dict[str, Any]:
        with self._lock:
            self._meeting(meeting_id)
            if fields.preset_name not in {preset.name for preset in seed.PRESETS}:
                known = ", ".join(preset.name for preset in seed.PRESETS)
                raise InvalidInput(
                    f"preset_name {fields.preset_name!r} matches no preset; known presets: {known}"
                )

            now = utc_now()
            participant = Participant(
                id=str(uuid.uuid4()),
                meeting_id=meeting_id,
                custom_participant_id=fields.custom_participant_id,
                preset_name=fields.preset_name,
                name=fields.name,
                picture=fields.picture,
                token=new_participant_token(),
                created_at=now,
                updated_at=now,
            )
            self._participants[participant.id] = participant
            return participant.to_dict()

    def refresh_participant_token(self, meeting_id: str, participant_id: str) -> str:
        with self._lock:
            self._meeting(meeting_id)
            participant = self._participants.get(participant_id)
            if participant is None or participant.meeting_id != meeting_id:
                raise NotFound(f"Participant {participant_id} not found in meeting {meeting_id}")
            participant.token = new_participant_token()
            participant.updated_at = utc_now()
            return participant.token

    # Control API

    def overview(self) -> list[dict[str, Any]]:
        """Describe every meeting with its live session, all its polls and its participants."""
        with self._lock:
            meetings = sorted(self._meetings.values(), key=lambda m: m.created_at, reverse=True)
            return [self._meeting_overview(meeting) for meeting in meetings]

    def start_session(self, meeting_id: str, participants: int) -> dict[str, Any]:
        with self._lock:
            meeting = self._meeting(meeting_id)
            if meeting.status != "ACTIVE":
                raise Conflict(
                    f"Meeting {meeting_id} is {meeting.status}, so no session can start: "
                    "nobody can join an INACTIVE meeting"
                )
            live = self._live_sessions.get(meeting_id)
            if live is not None:
                raise Conflict(f"Meeting {meeting_id} already has a live session {live.id}")

            session = Session(str(uuid.uuid4()), meeting_id, participants, utc_now())
            self._live_sessions[meeting_id] = session
            return session.summary()

    def end_session(self, meeting_id: str) -> dict[str, Any]:
        with self._lock:
            self._meeting(meeting_id)
            session = self._live_sessions.pop(meeting_id, None)
            if session is None:
                raise NotFound(f"No live session for meeting {meeting_id}")
            session.ended_at = utc_now()
            return {**session.summary(), "ended_at": format_iso(session.ended_at)}

    def create_participant_poll(
        self, meeting_id: str, fields: PollFields, created_by: str
    ) -> dict[str, Any]:
        """Create a poll as a participant inside the meeting would, and describe it for control."""
        with self._lock:
            return self._control_poll(self._add_poll(meeting_id, fields, created_by))

    def vote(self, meeting_id: str, poll_id: str, vote: VoteFields) -> dict[str, Any]:
        """Record one vote; raises Conflict when the poll's session ended or the voter voted."""
        with self._lock:
            self._meeting(meeting_id)
            poll = self._poll(meeting_id, poll_id)
            live = self._live_sessions.get(meeting_id)
            if live is None or live.id != poll.session_id:
                raise Conflict(
                    f"Poll {poll_id} belongs to session {poll.session_id}, which has ended: "
                    "only polls in the live session take votes"
                )
            if vote.option >= len(poll.options):
                raise InvalidInput(
                    f"option must be between 0 and {len(poll.options) - 1}, got {vote.option}"
                )
            if vote.voter_id in poll.voted:
                raise Conflict(f"Voter {vote.voter_id} has already voted on poll {poll_id}")

            option = poll.options[vote.option]
            option.count += 1
            # An anonymous poll counts the vote but does not reveal who cast it.
            if not poll.anonymous:
                option.votes.append({"id": vote.voter_id, "name": vote.voter_name})
            poll.voted.append(vote.voter_id)
            return self._control_poll(poll)

    # Lookups; callers hold the lock.

    def _meeting(self, meeting_id: str) -> Meeting:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            raise NotFound(f"Meeting {meeting_id} not found")
        return meeting

    def _live_session(self, meeting_id: str) -> Session:
        session = self._live_sessions.get(meeting_id)
        if session is None:
            raise NotFound(f"No active session found for meeting {meeting_id}")
        return session

    def _add_poll(self, meeting_id: str, fields: PollFields, created_by: str) -> Poll:
        self._meeting(meeting_id)
        session = self._live_session(meeting_id)
        poll = Poll(
            id=str(uuid.uuid4()),
            session_id=session.id,
            question=fields.question,
            options=[PollOption(text) for text in fields.options],
            anonymous=fields.anonymous,
            hide_votes=fields.hide_votes,
            created_by=created_by,
        )
        self._polls[meeting_id].append(poll)
        return poll

    def _poll(self, meeting_id: str, poll_id: str) -> Poll:
        for poll in self._polls[meeting_id]:
            if poll.id == poll_id:
                return poll
        raise NotFound(f"Poll {poll_id} not found in meeting {meeting_id}")

    def _control_poll(self, poll: Poll) -> dict[str, Any]:
        return {**poll.to_dict(), "session_id": poll.session_id}

    def _meeting_overview(self, meeting: Meeting) -> dict[str, Any]:
        session = self._live_sessions.get(meeting.id)
        participants = [p for p in self._participants.values() if p.meeting_id == meeting.id]
        return {
            "id": meeting.id,
            "title": meeting.title,
            "status": meeting.status,
            "session": None if session is None else session.summary(),
            "polls": [self._control_poll(poll) for poll in self._polls[meeting.id]],
            "participants": [
                {
                    "id": participant.id,
                    "custom_participant_id": participant.custom_participant_id,
                    "preset_name": participant.preset_name,
                    "name": participant.name,
                }
                for participant in participants
            ],
        }


def _meeting_from_seed(item: seed.SeedMeeting) -> Meeting:
    created_at = parse_iso(item.created_at)
    return Meeting(
        id=item.id,
        title=item.title,
        status=item.status,
        created_at=created_at,
        updated_at=created_at,
        record_on_start=item.record_on_start,
        persist_chat=item.persist_chat,
        summarize_on_end=item.summarize_on_end,
    )


def _session_from_seed(item: seed.SeedMeeting, now: datetime) -> Session:
    started_at = now - timedelta(minutes=item.session.started_minutes_ago)
    return Session(item.session.id, item.id, item.session.live_participants, started_at)


def _passes(meeting: Meeting, filters: MeetingFilters) -> bool:
    if filters.status is not None and meeting.status != filters.status:
        return False
    if filters.start_time is not None and meeting.created_at < filters.start_time:
        return False
    if filters.end_time is not None and meeting.created_at > filters.end_time:
        return False
    if filters.search is None:
        return True
    needle = normalize_text(filters.search)
    return needle in normalize_text(meeting.title) or needle in meeting.id.casefold()
