from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstateConfig(AppConfig):
    name = "modules.estate"
    label = "estate"
    verbose_name = _("Estate")

    def ready(self) -> None:
        from wuye.portal.navigation import NavItem, register

        from . import policies

        register(NavItem("estate.projects", _("Projects"), "estate:project_list", permission=policies.VIEW, order=10))
        register(NavItem("estate.units", _("Units"), "estate:unit_list", permission=policies.VIEW, order=11))
