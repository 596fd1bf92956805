"""`make bench`, helpdesk: the staff's queues of a company with 100,000 requests, as pages and through the API.

Target (issue #6): with 100,000 requests in a company, queue pages and list APIs answer with p95 <= 100 ms,
and the number of queries a page costs does not depend on which page it is.

Like the other benchmarks, this works in a database of its own (`<name>_bench_helpdesk` beside
DATABASE_URL's, dropped at the end) and prints everything before saying PASS or FAIL (exit status 1 on a
FAIL).

The data (not measured; written in bulk, not through the services): one project of 10 zones, 50
buildings and 10,000 units; a CS manager, a zone manager of one zone, and 20 engineers in the engineering
department; 100,000 requests raised over the last year, of every kind, most of them closed, 1 in 10 still
open (dispatched, accepted, on site or waiting), a third of the open ones overdue; each with its "raised"
event. Then VACUUM ANALYZE of the two tables, as autovacuum does to freshly inserted tables within a
minute (the counts of the pagination are index-only scans only once the visibility map is set).

What is measured: the wall clock of Django's test client around one GET, in this process (tenant routing,
middleware, authentication, permission and scope checks, the queries, rendering), as for the unit list.
Each list is asked for --requests times, walking its pages 1, 2, ... and starting again at 1 when it has
fewer pages, so deep pages count as much as the first. The queries of page 1 and of the last page walked
are counted and must be equal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
import traceback
from decimal import Decimal
from typing import Any

from provisioning import bench_url, database_create, database_drop, server_params

TARGET_P95_MS = 100.0
PAGE = 30  # the pages' size (views.PAGE_SIZE); the API's is 50


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def setup(total: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from modules.estate.models import Building, Project, Unit, Zone
    from modules.helpdesk.models import EventKind, Request, RequestEvent
    from modules.staff import selectors as staff_selectors
    from modules.staff import services as staff_services
    from tenants import services as tenant_services
    from wuye.accounts import services as account_services
    from wuye.core.tenancy import use_public_schema
    from wuye.testing.plugin import in_company

    call_command("migrate", interactive=False, verbosity=0)
    use_public_schema()
    provisioned = tenant_services.company_create(
        name="报事基准", slug="deskbench", admin_email="admin@deskbench.example.com", admin_name="Admin",
        admin_password="desk-bench-password-1",  # noqa: S106 - a throw-away database
    )  # fmt: skip
    company, admin = provisioned.company, provisioned.admin
    rng = random.Random(6)
    with in_company(company):
        project = Project.objects.create(name="十万花园", code="shiwan")
        zones = Zone.objects.bulk_create([Zone(project=project, name=f"{n}区") for n in range(1, 11)])
        buildings = Building.objects.bulk_create(
            [Building(project=project, zone=zones[n % 10], name=f"{n}栋", sort_order=n) for n in range(1, 51)]
        )
        units = Unit.objects.bulk_create(
            [
                Unit(project=project, building=b, zone_id=b.zone_id, number=f"{i // 4 + 1}{i % 4 + 1:02d}",
                     floor=i // 4 + 1, floor_area=Decimal("90.00"), status="occupied")
                for b in buildings
                for i in range(200)
            ],
            batch_size=2000,
        )  # fmt: skip

        def person(role: str, position: str, zones_held: tuple[Any, ...] = ()) -> Any:
            user = account_services.user_create(
                email=f"{position}-{rng.randrange(10**9)}@deskbench.example.com", name=position, password=None,
                roles=[role],
            )  # fmt: skip
            staff_services.staff_member_set(
                by=admin, user=user, position=staff_selectors.position_by_code(position), project=project,
                zones=list(zones_held),
            )  # fmt: skip
            return user

        cs_manager = person("cs_manager", "cs_manager")
        zone_manager = person("zone_manager", "zone_manager", (zones[0],))
        engineers = [person("engineering", "engineer") for _ in range(20)]
        engineering = staff_selectors.department_by_code("engineering")
        now = timezone.now()
        kinds = [("repair", "normal"), ("repair", "urgent"), ("complaint", "general"), ("complaint", "serious"),
                 ("consultation", "normal"), ("suggestion", "normal")]  # fmt: skip
        rows = []
        for n in range(total):
            kind, grade = kinds[n % len(kinds)]
            unit = units[rng.randrange(len(units))]
            raised = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
            open_ = n % 10 == 0
            status = rng.choice(["dispatched", "accepted", "on_site", "waiting"]) if open_ else "closed"
            accepted = raised + dt.timedelta(minutes=20) if status != "dispatched" else None
            due = (now - dt.timedelta(hours=rng.randrange(1, 200))) if open_ and n % 3 == 0 else (
                now + dt.timedelta(hours=rng.randrange(1, 200)))  # fmt: skip
            rows.append(
                Request(
                    number=f"B{n:08d}", kind=kind, grade=grade, channel="phone", status=status, title=f"报事{n}",
                    project=project, zone_id=unit.zone_id, building_id=unit.building_id, unit=unit,
                    department=engineering, assignee=engineers[n % len(engineers)], raised_at=raised,
                    clock_started_at=raised, dispatched_at=raised, accepted_at=accepted,
                    on_site_at=accepted if status == "on_site" else None,
                    completed_at=raised + dt.timedelta(hours=5) if status == "closed" else None,
                    closed_at=raised + dt.timedelta(hours=30) if status == "closed" else None,
                    respond_minutes=60, close_minutes=4320, paused_since=now if status == "waiting" else None,
                    respond_by=raised + dt.timedelta(hours=1), close_by=raised + dt.timedelta(days=3),
                    next_due_at=due if open_ and status != "waiting" else None,
                )
            )  # fmt: skip
        made = Request.objects.bulk_create(rows, batch_size=5000)
        RequestEvent.objects.bulk_create(
            [RequestEvent(request=r, kind=EventKind.RAISED, at=r.raised_at, to_status="new") for r in made],
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE helpdesk_request")
            cursor.execute("VACUUM ANALYZE helpdesk_requestevent")
        tokens = {
            who: account_services.api_token_create(user=user, name="bench")[1]
            for who, user in (("cs_manager", cs_manager), ("engineer", engineers[0]), ("zone", zone_manager))
        }
        count = Request.objects.count()
    host = f"deskbench.{os.environ.get('WUYE_BASE_DOMAIN', 'localhost')}"

    def page_client(user: Any) -> Client:
        client = Client(HTTP_HOST=host)
        with in_company(company):
            client.force_login(user)
        return client

    return {
        "requests": count,
        "api": {who: Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Bearer {t}") for who, t in tokens.items()},
        "page": {
            "cs_manager": page_client(cs_manager),
            "engineer": page_client(engineers[0]),
            "zone": page_client(zone_manager),
        },
    }


def measure(client: Any, path: str, query: dict[str, str], requests: int, pages: int) -> list[float]:
    timings = []
    for n in range(requests):
        started = time.perf_counter()
        response = client.get(path, {**query, "page": n % pages + 1})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{path} {query}: {response.status_code} {response.content[:200]!r}")
        timings.append(elapsed)
    return timings


def queries(client: Any, path: str, query: dict[str, str], page: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(path, {**query, "page": page})
    return len(captured)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Helpdesk queues benchmark (pages and API).")
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    options = parser.parse_args(argv)
    source = os.environ.get("DATABASE_URL")
    if not source:
        print("DATABASE_URL is not set: run `make bench`.", file=sys.stderr)
        return 2
    params = server_params(source)
    name = f"{params.pop('dbname')}_bench_helpdesk"
    print(f"==> creating database {name}", flush=True)
    database_create(params, name)
    ready = False
    try:
        os.environ["DATABASE_URL"] = bench_url(source, name)
        os.environ.setdefault("WUYE_ENV", "test")
        os.environ.setdefault("WUYE_LOG_LEVEL", "WARNING")
        os.environ["WUYE_CELERY_EAGER"] = "true"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
        import django

        django.setup()
        ready = True
        from django.conf import settings

        settings.DEBUG = False
        started = time.perf_counter()
        world = setup(options.total)
        print(f"    {world['requests']} requests, set up in {time.perf_counter() - started:.1f} s", flush=True)
        cases = [
            # (label, client, path, query, pages walked)
            ("API all (CS manager)", world["api"]["cs_manager"], "/api/v1/helpdesk/requests/", {"queue": "all"}, 200),
            ("API overdue", world["api"]["cs_manager"], "/api/v1/helpdesk/requests/", {"queue": "overdue"}, 60),
            ("API mine (engineer)", world["api"]["engineer"], "/api/v1/helpdesk/requests/", {"queue": "mine"}, 10),
            ("API department", world["api"]["engineer"], "/api/v1/helpdesk/requests/", {"queue": "department"}, 100),
            ("API zone (zone manager)", world["api"]["zone"], "/api/v1/helpdesk/requests/", {"queue": "zone"}, 100),
            ("page all", world["page"]["cs_manager"], "/helpdesk/", {"queue": "all"}, 200),
            ("page overdue", world["page"]["cs_manager"], "/helpdesk/", {"queue": "overdue"}, 100),
            ("page mine", world["page"]["engineer"], "/helpdesk/", {"queue": "mine"}, 10),
            ("page department", world["page"]["engineer"], "/helpdesk/", {"queue": "department"}, 100),
            ("page zone", world["page"]["zone"], "/helpdesk/", {"queue": "zone"}, 100),
            ("page board", world["page"]["cs_manager"], "/helpdesk/board/", {}, 1),
            ("page daily check", world["page"]["cs_manager"], "/helpdesk/daily/", {}, 1),
        ]  # fmt: skip
        results: dict[str, list[float]] = {}
        counts: dict[str, tuple[int, int]] = {}
        for label, client, path, query, pages in cases:
            if path.startswith("/api/"):  # no more pages than the list has (the API answers 404 past the end)
                count = client.get(path, query).json()["count"]
                pages = max(1, min(pages, -(-count // 50)))
            measure(client, path, query, 3, pages)  # warm-up
            results[label] = measure(client, path, query, options.requests, pages)
            counts[label] = (queries(client, path, query, 1), queries(client, path, query, pages))
        print()
        print(f"{'list':<26} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'queries p1/last':>16}")
        for label, values in results.items():
            first, last = counts[label]
            print(
                f"{label:<26} {len(values):>4} {statistics.median(values):>10.1f} "
                f"{percentile(values, 0.95):>8.1f} {max(values):>8.1f} {first:>8}/{last:<7}"
            )
        print()
        passed = True
        for label, values in results.items():
            p95 = percentile(values, 0.95)
            first, last = counts[label]
            ok = p95 <= TARGET_P95_MS and first == last
            passed &= ok
            print(
                f"{'PASS' if ok else 'FAIL'}  {label}: p95 {p95:.1f} ms <= {TARGET_P95_MS:.0f} ms, "
                f"queries {first} = {last}"
            )
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
