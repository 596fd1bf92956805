from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeesConfig(AppConfig):
    name = "modules.fees"
    label = "fees"
    verbose_name = _("Fees")

    def ready(self) -> None:
        from wuye.core.seeding import register_sample, register_seeder
        from wuye.portal.navigation import NavItem, register

        from . import gateway, imports, policies
        from .samples import fees_sample
        from .seeding import fees_seed

        register_seeder("fees", fees_seed, order=40)
        register_sample("fees", fees_sample, order=40)
        register(NavItem("fees.accounts", _("Fees"), "fees:account_list", permission=policies.VIEW, order=20))
        register(
            NavItem(
                "fees.collection",
                _("Collection rate"),
                "fees:collection",
                permission=policies.VIEW_COLLECTION,
                order=21,
            )
        )
        register(NavItem("fees.my", _("My bills"), "fees:my_fees", area="owner", order=20))
        # After policies: the imports app grants its page to the roles that hold a kind's permission.
        imports.register_kinds()
        # Online payments: the gateway's Stripe events that write this ledger.
        gateway.register_handlers()
