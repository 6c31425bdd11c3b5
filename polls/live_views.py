"""Live results: the observer's token, the updates it forwards, the refreshing fragments and
the exports."""

import hashlib
import json

from django.core.cache import cache
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from polls import exports, live, observer, snapshots
from polls.access import member_required
from polls.feed import MAX_BODY_BYTES, FeedError, parse_update, too_large
from polls.models import Membership, Poll, PollOption
from polls.realtimekit import RealtimeKitError
from polls.selectors import polls_for_meeting

SESSION_ID_MAX_LENGTH = 64
# How long a rendered fragment is kept for the other pages that show the same results.
FRAGMENT_SECONDS = 60
MEETING_ID_MAX_LENGTH = 64


@never_cache
@require_POST
@member_required()
def observer_token(request, organisation, meeting_id):
    try:
        token = observer.observer_token(
            organisation=organisation,
            user=request.user,
            meeting_id=meeting_id,
            refresh=request.POST.get("refresh") == "1",
        )
    except observer.ObserverUnavailable as error:
        return JsonResponse({"error": error.message}, status=409)
    except RealtimeKitError as error:
        status = 503 if error.status == 429 else 502
        return JsonResponse(
            {"error": error.message, "retry_after": error.retry_after}, status=status
        )
    return JsonResponse({"token": token})


@require_POST
@member_required()
def sync(request, organisation, meeting_id):
    try:
        update = parse_update(_json_body(request))
        changed = snapshots.record_update(
            organisation=organisation, meeting_id=meeting_id, update=update
        )
    except FeedError as error:
        return JsonResponse({"error": error.message}, status=error.status)
    return JsonResponse({"changed": changed})


@require_GET
@member_required()
def meeting_polls(request, organisation, meeting_id):
    seen = request.GET.get("seen", "")
    probe = live.probe(organisation.pk, meeting_id, seen)
    if probe.unchanged:
        return HttpResponse(status=204)
    session_id = _session_param(request)

    def build():
        context = poll_list_context(request, organisation, meeting_id, session_id)
        return "meeting_detail.html#poll-refresh", context, True

    name = f"list:{organisation.pk}:{meeting_id}:{session_id}"
    return _shared_fragment(request, name, probe, seen, build)


@require_GET
@member_required()
def poll_results(request, organisation, pk):
    # The page names the poll's meeting, so that an unchanged poll costs no database read.
    meeting_id = request.GET.get("meeting", "")[:MEETING_ID_MAX_LENGTH]
    seen = request.GET.get("seen", "")
    probe = live.probe(organisation.pk, meeting_id, seen) if meeting_id else live.NO_PROBE
    if probe.unchanged:
        return HttpResponse(status=204)
    session_id = _session_param(request)

    def build():
        poll, version = poll_and_version(organisation, pk, meeting_id)
        context = poll_context(request, poll, version, session_id)
        # Only a page that named the right meeting may share what it got.
        return "poll_card.html#results", context, poll.meeting_id == meeting_id

    name = f"poll:{organisation.pk}:{pk}:{meeting_id}:{session_id}"
    return _shared_fragment(request, name, probe, seen, build)


def _shared_fragment(request, name, probe, seen, build):
    """Return the fragment of the results that `probe` found, rendered once for every member
    with the same role: after a change, every open page requests the same HTML.

    `build` returns the template, its context, and whether the result may be shared.
    """
    key = ""
    if probe.current:
        is_host = request.user.membership.allows(Membership.Role.HOST)
        digest = hashlib.blake2s(f"{name}:{is_host}:{probe.current}".encode()).hexdigest()
        key = f"fragment:{digest}"
        stored = cache.get(key)
        if stored is not None:
            return _from_store(stored, seen)

    template, context, shareable = build()
    if context["refresh"] and seen == context["seen"]:
        return HttpResponse(status=204)
    response = render(request, template, context)
    if key and shareable:
        stored = (context["seen"], context["refresh"], response.content)
        cache.set(key, stored, FRAGMENT_SECONDS)
    return response


def _from_store(stored, seen):
    stored_seen, refresh, body = stored
    if refresh and stored_seen == seen:
        return HttpResponse(status=204)
    return HttpResponse(body)


