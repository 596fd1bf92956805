from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingGatewayConfig(AppConfig):
    name = "billing_gateway"
    label = "billing_gateway"
    verbose_name = _("Online payments")

    def ready(self) -> None:
        from wuye.portal.navigation import NavItem, register

        from . import policies

        register(
            NavItem(
                "payments.stripe",
                _("Online payments"),
                "billing_gateway:stripe_account",
                permission=policies.CONNECT,
                order=90,
            )
        )
        register(NavItem("vendor.stripe", _("Stripe accounts"), "billing_gateway:accounts", order=30, area="vendor"))
