"""`wuye pool refill|status`: the warm pool of spare schemas."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tenants import selectors, services


class Command(BaseCommand):
    help = "Refill or show the pool of spare schemas new companies are provisioned from."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["refill", "status"])
        parser.add_argument("--size", type=int, help="Spares to keep (default WUYE_SPARE_POOL_SIZE).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "refill":
            services.template_ensure()
            created = services.spare_pool_refill(target=options["size"])
            self.stdout.write(self.style.SUCCESS(f"{created} spare schema(s) made."))
        state = selectors.pool_state()
        template = state["template"]
        self.stdout.write(f"template: {template.schema_name if template else '-'}")
        for spare in state["spares"]:
            current = "ready" if spare.fingerprint == state["fingerprint"] else "behind the code"
            self.stdout.write(
                f"spare: {spare.schema_name} ({spare.method}, {spare.build_seconds or 0:.2f} s, {current})"
            )
