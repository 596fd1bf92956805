"""Helpers for policies. Each module's policies.py holds its rules as data (role -> permission
codenames) and small predicates; services call `require` before they change anything."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from .errors import PolicyDenied


def allowed(user: Any, permission: str) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active and user.has_perm(permission))


def require(user: Any, permission: str) -> None:
    """Raise PolicyDenied unless `user` holds `permission` (an "app_label.codename")."""
    if not allowed(user, permission):
        raise PolicyDenied(_("You do not have permission to do this."))
