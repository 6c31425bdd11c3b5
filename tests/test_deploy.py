"""Production settings: `check --deploy`, refusing to start without secrets, and the CSP."""

import os
import secrets
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse

from tests.support import PROJECT_ROOT

# Variables that would carry the suite's own settings, or a developer's, into the process.
INHERITED_PREFIXES = ("DJANGO_", "TOKEN_")
INHERITED_NAMES = {"DATABASE_URL", "REDIS_URL"}
SHOW_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; "
    "print('DEBUG', settings.DEBUG); "
    "print('KEYS', len(settings.TOKEN_ENCRYPTION_KEYS)); "
    "print('PROXY', settings.SECURE_PROXY_SSL_HEADER); "
    "from cryptography.fernet import MultiFernet, Fernet; "
    "MultiFernet([Fernet(key) for key in settings.TOKEN_ENCRYPTION_KEYS]); "
    "print('STARTED')"
)


def clean_env(tmp_path, **variables):
    """Return the environment of a fresh start: none of the suite's settings, no `.env` file."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(INHERITED_PREFIXES) and name not in INHERITED_NAMES
    }
    env["DJANGO_SETTINGS_MODULE"] = "dashboard.settings"
    env["DJANGO_ENV_FILE"] = str(tmp_path / "no-such.env")
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    env.update(variables)
    return env


def production_env(tmp_path, **variables):
    production = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    }
    env = clean_env(tmp_path, **{**production, **variables})
    return {name: value for name, value in env.items() if value is not None}


def run(env, *args):
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def show_settings(env):
    return run(env, "-c", SHOW_SETTINGS)


# check --deploy and starting up


def test_deploy_check_passes_with_production_settings(tmp_path):
    result = run(
        production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_starts_with_debug_off(tmp_path):
    result = show_settings(production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    assert "KEYS 1" in result.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path):
    result = show_settings(production_env(tmp_path, DJANGO_SECRET_KEY=None))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is missing" in result.stderr
    assert "STARTED" not in result.stdout


def test_production_refuses_to_start_without_encryption_keys(tmp_path):
    result = show_settings(production_env(tmp_path, TOKEN_ENCRYPTION_KEYS=None))

    assert result.returncode != 0
    assert "TOKEN_ENCRYPTION_KEYS is missing" in result.stderr
    assert "Fernet.generate_key().decode()" in result.stderr
    assert "STARTED" not in result.stdout


@pytest.mark.parametrize(
    "bad_key",
    [
        "not-a-fernet-key",
        # Valid URL-safe base64, but of 16 bytes, not 32.
        "c2l4dGVlbi1ieXRlcy1sb25n",
        # 32 bytes written in hex, as `openssl rand -hex 32` prints them.
        "5f" * 32,
    ],
)
def test_production_refuses_a_malformed_key_by_position(tmp_path, bad_key):
    good_key = Fernet.generate_key().decode()
    env = production_env(tmp_path, TOKEN_ENCRYPTION_KEYS=f"{good_key},{bad_key}")

    result = show_settings(env)

    assert result.returncode != 0
    assert "the key at position 2 of 2 is not a valid Fernet key" in result.stderr
    assert bad_key not in result.stderr
    assert good_key not in result.stderr
    assert "STARTED" not in result.stdout


def test_keys_may_be_listed_with_spaces(tmp_path):
    keys = f" {Fernet.generate_key().decode()} , {Fernet.generate_key().decode()} "

    result = show_settings(production_env(tmp_path, TOKEN_ENCRYPTION_KEYS=keys))

    assert result.returncode == 0, result.stderr
    assert "KEYS 2" in result.stdout


def test_debug_starts_without_secrets(tmp_path):
    result = show_settings(clean_env(tmp_path, DJANGO_DEBUG="true"))

    assert result.returncode == 0, result.stderr
    assert "DEBUG True" in result.stdout
    assert "KEYS 1" in result.stdout
    assert "STARTED" in result.stdout


def test_debug_is_off_when_unset(tmp_path):
    env = production_env(tmp_path)
    assert "DJANGO_DEBUG" not in env

    result = show_settings(env)

    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


def test_proxy_header_is_trusted_only_when_configured(tmp_path):
    direct = show_settings(production_env(tmp_path))
    behind_proxy = show_settings(production_env(tmp_path, DJANGO_BEHIND_TLS_PROXY="true"))

    assert "PROXY None" in direct.stdout
    assert "PROXY ('HTTP_X_FORWARDED_PROTO', 'https')" in behind_proxy.stdout


# Content-Security-Policy and inline code


class InlineCodeFinder(HTMLParser):
    """Collects the tags that a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.found.append(self.get_starttag_text())
        if tag == "style":
            self.found.append(self.get_starttag_text())
        if "style" in attributes or any(name.startswith("on") for name in attributes):
            self.found.append(self.get_starttag_text())


def inline_code(html):
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.found


PAGES = ["login", "meeting_list", "meeting_detail", "not_found", "bad_request"]


@pytest.fixture
def fetch_page(moderator_client, sandbox):
    def fetch(name):
        if name == "login":
            return Client().get(reverse("login"))
        if name == "meeting_list":
            return moderator_client.get(reverse("meeting_list"))
        if name == "meeting_detail":
            return moderator_client.get(reverse("meeting_detail", args=[sandbox.live_meeting_id()]))
        if name == "not_found":
            return moderator_client.get("/no-such-page/")
        if name == "bad_request":
            url = reverse("launch_poll", args=[sandbox.live_meeting_id()])
            body = b"question=" + b"x" * 70_000
            return moderator_client.post(
                url, data=body, content_type="application/x-www-form-urlencoded"
            )
        raise ValueError(name)

    return fetch


@pytest.mark.parametrize("name", PAGES)
def test_page_sends_csp_without_unsafe_inline(fetch_page, name):
    response = fetch_page(name)

    policy = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_inline_script_or_style(fetch_page, name):
    response = fetch_page(name)

    assert response["Content-Type"].startswith("text/html")
    assert inline_code(response.content.decode()) == []


def test_inline_code_finder_spots_each_kind():
    html = (
        '<script src="/static/a.js"></script><script>alert(1)</script>'
        '<style>p {}</style><p style="color: red">x</p><button onclick="go()">y</button>'
    )

    assert inline_code(html) == [
        "<script>",
        "<style>",
        '<p style="color: red">',
        '<button onclick="go()">',
    ]
