"""Encrypted model fields keyed by FIELD_ENCRYPTION_KEY rather than SECRET_KEY."""

from __future__ import annotations

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.utils.functional import cached_property
from encrypted_fields.fields import EncryptedCharField


class SecretField(EncryptedCharField):
    """A Fernet-encrypted text column.

    The library derives keys from SECRET_KEY; Tajo keeps a separate key list so that rotating
    the session secret never makes stored API keys unreadable. The first key encrypts, every
    key decrypts (rotation).
    """

    @cached_property
    def keys(self) -> list[bytes]:
        return [key.encode() for key in settings.FIELD_ENCRYPTION_KEYS]

    @cached_property
    def f(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in self.keys])
