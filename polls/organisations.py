"""Use cases of an organisation's admins: the Cloudflare connection and the members."""

from django.contrib.auth import get_user_model
from django.db import transaction

from polls.models import Membership, Organisation
from polls.realtimekit import RealtimeKitError
from polls.services import client_for


def save_connection(
    *, organisation, name, account_id, app_id, api_base_url, api_token, observer_preset=""
):
    """Check the connection against Cloudflare, then save it; a blank token keeps the current one.

    Raises RealtimeKitError, and saves nothing, when Cloudflare rejects the token or the token
    cannot read the app's meetings.
    """
    # Changes go to a fresh copy, so a rejected connection leaves the caller's object as it was.
    organisation = Organisation.objects.get(pk=organisation.pk)
    organisation.name = name
    organisation.account_id = account_id
    organisation.app_id = app_id
    organisation.api_base_url = api_base_url
    organisation.observer_preset = observer_preset
    client = client_for(organisation, api_token=api_token or None)

    status = client.verify_token()
    if status != "active":
        raise RealtimeKitError(
            f"Cloudflare reports this API token as {status}. Use an active token."
        )
    try:
        client.list_meetings(per_page=1)
    except RealtimeKitError as error:
        raise RealtimeKitError(
            "The API token is active, but it cannot read this app's meetings. Check the account "
            f"id, the app id and the token's Realtime permission. {error.message}",
            status=error.status,
            code=error.code,
        ) from error

    if api_token:
        organisation.api_token = api_token
    organisation.save()
    return organisation


class MembershipError(Exception):
    """A change to the members that would leave the organisation in a bad state."""


def add_member(*, organisation, username, role):
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise MembershipError(f"No user is called “{username}”. Create the account first.")
    if Membership.objects.filter(user=user).exists():
        raise MembershipError(f"“{username}” already belongs to an organisation.")
    return Membership.objects.create(user=user, organisation=organisation, role=role)


@transaction.atomic
def change_role(*, membership, role):
    if membership.role == Membership.Role.ADMIN and role != Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.role = role
    membership.save(update_fields=["role"])


@transaction.atomic
def remove_member(*, membership):
    if membership.role == Membership.Role.ADMIN:
        _keep_an_admin(membership)
    membership.delete()


def _keep_an_admin(leaving):
    # Locking the admins' rows makes two admins demoting each other at once take turns.
    admins = Membership.objects.select_for_update().filter(
        organisation=leaving.organisation, role=Membership.Role.ADMIN
    )
    if not admins.exclude(pk=leaving.pk).exists():
        raise MembershipError(
            "An organisation needs at least one admin. Make someone else admin first."
        )
