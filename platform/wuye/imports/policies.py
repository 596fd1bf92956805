"""Who may import, see imports and undo them.

Importing a kind needs that kind's own permission (`ImportKind.permission`: estate.add_unit for units),
held through one's roles; where one may import is one's scope, applied by the kind's check row by row.
The imports app's own permissions say who sees everyone's batches and who may undo them."""

from __future__ import annotations

from typing import Any

from wuye.accounts import roles
from wuye.accounts.policies import COMPANY_ADMIN
from wuye.core.errors import PolicyDenied
from wuye.core.policies import allowed

from . import registry

# The Imports entry of the navigation. A navigation item names one permission, and "may import some
# kind" is not one: every role granted some kind's permission is granted this one too (below).
USE_IMPORTS = "imports.add_importbatch"
VIEW_ALL = "imports.view_importbatch"  # every batch of the company, not only one's own
UNDO_ANY = "imports.undo_any_importbatch"  # undo a batch someone else uploaded

roles.grant(COMPANY_ADMIN, [USE_IMPORTS, VIEW_ALL, UNDO_ANY])


def _grant_use(kind: registry.ImportKind) -> None:
    for code in roles.names():
        if kind.permission in roles.permissions_of(code):
            roles.grant(code, [USE_IMPORTS])


registry.on_register(_grant_use)


def can_import(user: Any, kind: registry.ImportKind) -> bool:
    return allowed(user, kind.permission)


def importable_kinds(user: Any) -> list[registry.ImportKind]:
    return [kind for kind in registry.kinds() if can_import(user, kind)]


def sees_all(user: Any) -> bool:
    return allowed(user, VIEW_ALL)


def can_undo(user: Any, batch: Any) -> bool:
    """The uploader (while they may still import that kind), or whoever may undo anyone's imports."""
    if allowed(user, UNDO_ANY):
        return True
    kind = next((kind for kind in registry.kinds() if kind.code == batch.kind), None)
    return kind is not None and batch.created_by_id == getattr(user, "pk", None) and can_import(user, kind)


def require_import(user: Any, kind: registry.ImportKind) -> None:
    if not can_import(user, kind):
        from django.utils.translation import gettext as _

        raise PolicyDenied(_("You do not have permission to import %(kind)s.") % {"kind": kind.label})
