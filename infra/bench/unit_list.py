"""`make bench`, part 3: the unit list of a project with 10,000 units, as a page and through the API.

Target (issue #3): p95 <= 100 ms over 200 requests, for each. Like the provisioning benchmark, this works
in a database of its own (`<name>_bench_units` beside DATABASE_URL's, dropped at the end) and prints
everything before saying PASS or FAIL (exit status 1 on a FAIL).

What is measured: the wall clock of Django's test client around one GET, in this process: tenant routing
by host, the middleware, authentication (a session for the page, a token for the API), the permission
and scope checks, the queries, and the template or JSON rendering. No network and no web server: those
add the same for every page and are not what the target is about. The 200 requests walk pages 1 to 200
of 50 units (every unit once), so deep pages (large OFFSETs) count as much as the first one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import traceback
from decimal import Decimal
from typing import Any

from provisioning import bench_url, database_create, database_drop, server_params

TARGET_P95_MS = 100.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def setup(units: int) -> dict[str, Any]:
    """A company with one project of `units` units in 20 buildings (written in bulk: the set-up is not
    what is measured), its administrator signed in, and an API token."""
    from django.core.management import call_command
    from django.test import Client

    from modules.estate.models import Building, Project, Unit
    from tenants import services as tenant_services
    from wuye.accounts import services as account_services
    from wuye.core.tenancy import use_public_schema
    from wuye.testing.plugin import in_company

    call_command("migrate", interactive=False, verbosity=0)
    use_public_schema()
    provisioned = tenant_services.company_create(
        name="单元基准", slug="unitbench", admin_email="admin@unitbench.example.com", admin_name="Admin",
        admin_password="unit-bench-password-1",  # noqa: S106 - a throw-away database
    )  # fmt: skip
    company = provisioned.company
    with in_company(company):
        project = Project.objects.create(name="万户花园", code="wanhu")
        buildings = Building.objects.bulk_create(
            [Building(project=project, name=f"{n}栋", sort_order=n) for n in range(1, 21)]
        )
        per_building = units // len(buildings)
        Unit.objects.bulk_create(
            [
                Unit(
                    project=project,
                    building=building,
                    number=f"{index // 4 + 1}{index % 4 + 1:02d}",
                    floor=index // 4 + 1,
                    floor_area=Decimal("88.50") + index % 4 + 1,
                    status="occupied",
                )
                for building in buildings
                for index in range(per_building)
            ],
            batch_size=2000,
        )
        count = Unit.objects.filter(project=project).count()
        token = account_services.api_token_create(user=provisioned.admin, name="bench")[1]
    host = f"unitbench.{os.environ.get('WUYE_BASE_DOMAIN', 'localhost')}"
    page = Client(HTTP_HOST=host)
    with in_company(company):
        page.force_login(provisioned.admin)
    api = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {token}")
    return {"project": project, "units": count, "page": page, "api": api}


def measure(client: Any, path: str, project_id: str, requests: int) -> list[float]:
    timings = []
    for number in range(1, requests + 1):
        started = time.perf_counter()
        response = client.get(path, {"project": project_id, "page": number})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} page {number}: {response.status_code} {response.content[:200]!r}")
        timings.append(elapsed)
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Unit list benchmark (page and API).")
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    options = parser.parse_args(argv)
    source = os.environ.get("DATABASE_URL")
    if not source:
        print("DATABASE_URL is not set: run `make bench`.", file=sys.stderr)
        return 2
    params = server_params(source)
    name = f"{params.pop('dbname')}_bench_units"
    print(f"==> creating database {name}", flush=True)
    database_create(params, name)
    ready = False
    try:
        os.environ["DATABASE_URL"] = bench_url(source, name)
        os.environ.setdefault("WUYE_ENV", "test")
        os.environ.setdefault("WUYE_LOG_LEVEL", "WARNING")
        os.environ["WUYE_CELERY_EAGER"] = "true"  # the set-up's few tasks (the invitation) run inline
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
        import django

        django.setup()
        ready = True
        from django.conf import settings

        settings.DEBUG = False
        started = time.perf_counter()
        world = setup(options.units)
        print(
            f"    {world['units']} units in 20 buildings, set up in {time.perf_counter() - started:.1f} s", flush=True
        )
        project_id = str(world["project"].pk)
        results = {}
        for label, client, path in (
            ("API  /api/v1/estate/units/", world["api"], "/api/v1/estate/units/"),
            ("page /estate/units/", world["page"], "/estate/units/"),
        ):
            measure(client, path, project_id, 5)  # warm-up: first-request costs (imports, templates)
            results[label] = measure(client, path, project_id, options.requests)
        print()
        print(f"{'list':<28} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
        for label, values in results.items():
            print(
                f"{label:<28} {len(values):>4} {statistics.median(values):>10.1f} "
                f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f}"
            )
        print()
        passed = True
        for label, values in results.items():
            p95 = percentile(values, 0.95)
            ok = p95 <= TARGET_P95_MS
            passed &= ok
            print(f"{'PASS' if ok else 'FAIL'}  {label.strip()}: p95 {p95:.1f} ms <= {TARGET_P95_MS:.0f} ms")
        return 0 if passed else 1
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        if ready:
            from django.db import connections

            connections.close_all()
        database_drop(params, name)
        print(f"==> dropped database {name}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
