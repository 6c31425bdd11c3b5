"""The results version that lets a refreshing page learn "nothing changed" from one cache read,
and the constant number of writes per recorded update."""

import json
import re
import threading
import time
from contextlib import contextmanager
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.signals import template_rendered
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from polls import live, snapshots
from polls.feed import parse_update
from polls.models import MeetingFeed, Membership, Poll
from tests.test_live_views import results_url, sync, update
from tests.test_views import launch

HTMX = {"HTTP_HX_REQUEST": "true"}

# Versions change when a change commits, so these tests commit as the server does.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def meeting_id(sandbox):
    return sandbox.live_meeting_id()


@pytest.fixture
def live_poll(moderator_client, organisation, meeting_id, sandbox):
    session_id = sandbox.meeting(meeting_id)["session"]["id"]
    MeetingFeed.objects.create(
        organisation=organisation, meeting_id=meeting_id, session_id=session_id
    )
    sync(moderator_client, meeting_id, update(counts=(1, 0)))
    poll = Poll.objects.get(upstream_id="rtk-poll-1")
    poll.live_session_id = session_id
    return poll


def refresh_url(poll, seen=None):
    query = {"session": poll.live_session_id}
    if seen:
        query["seen"] = seen
    return results_url(poll, **query)


@contextmanager
def cost_recorder():
    """Record the templates rendered, the cache reads and the SQL of what runs inside."""
    cache = caches["default"]
    cost = {"templates": [], "reads": []}

    def record(sender, template, **kwargs):
        cost["templates"].append(template.name)

    template_rendered.connect(record)
    reading = threading.local()

    def spy(read):
        # The local-memory cache's get_many calls get: one read for the caller either way.
        def counted(*args, **kwargs):
            if getattr(reading, "inside", False):
                return read(*args, **kwargs)
            cost["reads"].append(args)
            reading.inside = True
            try:
                return read(*args, **kwargs)
            finally:
                reading.inside = False

        return counted

    patches = [
        mock.patch.object(cache, name, spy(getattr(cache, name)))
        for name in ("get", "get_many", "has_key")
    ]
    for patch in patches:
        patch.start()
    try:
        with CaptureQueriesContext(connection) as queries:
            cost["queries"] = queries
            yield cost
    finally:
        for patch in patches:
            patch.stop()
        template_rendered.disconnect(record)


def test_unchanged_results_cost_one_read(moderator_client, live_poll):
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]

    with cost_recorder() as cost:
        response = moderator_client.get(refresh_url(live_poll, seen), **HTMX)

    assert response.status_code == 204
    assert cost["templates"] == []
    assert len(cost["reads"]) == 1
    # Only signing in reads the database: the session, then the user with their membership.
    tables = [query["sql"] for query in cost["queries"].captured_queries]
    assert len(tables) == 2
    assert all("polls_poll" not in sql and "polls_meetingfeed" not in sql for sql in tables)


def test_unchanged_meeting_list_costs_no_template(moderator_client, live_poll):
    url = reverse("meeting_polls", args=[live_poll.meeting_id])
    url += f"?session={live_poll.live_session_id}"
    seen = moderator_client.get(url, **HTMX).context["seen"]

    with cost_recorder() as cost:
        response = moderator_client.get(url + f"&seen={seen}", **HTMX)

    assert response.status_code == 204
    assert cost["templates"] == []
    assert len(cost["reads"]) == 1


def test_recorded_update_changes_the_version(moderator_client, live_poll):
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]

    sync(moderator_client, live_poll.meeting_id, update(counts=(1, 1)))
    response = moderator_client.get(refresh_url(live_poll, seen), **HTMX)

    assert response.status_code == 200
    assert "<strong>2</strong> votes in total" in response.content.decode()


def test_report_without_news_keeps_the_version(moderator_client, live_poll):
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]

    sync(moderator_client, live_poll.meeting_id, update(counts=(1, 0)))

    assert moderator_client.get(refresh_url(live_poll, seen), **HTMX).status_code == 204


def test_launch_changes_the_version(moderator_client, live_poll):
    url = reverse("meeting_polls", args=[live_poll.meeting_id])
    url += f"?session={live_poll.live_session_id}"
    seen = moderator_client.get(url, **HTMX).context["seen"]

    launched = launch(moderator_client, live_poll.meeting_id, question="Tea?")
    assert launched.status_code == 200
    response = moderator_client.get(url + f"&seen={seen}", **HTMX)

    assert response.status_code == 200
    assert "Tea?" in response.content.decode()


def test_quiet_feed_is_noticed_without_a_write(moderator_client, live_poll):
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]
    assert seen.endswith(".live")

    # The observers fall silent: only time passes.
    key = f"results-reported:{live_poll.organisation_id}:{live_poll.meeting_id}"
    caches["default"].set(key, time.time() - 40)

    assert not live.probe(live_poll.organisation_id, live_poll.meeting_id, seen).unchanged


def test_report_after_a_silence_changes_the_version(moderator_client, live_poll):
    organisation_id, meeting_id = live_poll.organisation_id, live_poll.meeting_id
    before = live.results_version(organisation_id, meeting_id)
    feed = MeetingFeed.objects.get()
    feed.last_reported_at = feed.last_reported_at.replace(year=2020)
    feed.save()

    sync(moderator_client, meeting_id, update(counts=(1, 0)))

    assert live.results_version(organisation_id, meeting_id) != before


