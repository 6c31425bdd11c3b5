"""Malformed or oversized requests get a 4xx and launch nothing."""

import json
import uuid
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client
from django.test.client import encode_multipart
from django.urls import reverse

from polls.models import Poll

FORM = "application/x-www-form-urlencoded"
BOUNDARY = "request-limits-boundary"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def launch_url(sandbox):
    return reverse("launch_poll", args=[sandbox.live_meeting_id()])


def valid_fields(question="Which session next?", options=("Keynote", "Workshop")):
    fields = [("question", question), ("launch_key", str(uuid.uuid4()))]
    return fields + [("options", option) for option in options]


def form_body(fields, encoding):
    """Encode fields, a list of (name, value) pairs, as the given content type would send them."""
    if encoding == FORM:
        return urlencode(fields).encode()
    multipart = {}
    for name, value in fields:
        multipart.setdefault(name, []).append(value)
    return encode_multipart(BOUNDARY, multipart)


def caplog_names(caplog):
    """Return the names of the loggers that wrote records.

    Django logs each request it rejects to `django.security.<exception class>`.
    """
    return {record.name for record in caplog.records}


def assert_nothing_launched(sandbox):
    assert not Poll.objects.exists()
    assert sandbox.api_requests("POST") == []


def test_limits_are_set():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 64 * 1024
    assert settings.DATA_UPLOAD_MAX_NUMBER_FIELDS == 200


@pytest.mark.parametrize("encoding", [FORM, MULTIPART])
def test_body_over_the_limit_is_rejected(moderator_client, sandbox, launch_url, encoding, caplog):
    body = form_body(valid_fields(question="x" * (64 * 1024)), encoding)

    response = moderator_client.post(launch_url, data=body, content_type=encoding)

    assert response.status_code == 400
    assert "Bad request" in response.content.decode()
    assert "django.security.RequestDataTooBig" in caplog_names(caplog)
    assert_nothing_launched(sandbox)


@pytest.mark.parametrize("encoding", [FORM, MULTIPART])
def test_too_many_fields_are_rejected(moderator_client, sandbox, launch_url, encoding, caplog):
    body = form_body(valid_fields(options=["a"] * 5000), encoding)

    response = moderator_client.post(launch_url, data=body, content_type=encoding)

    assert response.status_code == 400
    assert "django.security.TooManyFieldsSent" in caplog_names(caplog)
    assert_nothing_launched(sandbox)


def test_json_body_is_rejected(moderator_client, sandbox, launch_url):
    body = json.dumps(
        {
            "question": "Which session next?",
            "options": ["Keynote", "Workshop"],
            "launch_key": str(uuid.uuid4()),
        }
    )

    response = moderator_client.post(launch_url, data=body, content_type="application/json")

    # The view reads only form data, so the form is empty and fails validation.
    assert response.status_code == 422
    assert_nothing_launched(sandbox)


@pytest.mark.parametrize(
    "question, options",
    [
        (b"Which%FF%FEsession", b"Keynote"),
        (b"Which\xffsession", b"Keynote"),
        # A UTF-16 surrogate encoded as UTF-8, which UTF-8 does not allow.
        (b"Which%ED%A0%80session", b"Keynote"),
        # The first byte of a two-byte sequence with nothing after it.
        (b"Which+session", b"Key%C3"),
    ],
)
def test_invalid_utf8_is_rejected(moderator_client, sandbox, launch_url, question, options):
    launch_key = str(uuid.uuid4()).encode()
    body = b"question=%s&options=%s&options=Workshop&launch_key=%s" % (
        question,
        options,
        launch_key,
    )

    response = moderator_client.post(launch_url, data=body, content_type=FORM)

    assert response.status_code == 400
    assert_nothing_launched(sandbox)


def test_invalid_utf8_in_the_login_form_is_rejected(client, db):
    body = b"username=lou%FF&password=correct+horse"

    response = client.post(reverse("login"), data=body, content_type=FORM)

    assert response.status_code == 400


def test_valid_non_ascii_form_launches(moderator_client, sandbox, launch_url):
    fields = valid_fields(question="Quelle séance ensuite ? 🎤", options=["Café", "Thé"])

    response = moderator_client.post(launch_url, data=form_body(fields, FORM), content_type=FORM)

    assert response.status_code == 302
    assert Poll.objects.get().question == "Quelle séance ensuite ? 🎤"
    assert len(sandbox.api_requests("POST")) == 1


def test_unknown_fields_are_ignored(moderator_client, sandbox, launch_url):
    fields = valid_fields() + [
        ("organisation", "1"),
        ("launched_by", "someone-else"),
        ("colour", "blue"),
    ]

    response = moderator_client.post(launch_url, data=form_body(fields, FORM), content_type=FORM)

    assert response.status_code == 302
    poll = Poll.objects.get()
    assert poll.question == "Which session next?"
    assert poll.launched_by.username == "maya"
    assert len(sandbox.api_requests("POST")) == 1


def test_csrf_failure_says_what_to_do(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("login"), {"username": "lou", "password": "correct horse"})

    assert response.status_code == 403
    assert "Form expired" in response.content.decode()
    assert "Go back, reload the page and try again." in response.content.decode()


@pytest.mark.parametrize(
    "status, heading", [(400, "Bad request"), (403, "Access denied"), (404, "Page not found")]
)
def test_error_page_links_home(rf, db, status, heading):
    request = rf.get("/")
    request.user = AnonymousUser()

    page = render_to_string(f"{status}.html", request=request)

    assert f"<h1>{heading}</h1>" in page
    assert f'href="{reverse("home")}"' in page


def test_server_error_page_renders_without_a_request():
    # Django renders 500.html with no request and no context processors.
    page = render_to_string("500.html")

    assert "<h1>Server error</h1>" in page
    assert f'href="{reverse("home")}"' in page