@require_GET
@member_required()
def poll_voters(request, organisation, pk):
    """Show who voted for each option. The live results leave the names out, because they
    refresh every second and a large poll has thousands of them."""
    poll = poll_or_404(organisation, pk, with_voters=True)
    if poll.anonymous:
        raise Http404("This poll is anonymous: nobody's vote is recorded by name.")
    context = {"poll": poll, "options": poll.options.all()}
    template = "poll_card.html#voter-lists" if request.htmx else "voters.html"
    return render(request, template, context)


@require_GET
@member_required(Membership.Role.HOST)
def export_csv(request, organisation, pk):
    poll = poll_or_404(organisation, pk, with_voters=True)
    response = HttpResponse(exports.as_csv(poll), content_type="text/csv; charset=utf-8")
    return _attachment(response, exports.filename(poll, "csv"))


@require_GET
@member_required(Membership.Role.HOST)
def export_json(request, organisation, pk):
    poll = poll_or_404(organisation, pk, with_voters=True)
    body = json.dumps(exports.as_json(poll), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    return _attachment(response, exports.filename(poll, "json"))


def poll_list_context(request, organisation, meeting_id, live_session_id):
    """Return the meeting's polls with their freshness, and whether and how the list
    refreshes."""
    version = live.results_version(organisation.pk, meeting_id)
    polls = list(polls_for_meeting(organisation=organisation, meeting_id=meeting_id))
    fresh = live.annotate(polls, _feed(organisation, meeting_id), live_session_id)
    is_host = request.user.membership.allows(Membership.Role.HOST)
    return {
        "meeting_id": meeting_id,
        "can_export": is_host,
        "can_launch": is_host,
        "polls": polls,
        "live_session_id": live_session_id,
        "refresh": not fresh.final,
        "session_ended": fresh.state == "ended",
        "seen": live.token(version or live.polls_version(polls), fresh),
    }


def poll_context(request, poll, version, live_session_id):
    live.annotate([poll], _feed(poll.organisation, poll.meeting_id), live_session_id)
    return {
        "poll": poll,
        "can_export": request.user.membership.allows(Membership.Role.HOST),
        "standalone": True,
        "live_session_id": live_session_id,
        "refresh": not poll.freshness.final,
        "seen": live.token(version or live.polls_version([poll]), poll.freshness),
    }


def poll_or_404(organisation, pk, *, with_voters=False):
    """Return the organisation's poll with what its pages show, or raise Http404.

    The voters' names are left out unless asked for: a large poll has thousands of them.
    """
    options = PollOption.objects.all() if with_voters else PollOption.objects.defer("voters")
    return get_object_or_404(
        Poll.objects.select_related("launched_by", "organisation").prefetch_related(
            Prefetch("options", queryset=options)
        ),
        pk=pk,
        organisation=organisation,
    )


def poll_and_version(organisation, pk, meeting_id=""):
    """Return the poll and its meeting's results version, read before the poll's results.

    `meeting_id` is the poll's meeting as the page named it, which saves looking it up.
    """
    if not meeting_id:
        meeting_id = get_object_or_404(
            Poll.objects.values_list("meeting_id", flat=True), pk=pk, organisation=organisation
        )
    version = live.results_version(organisation.pk, meeting_id)
    poll = poll_or_404(organisation, pk)
    if poll.meeting_id != meeting_id:
        return poll_and_version(organisation, pk)
    return poll, version


def _feed(organisation, meeting_id):
    feed = live.feed_for(organisation, meeting_id)
    live.keep_report_time(organisation.pk, meeting_id, feed)
    return feed


def _session_param(request):
    session_id = request.GET.get("session", "")
    return session_id if 0 < len(session_id) <= SESSION_ID_MAX_LENGTH else None


def _json_body(request):
    """Read the body of a JSON request up to the feed's limit, which is above Django's own."""
    if request.content_type != "application/json":
        raise FeedError("Send the update as application/json.", 415)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise FeedError("The Content-Length header is not a number.") from None
    if declared > MAX_BODY_BYTES:
        raise too_large(declared)
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise too_large(len(body))
    return body


def _attachment(response, filename):
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
