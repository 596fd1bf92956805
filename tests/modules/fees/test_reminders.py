"""Reminders of arrears (催缴): e-mailed to the unit's current owners with the letter attached, logged in the
chase log, only for what is overdue, and only within the sender's zones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from modules.fees import notices, services
from modules.fees.models import BillLine, ChaseRecord
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from tests.support import households as households_support
from tests.support.imports import user_with_role
from wuye.core.errors import NotFound, PolicyDenied, ServiceError
from wuye.testing.plugin import CompanyFixture, in_company

JAN = dt.date(2026, 1, 1)
FEB = dt.date(2026, 2, 1)


def later() -> dt.date:
    """A day after every bill posted in a test is due (a run posted today is due today at the earliest)."""
    return timezone.localdate() + dt.timedelta(days=90)


class Estate:
    def __init__(self, company: CompanyFixture) -> None:
        self.admin = company.admin()
        self.project = estate_support.project(self.admin, name="华庭")
        self.zone_a = estate_support.zone(self.admin, project=self.project, name="一区")
        self.zone_b = estate_support.zone(self.admin, project=self.project, name="二区")
        self.building_a = estate_support.building(self.admin, project=self.project, zone=self.zone_a, name="1栋")
        self.building_b = estate_support.building(self.admin, project=self.project, zone=self.zone_b, name="2栋")
        fees_support.tariff(self.admin, self.project, "property", "2.50")

    def unit(self, building: Any, *owners: dict[str, Any], area: str = "100.00") -> Any:
        unit = estate_support.unit(self.admin, building=building, floor_area=Decimal(area))
        for owner in owners:
            households_support.owner(self.admin, unit, on=JAN, **owner)
        return unit


@pytest.fixture
def estate(company_a: CompanyFixture) -> Estate:
    with in_company(company_a):
        return Estate(company_a)


def test_owners_with_e_mail_get_the_letter_and_the_chase_is_logged(company_a, estate) -> None:
    with in_company(company_a):
        admin = estate.admin
        unit = estate.unit(
            estate.building_a,
            {"name": "王伟", "email": "wangwei@example.com", "share": Decimal("50")},
            {"name": "李娜", "email": "lina@example.com", "share": Decimal("50")},
        )
        services.settings_update(by=admin, reminder_text="请于本月底前缴清物业费。")
        fees_support.post_month(admin, estate.project, JAN)
        fees_support.post_month(admin, estate.project, FEB)
        account = fees_support.account(unit)
        # February part-paid: 100 m² × 2.50 = 250.00 a month; 100.00 of February paid, 150.00 left.
        services.payment_record(by=admin, account=account, amount="350.00", method="cash")
        mail.outbox.clear()

        records = notices.reminders_send(by=admin, accounts=[account], as_of=later())

        assert [record.channel for record in records] == ["email"]
        record = ChaseRecord.objects.get(pk=records[0].pk)
        assert record.account_id == account.pk and record.by_id == admin.pk
        assert "wangwei@example.com" in record.result and "lina@example.com" in record.result
        assert record.owed == Decimal("150.00")
    assert sorted(message.to[0] for message in mail.outbox) == ["lina@example.com", "wangwei@example.com"]
    message = next(message for message in mail.outbox if message.to == ["wangwei@example.com"])
    assert "催缴" in message.subject and account.label in message.subject
    assert "请于本月底前缴清物业费。" in message.body
    assert "2026-02" in message.body and "150.00" in message.body
    assert "2026-01" not in message.body  # January is paid
    assert "壹佰伍拾元整" in message.body
    (name, content, mimetype), *_rest = message.attachments
    assert mimetype == "application/pdf" and name.endswith(".pdf")
    assert content.startswith(b"%PDF")
    assert isinstance(message, mail.EmailMultiAlternatives)
    html, html_type = message.alternatives[0]
    assert html_type == "text/html" and "150.00" in str(html)


def test_owners_without_e_mail_get_a_letter_to_print(company_a, estate) -> None:
    with in_company(company_a):
        unit = estate.unit(estate.building_a, {"name": "张三"})
        fees_support.post_month(estate.admin, estate.project, JAN)
        account = fees_support.account(unit)
        mail.outbox.clear()
        records = notices.reminders_send(by=estate.admin, accounts=[account], as_of=later())
        assert [record.channel for record in records] == ["letter"]
        assert "250.00" in records[0].result
        letter = notices.reminder_letter(viewer=estate.admin, account=account, as_of=later())
    assert mail.outbox == []
    assert letter.startswith(b"%PDF")


def test_accounts_with_nothing_overdue_are_skipped(company_a, estate) -> None:
    with in_company(company_a):
        admin = estate.admin
        paid = estate.unit(estate.building_a, {"name": "甲", "email": "a@example.com"})
        deposit_only = estate.unit(estate.building_a, {"name": "乙", "email": "b@example.com"})
        fees_support.post_month(admin, estate.project, JAN)
        paid_account = fees_support.account(paid)
        services.payment_record(by=admin, account=paid_account, amount="250.00", method="cash")
        deposit_account = fees_support.account(deposit_only)
        # The January bill reversed, a deposit left unpaid: a deposit is not arrears.
        january = services.one_off_charge(
            by=admin, account=deposit_account, charge_item=fees_support.item("renovation-deposit"), unit_price="2000"
        )
        assert january.amount == Decimal("2000.00")
        for line in BillLine.objects.filter(account=deposit_account, bill__period=JAN, bill__kind="periodic"):
            services.charge_reverse(by=admin, line=line, reason="免收")
        mail.outbox.clear()
        assert notices.reminders_send(by=admin, accounts=[paid_account, deposit_account], as_of=later()) == []
        with pytest.raises(ServiceError) as refused:
            notices.reminder_letter(viewer=admin, account=paid_account, as_of=later())
        assert refused.value.code == "nothing_overdue"
        # Not due yet: a bill posted today falls due today at the earliest, and "overdue" is after that.
        owing = fees_support.account(estate.unit(estate.building_a, {"name": "丙", "email": "c@example.com"}))
        fees_support.post_month(admin, estate.project, FEB)
        assert notices.reminders_send(by=admin, accounts=[owing], as_of=timezone.localdate()) == []
        assert not ChaseRecord.objects.exists()
    assert mail.outbox == []


def test_a_zone_manager_reminds_only_in_their_zone(company_a, estate) -> None:
    with in_company(company_a):
        mine = estate.unit(estate.building_a, {"name": "甲", "email": "a@example.com"})
        theirs = estate.unit(estate.building_b, {"name": "乙", "email": "b@example.com"})
        fees_support.post_month(estate.admin, estate.project, JAN)
        mine_account, theirs_account = fees_support.account(mine), fees_support.account(theirs)
    zone_manager = user_with_role(company_a, "zone_manager", project=estate.project, zones=[estate.zone_a])
    with in_company(company_a):
        mail.outbox.clear()
        with pytest.raises((NotFound, PolicyDenied)):
            notices.reminders_send(by=zone_manager, accounts=[mine_account, theirs_account], as_of=later())
        with pytest.raises((NotFound, PolicyDenied)):
            notices.reminder_letter(viewer=zone_manager, account=theirs_account, as_of=later())
        assert mail.outbox == []  # nothing is sent when one account is refused
        assert not ChaseRecord.objects.exists()

        records = notices.reminders_send(by=zone_manager, accounts=[mine_account], as_of=later())
        assert [record.account_id for record in records] == [mine_account.pk]
    assert [message.to for message in mail.outbox] == [["a@example.com"]]


def test_reminding_needs_the_chase_permission(company_a, estate) -> None:
    with in_company(company_a):
        unit = estate.unit(estate.building_a, {"name": "甲", "email": "a@example.com"})
        fees_support.post_month(estate.admin, estate.project, JAN)
        account = fees_support.account(unit)
    clerk = user_with_role(company_a, "cs_staff", project=estate.project)  # takes payments, does not chase
    with in_company(company_a):
        with pytest.raises(PolicyDenied):
            notices.reminders_send(by=clerk, accounts=[account], as_of=later())
        with pytest.raises(PolicyDenied):
            notices.reminder_letter(viewer=clerk, account=account, as_of=later())
