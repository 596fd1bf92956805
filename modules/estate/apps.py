from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EstateConfig(AppConfig):
    name = "modules.estate"
    label = "estate"
    verbose_name = _("Estate")

    def ready(self) -> None:
        from wuye.core.seeding import register_sample

        from .samples import estate_sample

        register_sample("estate", estate_sample, order=10)
        from wuye.portal.navigation import NavItem, register

        from . import imports, policies

        register(NavItem("estate.projects", _("Projects"), "estate:project_list", permission=policies.VIEW, order=10))
        register(NavItem("estate.units", _("Units"), "estate:unit_list", permission=policies.VIEW, order=11))
        # After policies: the imports app grants its page to the roles that hold a kind's permission.
        imports.register_kinds()
