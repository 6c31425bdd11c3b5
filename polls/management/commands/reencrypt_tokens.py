from django.core.management.base import BaseCommand, CommandError

from polls.models import Organisation
from polls.tokens import TokenDecryptionError, reencrypt_token


class Command(BaseCommand):
    help = (
        "Encrypt every stored API token again with the newest key in TOKEN_ENCRYPTION_KEYS. "
        "Run it after putting a new key first in the list; older keys can be removed afterwards."
    )

    def handle(self, *args, **options):
        organisations = list(Organisation.objects.all())
        for organisation in organisations:
            try:
                organisation.api_token_encrypted = reencrypt_token(organisation.api_token_encrypted)
            except TokenDecryptionError as error:
                raise CommandError(
                    f"Organisation {organisation.pk} ({organisation.name}): {error}"
                ) from None
            organisation.save(update_fields=["api_token_encrypted"])
        self.stdout.write(f"Encrypted {len(organisations)} API token(s) with the newest key.")
