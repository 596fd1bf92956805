"""`wuye company create|list|suspend|resume|add-domain`: the vendor console's operations from a shell."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tenants import selectors, services
from tenants.models import Plan
from wuye.core.errors import ServiceError


class Command(BaseCommand):
    help = "Create, list, suspend and resume companies."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Provision a company from the pool of spare schemas.")
        create.add_argument("--name", required=True)
        create.add_argument("--slug", required=True)
        create.add_argument("--admin-email", required=True)
        create.add_argument("--admin-name", required=True)
        create.add_argument(
            "--admin-password", help="Sign-in password; without it the administrator is invited by e-mail."
        )
        create.add_argument("--ask-password", action="store_true", help="Prompt for the administrator's password.")
        create.add_argument("--plan", help="Plan code (default: the default plan).")
        create.add_argument("--language", default="zh-hans")
        create.add_argument("--currency", default="CNY")
        create.add_argument("--timezone", default="Asia/Shanghai")
        sub.add_parser("list", help="List companies.")
        for name in ("suspend", "resume"):
            p = sub.add_parser(name)
            p.add_argument("slug")
            p.add_argument("--reason", default="")
        dom = sub.add_parser("add-domain", help="Add a custom domain to a company.")
        dom.add_argument("slug")
        dom.add_argument("domain")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "do_" + options["action"].replace("-", "_"))(options)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc

    def do_create(self, options: dict[str, Any]) -> None:
        password = options["admin_password"]
        if options["ask_password"]:
            password = getpass.getpass("Administrator's password: ")
        plan = None
        if options["plan"]:
            plan = Plan.objects.filter(code=options["plan"]).first()
            if plan is None:
                raise CommandError(f"No plan with code {options['plan']!r}.")
        result = services.company_create(
            name=options["name"],
            slug=options["slug"],
            admin_email=options["admin_email"],
            admin_name=options["admin_name"],
            admin_password=password,
            plan=plan,
            language=options["language"],
            currency=options["currency"],
            timezone_name=options["timezone"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.company.name} at {services.company_host(result.company.slug)} "
                f"(schema {result.company.schema_name}, {result.method}, {result.seconds * 1000:.0f} ms); "
                f"administrator {result.admin.email}" + ("" if password else " invited by e-mail")
            )
        )

    def do_list(self, options: dict[str, Any]) -> None:
        for company in selectors.company_list():
            self.stdout.write(f"{company.slug:<24} {company.status:<10} {company.schema_name:<28} {company.name}")

    def do_suspend(self, options: dict[str, Any]) -> None:
        company = services.company_suspend(
            by=None, company=selectors.company_get(slug=options["slug"]), reason=options["reason"]
        )
        self.stdout.write(self.style.WARNING(f"Suspended {company.slug}."))

    def do_resume(self, options: dict[str, Any]) -> None:
        company = services.company_resume(
            by=None, company=selectors.company_get(slug=options["slug"]), reason=options["reason"]
        )
        self.stdout.write(self.style.SUCCESS(f"Resumed {company.slug}."))

    def do_add_domain(self, options: dict[str, Any]) -> None:
        domain = services.domain_add(
            by=None, company=selectors.company_get(slug=options["slug"]), domain=options["domain"]
        )
        self.stdout.write(self.style.SUCCESS(f"{domain.domain} now reaches {options['slug']}."))
