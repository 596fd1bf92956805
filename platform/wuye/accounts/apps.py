from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wuye.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from wuye.core.seeding import register_seeder

        from . import schema, signals  # noqa: F401  (OpenAPI extensions; the session-binding receiver)
        from .services import roles_seed

        # Roles are seeded last: every module has granted its permissions by then.
        register_seeder("accounts.roles", roles_seed, order=900)

        from wuye.portal.navigation import NavItem, register

        register(NavItem("company.home", _("Home"), "home", order=0))
        register(
            NavItem(
                "company.staff", _("Staff accounts"), "accounts:staff_list", permission="accounts.view_user", order=20
            )
        )
