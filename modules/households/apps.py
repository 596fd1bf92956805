from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HouseholdsConfig(AppConfig):
    name = "modules.households"
    label = "households"
    verbose_name = _("Households")

    def ready(self) -> None:
        from wuye.core.seeding import register_sample

        from .samples import households_sample

        register_sample("households", households_sample, order=30)
        from wuye.portal.navigation import NavItem, register, register_home

        from . import imports, policies

        # Owners sign in at the same page as staff and land in the owner portal.
        register_home("owner", "households:owner_home")
        register(NavItem("households.my", _("My home"), "households:owner_home", area="owner", order=10))
        register(
            NavItem(
                "households.people",
                _("Owners and occupants"),
                "households:person_list",
                permission=policies.VIEW,
                order=12,
            )
        )
        # After policies: the imports app grants its page to the roles that hold a kind's permission.
        imports.register_kinds()
