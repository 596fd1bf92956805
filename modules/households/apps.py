from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "modules.households"
    label = "households"
    verbose_name = _("Households")

    def ready(self) -> None:
        from wuye.portal.navigation import NavItem, register, register_home

        from . import policies

        # Owners sign in at the same page as staff and land in the owner portal.
        register_home("owner", "households:owner_home")
        register(
            NavItem(
                "households.people",
                _("Owners and occupants"),
                "households:person_list",
                permission=policies.VIEW,
                order=12,
            )
        )
