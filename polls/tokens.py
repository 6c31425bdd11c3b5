"""Encryption at rest for the organisations' Cloudflare API tokens.

Keys come from TOKEN_ENCRYPTION_KEYS, newest first: the newest encrypts, and every key in the
list decrypts, so a key can be rotated in without a moment where stored tokens are unreadable.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# A hint shows this many trailing characters, and only of a token long enough to spare them.
HINT_CHARACTERS = 4
HINT_MIN_TOKEN_LENGTH = 16


class TokenDecryptionError(Exception):
    """No key in TOKEN_ENCRYPTION_KEYS decrypts a stored token."""


def _cipher():
    return MultiFernet([Fernet(key) for key in settings.TOKEN_ENCRYPTION_KEYS])


def encrypt_token(token):
    return _cipher().encrypt(token.encode()).decode()


def decrypt_token(ciphertext):
    try:
        return _cipher().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError(
            "The stored API token cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS. "
            "Put back the key it was encrypted with, or save the token again."
        ) from None


def reencrypt_token(ciphertext):
    """Return the token encrypted with the newest key, from a ciphertext made with any key."""
    try:
        return _cipher().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenDecryptionError("A stored API token cannot be decrypted with any key.") from None


def token_hint(token):
    """Return a masked form of the token that is safe to show, such as `…8f3a`."""
    if len(token) < HINT_MIN_TOKEN_LENGTH:
        return "…"
    return "…" + token[-HINT_CHARACTERS:]
