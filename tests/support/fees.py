"""Fee records for tests, made through the real services by a company-wide administrator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection

from modules.fees import services
from modules.fees.models import Account, ChargeItem, Tariff

from . import estate as estate_support
from . import households as households_support

JAN = dt.date(2026, 1, 1)


def item(code: str) -> ChargeItem:
    return ChargeItem.objects.get(code=code)


def tariff(by: Any, project: Any, code: str, price: str, *, valid_from: dt.date = JAN, **values: Any) -> Tariff:
    return services.tariff_create(
        by=by, project=project, charge_item=item(code), unit_price=Decimal(price), valid_from=valid_from, **values
    )


def owned_unit(by: Any, *, project: Any = None, building: Any = None, area: str = "100.00", owner_from: dt.date = JAN, **values: Any) -> Any:
    """A unit with an owner since `owner_from`."""
    if building is None:
        building = estate_support.building(by, project=project or estate_support.project(by))
    unit = estate_support.unit(by, building=building, floor_area=Decimal(area), **values)
    households_support.owner(by, unit, on=owner_from)
    return unit


def account(unit: Any) -> Account:
    return services.account_for(unit=unit)


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
            for statement in (
                "DELETE FROM fees_ledgerentry WHERE project_id::text = ANY(%s)",
                "DELETE FROM fees_writeoff WHERE line_id IN (SELECT l.id FROM fees_billline l JOIN fees_account a ON a.id = l.account_id WHERE a.project_id::text = ANY(%s))",
                "DELETE FROM fees_refund WHERE account_id IN (SELECT id FROM fees_account WHERE project_id::text = ANY(%s))",
                "DELETE FROM fees_paymentvoid WHERE payment_id IN (SELECT p.id FROM fees_payment p JOIN fees_account a ON a.id = p.account_id WHERE a.project_id::text = ANY(%s))",
                "DELETE FROM fees_payment WHERE account_id IN (SELECT id FROM fees_account WHERE project_id::text = ANY(%s))",
                "DELETE FROM fees_billline WHERE account_id IN (SELECT id FROM fees_account WHERE project_id::text = ANY(%s))",
                "DELETE FROM fees_bill WHERE account_id IN (SELECT id FROM fees_account WHERE project_id::text = ANY(%s))",
                "DELETE FROM fees_chaserecord WHERE account_id IN (SELECT id FROM fees_account WHERE project_id::text = ANY(%s))",
                "DELETE FROM fees_billrun WHERE project_id::text = ANY(%s)",
                "DELETE FROM fees_meterreading WHERE project_id::text = ANY(%s)",
                "DELETE FROM fees_tarifftier WHERE tariff_id IN (SELECT id FROM fees_tariff WHERE project_id::text = ANY(%s))",
                "DELETE FROM fees_tariff WHERE project_id::text = ANY(%s)",
                "DELETE FROM fees_account WHERE project_id::text = ANY(%s)",
            ):
                cursor.execute(statement, [ids])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
