from django.core.management.base import BaseCommand, CommandError

from polls import organisations
from polls.models import Membership, Organisation


class Command(BaseCommand):
    help = "Add an existing user to an organisation with a role; the first admin is added this way."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role", choices=Membership.Role.values, default=Membership.Role.VIEWER
        )
        parser.add_argument(
            "--organisation", help="Name of the organisation; needed only when there are several."
        )

    def handle(self, *args, username, role, organisation, **options):
        target = _find_organisation(organisation)
        try:
            organisations.add_member(organisation=target, username=username, role=role)
        except organisations.MembershipError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Added {username} to {target.name} as {role}.")


def _find_organisation(name):
    candidates = Organisation.objects.filter(name=name) if name else Organisation.objects.all()
    count = candidates.count()
    if count == 1:
        return candidates.get()
    if count == 0:
        raise CommandError(
            f"No organisation is called “{name}”."
            if name
            else "No organisation exists yet: run migrate with the CLOUDFLARE_* variables set."
        )
    raise CommandError("There are several organisations: name one with --organisation.")
