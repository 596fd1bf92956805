"""The one hook through which modules seed a new company's defaults.

Provisioning (in `tenants`) calls `run_seeders` inside the new company's schema, in the same transaction
that creates the company; a module registers its seeder from its AppConfig.ready(). The platform thus
never imports a module, and a failing seeder rolls the whole company back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SeedContext:
    """What a seeder may know about the company it seeds (the current schema is the company's)."""

    schema_name: str
    company_name: str
    language: str
    currency: str
    timezone: str


Seeder = Callable[[SeedContext], None]

_SEEDERS: dict[str, tuple[int, Seeder]] = {}


def register_seeder(name: str, seeder: Seeder, *, order: int = 100) -> None:
    """Register `seeder` under `name`; lower `order` runs first. Registering a name again replaces it."""
    _SEEDERS[name] = (order, seeder)


def registered_seeders() -> list[str]:
    return [name for name, _ in sorted(_SEEDERS.items(), key=lambda item: (item[1][0], item[0]))]


def run_seeders(context: SeedContext) -> list[str]:
    names = registered_seeders()
    for name in names:
        _SEEDERS[name][1](context)
    return names


# ------------------------------------------------------------------------------------------ sample data
# The demo company of `make dev` gets sample records (an estate, staff, owners) through the same kind of
# hook, so the demo shows every module without the platform importing one. Not used for real companies.
SampleFiller = Callable[[object], None]  # called with the company's administrator, in its schema

_SAMPLES: dict[str, tuple[int, SampleFiller]] = {}


def register_sample(name: str, filler: SampleFiller, *, order: int = 100) -> None:
    _SAMPLES[name] = (order, filler)


def run_samples(admin: object) -> list[str]:
    names = [name for name, _ in sorted(_SAMPLES.items(), key=lambda item: (item[1][0], item[0]))]
    for name in names:
        _SAMPLES[name][1](admin)
    return names
