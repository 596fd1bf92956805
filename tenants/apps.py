from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TenantsConfig(AppConfig):
    name = "tenants"
    label = "tenants"
    verbose_name = _("Companies")

    def ready(self) -> None:
        from wuye.portal.navigation import NavItem, register

        register(NavItem("vendor.companies", _("Companies"), "tenants:company_list", order=10, area="vendor"))
        register(NavItem("vendor.pool", _("Schema pool"), "tenants:pool", order=20, area="vendor"))
