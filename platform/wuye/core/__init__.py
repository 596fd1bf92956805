"""Shared core: base models, errors, pagination, health, seeding hook, Sentry scrubbing, fan-out."""
