from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from wuye.core.tenancy import current_schema

SESSION_SCHEMA_KEY = "_wuye_schema"


@receiver(user_logged_in, dispatch_uid="wuye.accounts.bind_session_to_company")
def bind_session_to_company(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_SCHEMA_KEY] = current_schema()
