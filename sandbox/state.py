"""In-memory meetings, live sessions, polls and participants, guarded by one lock.

Every public method takes the lock and returns fresh dicts, so callers can serialize the
result without holding the lock.
"""

import secrets
import threading
import time
import unicodedata
import uuid
from datetime import datetime, timedelta
from typing import Any

from . import seed
from .errors import Conflict, InvalidInput, NotFound, Unauthorized
from .records import Meeting, Participant, Poll, PollOption, Session
from .times import format_iso, parse_iso, utc_now
from .validation import MeetingFilters, ParticipantFields, PollFields, VoteFields

# created_by and createdByUserId of polls made through the REST API; the real values are
# not documented.
API_POLL_CREATOR = "REST API"
API_POLL_CREATOR_USER_ID = ""


def normalize_text(text: str) -> str:
    """Fold case and Unicode composition so that "É" typed either way matches "é"."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", text).casefold())


def new_participant_token() -> str:
    return secrets.token_urlsafe(48)


class SandboxState:
    def __init__(self, *, fresh_sessions: bool = False) -> None:
        # Cloudflare never reuses a session id. With fresh_sessions, each start of the sandbox
        # gives the seeded sessions new ids, so a client whose database outlives the sandbox,
        # such as the demo's dashboard, does not take them for the sessions it saw end.
        self._seed_session_ids = {
            item.id: str(uuid.uuid4()) if fresh_sessions else item.session.id
            for item in seed.MEETINGS
            if item.session is not None
        }
        self._lock = threading.Lock()
        # Long-polls wait on this until a meeting's version changes or the server closes.
        self._changed = threading.Condition(self._lock)
        # Versions only grow, also across resets, so an observer never misses a change.
        self._last_version = 0
        self._versions: dict[str, int] = {}
        self._closed = False
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
                    self._live_sessions[item.id] = _session_from_seed(
                        item, self._seed_session_ids[item.id], now
                    )
            self._mark_changed(*self._meetings)

    def close(self) -> None:
        """Make waiting long-polls return now and later ones at once, so the server stops promptly."""
        with self._lock:
            self._closed = True
            self._changed.notify_all()

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
            return self._add_poll(
                meeting_id, fields, created_by, API_POLL_CREATOR_USER_ID
            ).to_dict()

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
            # Wakes the long-polls so that those holding the old token get 401 now. The
            # version stays, because what observers see has not changed.
            self._changed.notify_all()
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
            self._mark_changed(meeting_id)
            return session.summary()

    def end_session(self, meeting_id: str) -> dict[str, Any]:
        with self._lock:
            self._meeting(meeting_id)
            session = self._live_sessions.pop(meeting_id, None)
            if session is None:
                raise NotFound(f"No live session for meeting {meeting_id}")
            session.ended_at = utc_now()
            self._mark_changed(meeting_id)
            return {**session.summary(), "ended_at": format_iso(session.ended_at)}

    def create_participant_poll(
        self, meeting_id: str, fields: PollFields, created_by: str
    ) -> dict[str, Any]:
        """Create a poll as a participant inside the meeting would, and describe it for control."""
        with self._lock:
            # A made-up user id for the participant, who exists only as a name.
            poll = self._add_poll(meeting_id, fields, created_by, str(uuid.uuid4()))
            return self._control_poll(poll)

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
            self._mark_changed(meeting_id)
            return self._control_poll(poll)

    # Stand-in browser SDK

    def find_observer(self, token: str) -> dict[str, Any]:
        """Describe the participant whose current token this is; raises Unauthorized if none."""
        with self._lock:
            participant = self._participant_by_token(token)
            return {
                "participant": {
                    "id": participant.id,
                    "name": participant.name,
                    "custom_participant_id": participant.custom_participant_id,
                    "preset_name": participant.preset_name,
                },
                "meeting_id": participant.meeting_id,
            }

    def wait_for_polls(self, token: str, since: int, wait_seconds: float) -> dict[str, Any]:
        """Wait until the token's meeting has a version above since, or wait_seconds pass.

        Returns the meeting's version and the polls visible to an observer. Raises Unauthorized
        when the token is not current, also when a refresh or reset replaces it during the wait.
        """
        deadline = time.monotonic() + wait_seconds
        with self._lock:
            watcher = self._participant_by_token(token)
            watcher.left = False
            watcher.waiting += 1
            try:
                meeting_id = watcher.meeting_id
                while self._versions[meeting_id] <= since and not self._closed:
                    if watcher.left:
                        break
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._changed.wait(remaining)
                    self._participant_by_token(token)
                return self._observer_view(meeting_id)
            finally:
                watcher.waiting -= 1
                watcher.last_polled = time.monotonic()

    def leave(self, token: str) -> None:
        """Mark the token's participant as gone and end its waiting long-polls at once."""
        with self._lock:
            participant = self._participant_by_token(token)
            participant.left = True
            participant.leaves += 1
            self._changed.notify_all()

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

    def _add_poll(
        self, meeting_id: str, fields: PollFields, created_by: str, created_by_user_id: str
    ) -> Poll:
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
            created_by_user_id=created_by_user_id,
        )
        self._polls[meeting_id].append(poll)
        self._mark_changed(meeting_id)
        return poll

    def _mark_changed(self, *meeting_ids: str) -> None:
        """Give the meetings a new version and wake the long-polls waiting on any meeting."""
        self._last_version += 1
        for meeting_id in meeting_ids:
            self._versions[meeting_id] = self._last_version
        self._changed.notify_all()

    def _participant_by_token(self, token: str) -> Participant:
        for participant in self._participants.values():
            if participant.token == token:
                return participant
        raise Unauthorized(
            "Participant token is not current: a token refresh replaced it, a reset dropped "
            "its participant, or the sandbox never issued it. Add a participant for a new one."
        )

    def _observer_view(self, meeting_id: str) -> dict[str, Any]:
        """Describe the live session's polls, oldest first, as the browser SDK reports them."""
        session = self._live_sessions.get(meeting_id)
        polls = []
        if session is not None:
            polls = [p.to_sdk_dict() for p in self._polls[meeting_id] if p.session_id == session.id]
        return {
            "version": self._versions[meeting_id],
            "live": session is not None,
            "session_id": None if session is None else session.id,
            "polls": polls,
        }

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
                    "connected": participant.connected,
                    "leaves": participant.leaves,
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


def _session_from_seed(item: seed.SeedMeeting, session_id: str, now: datetime) -> Session:
    started_at = now - timedelta(minutes=item.session.started_minutes_ago)
    return Session(session_id, item.id, item.session.live_participants, started_at)


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
