from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "10.1.2.3", "unknown.example"])
def test_healthz_answers_on_every_host(host: str) -> None:
    response = Client(HTTP_HOST=host).get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_database_and_redis() -> None:
    response = Client(HTTP_HOST="localhost").get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == ["database", "redis"]


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_redis(settings) -> None:
    from wuye.core import health

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    health._redis.cache_clear()
    try:
        response = Client(HTTP_HOST="localhost").get("/readyz")
    finally:
        health._redis.cache_clear()
    assert response.status_code == 503
    assert "redis" in response.json()["problems"]
    assert "database" not in response.json()["problems"]
