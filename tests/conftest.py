"""Fixtures shared by the whole suite: the sandbox server on a real loopback socket, and users."""

import pytest
from django.core.cache import cache

from polls.models import Membership, Organisation
from tests.support import (
    SANDBOX_ACCOUNT_ID,
    SANDBOX_API_TOKEN,
    SANDBOX_APP_ID,
    Sandbox,
    start_sandbox,
    stop_sandbox,
)


@pytest.fixture(autouse=True)
def empty_cache():
    """Start each test with an empty cache: cooldowns and last-known reads must not leak."""
    cache.clear()


@pytest.fixture(scope="session")
def sandbox_server(tmp_path_factory):
    """Run one sandbox for the whole test session and yield its base URL."""
    log_path = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    process, url = start_sandbox(log_path)
    yield url
    stop_sandbox(process)


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
        observer_preset="observer",
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


def _member(django_user_model, username, organisation, role=Membership.Role.HOST):
    user = django_user_model.objects.create_user(username=username, password="correct horse")
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def moderator(django_user_model, organisation):
    """A host: launches polls in the sandbox's organisation."""
    return _member(django_user_model, "maya", organisation)


@pytest.fixture
def viewer(django_user_model, organisation):
    return _member(django_user_model, "vic", organisation, Membership.Role.VIEWER)


@pytest.fixture
def admin(django_user_model, organisation):
    return _member(django_user_model, "ada", organisation, Membership.Role.ADMIN)


@pytest.fixture
def stranger(django_user_model, other_organisation):
    """An admin of another organisation, so every refusal comes from the organisation alone."""
    return _member(django_user_model, "sam", other_organisation, Membership.Role.ADMIN)


@pytest.fixture
def loner(django_user_model, db):
    """A signed-in user who belongs to no organisation."""
    return _member(django_user_model, "lou", None)


@pytest.fixture
def moderator_client(client, moderator):
    client.force_login(moderator)
    return client
