"""Fee records for tests, made through the real services by a company-wide administrator."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from modules.estate.models import Building, Project, Unit
from modules.fees import runs, services
from modules.fees.models import Account, ChargeItem, ReceiptCounter, Tariff
from modules.households.models import Ownership, Person
from wuye.testing.plugin import in_company

from . import estate as estate_support
from . import households as households_support

JAN = dt.date(2026, 1, 1)


def item(code: str) -> ChargeItem:
    return ChargeItem.objects.get(code=code)


def tariff(by: Any, project: Any, code: str, price: str, *, valid_from: dt.date = JAN, **values: Any) -> Tariff:
    return services.tariff_create(
        by=by, project=project, charge_item=item(code), unit_price=Decimal(price), valid_from=valid_from, **values
    )


def owned_unit(
    by: Any,
    *,
    project: Any = None,
    building: Any = None,
    area: str = "100.00",
    owner_from: dt.date = JAN,
    **values: Any,
) -> Any:
    """A unit with an owner since `owner_from`."""
    if building is None:
        building = estate_support.building(by, project=project or estate_support.project(by))
    unit = estate_support.unit(by, building=building, floor_area=Decimal(area), **values)
    households_support.owner(by, unit, on=owner_from)
    return unit


def account(unit: Any) -> Account:
    return services.account_for(unit=unit)


def plan(project: Any, period: dt.date, **values: Any) -> runs.Plan:
    """What a run for the month would bill now (its preview), after making the accounts it needs."""
    services.accounts_ensure(project_id=project.pk)
    return runs.plan_make(project_id=project.pk, period=period, **values)


def post_month(by: Any, project: Any, period: dt.date) -> Any:
    """Create and post a project's run for a month inline (the task's own function)."""
    run = services.run_create(by=by, project=project, period=period)
    return services.run_execute(run_id=run.pk)


def purge_committed(schema: str, project_ids: list[Any]) -> None:
    """Remove what a committed test wrote for these projects. Money is append-only (triggers refuse
    DELETE), so the session replays as a replica, which fires no triggers: only tests do this."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(f'SET search_path TO "{schema}", public')
            ids = [str(p) for p in project_ids]
            accounts = "SELECT id FROM fees_account WHERE project_id::text = ANY(%s)"
            lines = f"SELECT id FROM fees_billline WHERE account_id IN ({accounts})"
            payments = f"SELECT id FROM fees_payment WHERE account_id IN ({accounts})"
            tariffs = "SELECT id FROM fees_tariff WHERE project_id::text = ANY(%s)"
            online = f"SELECT id FROM fees_onlinepayment WHERE account_id IN ({accounts})"
            for statement in (
                f"DELETE FROM fees_onlinepayment_bills WHERE onlinepayment_id IN ({online})",
                f"DELETE FROM fees_onlinepayment WHERE account_id IN ({accounts})",
                f"DELETE FROM fees_reconciliationdifference WHERE account_id IN ({accounts})",
                "DELETE FROM fees_ledgerentry WHERE project_id::text = ANY(%s)",
                f"DELETE FROM fees_writeoff WHERE line_id IN ({lines})",
                f"DELETE FROM fees_refund WHERE account_id IN ({accounts})",
                f"DELETE FROM fees_paymentvoid WHERE payment_id IN ({payments})",
                f"DELETE FROM fees_payment WHERE account_id IN ({accounts})",
                f"DELETE FROM fees_billline WHERE account_id IN ({accounts})",
                f"DELETE FROM fees_bill WHERE account_id IN ({accounts})",
                f"DELETE FROM fees_chaserecord WHERE account_id IN ({accounts})",
                "DELETE FROM fees_billrun WHERE project_id::text = ANY(%s)",
                "DELETE FROM fees_meterreading WHERE project_id::text = ANY(%s)",
                f"DELETE FROM fees_tarifftier WHERE tariff_id IN ({tariffs})",
                "DELETE FROM fees_tariff WHERE project_id::text = ANY(%s)",
                "DELETE FROM fees_account WHERE project_id::text = ANY(%s)",
            ):
                cursor.execute(statement, [ids])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


# ------------------------------------------------------------------------------------------ committed data
# Tests on real connections (threads, a worker process) commit what they make. These records are made with
# the ORM, not the services, so that no audit entry (append-only) is left about them; `committed_remove`
# takes them away again.
@dataclass
class CommittedSite:
    schema: str
    project: Any
    building: Any
    units: list[Any]
    accounts: list[Account]
    receipt_counter: tuple[int, int | None]  # (year, `last` before the test; None: no counter yet)


def committed_site(company: Any, *, units: int, area: str = "80.00", owners: bool = False) -> CommittedSite:
    """A project of `units` units (each with an owner since 2025 if `owners`) and their accounts, committed."""
    code = f"c{uuid.uuid4().hex[:8]}"
    schema = getattr(company, "schema_name", None) or company.company.schema_name
    with in_company(company):
        project = Project.objects.create(name=f"Committed {code}", code=code)
        building = Building.objects.create(project=project, name=f"{code} 1栋")
        made = Unit.objects.bulk_create(
            [
                Unit(project=project, building=building, number=f"{n:03d}", floor=1, floor_area=Decimal(area))
                for n in range(1, units + 1)
            ]
        )
        if owners:
            people = Person.objects.bulk_create([Person(name=f"{code} 业主{n}") for n in range(units)])
            Ownership.objects.bulk_create(
                [
                    Ownership(unit=unit, person=person, share=Decimal(100), starts_on=dt.date(2025, 1, 1))
                    for unit, person in zip(made, people, strict=True)
                ]
            )
        services.accounts_ensure(project_id=project.pk)
        accounts = [Account.objects.get(unit=unit) for unit in made]
        year = timezone.localdate().year
        counter = ReceiptCounter.objects.filter(year=year).first()
    return CommittedSite(schema, project, building, made, accounts, (year, counter.last if counter else None))


def committed_remove(company: Any, site: CommittedSite) -> None:
    """Remove everything a committed test made on the site: its money (purge_committed), its owners, units,
    building and project; and put the receipt counter back where it was."""
    purge_committed(site.schema, [site.project.pk])
    with in_company(company):
        owned = Ownership.objects.filter(unit__project=site.project)
        people = list(owned.values_list("person_id", flat=True))
        owned.delete()
        Person.objects.filter(pk__in=people).delete()
        Unit.objects.filter(project=site.project).delete()
        Building.objects.filter(project=site.project).delete()
        Project.objects.filter(pk=site.project.pk).delete()
        year, last = site.receipt_counter
        if last is None:
            ReceiptCounter.objects.filter(year=year).delete()
        else:
            ReceiptCounter.objects.filter(year=year).update(last=last)
