import datetime as dt
from decimal import Decimal

from modules.fees import selectors, services
from tests.support import estate as estate_support
from tests.support import fees as fees_support
from wuye.testing.plugin import in_company


def test_month_billed_paid_and_receipted(company_a):
    with in_company(company_a):
        admin = company_a.admin()
        project = estate_support.project(admin)
        fees_support.tariff(admin, project, "property", "2.50")
        unit = fees_support.owned_unit(admin, project=project, area="89.50", owner_from=dt.date(2026, 3, 16))
        run = fees_support.post_month(admin, project, dt.date(2026, 3, 1))
        assert run.status == "posted"
        account = fees_support.account(unit)
        bills = list(selectors.bill_list(viewer=admin, account=account))
        # 89.50 m² × 2.50 × 16/31 days = 115.4838... -> 115.48
        assert [b.amount for b in bills] == [Decimal("115.48")]
        payment = services.payment_record(by=admin, account=account, amount="200.00", method="cash")
        statement = selectors.account_statement(viewer=admin, account=account)
        assert statement.owed == Decimal("0.00")
        assert statement.credit == Decimal("84.52")
        receipt = selectors.receipt(payment=payment)
        assert receipt.prepaid == Decimal("84.52")
