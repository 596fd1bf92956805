"""Who may do what with fees, as data. Where (which projects and zones) comes from the user's scope
(wuye.core.scope): an account is in scope through its project and zone."""

from __future__ import annotations

from typing import Any

from wuye.accounts import roles
from wuye.accounts.policies import (
    COMPANY_ADMIN,
    CS_MANAGER,
    CS_STAFF,
    ENGINEERING,
    FINANCE,
    PROJECT_MANAGER,
    ZONE_MANAGER,
)
from wuye.core.policies import allowed

VIEW = "fees.view_bill"  # bills, accounts, their ledgers and receipts
VIEW_COLLECTION = "fees.view_collection"  # collection rate, receivables, arrears
VIEW_TARIFFS = "fees.view_tariff"
MANAGE_TARIFFS = "fees.change_tariff"  # charge items and tariffs
MANAGE_SETTINGS = "fees.change_feesettings"
ENTER_READINGS = "fees.add_meterreading"
REVIEW_READINGS = "fees.change_meterreading"  # correct readings, clear abnormal ones
RUN_BILLS = "fees.add_billrun"
CHARGE_ONE_OFF = "fees.add_bill"  # a special service, a card, a deposit
TAKE_PAYMENTS = "fees.add_payment"
VOID_RECEIPTS = "fees.void_payment"
REFUND = "fees.add_refund"
REVERSE_CHARGES = "fees.reverse_charge"
REQUEST_WRITE_OFF = "fees.add_writeoff"
APPROVE_WRITE_OFF = "fees.approve_writeoff"
CHASE = "fees.add_chaserecord"
# Compare the provider's payments and refunds with the ledger, and resolve the differences (对账).
RECONCILE = "fees.change_reconciliation"

_everything = [
    VIEW, VIEW_COLLECTION, VIEW_TARIFFS, MANAGE_TARIFFS, MANAGE_SETTINGS, ENTER_READINGS, REVIEW_READINGS, RUN_BILLS,
    CHARGE_ONE_OFF, TAKE_PAYMENTS, VOID_RECEIPTS, REFUND, REVERSE_CHARGES, REQUEST_WRITE_OFF, APPROVE_WRITE_OFF, CHASE,
    RECONCILE,
]  # fmt: skip

roles.grant(COMPANY_ADMIN, _everything)
# The project manager approves what finance asks (write-offs) and sees everything of the project.
roles.grant(
    PROJECT_MANAGER,
    [VIEW, VIEW_COLLECTION, VIEW_TARIFFS, REVIEW_READINGS, RUN_BILLS, TAKE_PAYMENTS, APPROVE_WRITE_OFF, CHASE],
)
# Finance keeps the books: tariffs, runs, the desk, voids, refunds, reversals; asks for write-offs.
roles.grant(
    FINANCE,
    [
        VIEW, VIEW_COLLECTION, VIEW_TARIFFS, MANAGE_TARIFFS, ENTER_READINGS, REVIEW_READINGS, RUN_BILLS,
        CHARGE_ONE_OFF, TAKE_PAYMENTS, VOID_RECEIPTS, REFUND, REVERSE_CHARGES, REQUEST_WRITE_OFF, CHASE, RECONCILE,
    ],
)  # fmt: skip
# The CS manager plans and reviews collection (DOMAIN.md §3): reports, the chase, the desk.
roles.grant(
    CS_MANAGER,
    [VIEW, VIEW_COLLECTION, VIEW_TARIFFS, ENTER_READINGS, REVIEW_READINGS, CHARGE_ONE_OFF, TAKE_PAYMENTS, CHASE],
)
# The front desk takes payments and enters readings.
roles.grant(CS_STAFF, [VIEW, VIEW_TARIFFS, ENTER_READINGS, CHARGE_ONE_OFF, TAKE_PAYMENTS])
# Zone managers chase arrears in their zones and collect at handover (DOMAIN.md §3, §7).
roles.grant(ZONE_MANAGER, [VIEW, VIEW_COLLECTION, VIEW_TARIFFS, ENTER_READINGS, TAKE_PAYMENTS, CHASE])
# Engineers read the meters.
roles.grant(ENGINEERING, [ENTER_READINGS])


def can(user: Any, permission: str) -> bool:
    return allowed(user, permission)
