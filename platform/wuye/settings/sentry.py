"""Sentry: on when SENTRY_DSN is set; events carry the company's schema and no personal data."""

from .env import WUYE_ENV, env_float, env_str

SENTRY_DSN = env_str("SENTRY_DSN", "", "Sentry DSN; empty turns error reporting off.", secret=True)
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", WUYE_ENV, "Environment name shown in Sentry.")
SENTRY_TRACES_SAMPLE_RATE = env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, "Share of requests traced (0 to 1).")
SENTRY_RELEASE = env_str("WUYE_RELEASE", "", "Release name reported to Sentry (the image tag, say).")

if SENTRY_DSN:
    from wuye.core.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=SENTRY_ENVIRONMENT,
        release=SENTRY_RELEASE or None,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
