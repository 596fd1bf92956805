from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "modules.staff"
    label = "staff"
    verbose_name = _("Staff")

    def ready(self) -> None:
        from wuye.core.seeding import register_sample

        from .samples import staff_sample

        register_sample("staff", staff_sample, order=20)
        from wuye.core.scope import register_resolver
        from wuye.core.seeding import register_seeder
        from wuye.portal.navigation import NavItem, register

        from . import policies
        from .selectors import scope_for_user
        from .services import organisation_seed

        register_seeder("staff.organisation", organisation_seed, order=20)
        register_resolver(scope_for_user)
        from modules.estate.selectors import register_zone_managers

        from .selectors import zone_manager_names

        register_zone_managers(zone_manager_names)
        register(
            NavItem(
                "staff.departments",
                _("Departments"),
                "staff:department_list",
                permission=policies.VIEW_ORGANISATION,
                order=30,
            )
        )
