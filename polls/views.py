from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from polls import observer, selectors, services
from polls.access import member_required
from polls.forms import MAX_OPTIONS, OPTION_MAX_LENGTH, QUESTION_MAX_LENGTH, PollForm
from polls.live_views import poll_and_version, poll_context, poll_list_context
from polls.models import Membership, Poll
from polls.realtimekit import RealtimeKitError

SEARCH_MAX_LENGTH = 200
STILL_LAUNCHING = RealtimeKitError(
    "This poll is already being launched from another click or tab. Wait a moment, then "
    "reload the page to see it."
)
UNCONFIRMED = RealtimeKitError(
    "This form was already sent, but Cloudflare did not respond, so the poll may or may not be "
    "in the meeting. Check the meeting in RealtimeKit before launching it again.",
    outcome_unknown=True,
)


@require_GET
@member_required()
def meeting_list(request, organisation):
    search = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    page = _page_number(request.GET.get("page"))
    context = {"search": search, "page": None, "stale": None, "error": None}

    try:
        read = selectors.list_meetings(organisation=organisation, search=search, page=page)
    except RealtimeKitError as error:
        context["error"] = error
    else:
        context.update(page=read.value, stale=read if read.as_of else None)

    template = "meeting_list.html#results" if request.htmx else "meeting_list.html"
    return render(request, template, context, status=502 if context["error"] else 200)


@require_GET
@member_required()
def meeting_badge(request, organisation, meeting_id):
    context = {"session": None, "stale": None, "error": None}

    try:
        read = selectors.get_live_session(organisation=organisation, meeting_id=meeting_id)
    except RealtimeKitError as error:
        context["error"] = error
    else:
        context.update(session=read.value, stale=read if read.as_of else None)

    return render(request, "meeting_list.html#badge", context)


@require_GET
@member_required()
def meeting_detail(request, organisation, meeting_id):
    return _render_meeting(request, organisation, meeting_id, PollForm())


@require_POST
@member_required(Membership.Role.HOST)
def launch(request, organisation, meeting_id):
    form = PollForm(request.POST)
    if not form.is_valid():
        return _render_launcher(request, organisation, meeting_id, form, status=422)

    try:
        poll = services.launch_poll(
            organisation=organisation, meeting_id=meeting_id, user=request.user, **form.cleaned_data
        )
    except services.NoLiveSessionError as error:
        return _render_launcher(request, organisation, meeting_id, form, error=error, status=409)
    except RealtimeKitError as error:
        return _render_launcher(request, organisation, meeting_id, form, error=error, status=502)

    if poll.status != Poll.Status.LAUNCHED:
        error = STILL_LAUNCHING if poll.status == Poll.Status.LAUNCHING else UNCONFIRMED
        return _render_launcher(request, organisation, meeting_id, form, error=error, status=409)
    if not request.htmx:
        return redirect("poll_detail", pk=poll.pk)
    return _render_launch_result(request, organisation, meeting_id, PollForm(), launched=poll)


@require_GET
@member_required()
def poll_detail(request, organisation, pk):
    poll, version = poll_and_version(organisation, pk)
    live_session_id, session_error = _live_session_id(organisation, poll.meeting_id)
    context = {
        **poll_context(request, poll, version, live_session_id),
        "session_error": session_error,
    }
    # Only the live session's polls can change, and only then is an observer worth starting.
    if live_session_id and poll.session_id == live_session_id:
        context["observer"] = _observer_context(organisation, poll.meeting_id)
    return _with_observer_csp(render(request, "poll_detail.html", context), context)


def _live_session_id(organisation, meeting_id):
    """Return the id of the meeting's live session, or None when no session is live, and the
    error that kept it from being read, or None."""
    try:
        read = selectors.get_live_session(organisation=organisation, meeting_id=meeting_id)
    except RealtimeKitError as error:
        return None, error
    return (read.value or {}).get("id"), None


def _render_launcher(request, organisation, meeting_id, form, *, status, error=None):
    if request.htmx:
        return _render_launch_result(
            request, organisation, meeting_id, form, launch_error=error, status=status
        )
    return _render_meeting(
        request, organisation, meeting_id, form, launch_error=error, status=status
    )


def _render_launch_result(request, organisation, meeting_id, form, *, status=200, **outcome):
    """Render the launcher and, out of band, the poll list: a failed launch can leave a poll
    behind too, marked unconfirmed."""
    # A launch needs a live session, so the list keeps refreshing; it stops on its own once
    # the observers report that the session has ended.
    session_id = getattr(outcome.get("launched"), "session_id", None) or request.POST.get(
        "live_session", ""
    )
    context = {
        "form": form,
        **poll_list_context(request, organisation, meeting_id, session_id[:64] or None),
        **outcome,
        **_form_limits(),
    }
    return render(request, "meeting_detail.html#launch-result", context, status=status)


def _render_meeting(request, organisation, meeting_id, form, *, launch_error=None, status=200):
    found = _meeting_and_session(organisation, meeting_id)
    live_session_id = found["session"].get("id") if found["session"] else None
    if live_session_id and not found["stale"]:
        observer.note_live_session(organisation, meeting_id, live_session_id)
    context = {
        "form": form,
        "launch_error": launch_error,
        **poll_list_context(request, organisation, meeting_id, live_session_id),
        **_form_limits(),
        **found,
    }
    if live_session_id:
        context["observer"] = _observer_context(organisation, meeting_id)
    # A launch's own status wins: the meeting read failing too must not hide what the launch did.
    if context["meeting_error"] and not launch_error:
        status = 404 if context["meeting_error"].status == 404 else 502
    response = render(request, "meeting_detail.html", context, status=status)
    return _with_observer_csp(response, context)


def _observer_context(organisation, meeting_id):
    """Return what the page needs to start the observer, or the reason it cannot."""
    problem = ""
    if not observer.sdk_url():
        problem = "Live results are off on this server: REALTIMEKIT_SDK_URL is not set."
    else:
        try:
            problem = observer.check_preset(organisation).problem
        except RealtimeKitError as error:
            problem = f"Could not check the observer preset, so live results are off. {error}"
    return {"problem": problem, "sdk_url": observer.sdk_url(), "meeting_id": meeting_id}


def _with_observer_csp(response, context):
    if context.get("observer") and not context["observer"]["problem"]:
        response._csp_config = observer.page_csp()
    return response


def _meeting_and_session(organisation, meeting_id):
    found = {
        "meeting": None,
        "session": None,
        "stale": None,
        "meeting_error": None,
        "session_error": None,
    }
    try:
        meeting = selectors.get_meeting(organisation=organisation, meeting_id=meeting_id)
    except RealtimeKitError as error:
        found["meeting_error"] = error
        return found

    found["meeting"] = meeting.value
    reads = [meeting]
    try:
        session = selectors.get_live_session(organisation=organisation, meeting_id=meeting_id)
    except RealtimeKitError as error:
        found["session_error"] = error
    else:
        found["session"] = session.value
        reads.append(session)

    # A read may be an earlier one, shown because Cloudflare asked the dashboard to wait.
    found["stale"] = next((read for read in reads if read.as_of), None)
    return found


def _form_limits():
    return {
        "question_max_length": QUESTION_MAX_LENGTH,
        "option_max_length": OPTION_MAX_LENGTH,
        "max_options": MAX_OPTIONS,
    }


def _page_number(raw):
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return min(max(page, 1), 10_000)
