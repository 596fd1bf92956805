"""Version-7 UUIDs (RFC 9562): the layout of each id, and the bulk text form used by COPY writers."""

from __future__ import annotations

import time
import uuid

from wuye.core.ids import uuid7, uuid7_texts


def _check_layout(value: uuid.UUID, around_ms: int) -> None:
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert abs((value.int >> 80) - around_ms) < 5_000, "the first 48 bits are the Unix time in milliseconds"


def test_uuid7_layout() -> None:
    now_ms = time.time_ns() // 1_000_000
    _check_layout(uuid7(), now_ms)


def test_uuid7_texts_are_valid_distinct_sorted_and_canonical() -> None:
    now_ms = time.time_ns() // 1_000_000
    texts = uuid7_texts(5000)
    assert len(texts) == len(set(texts)) == 5000
    assert texts == sorted(texts)
    for text in texts:
        value = uuid.UUID(text)
        assert str(value) == text, "lower-case hex with hyphens, as PostgreSQL and str(UUID) write it"
        _check_layout(value, now_ms)
    # Random where the RFC puts randomness: 74 bits vary across the batch.
    varying = 0
    for text in texts[1:]:
        varying |= uuid.UUID(text).int ^ uuid.UUID(texts[0]).int
    assert bin(varying & ((1 << 80) - 1)).count("1") == 74
    assert uuid7_texts(0) == []
