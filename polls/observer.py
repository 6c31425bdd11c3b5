"""The hidden observer participant through which a moderator's page reads live poll results.

Cloudflare keeps no poll results and has no API to read them: only a participant joined to the
meeting receives them. So each moderator's page joins the meeting through RealtimeKit's browser SDK
as a hidden participant, minted here, and forwards what it sees (see static/js/observer.js).
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache

from polls import live, selectors
from polls.models import MeetingFeed, Observer
from polls.realtimekit import RealtimeKitError
from polls.services import client_for

PRESET_CHECK_SECONDS = 5 * 60


class ObserverUnavailable(Exception):
    """Live results cannot start for a reason a moderator or an admin must fix."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PresetCheck:
    name: str
    problem: str = ""


def check_preset(organisation):
    """Check that the observer preset exists and lets a hidden participant view polls.

    The result is cached for a few minutes, because every meeting page needs it. Raises
    RealtimeKitError when the call to Cloudflare fails.
    """
    name = organisation.observer_preset
    if not name:
        return PresetCheck(
            name,
            "No observer preset is set, so live results are off. An admin can set one on the "
            "Connection page.",
        )
    read = selectors.shared_read(
        organisation,
        f"observer-preset:{name}",
        lambda: _preset_problem(organisation, name),
        window=PRESET_CHECK_SECONDS,
    )
    return PresetCheck(name, read.value)


def forget_preset_check(organisation):
    cache.delete(
        selectors.read_key(organisation, f"observer-preset:{organisation.observer_preset}")
    )


def _preset_problem(organisation, name):
    preset = client_for(organisation).find_preset(name)
    if preset is None:
        return (
            f"This app has no preset called “{name}”, so live results are off. Create it in "
            "RealtimeKit as a hidden participant that can view polls, or pick another preset on "
            "the Connection page."
        )
    permissions = preset.get("permissions") or {}
    missing = []
    if permissions.get("hidden_participant") is not True:
        missing.append("hidden participant (so the audience does not see the observer)")
    if (permissions.get("polls") or {}).get("can_view") is not True:
        missing.append("polls: can view (so it sees the results)")
    if not missing:
        return ""
    return (
        f"The preset “{name}” lacks these permissions: {'; '.join(missing)}. Turn them on in "
        "RealtimeKit, then reload this page."
    )


def observer_token(*, organisation, user, meeting_id, refresh=False):
    """Return the token with which this user's page joins the meeting as its observer.

    The participant is minted once per user and meeting, then reused. With `refresh`, because
    RealtimeKit rejected the token, a new token is requested. A participant that Cloudflare no
    longer has is minted again. Raises ObserverUnavailable when the preset is unfit or nobody
    is in the meeting, and RealtimeKitError when a call fails.
    """
    check = check_preset(organisation)
    if check.problem:
        raise ObserverUnavailable(check.problem)
    # The page asking for the token read the session a moment ago; this shares that read.
    session = selectors.get_live_session(organisation=organisation, meeting_id=meeting_id).value
    if session is None:
        raise ObserverUnavailable(
            "Nobody is in this meeting right now, so there are no live results to watch."
        )
    note_live_session(organisation, meeting_id, session.get("id") or "")

    client = client_for(organisation)
    observer = Observer.objects.filter(
        organisation=organisation, user=user, meeting_id=meeting_id
    ).first()
    if observer is not None and not refresh:
        return observer.token
    if observer is not None:
        try:
            observer.token = client.refresh_participant_token(meeting_id, observer.participant_id)
        except RealtimeKitError as error:
            # NOTE: the sandbox answers 404 for a participant it dropped; Cloudflare's status
            # for that case is not documented.
            if error.status != 404:
                raise
        else:
            observer.save(update_fields=["token_encrypted", "token_refreshed_at"])
            return observer.token
    return _mint(client, organisation, user, meeting_id)


def _mint(client, organisation, user, meeting_id):
    participant = client.add_participant(
        meeting_id,
        custom_participant_id=f"dashboard-observer-{user.pk}-{meeting_id}",
        preset_name=organisation.observer_preset,
        name=f"Poll dashboard ({user.get_username()})",
    )
    fields = {"participant_id": str(participant.get("id", "")), "token": participant["token"]}
    # A participant stored before, which Cloudflare forgot or another tab minted a moment ago,
    # is replaced by this one. Another tab's participant keeps working all the same.
    observer, _ = Observer.objects.get_or_create(
        organisation=organisation, user=user, meeting_id=meeting_id, defaults=fields
    )
    if observer.participant_id != fields["participant_id"]:
        observer.participant_id = fields["participant_id"]
        observer.token = fields["token"]
        observer.save()
    return observer.token


def note_live_session(organisation, meeting_id, session_id):
    """Remember the session that Cloudflare reports live, which observers join.

    A new session starts a new feed. A session marked ended that Cloudflare reports live again
    is live. Cloudflare never reuses a session id, but a sandbox restarted without
    --fresh-sessions does, and the stand-in SDK also reports "ended" when a new session replaces
    the one it joined.
    """
    feed, created = MeetingFeed.objects.get_or_create(
        organisation=organisation, meeting_id=meeting_id, defaults={"session_id": session_id}
    )
    if created:
        return
    if feed.session_id != session_id:
        MeetingFeed.objects.filter(pk=feed.pk).update(
            session_id=session_id, ended_at=None, last_reported_at=None
        )
    elif feed.ended_at is not None:
        MeetingFeed.objects.filter(pk=feed.pk).update(ended_at=None)
    else:
        return
    live.results_changed(organisation.pk, meeting_id)


def sdk_url():
    return settings.REALTIMEKIT_SDK_URL


def page_csp():
    """Return the content security policy for pages that run the observer: the site's own
    policy, plus the SDK's origin for its script and the places the SDK connects to."""
    policy = {name: list(sources) for name, sources in settings.SECURE_CSP.items()}
    origin = _origin(settings.REALTIMEKIT_SDK_URL)
    if origin:
        policy["script-src"] = [*policy.get("script-src", []), origin]
        policy["connect-src"] = [*policy.get("connect-src", []), origin]
    policy["connect-src"] = [
        *policy.get("connect-src", []),
        *settings.REALTIMEKIT_CSP_CONNECT_SRC,
    ]
    return policy


def _origin(url):
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"
