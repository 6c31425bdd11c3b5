"""Admin pages: the Cloudflare connection (checked before saving) and the members."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from polls.models import Membership
from tests.support import SANDBOX_ACCOUNT_ID, SANDBOX_API_TOKEN, SANDBOX_APP_ID


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def connection_data(sandbox, **changes):
    return {
        "name": "Northwind Webinars",
        "account_id": SANDBOX_ACCOUNT_ID,
        "app_id": SANDBOX_APP_ID,
        "api_base_url": sandbox.api_url,
        "api_token": SANDBOX_API_TOKEN,
        **changes,
    }


def save(admin_client, sandbox, **changes):
    return admin_client.post(reverse("connection_settings"), connection_data(sandbox, **changes))


# Connection


def test_connection_page_shows_only_the_token_hint(admin_client, organisation):
    response = admin_client.get(reverse("connection_settings"))

    content = response.content.decode()
    assert response.status_code == 200
    assert organisation.api_token_hint in content
    assert SANDBOX_API_TOKEN not in content
    assert SANDBOX_ACCOUNT_ID in content


def test_valid_token_is_checked_then_saved(admin_client, organisation, sandbox):
    before = organisation.api_token_encrypted

    response = save(admin_client, sandbox, name="Northwind Live")

    organisation.refresh_from_db()
    assert response.status_code == 302
    assert organisation.name == "Northwind Live"
    assert organisation.api_token_encrypted != before
    assert organisation.api_token == SANDBOX_API_TOKEN
    assert sandbox.api_requests("GET", "/tokens/verify")


def test_rejected_token_is_not_saved_and_says_why(admin_client, organisation, sandbox):
    response = save(admin_client, sandbox, name="Should not stick", api_token="wrong-token-123456")

    content = response.content.decode()
    organisation.refresh_from_db()
    assert response.status_code == 422
    assert "The connection was not saved" in content
    assert "Cloudflare rejected the API token" in content
    assert organisation.name == "Northwind Webinars"
    assert organisation.api_token == SANDBOX_API_TOKEN
    assert "wrong-token-123456" not in content


def test_blank_token_keeps_the_current_one(admin_client, organisation, sandbox):
    response = save(admin_client, sandbox, api_token="", name="Renamed")

    organisation.refresh_from_db()
    assert response.status_code == 302
    assert organisation.name == "Renamed"
    assert organisation.api_token == SANDBOX_API_TOKEN


def test_disabled_token_is_refused(admin_client, organisation, sandbox):
    sandbox.add_fault(
        path="/tokens/verify$",
        status=200,
        body={
            "success": True,
            "errors": [],
            "messages": [],
            "result": {"id": "t", "status": "disabled"},
        },
    )

    response = save(admin_client, sandbox, name="Renamed")

    organisation.refresh_from_db()
    assert "this API token as disabled" in response.content.decode()
    assert organisation.name == "Northwind Webinars"


def test_token_that_cannot_read_the_app_is_refused(admin_client, organisation, sandbox):
    response = save(admin_client, sandbox, app_id="0" * 32)

    organisation.refresh_from_db()
    assert "it cannot read this app" in response.content.decode()
    assert organisation.app_id == SANDBOX_APP_ID


def test_plain_http_is_refused_for_a_remote_address(admin_client, organisation, sandbox):
    response = save(admin_client, sandbox, api_base_url="http://api.example.com/client/v4")

    assert response.status_code == 422
    assert "Use an https:// address" in response.content.decode()
    assert sandbox.api_requests() == []


def test_token_with_a_line_break_is_refused(admin_client, organisation, sandbox):
    response = save(admin_client, sandbox, api_token="abc\ndef")

    assert "no spaces or line breaks" in response.content.decode()
    assert sandbox.api_requests() == []


def test_connection_page_says_whether_live_results_can_start(admin_client, organisation):
    response = admin_client.get(reverse("connection_settings"))

    content = response.content.decode()
    assert 'value="observer"' in content
    assert "Live results can start: the observer preset “observer”" in content


def test_admin_picks_another_observer_preset(admin_client, organisation, sandbox):
    admin_client.get(reverse("connection_settings"))  # the check of the old preset is cached

    save(admin_client, sandbox, observer_preset="attendee")
    response = admin_client.get(reverse("connection_settings"))

    organisation.refresh_from_db()
    assert organisation.observer_preset == "attendee"
    assert "The preset “attendee” lacks these permissions" in response.content.decode()


def test_observer_preset_with_odd_characters_is_refused(admin_client, organisation, sandbox):
    response = save(admin_client, sandbox, observer_preset="obs<erver>")

    organisation.refresh_from_db()
    assert response.status_code == 422
    assert "A preset name is letters" in response.content.decode()
    assert organisation.observer_preset == "observer"


# Members


def test_members_page_lists_roles(admin_client, admin, moderator, viewer):
    content = admin_client.get(reverse("members")).content.decode()

    for username in ("ada", "maya", "vic"):
        assert username in content


def test_admin_adds_an_existing_user(admin_client, organisation, django_user_model):
    django_user_model.objects.create_user(username="newcomer", password="x" * 12)

    response = admin_client.post(
        reverse("members"), {"username": "newcomer", "role": "host"}, follow=True
    )

    membership = Membership.objects.get(user__username="newcomer")
    assert "Added newcomer as host." in response.content.decode()
    assert membership.organisation == organisation
    assert membership.role == "host"


def test_adding_an_unknown_user_says_so(admin_client):
    response = admin_client.post(reverse("members"), {"username": "ghost", "role": "viewer"})

    assert response.status_code == 422
    assert "No user is called “ghost”" in response.content.decode()


def test_adding_a_member_of_another_organisation_is_refused(admin_client, stranger):
    response = admin_client.post(reverse("members"), {"username": "sam", "role": "viewer"})

    assert "already belongs to an organisation" in response.content.decode()
    assert stranger.membership.organisation.name == "Contoso Events"


def test_admin_changes_a_role(admin_client, viewer):
    admin_client.post(reverse("change_member", args=[viewer.membership.pk]), {"role": "host"})

    assert Membership.objects.get(user=viewer).role == "host"


def test_admin_removes_a_member(admin_client, viewer):
    admin_client.post(reverse("change_member", args=[viewer.membership.pk]), {"action": "remove"})

    assert not Membership.objects.filter(user=viewer).exists()


def test_last_admin_cannot_step_down(admin_client, admin):
    response = admin_client.post(
        reverse("change_member", args=[admin.membership.pk]), {"role": "viewer"}, follow=True
    )

    assert Membership.objects.get(user=admin).role == "admin"
    assert "needs at least one admin" in response.content.decode()


def test_last_admin_cannot_be_removed(admin_client, admin):
    admin_client.post(reverse("change_member", args=[admin.membership.pk]), {"action": "remove"})

    assert Membership.objects.filter(user=admin).exists()


def test_admin_cannot_touch_another_organisations_member(admin_client, stranger):
    response = admin_client.post(
        reverse("change_member", args=[stranger.membership.pk]), {"action": "remove"}
    )

    assert response.status_code == 404
    assert Membership.objects.filter(user=stranger).exists()


def test_add_member_command_makes_the_first_admin(organisation, django_user_model):
    django_user_model.objects.create_user(username="first-admin", password="x" * 12)

    call_command("add_member", "first-admin", "--role", "admin", stdout=io.StringIO())

    membership = Membership.objects.get(user__username="first-admin")
    assert membership.organisation == organisation
    assert membership.role == "admin"


def test_add_member_command_needs_a_name_among_several(
    organisation, other_organisation, django_user_model
):
    django_user_model.objects.create_user(username="someone", password="x" * 12)

    with pytest.raises(CommandError, match="--organisation"):
        call_command("add_member", "someone")
