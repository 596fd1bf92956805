"""Reminders of arrears (催缴): a reminder letter (催缴通知书) for each household account that has overdue
charges, e-mailed to the unit's current owners who have an e-mail address, or printed for the post or the
door; each reminder is logged in the chase log (ChaseRecord).

What is overdue is what a bill line still owes when its bill fell due before the day of the reminder, as
in the arrears report (selectors.arrears_aging); deposits are not arrears. The letters and e-mails are
bilingual (Chinese with English): they go to owners, whatever language the clerk's screen is in.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django.core import mail
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from modules.households.models import Ownership
from wuye.core.errors import NotFound, ServiceError
from wuye.core.ids import as_uuid
from wuye.core.policies import require
from wuye.core.tenancy import current_tenant
from wuye.core.urls import absolute_url

from . import policies, selectors, services
from .documents import amount_in_words, reminder_pdf, yuan
from .models import Account, ChargeCategory, ChaseChannel, ChaseRecord, LedgerEntry

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Owner:
    name: str
    email: str


@dataclass
class Overdue:
    """What an account owes on bills due before `as_of`: (item, period, still owed) per bill line."""

    account: Account
    rows: list[tuple[str, dt.date, Decimal]]
    owners: list[Owner]

    @property
    def total(self) -> Decimal:
        return sum((amount for _item, _period, amount in self.rows), ZERO)

    @property
    def owner_names(self) -> str:
        return "、".join(owner.name for owner in self.owners)


def _company_name() -> str:
    return str(getattr(current_tenant(), "name", "") or "")


def _accounts_in_scope(viewer: Any, accounts: Sequence[Account]) -> list[Account]:
    """The accounts again, as the viewer's scope finds them now (one query): any that is not found refuses
    the whole request before anything is sent."""
    wanted = list(dict.fromkeys(account.pk for account in accounts))
    found = {account.pk: account for account in selectors.account_list(viewer=viewer).filter(pk__in=wanted)}
    if len(found) != len(wanted):
        raise NotFound(_("No such account."))
    return [found[key] for key in wanted]


def _overdue(accounts: Sequence[Account], as_of: dt.date) -> list[Overdue]:
    """The overdue lines of the accounts (one grouped query) and the owners of their units on `as_of`
    (one query); accounts that owe nothing overdue are left out."""
    ids = [account.pk for account in accounts]
    per_line = (
        LedgerEntry.objects.filter(account_id__in=ids, line__isnull=False, line__bill__due_on__lt=as_of)
        .exclude(charge_item__category=ChargeCategory.DEPOSIT)
        .values("account_id", "line_id", "charge_item__name", "charge_item__sort_order", "period")
        .annotate(owed=Sum("amount"))
        .filter(owed__gt=0)
        .order_by("account_id", "period", "charge_item__sort_order", "line_id")
    )
    rows: dict[uuid.UUID, list[tuple[str, dt.date, Decimal]]] = defaultdict(list)
    for line in per_line:
        # A line's entries always carry their period (the constraint fees_entry_line_dimensions).
        rows[line["account_id"]].append((line["charge_item__name"], cast(dt.date, line["period"]), line["owed"]))
    owners = _owners_of([account.unit_id for account in accounts if account.pk in rows and account.unit_id], as_of)
    return [
        Overdue(account=account, rows=rows[account.pk], owners=owners[account.unit_id] if account.unit_id else [])
        for account in accounts
        if account.pk in rows
    ]


def _owners_of(units: Sequence[uuid.UUID], as_of: dt.date) -> dict[uuid.UUID, list[Owner]]:
    """The owners of each unit on `as_of`, largest share first (one query)."""
    owners: dict[uuid.UUID, list[Owner]] = defaultdict(list)
    current = (
        Ownership.objects.filter(unit_id__in=units, starts_on__lte=as_of)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=as_of))
        .select_related("person")
        .order_by("unit_id", "-share", "starts_on", "person__name")
    )
    for ownership in current:
        person = ownership.person
        owners[ownership.unit_id].append(Owner(name=person.name, email=(person.email or "").strip()))
    return owners


def _letter(found: Overdue, *, to: str, text: str, as_of: dt.date, company: str) -> bytes:
    return reminder_pdf(
        company_name=company,
        account_label=found.account.label,
        owner_name=to,
        rows=found.rows,
        total=found.total,
        text=text,
        on=as_of,
    )


def _message(
    found: Overdue, owner: Owner, *, text: str, as_of: dt.date, company: str, connection: Any
) -> mail.EmailMultiAlternatives:
    context = {
        "company": company,
        "account": found.account.label,
        "owner": owner.name,
        "rows": [(item, f"{period:%Y-%m}", yuan(amount)) for item, period, amount in found.rows],
        "total": yuan(found.total),
        "total_in_words": amount_in_words(found.total),
        "as_of": as_of.isoformat(),
        "text": text,
    }
    # A header holds one line: whatever the template or the names bring, the subject is folded onto one.
    subject = " ".join(render_to_string("fees/email/reminder_subject.txt", context).split())
    message = mail.EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("fees/email/reminder.txt", context),
        to=[owner.email],
        connection=connection,
    )
    message.attach_alternative(render_to_string("fees/email/reminder.html", context), "text/html")
    message.attach(
        f"催缴通知书-{as_of:%Y%m%d}.pdf",
        _letter(found, to=owner.name, text=text, as_of=as_of, company=company),
        "application/pdf",
    )
    return message


def reminders_send(*, by: Any, accounts: list[Account], as_of: dt.date | None = None) -> list[ChaseRecord]:
    """Remind the accounts of what they owe overdue on `as_of` (today if not given): a reminder letter,
    e-mailed as a PDF to each current owner with an e-mail address, and a chase record per account
    (channel "email" when at least one e-mail went, else "letter": the letter is to be printed, see
    reminder_letter). Accounts with nothing overdue are skipped. Every account must be in the sender's
    scope, or nothing is sent (NotFound)."""
    require(by, policies.CHASE)
    as_of = as_of or timezone.localdate()
    in_scope = _accounts_in_scope(by, accounts)
    text = services.fee_settings().reminder_text
    company = _company_name()
    records: list[ChaseRecord] = []
    connection = mail.get_connection()
    try:
        connection.open()  # one connection for the whole batch; a failure here fails each send below, recorded
    except (smtplib.SMTPException, OSError):
        logger.warning("could not connect to send reminder e-mails", exc_info=True)
    try:
        for found in _overdue(in_scope, as_of):
            sent: list[str] = []
            failed: list[str] = []
            for owner in found.owners:
                if not owner.email or owner.email.casefold() in {done.casefold() for done in sent + failed}:
                    continue  # no address, or one two owners share: one e-mail is enough
                message = _message(found, owner, text=text, as_of=as_of, company=company, connection=connection)
                try:
                    message.send()
                except (smtplib.SMTPException, OSError):
                    logger.warning("reminder e-mail for account %s failed", found.account.pk, exc_info=True)
                    failed.append(owner.email)
                else:
                    sent.append(owner.email)
            records.append(
                services.chase_record(
                    by=by,
                    account=found.account,
                    channel=ChaseChannel.EMAIL if sent else ChaseChannel.LETTER,
                    result=_result(found, sent, failed),
                )
            )
    finally:
        connection.close()
    return records


def _result(found: Overdue, sent: list[str], failed: list[str]) -> str:
    what = _("%(count)s overdue items, %(total)s in all") % {"count": len(found.rows), "total": yuan(found.total)}
    parts = []
    if sent:
        parts.append(_("Reminder e-mailed to %(to)s: %(what)s.") % {"to": ", ".join(sent), "what": what})
    else:
        parts.append(_("Reminder letter to print: %(what)s.") % {"what": what})
    if failed:
        parts.append(_("The e-mail to %(to)s could not be sent.") % {"to": ", ".join(failed)})
    if not found.owners:
        parts.append(_("No current owner is on file."))
    return " ".join(parts)


def reminder_letter(*, viewer: Any, account: Account, as_of: dt.date | None = None) -> bytes:
    """The reminder letter of an account as a PDF, to print (addressed to all its current owners). Refused
    when nothing is overdue."""
    require(viewer, policies.CHASE)
    as_of = as_of or timezone.localdate()
    found = _overdue(_accounts_in_scope(viewer, [account]), as_of)
    if not found:
        raise ServiceError(_("Nothing is overdue on this account."), code="nothing_overdue")
    return _letter(
        found[0],
        to=found[0].owner_names,
        text=services.fee_settings().reminder_text,
        as_of=as_of,
        company=_company_name(),
    )


def pay_link_send(*, by: Any, account: Account, bill_id: Any) -> ChaseRecord:
    """E-mail the current owners of the account a link to pay one open bill online, and log it in the
    chase log. The link opens the owner's own pay page (signed in): it grants nothing by itself."""
    from billing_gateway import selectors as gateway_selectors

    require(by, policies.CHASE)
    (account,) = _accounts_in_scope(by, [account])
    if not gateway_selectors.payments_open(company=gateway_selectors.current_company()):
        raise ServiceError(_("Online payment is not set up for this company."), code="gateway_closed")
    key = as_uuid(bill_id)
    if key is None:
        raise NotFound(_("No such bill."))
    bill = selectors.bill_list(viewer=by, account=account).filter(pk=key).first()
    if bill is None:
        raise NotFound(_("No such bill."))
    owed = bill.balance  # type: ignore[attr-defined]  # bill_list's annotation
    if owed <= 0:
        raise ServiceError(_("This bill is already paid."), code="bill_paid", field="bill")
    owners = _owners_of([account.unit_id], timezone.localdate())[account.unit_id] if account.unit_id else []
    addresses = list(dict.fromkeys(owner.email for owner in owners if owner.email))
    if not addresses:
        raise ServiceError(_("No owner of this household has an e-mail address."), code="no_email")
    context = {
        "company": _company_name(),
        "account": account.label,
        "period": f"{bill.period:%Y-%m}",
        "amount": yuan(owed),
        "due": bill.due_on.isoformat() if bill.due_on else "",
        "link": absolute_url(reverse("fees:my_pay") + "?" + urlencode({"bills": str(bill.pk)})),
    }
    subject = " ".join(render_to_string("fees/email/pay_link_subject.txt", context).split())
    message = mail.EmailMultiAlternatives(
        subject=subject, body=render_to_string("fees/email/pay_link.txt", context), to=addresses
    )
    message.attach_alternative(render_to_string("fees/email/pay_link.html", context), "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("pay link e-mail for account %s failed", account.pk, exc_info=True)
        raise ServiceError(_("The e-mail could not be sent; try again later."), code="email_failed") from error
    return services.chase_record(
        by=by,
        account=account,
        channel=ChaseChannel.EMAIL,
        result=_("Pay link for %(period)s (%(amount)s) sent to %(to)s")
        % {"period": context["period"], "amount": context["amount"], "to": ", ".join(addresses)},
    )
