"""One-time links (invitation, password reset) and API token secrets, all bound to a company."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from wuye.core.tenancy import current_schema


class CompanyBoundLinkTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset token (spent once the password changes), with the company's schema in the hash,
    so a link made for one company is worthless at another."""

    key_salt = "wuye.accounts.CompanyBoundLinkTokenGenerator"

    def _make_hash_value(self, user: Any, timestamp: int) -> str:
        return f"{current_schema()}:{super()._make_hash_value(user, timestamp)}"


link_tokens = CompanyBoundLinkTokenGenerator()


def encode_uid(user_id: Any) -> str:
    return urlsafe_base64_encode(force_bytes(str(user_id)))


def decode_uid(uidb64: str) -> str | None:
    try:
        return force_str(urlsafe_base64_decode(uidb64))
    except (ValueError, TypeError):
        return None


API_TOKEN_PREFIX = "wy"  # noqa: S105  (the visible prefix, not a secret)


def api_token_new(schema_name: str) -> tuple[str, str, str]:
    """A new token: (the text given to the user once, its display prefix, the hash to store)."""
    secret = secrets.token_urlsafe(32)
    raw = f"{API_TOKEN_PREFIX}_{schema_name}_{secret}"
    return raw, secret[:8], api_token_hash(schema_name, secret)


def api_token_hash(schema_name: str, secret: str) -> str:
    return hashlib.sha256(f"{schema_name}:{secret}".encode()).hexdigest()


def api_token_parse(raw: str) -> tuple[str, str] | None:
    """(schema, secret) of a token's text, or None when it is not one of ours. The schema may itself
    contain underscores; the secret is the part after the last one that token_urlsafe cannot produce
    ambiguously, so the split is made from the known prefix and the fixed secret length."""
    if not raw.startswith(API_TOKEN_PREFIX + "_"):
        return None
    body = raw[len(API_TOKEN_PREFIX) + 1 :]
    secret_length = 43  # token_urlsafe(32)
    if len(body) < secret_length + 2 or body[-secret_length - 1] != "_":
        return None
    return body[: -secret_length - 1], body[-secret_length:]
