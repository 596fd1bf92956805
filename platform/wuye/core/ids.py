"""Time-ordered UUIDs (version 7, RFC 9562) for primary keys.

Random UUIDs scatter inserts across a B-tree; version 7 keeps new rows at the right edge of the index
like a sequence would, while staying unguessable enough that an id from one company tells nothing about
another's. Python 3.11 has no uuid7, so it is built here from the RFC's layout.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    unix_ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms & ((1 << 48) - 1)) << 80  # 48-bit timestamp
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # 12 random bits (rand_a)
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # 62 random bits (rand_b)
    return uuid.UUID(int=value)


def as_uuid(value: object) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (an id from a URL or a form, looked up as "not found")."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
