"""`wuye demo`: the vendor login, a default plan and the demo company 示范物业 for development.

Idempotent: a second run finds them and only prints the addresses and logins again.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from tenants import services
from tenants.models import Company
from wuye.accounts import services as account_services
from wuye.accounts.models import User, UserKind
from wuye.core.seeding import run_samples
from wuye.core.tenancy import use_public_schema

VENDOR_EMAIL = "vendor@wuye.localhost"
VENDOR_PASSWORD = "wuye-vendor-2026"  # noqa: S105  (development logins, printed by make dev)
DEMO_SLUG = "demo"
DEMO_NAME = "示范物业"
ADMIN_EMAIL = "admin@demo.localhost"
ADMIN_PASSWORD = "wuye-admin-2026"  # noqa: S105
# Made by the modules' sample fillers (modules/*/samples.py) when the demo company is created.
SAMPLE_LOGINS = (
    "zone@demo.localhost / wuye-zone-2026",
    "desk@demo.localhost / wuye-desk-2026",
    "owner@demo.localhost / wuye-owner-2026",
)


class Command(BaseCommand):
    help = "Create the development logins and the demo company (idempotent), then print them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and settings.WUYE_ENV == "production":
            self.stderr.write("The demo logins are for development; not created in production.")
            return
        use_public_schema()
        if not User.objects.filter(email=VENDOR_EMAIL).exists():
            account_services.user_create(
                email=VENDOR_EMAIL,
                name="Vendor",
                password=VENDOR_PASSWORD,
                kind=UserKind.VENDOR,
                is_staff=True,
                is_superuser=True,
            )
        services.template_ensure()
        if not Company.objects.filter(slug=DEMO_SLUG).exists():
            result = services.company_create(
                name=DEMO_NAME,
                slug=DEMO_SLUG,
                admin_email=ADMIN_EMAIL,
                admin_name="示范管理员",
                admin_password=ADMIN_PASSWORD,
            )
            self.stdout.write(f"==> provisioned {DEMO_NAME} ({result.method}, {result.seconds * 1000:.0f} ms)")
            with transaction.atomic(), services.in_company(result.company):
                run_samples(result.admin)
            self.stdout.write(f"==> sample estate, staff and owners entered in {DEMO_NAME}")
        made = services.spare_pool_refill()
        if made:
            self.stdout.write(f"==> {made} spare schema(s) made for the next companies")
        port = options["port"]
        suffix = "" if port == 80 else f":{port}"
        base = settings.BASE_DOMAIN
        self.stdout.write(
            "\n"
            f"  Vendor console   http://{base}{suffix}/          {VENDOR_EMAIL} / {VENDOR_PASSWORD}\n"
            f"  Demo company     http://{DEMO_SLUG}.{base}{suffix}/     {ADMIN_EMAIL} / {ADMIN_PASSWORD}\n"
            f"  API docs         http://{DEMO_SLUG}.{base}{suffix}/api/docs/\n"
            f"  Demo staff and owner (sign in at the demo company; the owner lands in the owner portal):\n"
            f"    zone manager   {SAMPLE_LOGINS[0]}\n"
            f"    front desk     {SAMPLE_LOGINS[1]}\n"
            f"    owner          {SAMPLE_LOGINS[2]}\n"
            f"  Health           http://{base}{suffix}/healthz   /readyz\n"
            "\n  Ctrl-C stops the web server, the worker, beat and the embedded servers.\n"
        )
