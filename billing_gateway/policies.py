"""Who may do what with online payments, as data. A company's administrator connects its Stripe account;
the platform's fee on a company's payments is the vendor's alone (`services.application_fee_set`). Who may
take, see and refund payments is fees' business (its policies)."""

from __future__ import annotations

from wuye.accounts import roles
from wuye.accounts.policies import COMPANY_ADMIN

CONNECT = "billing_gateway.change_connectedaccount"

roles.grant(COMPANY_ADMIN, [CONNECT])
