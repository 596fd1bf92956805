from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from wuye.core.tenancy import current_schema, in_public_schema

SESSION_SCHEMA_KEY = "_wuye_schema"


@receiver(user_logged_in, dispatch_uid="wuye.accounts.bind_session_to_company")
def bind_session_to_company(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_SCHEMA_KEY] = current_schema()


@receiver(post_migrate, dispatch_uid="wuye.accounts.roles_sync")
def sync_roles_after_migrate(sender: Any, app_config: Any, **kwargs: Any) -> None:
    """After a company schema is migrated, bring its roles up to the code (see services.roles_sync).
    post_migrate is sent once per app with models; the permissions of every app exist by the last one."""
    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if in_public_schema() or app_config is not last:
        return
    from .services import roles_sync

    roles_sync()
