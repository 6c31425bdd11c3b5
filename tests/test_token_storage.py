"""API tokens at rest: encrypted, rotatable, and shown only as a masked hint."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from polls.models import Organisation
from polls.tokens import TokenDecryptionError

TOKEN = "cf-token-Zq8mW3xY7pL2vN5k"


def stored_column(organisation):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_token_encrypted, api_token_hint FROM polls_organisation WHERE id = %s",
            [organisation.pk],
        )
        return cursor.fetchone()


@pytest.fixture
def stored(db):
    return Organisation.objects.create(
        name="Litware", account_id="a" * 32, app_id="b" * 32, api_token=TOKEN
    )


def test_database_holds_no_plain_token(stored):
    ciphertext, hint = stored_column(stored)

    assert TOKEN not in ciphertext
    assert hint == "…vN5k"
    assert Organisation.objects.get().api_token == TOKEN


def test_hint_shows_only_the_last_four_characters(stored):
    assert stored.api_token_hint == "…vN5k"


def test_short_token_gets_no_characters_in_its_hint(db):
    organisation = Organisation(api_token="short")

    assert organisation.api_token_hint == "…"


def test_old_key_decrypts_after_rotation(stored, settings):
    settings.TOKEN_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.TOKEN_ENCRYPTION_KEYS,
    ]

    assert Organisation.objects.get().api_token == TOKEN


def test_reencrypt_command_moves_tokens_to_the_newest_key(stored, settings):
    old_keys = list(settings.TOKEN_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [new_key, *old_keys]

    call_command("reencrypt_tokens", stdout=io.StringIO())
    settings.TOKEN_ENCRYPTION_KEYS = [new_key]

    assert Organisation.objects.get().api_token == TOKEN


def test_token_without_its_key_raises_a_clear_error(stored, settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(TokenDecryptionError, match="TOKEN_ENCRYPTION_KEYS"):
        Organisation.objects.get().api_token  # noqa: B018 - reading decrypts


def test_reencrypt_command_names_the_unreadable_organisation(stored, settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError, match="Litware"):
        call_command("reencrypt_tokens")


def test_pages_explain_a_token_without_its_key(moderator_client, sandbox, settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    response = moderator_client.get(reverse("meeting_list"))

    content = response.content.decode()
    assert response.status_code == 502
    assert "cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS" in content
    assert "Connection page" in content
    assert sandbox.api_requests() == []
