from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "wuye.imports"
    label = "imports"
    verbose_name = _("Imports")

    def ready(self) -> None:
        from wuye.portal.navigation import NavItem, register

        from . import policies

        register(NavItem("imports", _("Imports"), "imports:batch_list", permission=policies.USE_IMPORTS, order=90))