def test_version_lost_from_the_cache_renders_again(moderator_client, live_poll):
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]

    caches["default"].clear()

    assert moderator_client.get(refresh_url(live_poll, seen), **HTMX).status_code == 200


def test_version_of_another_meeting_is_not_accepted(moderator_client, live_poll, sandbox):
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]
    other = sandbox.idle_meeting_id()

    assert not live.probe(live_poll.organisation_id, other, seen).unchanged


@pytest.mark.parametrize("garbage", ["", ".", "abc", ".live", "abc."])
def test_malformed_token_renders(moderator_client, live_poll, garbage):
    response = moderator_client.get(refresh_url(live_poll, garbage or None), **HTMX)

    assert response.status_code == 200


def writes_for(organisation, meeting_id, votes):
    body = update(counts=(votes - votes // 3, votes // 3))
    parsed = parse_update(json.dumps(body).encode())
    with CaptureQueriesContext(connection) as queries:
        snapshots.record_update(organisation=organisation, meeting_id=meeting_id, update=parsed)
    return [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]


def test_writes_per_update_do_not_grow_with_votes(organisation, meeting_id):
    writes_for(organisation, meeting_id, 3)  # adds the poll

    few = writes_for(organisation, meeting_id, 30)
    many = writes_for(organisation, meeting_id, 10_000)

    # The feed's report time, the options that moved, and the poll.
    assert len(few) == len(many) == 3


def test_unshared_cache_asks_the_database(settings, moderator_client, live_poll):
    settings.CACHE_SHARED = False
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]

    unchanged = moderator_client.get(refresh_url(live_poll, seen), **HTMX)
    # Another process recorded an update, which this process's cache does not contain.
    Poll.objects.filter(pk=live_poll.pk).update(version=F("version") + 1)
    changed = moderator_client.get(refresh_url(live_poll, seen), **HTMX)

    assert unchanged.status_code == 204
    assert changed.status_code == 200


def test_wrong_meeting_in_the_address_still_renders(moderator_client, live_poll, sandbox):
    url = results_url(live_poll, session=live_poll.live_session_id)
    url = url.replace(live_poll.meeting_id, sandbox.idle_meeting_id())

    response = moderator_client.get(url, **HTMX)
    seen = response.context["seen"]

    assert response.status_code == 200
    assert seen.split(".")[0] == live.results_version(
        live_poll.organisation_id, live_poll.meeting_id
    )


@pytest.fixture
def second_host(client, django_user_model, organisation):
    """Another host of the organisation, with a browser of its own."""
    user = django_user_model.objects.create_user("second-host", password="a long passphrase")
    Membership.objects.create(user=user, organisation=organisation, role=Membership.Role.HOST)
    other = Client()
    other.force_login(user)
    return other


def test_fragment_after_a_change_is_rendered_once(moderator_client, second_host, live_poll):
    seen = moderator_client.get(refresh_url(live_poll), **HTMX).context["seen"]
    sync(moderator_client, live_poll.meeting_id, update(counts=(1, 1)))
    first = moderator_client.get(refresh_url(live_poll, seen), **HTMX)

    with cost_recorder() as cost:
        second = second_host.get(refresh_url(live_poll, seen), **HTMX)

    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert cost["templates"] == []
    sql = [query["sql"] for query in cost["queries"].captured_queries]
    assert all("polls_poll" not in statement for statement in sql)


def test_shared_fragment_is_kept_per_role(moderator_client, viewer, live_poll):
    viewer_client = Client()
    viewer_client.force_login(viewer)
    host_view = moderator_client.get(refresh_url(live_poll), **HTMX)
    url = reverse("meeting_polls", args=[live_poll.meeting_id])
    url += f"?session={live_poll.live_session_id}"

    host_list = moderator_client.get(url, **HTMX).content.decode()
    viewer_list = viewer_client.get(url, **HTMX).content.decode()

    assert host_view.status_code == 200
    assert "export.csv" in host_list
    assert "export.csv" not in viewer_list


def test_shared_fragment_returns_204_to_its_own_page(moderator_client, second_host, live_poll):
    moderator_client.get(refresh_url(live_poll), **HTMX)
    stored = second_host.get(refresh_url(live_poll), **HTMX)
    seen = re.search(r"seen=([^\"&]+)", stored.content.decode()).group(1)

    again = second_host.get(refresh_url(live_poll, seen), **HTMX)

    assert again.status_code == 204


def test_wrong_meeting_result_is_not_shared(moderator_client, second_host, live_poll, sandbox):
    other = sandbox.idle_meeting_id()
    wrong = refresh_url(live_poll).replace(live_poll.meeting_id, other)
    MeetingFeed.objects.create(
        organisation_id=live_poll.organisation_id, meeting_id=other, session_id="s"
    )
    sync(moderator_client, other, update(poll_id="rtk-poll-2", counts=(0, 1)))
    moderator_client.get(wrong, **HTMX)
    sync(moderator_client, live_poll.meeting_id, update(counts=(4, 4)))

    response = second_host.get(wrong, **HTMX)

    assert "<strong>8</strong> votes in total" in response.content.decode()
