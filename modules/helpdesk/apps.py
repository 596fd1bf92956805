from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "modules.helpdesk"
    label = "helpdesk"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        from wuye.core.seeding import register_sample, register_seeder
        from wuye.portal.navigation import NavItem, register

        from . import policies
        from .seeding import helpdesk_seed

        register_seeder("helpdesk", helpdesk_seed, order=50)
        from .samples import helpdesk_sample

        register_sample("helpdesk", helpdesk_sample, order=50)
        register(NavItem("helpdesk.queue", _("Requests"), "helpdesk:queue", permission=policies.VIEW, order=15))
        register(
            NavItem("helpdesk.daily", _("Daily check"), "helpdesk:daily", permission=policies.DUTY_CHECK, order=16)
        )
        register(NavItem("helpdesk.my", _("My requests"), "helpdesk:my_requests", area="owner", order=25))
