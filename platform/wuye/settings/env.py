"""Every setting that comes from the environment is read through here.

Reading through one place gives one list of every variable, its default and what it does; the README's
configuration table and the Helm chart's values are checked against that list by tests, so a new
variable cannot be added without being documented and deployable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENVIRONMENTS = ("development", "test", "production")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str
    secret: bool = False


DECLARED: dict[str, Variable] = {}


def _read(name: str, default: str, help: str, secret: bool) -> str:
    DECLARED[name] = Variable(name=name, default=default, help=help, secret=secret)
    return os.environ.get(name, default)


def env_str(name: str, default: str, help: str, *, secret: bool = False) -> str:
    return _read(name, default, help, secret)


def env_bool(name: str, default: bool, help: str) -> bool:
    raw = _read(name, "true" if default else "false", help, False).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, help: str) -> int:
    raw = _read(name, str(default), help, False)
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a whole number") from None


def env_float(name: str, default: float, help: str) -> float:
    raw = _read(name, str(default), help, False)
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None


def env_list(name: str, default: list[str], help: str) -> list[str]:
    raw = _read(name, ",".join(default), help, False)
    return [item.strip() for item in raw.split(",") if item.strip()]


WUYE_ENV = env_str(
    "WUYE_ENV",
    "development",
    "development, test or production. production refuses unsafe settings at start-up.",
)
if WUYE_ENV not in ENVIRONMENTS:
    raise ValueError(f"WUYE_ENV={WUYE_ENV!r}: use one of {', '.join(ENVIRONMENTS)}")
IS_PRODUCTION = WUYE_ENV == "production"
