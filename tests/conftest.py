"""Fixtures shared by the whole suite: the sandbox server on a real loopback socket, and users."""

import subprocess
import sys
import threading

import pytest

from polls.models import Membership, Organisation
from tests.support import (
    ROOT,
    SANDBOX_ACCOUNT_ID,
    SANDBOX_API_TOKEN,
    SANDBOX_APP_ID,
    SANDBOX_START_TIMEOUT_SECONDS,
    Sandbox,
)


def _read_listening_line(process):
    """Wait for the sandbox's 'listening' line without blocking forever on a silent process."""
    result = {}
    reader = threading.Thread(target=lambda: result.setdefault("line", process.stdout.readline()))
    reader.start()
    reader.join(SANDBOX_START_TIMEOUT_SECONDS)
    line = result.get("line", "")
    if not line.startswith("Sandbox listening on "):
        process.kill()
        raise RuntimeError(f"The sandbox did not start: first output line was {line!r}")
    return line.removeprefix("Sandbox listening on ").strip()


@pytest.fixture(scope="session")
def sandbox_server():
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = _read_listening_line(process)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def sandbox(sandbox_server):
    sandbox = Sandbox(sandbox_server)
    sandbox.reset()
    return sandbox


@pytest.fixture
def organisation(db, sandbox):
    return Organisation.objects.create(
        name="Northwind Webinars",
        account_id=SANDBOX_ACCOUNT_ID,
        app_id=SANDBOX_APP_ID,
        api_token=SANDBOX_API_TOKEN,
        api_base_url=sandbox.api_url,
    )


@pytest.fixture
def other_organisation(db, sandbox):
    """An organisation with its own Cloudflare account, which the sandbox does not serve."""
    return Organisation.objects.create(
        name="Contoso Events",
        account_id="0" * 32,
        app_id="1" * 32,
        api_token="another-organisations-token",
        api_base_url=sandbox.api_url,
    )


def _member(django_user_model, username, organisation):
    user = django_user_model.objects.create_user(username=username, password="correct horse")
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation)
    return user


@pytest.fixture
def moderator(django_user_model, organisation):
    return _member(django_user_model, "maya", organisation)


@pytest.fixture
def stranger(django_user_model, other_organisation):
    return _member(django_user_model, "sam", other_organisation)


@pytest.fixture
def loner(django_user_model, db):
    """A signed-in user who belongs to no organisation."""
    return _member(django_user_model, "lou", None)


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client
