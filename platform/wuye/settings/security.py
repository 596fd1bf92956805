"""Keys that protect personal data at rest (wuye.core.crypto): the field encryption keys and the blind index key.

The two are separate on purpose. Field keys rotate (a new key goes first and encrypts, the old ones stay
behind it to decrypt until every row is re-encrypted); the blind index key cannot rotate without
recomputing every index, so rotating the field keys must not touch it.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from .env import IS_PRODUCTION, env_str

# DEVELOPMENT ONLY. Derived from a fixed, published string so that development and test data encrypted in
# one run can be read in the next; anyone can derive them, so production refuses them.
_DEVELOPMENT_KEY_MATERIAL = "wuye-development-only-personal-data-keys-do-not-use-in-production"
DEVELOPMENT_FIELD_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(f"{_DEVELOPMENT_KEY_MATERIAL}:field-encryption".encode()).digest()
).decode("ascii")
DEVELOPMENT_BLIND_INDEX_KEY = hashlib.sha256(f"{_DEVELOPMENT_KEY_MATERIAL}:blind-index".encode()).hexdigest()
BLIND_INDEX_KEY_MIN_LENGTH = 32

FIELD_ENCRYPTION_KEYS = [
    key.strip()
    for key in env_str(
        "WUYE_FIELD_KEYS",
        DEVELOPMENT_FIELD_KEY,
        "Keys that encrypt personal data at rest (comma-separated Fernet keys): the first encrypts, all decrypt. "
        "Production refuses the development default.",
        secret=True,
    ).split(",")
    if key.strip()
]
BLIND_INDEX_KEY = env_str(
    "WUYE_BLIND_INDEX_KEY",
    DEVELOPMENT_BLIND_INDEX_KEY,
    "Key of the blind indexes that find encrypted values (at least 32 characters); never rotated with the field "
    "keys. Production refuses the development default.",
    secret=True,
).strip()

# Malformed keys are refused in every environment: they would fail at the first read or write anyway.
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("WUYE_FIELD_KEYS holds no key.")
for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key)
    except ValueError:
        # The key itself is never echoed: it is a secret, and error output ends up in logs.
        raise ImproperlyConfigured(
            f"WUYE_FIELD_KEYS: key {_position} is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.'
        ) from None
if len(BLIND_INDEX_KEY) < BLIND_INDEX_KEY_MIN_LENGTH or len(set(BLIND_INDEX_KEY)) < 5:
    raise ImproperlyConfigured(
        f"WUYE_BLIND_INDEX_KEY must be at least {BLIND_INDEX_KEY_MIN_LENGTH} characters with at least 5 different "
        'ones; make one with `python -c "import secrets; print(secrets.token_urlsafe(32))"`.'
    )

if IS_PRODUCTION:
    if DEVELOPMENT_FIELD_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured(
            "WUYE_ENV=production refuses the development field encryption key: set WUYE_FIELD_KEYS to keys of "
            "your own (and keep the development key out of the list, even behind them)."
        )
    if BLIND_INDEX_KEY == DEVELOPMENT_BLIND_INDEX_KEY:
        raise ImproperlyConfigured(
            "WUYE_ENV=production refuses the development blind index key: set WUYE_BLIND_INDEX_KEY to a long "
            "random value."
        )
