from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HelpdeskConfig(AppConfig):
    name = "modules.helpdesk"
    label = "helpdesk"
    verbose_name = _("Helpdesk")

    def ready(self) -> None:
        from wuye.core.seeding import register_seeder

        from . import policies
        from .seeding import helpdesk_seed

        register_seeder("helpdesk", helpdesk_seed, order=50)
        del policies  # imported for its role grants
