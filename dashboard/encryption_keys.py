"""The Fernet keys that encrypt stored API tokens, as settings.py reads and checks them at start."""

import base64
import hashlib

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

MAKE_A_KEY = (
    'Make a key with: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)


def derive_development_key(secret_key):
    """Derive a Fernet key from SECRET_KEY, so a developer's machine needs no key of its own.

    The label keeps this key apart from every other value Django derives from SECRET_KEY.
    """
    digest = hashlib.sha256(b"poll-dashboard token encryption key:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def validate_keys(keys):
    """Raise ImproperlyConfigured naming the first key that Fernet rejects.

    The message gives the key's position, never the key itself.
    """
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"TOKEN_ENCRYPTION_KEYS: the key at position {position} of {len(keys)} is not a "
                "valid Fernet key, which is 32 bytes in URL-safe base64 (44 characters). "
                f"{MAKE_A_KEY}"
            ) from None
