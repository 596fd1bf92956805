from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "wuye.portal"
    label = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from .navigation import NavItem, register

        register(NavItem("company.audit", _("Audit log"), "audit_log", permission="core.view_auditentry", order=90))
