"""Personal data encrypted at rest, and blind indexes to find it again.

`EncryptedTextField` stores Fernet tokens (AES-128-CBC with HMAC-SHA256, a fresh IV each time), so a copy
of the database or a backup holds no readable ID number. Keys come from settings (WUYE_FIELD_KEYS, read in
wuye.settings.security) through `MultiFernet`: the first key encrypts, every key decrypts. To rotate, put a
new key first, deploy, re-encrypt the rows with `reencrypt`, then drop the old key.

Ciphertext cannot be searched, compared or sorted: the same plaintext encrypts differently every time. A
model that must find or deduplicate a value keeps a blind index beside it, an HMAC of the normalised
value under a key of its own (WUYE_BLIND_INDEX_KEY, unaffected by rotating the field keys):

    id_number = EncryptedTextField(blank=True)
    id_number_index = models.CharField(max_length=64, blank=True, db_index=True)
    # on save: id_number_index = blind_index(id_number, purpose="households.owner.id_number")
    # a unique constraint goes on id_number_index (with condition ~Q(id_number_index="") if blanks are allowed)

and looks values up with `.filter(id_number_index=blind_index(number, purpose=...))`.

Turning an existing plaintext column into an EncryptedTextField needs a data migration that encrypts the
rows: reading a plaintext value through the field raises DecryptionError.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import unicodedata
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, IsNull, Lookup, Transform
from django.utils.translation import gettext_lazy as _


class DecryptionError(Exception):
    """A stored value that none of the configured keys opens (a key was dropped too early, or the data was
    written under other keys)."""


@functools.lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _fernet() -> MultiFernet:
    # Looked up on every call (the cache makes it cheap) so that changed settings, in tests, take effect.
    return _multi_fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        # Neither the token nor the keys go into the message: both end up in logs and error reports.
        raise DecryptionError(
            "A stored value cannot be decrypted with any key in WUYE_FIELD_KEYS "
            "(was a key removed before every row was re-encrypted?)."
        ) from None


def reencrypt(token: str) -> str:
    """The same plaintext encrypted with the first (current) key: the step of a key rotation."""
    try:
        return _fernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError):
        raise DecryptionError("A stored value cannot be decrypted with any key in WUYE_FIELD_KEYS.") from None


# ------------------------------------------------------------------------------------------- blind index
@functools.lru_cache(maxsize=64)
def _index_key(key: str, purpose: str) -> bytes:
    # One key per purpose: the index of an ID number and that of a phone number cannot be matched against
    # each other, and a leaked index of one column says nothing about another.
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"wuye blind index\x00" + purpose.encode("utf-8"),
    ).derive(key.encode("utf-8"))


def blind_index_normalise(value: str) -> str:
    """What the index sees: NFKC (full-width digits are digits), no whitespace, upper case. Meant for
    identifiers (ID numbers, phone numbers) that callers have already cleaned, not for free text."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def blind_index(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 (64 hex characters) of the normalised value; equal values give equal indexes under the
    same purpose. An empty value gives "" (blank stays blank, as in EncryptedTextField)."""
    if not purpose:
        raise ValueError("blind_index needs a purpose, e.g. 'households.owner.id_number'")
    normalised = blind_index_normalise(value)
    if not normalised:
        return ""
    key = _index_key(settings.BLIND_INDEX_KEY, purpose)
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------------------- the field
class _EmptyOnlyExact(Exact):
    """`field=""` (and `field=None`, which Django turns into isnull) still work; any other value would be
    compared with a ciphertext that never matches, so it is refused instead of silently finding nothing."""

    def get_prep_lookup(self) -> Any:
        if not (self.rhs is None or (isinstance(self.rhs, str) and self.rhs == "")):
            raise FieldError(
                f"{self.lhs.output_field.__class__.__name__} holds ciphertext and cannot be compared with a "
                "value: filter on its blind index (wuye.core.crypto.blind_index) instead."
            )
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; reads give the plaintext back. "" and NULL are stored as they are, so
    blank=True and null=True behave as on a TextField.

    Only `isnull` and `exact` against "" are allowed as lookups (see the module's docstring for searching
    with a blind index); ordering by the field orders by ciphertext, which means nothing. `unique` is
    refused by a system check: put the unique constraint on the blind index.
    """

    description = _("Text encrypted at rest")

    def check(self, **kwargs: Any) -> list[checks.CheckMessage]:
        errors = super().check(**kwargs)
        if self.unique and not self.primary_key:
            errors.append(
                checks.Error(
                    "EncryptedTextField cannot be unique: the same value encrypts differently every time.",
                    hint="Put the unique constraint on a blind index column (wuye.core.crypto.blind_index).",
                    obj=self,
                    id="core.E001",
                )
            )
        return errors

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> str | None:
        # Values reaching here (forms, fixtures, assignments) are plaintext: from_db_value already decrypted.
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return IsNull
        return None

    def get_transform(self, lookup_name: str) -> type[Transform] | None:
        return None
