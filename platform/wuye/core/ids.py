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


def uuid7_texts(count: int) -> list[str]:
    """`count` version-7 UUIDs as text, for bulk writes (COPY): one clock reading and one read of the
    random source for all of them, no UUID objects, and sorted, so that they also arrive in key order.
    Several times cheaper per id than `str(uuid7())`."""
    unix_ms = time.time_ns() // 1_000_000
    head = ((unix_ms & ((1 << 48) - 1)) << 80) | (0x7 << 76) | (0b10 << 62)
    rand_a, rand_b = (1 << 12) - 1, (1 << 62) - 1
    raw = os.urandom(10 * count)
    texts = []
    for start in range(0, 10 * count, 10):
        rand = int.from_bytes(raw[start : start + 10], "big")
        digits = f"{head | (((rand >> 62) & rand_a) << 64) | (rand & rand_b):032x}"
        texts.append(f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}")
    texts.sort()
    return texts
