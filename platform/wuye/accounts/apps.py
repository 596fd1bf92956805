from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "wuye.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # OpenAPI extensions; the receivers binding sessions to companies and syncing roles after migrate.
        from wuye.portal.navigation import NavItem, register

        from . import schema, signals  # noqa: F401

        register(NavItem("company.home", _("Home"), "home", order=0))
        register(
            NavItem(
                "company.staff", _("Staff accounts"), "accounts:staff_list", permission="accounts.view_user", order=20
            )
        )
