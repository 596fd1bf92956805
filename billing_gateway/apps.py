from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingGatewayConfig(AppConfig):
    name = "billing_gateway"
    label = "billing_gateway"
    verbose_name = _("Online payments")

    def ready(self) -> None:
        from . import policies  # noqa: F401  (grants the company admin's permission)
