"""The first organisation comes from the environment, once."""

from django.core.management import call_command
from django.test import override_settings

from polls.models import Organisation
from polls.signals import create_organisation_from_environment

FROM_ENVIRONMENT = {
    "CLOUDFLARE_ACCOUNT_ID": "a" * 32,
    "REALTIMEKIT_APP_ID": "b" * 32,
    "CLOUDFLARE_API_TOKEN": "token-from-the-environment",
    "CLOUDFLARE_API_BASE_URL": "http://127.0.0.1:9/client/v4",
    "ORGANISATION_NAME": "Fabrikam Live",
}


@override_settings(**FROM_ENVIRONMENT)
def test_first_start_creates_the_organisation(db):
    create_organisation_from_environment()

    organisation = Organisation.objects.get()
    assert organisation.name == "Fabrikam Live"
    assert organisation.account_id == "a" * 32
    assert organisation.app_id == "b" * 32
    assert organisation.api_token == "token-from-the-environment"
    assert organisation.api_base_url == "http://127.0.0.1:9/client/v4"


@override_settings(**FROM_ENVIRONMENT)
def test_later_starts_leave_the_organisation_alone(db):
    create_organisation_from_environment()
    Organisation.objects.update(name="Renamed by an admin")

    create_organisation_from_environment()

    assert list(Organisation.objects.values_list("name", flat=True)) == ["Renamed by an admin"]


@override_settings(**{**FROM_ENVIRONMENT, "CLOUDFLARE_API_TOKEN": ""})
def test_missing_variable_creates_nothing_and_says_which(db, caplog):
    create_organisation_from_environment()

    assert not Organisation.objects.exists()
    assert "CLOUDFLARE_API_TOKEN not set" in caplog.text


def test_migrate_runs_the_setup(db):
    with override_settings(**FROM_ENVIRONMENT):
        call_command("migrate", verbosity=0)

    assert Organisation.objects.filter(name="Fabrikam Live").exists()
