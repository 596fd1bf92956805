"""Settings from the environment: safe development defaults, and production refusing unsafe ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STRONG_KEY = "k3J9-pZq8_w2Lm5nR7tY1vX4bC6dF0gH-sA2eQ9uI8oP3lK7jN5mB1vC4xZ6"
# Production also refuses the development keys of personal data (tests/core/test_crypto.py).
PERSONAL_DATA_KEYS = {
    "WUYE_FIELD_KEYS": "q9O3mD2xV7cLw1Rk8TzY5nB0hJ4fG6sA-eU_iP3lK7E=",
    "WUYE_BLIND_INDEX_KEY": "blind-index-key-for-the-deploy-check-0123456789",
}


def _wuye(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WUYE_", "SENTRY_"))}
    return subprocess.run(
        [sys.executable, "-m", "wuye.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=120,
    )


def test_production_refuses_the_development_secret_key() -> None:
    result = _wuye("check", WUYE_ENV="production", WUYE_DEBUG="false")
    assert result.returncode != 0
    assert "refuses the development secret key" in result.stderr


def test_production_refuses_debug() -> None:
    result = _wuye("check", WUYE_ENV="production", WUYE_SECRET_KEY=STRONG_KEY, WUYE_DEBUG="true")
    assert result.returncode != 0
    assert "WUYE_DEBUG" in result.stderr


def test_production_refuses_a_short_secret_key() -> None:
    result = _wuye("check", WUYE_ENV="production", WUYE_SECRET_KEY="short")
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_the_deploy_check_is_clean_in_production() -> None:
    result = _wuye(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        WUYE_ENV="production",
        WUYE_SECRET_KEY=STRONG_KEY,
        **PERSONAL_DATA_KEYS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_flags_development_settings() -> None:
    result = _wuye("check", "--deploy", "--fail-level", "WARNING", WUYE_ENV="development")
    assert result.returncode != 0


def test_a_malformed_value_is_a_clear_error() -> None:
    result = _wuye("check", WUYE_SPARE_POOL_SIZE="three")
    assert result.returncode != 0
    assert "WUYE_SPARE_POOL_SIZE='three' is not a whole number" in result.stderr


def test_every_variable_is_documented_in_the_readme() -> None:
    import wuye.settings  # noqa: F401  (declares every variable)
    from wuye.settings.env import DECLARED

    readme = (REPO / "README.md").read_text()
    missing = [name for name in DECLARED if f"`{name}`" not in readme]
    assert not missing, f"README.md does not document {missing}"
