"""Failed logins counted per username and per address, and the lockout that follows."""

import time

import pytest
from django.contrib.auth.signals import user_login_failed
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from dashboard import throttle

ADDRESS = "192.0.2.10"
OTHER_ADDRESS = "198.51.100.20"
PASSWORD = "correct horse"
WRONG_PASSWORD = "wrong battery staple"
LOCKED_MESSAGE = "Too many failed attempts. Try again in 15 minutes."


@pytest.fixture(autouse=True)
def empty_cache():
    """Start each test with no counts, and leave none for the tests after it."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password_checks():
    """Record each failed password check that Django's authenticate() makes."""
    checks = []

    def record(sender, credentials, **kwargs):
        checks.append(credentials["username"])

    user_login_failed.connect(record)
    yield checks
    user_login_failed.disconnect(record)


def log_in(username="lou", password=WRONG_PASSWORD, address=ADDRESS, **headers):
    """Post the login form from a fresh browser, so an earlier success does not redirect it."""
    return Client().post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
        **headers,
    )


def fail(times, **kwargs):
    return [log_in(**kwargs).status_code for _ in range(times)]


def is_logged_in(response):
    return response.status_code == 302 and response["Location"] == reverse("meeting_list")


def test_fifth_failure_locks_the_username(loner):
    statuses = fail(5)

    assert statuses == [200, 200, 200, 200, 429]


def test_correct_password_is_rejected_while_locked(loner):
    fail(5)

    response = log_in(password=PASSWORD)

    assert response.status_code == 429
    assert LOCKED_MESSAGE in response.content.decode()
    assert response["Retry-After"] == "900"
    assert "_auth_user_id" not in response.wsgi_request.session


def test_locked_attempt_checks_no_password(loner, password_checks):
    fail(5)
    checks_before = len(password_checks)

    response = log_in()

    assert checks_before == 5
    assert response.status_code == 429
    assert len(password_checks) == checks_before


def test_locked_page_keeps_username_only(loner):
    fail(5)

    page = log_in(password=PASSWORD).content.decode()

    assert 'value="lou"' in page
    assert PASSWORD not in page
    assert "Please enter a correct username and password" not in page


def test_failure_below_limit_shows_usual_error(loner):
    response = log_in()

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "Too many failed attempts" not in response.content.decode()


def test_other_usernames_log_in_until_the_address_limit(loner, django_user_model):
    django_user_model.objects.create_user(username="ada", password=PASSWORD)
    fail(5, username="lou")

    ada_before_limit = log_in(username="ada", password=PASSWORD)
    statuses = [log_in(username=f"guess-{number}").status_code for number in range(15)]
    ada_after_limit = log_in(username="ada", password=PASSWORD)
    ada_elsewhere = log_in(username="ada", password=PASSWORD, address=OTHER_ADDRESS)

    assert is_logged_in(ada_before_limit)
    assert statuses == [200] * 14 + [429]
    assert ada_after_limit.status_code == 429
    assert LOCKED_MESSAGE in ada_after_limit.content.decode()
    assert is_logged_in(ada_elsewhere)


def test_locked_username_is_locked_from_every_address(loner):
    fail(5)

    response = log_in(password=PASSWORD, address=OTHER_ADDRESS)

    assert response.status_code == 429


def test_forwarded_for_header_does_not_change_the_address(loner):
    statuses = [
        log_in(username=f"guess-{number}", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}").status_code
        for number in range(20)
    ]

    assert statuses[-1] == 429
    assert log_in(password=PASSWORD).status_code == 429


def test_success_resets_the_username_count(loner):
    fail(4)
    success = log_in(password=PASSWORD)

    statuses = fail(4)

    assert is_logged_in(success)
    assert statuses == [200, 200, 200, 200]


def test_username_case_shares_one_count(loner):
    statuses = fail(5, username="LOU")

    response = log_in(username="lou", password=PASSWORD)

    assert statuses[-1] == 429
    assert response.status_code == 429


def test_blank_password_is_not_counted(loner):
    statuses = fail(6, password="")

    response = log_in(password=PASSWORD)

    assert statuses == [200] * 6
    assert is_logged_in(response)


def test_lockout_ends_after_the_window(loner, monkeypatch):
    fail(5)
    locked_at = time.time()

    monkeypatch.setattr(throttle, "_now", lambda: locked_at + 14 * 60 + 30)
    last_minute = log_in(password=PASSWORD)
    monkeypatch.setattr(throttle, "_now", lambda: locked_at + 15 * 60 + 1)
    after_window = log_in(password=PASSWORD)

    assert last_minute.status_code == 429
    assert "Try again in 1 minute." in last_minute.content.decode()
    assert is_logged_in(after_window)


def test_failure_after_lockout_starts_new_count(loner, monkeypatch):
    fail(5)
    locked_at = time.time()
    monkeypatch.setattr(throttle, "_now", lambda: locked_at + 15 * 60 + 1)

    first_after = log_in()

    assert first_after.status_code == 200


@override_settings(LOGIN_FAILURE_WINDOW_SECONDS=1)
def test_failures_older_than_the_window_are_forgotten(loner):
    fail(4)
    # The counts expire with their cache keys, so the wait is real.
    time.sleep(1.2)

    statuses = fail(4)

    assert statuses == [200, 200, 200, 200]


@override_settings(LOGIN_FAILURE_LIMIT_PER_USERNAME=2, LOGIN_FAILURE_LIMIT_PER_ADDRESS=3)
def test_limits_come_from_settings(loner):
    username_statuses = fail(2)
    address_statuses = [log_in(username="another").status_code]

    assert username_statuses == [200, 429]
    assert address_statuses == [429]


def test_lockout_logs_one_warning(loner, caplog):
    fail(5)

    warnings = [record for record in caplog.records if record.name == "dashboard.throttle"]
    assert len(warnings) == 1
    assert warnings[0].levelname == "WARNING"
    assert "username 'lou'" in warnings[0].getMessage()
    assert f"address {ADDRESS}" in warnings[0].getMessage()
    assert WRONG_PASSWORD not in caplog.text
