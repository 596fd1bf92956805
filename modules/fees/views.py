"""Portal pages of fees (DOMAIN.md §3), for finance, the front desk, CS managers and zone managers: household
accounts and their statements with the desk's actions, receipts, tariffs, the meter-reading sheet, bill runs,
arrears and the chase log, write-off approvals, the collection-rate, daily and weekly reports, the settings;
and for owners their own open bills and receipts (/fees/my/).

Reads go through selectors and writes through services, which check permission and scope: a page answers
a refusal (403, or 404 for what lies outside the viewer's reach) with the portal's refusal page, and any
other refusal on the form that asked."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from billing_gateway import selectors as gateway_selectors
from modules.estate import selectors as estate_selectors
from modules.estate.models import Building, ParkingKind, Project, UnitKind, Zone
from wuye.accounts.policies import acting_user
from wuye.core.errors import NotFound, ServiceError
from wuye.core.ids import as_uuid
from wuye.core.policies import require
from wuye.portal.views import form_errors_add, message_page, refusal

from . import policies, runs, selectors, services
from .calculation import month_after, month_start
from .models import DESK_METHODS, ChargeBasis, ChargeCategory, ChaseChannel, OnlineStatus, PaymentMethod

PAGE_SIZE = 50
SHEET_PAGE_SIZE = 50  # meter rows on one screen of the reading sheet
REPORT_MONTHS_MAX = 36
EXCEPTION_LABELS_SHOWN = 20

# What the pages ask before showing a link, a button or a form (the services check again).
PERMISSIONS = {
    "view": policies.VIEW,
    "collection": policies.VIEW_COLLECTION,
    "tariffs": policies.VIEW_TARIFFS,
    "manage_tariffs": policies.MANAGE_TARIFFS,
    "settings": policies.MANAGE_SETTINGS,
    "readings": policies.ENTER_READINGS,
    "review": policies.REVIEW_READINGS,
    "runs": policies.RUN_BILLS,
    "charge": policies.CHARGE_ONE_OFF,
    "pay": policies.TAKE_PAYMENTS,
    "void": policies.VOID_RECEIPTS,
    "refund": policies.REFUND,
    "reverse": policies.REVERSE_CHARGES,
    "request_write_off": policies.REQUEST_WRITE_OFF,
    "approve_write_off": policies.APPROVE_WRITE_OFF,
    "chase": policies.CHASE,
    "reconcile": policies.RECONCILE,
}

# The fee pages' own navigation: (section, url name, permission key(s), label).
SECTIONS: list[tuple[str, str, tuple[str, ...], Any]] = [
    ("accounts", "fees:account_list", ("view",), gettext_lazy("Household accounts")),
    ("arrears", "fees:arrears", ("collection",), gettext_lazy("Arrears")),
    ("chases", "fees:chases", ("collection",), gettext_lazy("Chase log")),
    ("collection", "fees:collection", ("collection",), gettext_lazy("Collection rate")),
    ("daily", "fees:daily", ("collection",), gettext_lazy("Daily receivables")),
    ("weekly", "fees:weekly", ("collection",), gettext_lazy("Weekly analysis")),
    ("readings", "fees:readings", ("readings",), gettext_lazy("Meter readings")),
    ("runs", "fees:runs", ("runs",), gettext_lazy("Bill runs")),
    ("tariffs", "fees:tariffs", ("tariffs",), gettext_lazy("Tariffs")),
    ("write_offs", "fees:write_offs", ("request_write_off", "approve_write_off"), gettext_lazy("Write-offs")),
    ("online", "fees:online_list", ("view",), gettext_lazy("Online payments")),
    ("reconciliation", "fees:reconciliation", ("reconcile",), gettext_lazy("Reconciliation")),
    ("settings", "fees:settings", ("settings",), gettext_lazy("Settings")),
]

OPEN_STATUSES = ("unpaid", "part_paid")
BILL_STATUS_BADGES = {"unpaid": "danger", "part_paid": "warn", "paid": "ok", "cancelled": "muted"}
RUN_STATUS_BADGES = {"draft": "muted", "posting": "warn", "posted": "ok", "failed": "danger"}
GROUP_LABELS = {
    "project": gettext_lazy("Project"),
    "zone": gettext_lazy("Zone"),
    "building": gettext_lazy("Building"),
    "charge_item": gettext_lazy("Charge item"),
}
DESK_METHOD_CHOICES = [(method.value, method.label) for method in DESK_METHODS]


# ------------------------------------------------------------------------------------------ helpers
def _can(user: Any) -> dict[str, bool]:
    return {key: policies.can(user, permission) for key, permission in PERMISSIONS.items()}


def _page(request: HttpRequest, template: str, context: dict[str, Any], *, section: str, status: int = 200) -> Any:
    can = _can(request.user)
    nav = [
        {"key": key, "url": reverse(url_name), "label": label}
        for key, url_name, needs, label in SECTIONS
        if any(can[need] for need in needs)
    ]
    return render(
        request,
        f"fees/{template}",
        {"can": can, "section": section, "fee_nav": nav, **context},
        status=status,
    )


def _refused_or_message(request: HttpRequest, error: ServiceError) -> HttpResponse | None:
    """403 and 404 answer with the refusal page; any other refusal becomes a message (None)."""
    if error.http_status in (403, 404):
        return refusal(request, error)
    messages.error(request, error.message)
    return None


def _records(model: Any, viewer: Any, **filters: Any) -> list[Any]:
    """Places offered as filters; none for a viewer who may not read them (the filter is then just absent)."""
    try:
        return list(estate_selectors.records(model, viewer=viewer, filters=filters))
    except ServiceError:
        return []


def _places(viewer: Any, params: Any, *, zones: bool = True, buildings: bool = False) -> dict[str, Any]:
    project, zone = params.get("project", ""), params.get("zone", "")
    found: dict[str, Any] = {
        "projects": _records(Project, viewer),
        "project": project,
        "zone": zone,
        "building": params.get("building", ""),
        "zones": _records(Zone, viewer, project=project or None) if zones else None,
        # Buildings only within a project: a company's every building is too long a list.
        "buildings": _records(Building, viewer, project=project, zone=zone or None) if buildings and project else None,
    }
    return found


def _query(request: HttpRequest, *drop: str) -> str:
    query = request.GET.copy()
    for name in ("page", "format", *drop):
        query.pop(name, None)
    return query.urlencode()


def _month(value: str | None, default: dt.date) -> dt.date:
    text = (value or "").strip()
    try:
        if len(text) == 7:
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return month_start(dt.date.fromisoformat(text))
    except ValueError:
        return default


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _xlsx(stem: str, tables: Sequence[Any]) -> HttpResponse:
    from wuye.imports import spreadsheets

    response = HttpResponse(spreadsheets.xlsx_bytes(tables), content_type=spreadsheets.CONTENT_TYPES["xlsx"])
    name = f"{stem}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    response["Cache-Control"] = "private, no-store"
    return response


def _table(
    title: Any, headers: Sequence[Any], rows: Iterable[Sequence[Any]], *, text_columns: Iterable[int] = ()
) -> Any:
    from wuye.imports import spreadsheets

    names = [str(header) for header in headers]
    return spreadsheets.Table(
        title=str(title),
        headers=names,
        rows=list(rows),
        text_columns=frozenset(text_columns),
        widths=[max(12, len(name) * 2 + 2) for name in names],
    )


def _method_label(value: str) -> str:
    try:
        return str(PaymentMethod(value).label)
    except ValueError:
        return value


def _company_name(request: HttpRequest) -> str:
    return str(getattr(getattr(request, "tenant", None), "name", "") or "")


# ------------------------------------------------------------------------------------------ charts (inline SVG)
CHART_WIDTH, CHART_HEIGHT = 640, 220
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 52, 8, 12, 28


def _nice_top(value: Decimal) -> Decimal:
    """The axis' top: the next 1, 2 or 5 × 10ⁿ at or above `value`."""
    if value <= 0:
        return Decimal(1)
    power = Decimal(10) ** math.floor(math.log10(float(value)))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Sequence[Decimal | None]],
    *,
    top: Decimal,
    tick: Callable[[Decimal], str],
) -> dict[str, Any]:
    """Bars for the template to draw: one group per label, one bar per series; numbers as strings."""
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = plot_width / max(len(labels), 1)
    bar = slot * 0.8 / max(len(series), 1)
    base = CHART_TOP + plot_height
    bars = []
    for index, label in enumerate(labels):
        for number, values in enumerate(series):
            value = values[index]
            if value is None:
                continue
            height = plot_height * float(max(min(value, top), Decimal(0)) / top)
            x = CHART_LEFT + index * slot + slot * 0.1 + number * bar
            bars.append(
                {
                    "x": f"{x:.1f}",
                    "y": f"{base - height:.1f}",
                    "width": f"{max(bar - 1, 1):.1f}",
                    "height": f"{height:.1f}",
                    # One series is drawn in the brand's colour; of two, the first lighter.
                    "series": number + 2 - len(series),
                    "title": f"{label}: {tick(value)}",
                }
            )
    every = max(1, math.ceil(len(labels) / 12))
    return {
        "title": title,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "base": f"{base:.1f}",
        "label_x": CHART_LEFT - 6,
        "label_y": CHART_HEIGHT - 8,
        "bars": bars,
        "x_labels": [
            {"x": f"{CHART_LEFT + index * slot + slot / 2:.1f}", "text": label}
            for index, label in enumerate(labels)
            if index % every == 0
        ],
        "y_labels": [
            {"y": f"{base - plot_height * float(step / 4):.1f}", "text": tick(top * step / 4)} for step in range(5)
        ],
    }


def _percent(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):,}" if value % 1 else f"{int(value):,}"


# ------------------------------------------------------------------------------------------ fields and forms
class MonthField(forms.DateField):
    """A month (<input type="month">), as the first day of the month."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m", "%Y-%m-%d"])
        kwargs.setdefault("widget", forms.DateInput(attrs={"type": "month"}, format="%Y-%m"))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.date | None:
        day = super().to_python(value)
        return month_start(day) if day else None


def _set_choices(form: forms.Form, name: str, choices: Any) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money_field(label: Any, *, required: bool = True, help_text: Any = "") -> forms.DecimalField:
    # No minimum here: a zero or negative amount is the service's to refuse, with its own words.
    return forms.DecimalField(
        label=label,
        max_digits=14,
        decimal_places=2,
        required=required,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class _AccountForm(forms.Form):
    """A form of the account page; its choices come from the account's statement."""

    def __init__(self, *args: Any, statement: selectors.Statement, viewer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statement = statement
        self.viewer = viewer
        # The statement's bills and lines carry their balances as annotations (status, balance, charged).
        self.all_bills: list[Any] = list(statement.bills)
        self.bill_lines: dict[Any, list[Any]] = dict(statement.lines)
        self.setup()

    def setup(self) -> None:
        pass

    def open_bills(self) -> list[Any]:
        return [bill for bill in self.all_bills if bill.status in OPEN_STATUSES]

    def lines(self, keep: Callable[[Any], bool]) -> list[tuple[str, str]]:
        choices = []
        for bill in self.all_bills:
            for line in self.bill_lines.get(bill.pk, []):
                if keep(line):
                    choices.append(
                        (
                            str(line.pk),
                            _("%(period)s · %(item)s · %(owed)s owed of %(charged)s")
                            % {
                                "period": f"{bill.period:%Y-%m}",
                                "item": line.charge_item.name,
                                "owed": line.balance,
                                "charged": line.charged,
                            },
                        )
                    )
        return choices


class PaymentForm(_AccountForm):
    amount = _money_field(gettext_lazy("Amount received"))
    method = forms.ChoiceField(label=gettext_lazy("Payment method"), choices=DESK_METHOD_CHOICES, initial="cash")
    bills = forms.MultipleChoiceField(
        label=gettext_lazy("Bills paid"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Choose none to pay the oldest first; what is left over becomes prepayment."),
    )
    payer_name = forms.CharField(label=gettext_lazy("Payer"), max_length=100, required=False)
    reference = forms.CharField(
        label=gettext_lazy("Reference"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Bank or QR transaction number."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def setup(self) -> None:
        _set_choices(
            self,
            "bills",
            [
                (
                    str(bill.pk),
                    _("%(period)s %(kind)s: %(owed)s owed")
                    % {"period": f"{bill.period:%Y-%m}", "kind": bill.get_kind_display(), "owed": bill.balance},
                )
                for bill in self.open_bills()
            ],
        )
        if self.statement.owed > 0:
            self.fields["amount"].initial = self.statement.owed


class CreditForm(_AccountForm):
    pass


class AdvanceForm(_AccountForm):
    months = forms.IntegerField(
        label=gettext_lazy("Months"), initial=3, widget=forms.NumberInput(attrs={"min": 1, "max": 36})
    )
    method = forms.ChoiceField(label=gettext_lazy("Payment method"), choices=DESK_METHOD_CHOICES, initial="cash")
    prepayment = _money_field(
        gettext_lazy("Prepayment on top"), required=False, help_text=gettext_lazy("Kept as credit, for utilities.")
    )
    payer_name = forms.CharField(label=gettext_lazy("Payer"), max_length=100, required=False)
    reference = forms.CharField(label=gettext_lazy("Reference"), max_length=100, required=False)


class ChargeForm(_AccountForm):
    charge_item = forms.ChoiceField(label=gettext_lazy("Charge item"))
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"),
        max_digits=14,
        decimal_places=4,
        initial=1,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    unit_price = forms.DecimalField(
        label=gettext_lazy("Unit price"),
        max_digits=12,
        decimal_places=4,
        required=False,
        help_text=gettext_lazy("Leave empty for the price the project's tariff sets."),
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    note = forms.CharField(label=gettext_lazy("What for"), max_length=200, required=False)

    def setup(self) -> None:
        try:
            items = selectors.charge_items(viewer=self.viewer).filter(basis=ChargeBasis.ITEM)
            _set_choices(self, "charge_item", [(str(item.pk), item.name) for item in items])
        except ServiceError:
            _set_choices(self, "charge_item", [])


class ReverseForm(_AccountForm):
    line = forms.ChoiceField(label=gettext_lazy("Charge"))
    amount = _money_field(
        gettext_lazy("Amount to reverse"), required=False, help_text=gettext_lazy("Leave empty to reverse all of it.")
    )
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def setup(self) -> None:
        _set_choices(self, "line", self.lines(lambda line: line.charged > 0))


class WriteOffForm(_AccountForm):
    line = forms.ChoiceField(label=gettext_lazy("Charge"))
    amount = _money_field(gettext_lazy("Amount to write off"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def setup(self) -> None:
        _set_choices(self, "line", self.lines(lambda line: line.balance > 0))


class RefundForm(_AccountForm):
    payment = forms.ChoiceField(label=gettext_lazy("Refund"), required=False)
    amount = _money_field(gettext_lazy("Amount"))
    method = forms.ChoiceField(label=gettext_lazy("Paid back by"), choices=DESK_METHOD_CHOICES, initial="cash")
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)

    def setup(self) -> None:
        _set_choices(
            self,
            "payment",
            [
                ("", _("From the prepayment (%(credit)s)") % {"credit": self.statement.credit}),
                *[
                    (
                        str(payment.pk),
                        _("Against receipt %(number)s (%(amount)s)")
                        % {"number": payment.receipt_number, "amount": payment.amount},
                    )
                    for payment in self.statement.payments
                    if getattr(payment, "void", None) is None
                ],
            ],
        )


class ChaseForm(_AccountForm):
    channel = forms.ChoiceField(label=gettext_lazy("How"), choices=ChaseChannel.choices)
    result = forms.CharField(
        label=gettext_lazy("Result"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    promised_on = forms.DateField(label=gettext_lazy("Promised to pay by"), required=False, widget=_date_input())


class PayLinkForm(_AccountForm):
    bill = forms.ChoiceField(label=gettext_lazy("Bill"))

    def setup(self) -> None:
        _set_choices(
            self,
            "bill",
            [
                (str(bill.pk), f"{bill.period:%Y-%m} · {bill.get_kind_display()} · {bill.balance}")
                for bill in self.open_bills()
            ],
        )


@dataclass(frozen=True)
class Done:
    message: str
    url: str


def _bills_chosen(statement: selectors.Statement, ids: Sequence[str]) -> list[Any] | None:
    chosen = set(ids)
    return [bill for bill in statement.bills if str(bill.pk) in chosen] or None


def _line_of(viewer: Any, account: Any, line_id: str) -> Any:
    line = selectors.line_get(viewer=viewer, line_id=line_id)
    if line.bill.account_id != account.pk:  # the page acts on the account in its address
        raise NotFound(_("No such bill line."))
    return line


def _account_url(account: Any) -> str:
    return reverse("fees:account_detail", args=[account.pk])


def _pay(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    payment = services.payment_record(
        by=viewer,
        account=account,
        amount=data["amount"],
        method=data["method"],
        bills=_bills_chosen(statement, data["bills"]),
        payer_name=data["payer_name"],
        reference=data["reference"],
        note=data["note"],
    )
    return Done(
        _("Payment recorded: receipt %(number)s.") % {"number": payment.receipt_number},
        reverse("fees:receipt", args=[payment.pk]),
    )


def _use_credit(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    used = services.credit_apply(by=viewer, account=account)
    if used <= 0:
        return Done(_("Nothing is owed: the prepayment is kept."), _account_url(account))
    return Done(_("%(amount)s of the prepayment paid open bills.") % {"amount": used}, _account_url(account))


def _advance(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    payment = services.advance_collect(
        by=viewer,
        account=account,
        months=data["months"],
        method=data["method"],
        prepayment=data["prepayment"],
        payer_name=data["payer_name"],
        reference=data["reference"],
    )
    return Done(
        _("Payment recorded: receipt %(number)s.") % {"number": payment.receipt_number},
        reverse("fees:receipt", args=[payment.pk]),
    )


def _charge(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    item = selectors.charge_item_get(viewer=viewer, item_id=data["charge_item"])
    bill = services.one_off_charge(
        by=viewer,
        account=account,
        charge_item=item,
        quantity=data["quantity"],
        unit_price=data["unit_price"],
        note=data["note"],
    )
    return Done(_("Charged %(amount)s.") % {"amount": bill.amount}, _account_url(account))


def _reverse(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    line = _line_of(viewer, account, data["line"])
    services.charge_reverse(by=viewer, line=line, reason=data["reason"], amount=data["amount"])
    return Done(_("The charge is reversed."), _account_url(account))


def _write_off(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    line = _line_of(viewer, account, data["line"])
    services.write_off_request(by=viewer, line=line, amount=data["amount"], reason=data["reason"])
    return Done(_("Write-off requested: someone else approves it."), _account_url(account))


def _refund(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    payment = next((p for p in statement.payments if str(p.pk) == data["payment"]), None)
    refund = services.refund_record(
        by=viewer, account=account, amount=data["amount"], reason=data["reason"], method=data["method"], payment=payment
    )
    return Done(_("Refunded %(amount)s.") % {"amount": refund.amount}, _account_url(account))


def _chase(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    services.chase_record(
        by=viewer, account=account, channel=data["channel"], result=data["result"], promised_on=data["promised_on"]
    )
    return Done(_("Chase recorded."), _account_url(account))


def _pay_link(viewer: Any, account: Any, statement: selectors.Statement, data: dict[str, Any]) -> Done:
    from . import notices  # with the PDF library: loaded when a notice is sent

    notices.pay_link_send(by=viewer, account=account, bill_id=data["bill"])
    return Done(_("The pay link is e-mailed to the owners."), _account_url(account))


@dataclass(frozen=True)
class AccountAction:
    form: type[_AccountForm]
    run: Callable[[Any, Any, selectors.Statement, dict[str, Any]], Done]
    permission: str  # a key of PERMISSIONS: the form is shown to those who hold it
    title: Any
    button: Any


ACTIONS: dict[str, AccountAction] = {
    "pay": AccountAction(PaymentForm, _pay, "pay", gettext_lazy("Take a payment"), gettext_lazy("Record payment")),
    "use-credit": AccountAction(
        CreditForm, _use_credit, "pay", gettext_lazy("Pay from prepayment"), gettext_lazy("Use prepayment")
    ),
    "advance": AccountAction(
        AdvanceForm, _advance, "pay", gettext_lazy("Collect months in advance"), gettext_lazy("Collect")
    ),
    "charge": AccountAction(
        ChargeForm, _charge, "charge", gettext_lazy("One-off charge"), pgettext_lazy("a button", "Charge")
    ),
    "reverse": AccountAction(
        ReverseForm, _reverse, "reverse", gettext_lazy("Reverse a charge"), gettext_lazy("Reverse")
    ),
    "write-off": AccountAction(
        WriteOffForm, _write_off, "request_write_off", gettext_lazy("Request a write-off"), gettext_lazy("Request")
    ),
    "refund": AccountAction(RefundForm, _refund, "refund", gettext_lazy("Refund"), gettext_lazy("Refund")),
    "chase": AccountAction(
        ChaseForm, _chase, "chase", gettext_lazy("Record a chase"), pgettext_lazy("a button", "Record")
    ),
    "pay-link": AccountAction(
        PayLinkForm, _pay_link, "chase", gettext_lazy("E-mail a pay link"), gettext_lazy("Send the link")
    ),
}


# ------------------------------------------------------------------------------------------ accounts
def _account_row(account: Any) -> list[Any]:
    return [account.label, account.project.name, account.owed, account.credit, account.balance]


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    params = request.GET
    owing = params.get("owing") == "1"
    try:
        accounts = selectors.account_list(
            viewer=viewer,
            project=params.get("project") or None,
            zone=params.get("zone") or None,
            search=params.get("q", ""),
            owing_only=owing,
        )
    except ServiceError as error:
        return refusal(request, error)
    if params.get("format") == "xlsx":
        table = _table(
            _("Household accounts"),
            [_("Account"), _("Project"), _("Owed"), _("Prepaid"), _("Balance")],
            (_account_row(account) for account in accounts.iterator(chunk_size=2000)),
            text_columns=[0],
        )
        return _xlsx("accounts", [table])
    page = Paginator(accounts, PAGE_SIZE).get_page(params.get("page"))
    return _page(
        request,
        "account_list.html",
        {**_places(viewer, params), "page": page, "q": params.get("q", ""), "owing": owing, "query": _query(request)},
        section="accounts",
    )


def _bill_rows(statement: selectors.Statement, *, open_only: bool = False) -> list[dict[str, Any]]:
    """The statement's bills with their status label and lines; open only: what is still owed, and on it."""
    bills: list[Any] = list(statement.bills)
    rows = []
    for bill in bills:
        if open_only and bill.status not in OPEN_STATUSES:
            continue
        lines: list[Any] = statement.lines.get(bill.pk, [])
        rows.append(
            {
                "bill": bill,
                "status": selectors.BILL_STATUSES.get(bill.status, bill.status),
                "badge": BILL_STATUS_BADGES.get(bill.status, "muted"),
                "lines": [line for line in lines if line.balance > 0] if open_only else lines,
            }
        )
    return rows


def _account_page(
    request: HttpRequest,
    viewer: Any,
    account: Any,
    statement: selectors.Statement,
    *,
    bound: tuple[str, _AccountForm] | None = None,
) -> HttpResponse:
    can = _can(viewer)
    actions = []
    for name, action in ACTIONS.items():
        if not can[action.permission]:
            continue
        if bound is not None and bound[0] == name:
            form = bound[1]
        else:
            form = action.form(statement=statement, viewer=viewer, auto_id=f"{name}_%s")
        actions.append({"name": name, "title": action.title, "button": action.button, "form": form})
    chases = list(selectors.chase_list(viewer=viewer, account=account)[:20]) if can["collection"] else []
    return _page(
        request,
        "account_detail.html",
        {
            "account": account,
            "statement": statement,
            "bills": _bill_rows(statement),
            "actions": actions,
            "open_action": bound[0] if bound is not None else ("pay" if can["pay"] else ""),
            "chases": chases,
        },
        section="accounts",
    )


@login_required
def account_detail(request: HttpRequest, account_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        statement = selectors.account_statement(viewer=viewer, account=account)
    except ServiceError as error:
        return refusal(request, error)
    return _account_page(request, viewer, account, statement)


@login_required
@require_POST
def account_action(request: HttpRequest, account_id: str, action: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        statement = selectors.account_statement(viewer=viewer, account=account)
        if action not in ACTIONS:
            raise NotFound(_("There is no such page."))
    except ServiceError as error:
        return refusal(request, error)
    chosen = ACTIONS[action]
    form = chosen.form(request.POST, statement=statement, viewer=viewer, auto_id=f"{action}_%s")
    if form.is_valid():
        try:
            done = chosen.run(viewer, account, statement, form.cleaned_data)
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(form, error)
        else:
            messages.success(request, done.message)
            return redirect(done.url)
    return _account_page(request, viewer, account, statement, bound=(action, form))


# ------------------------------------------------------------------------------------------ receipts
class VoidForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


def _receipt_page(
    request: HttpRequest, payment: Any, *, owner: bool, form: VoidForm | None = None, section: str = "accounts"
) -> HttpResponse:
    return _page(
        request,
        "receipt.html",
        {
            "receipt": selectors.receipt(payment=payment),
            "payment": payment,
            "company_name": _company_name(request),
            "owner": owner,
            "void_form": form,
            "pdf_url": reverse("fees:my_receipt_pdf" if owner else "fees:receipt_pdf", args=[payment.pk]),
        },
        section=section,
    )


@login_required
def receipt(request: HttpRequest, payment_id: str) -> HttpResponse:
    """A printable receipt; the void form (POST) for those who may void receipts."""
    viewer = acting_user(request)
    try:
        payment = selectors.payment_get(viewer=viewer, payment_id=payment_id)
    except ServiceError as error:
        return refusal(request, error)
    can_void = policies.can(viewer, policies.VOID_RECEIPTS) and getattr(payment, "void", None) is None
    form = VoidForm(request.POST or None) if can_void or request.method == "POST" else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            services.payment_void(by=viewer, payment=payment, reason=form.cleaned_data["reason"])
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(form, error)
        else:
            messages.success(request, _("Receipt %(number)s is voided.") % {"number": payment.receipt_number})
            return redirect("fees:receipt", payment_id=payment.pk)
    return _receipt_page(request, payment, owner=False, form=form)


def _pdf_response(request: HttpRequest, payment: Any) -> HttpResponse:
    from . import documents  # written beside this module; imported when a PDF is asked for

    content = documents.receipt_pdf(selectors.receipt(payment=payment), company_name=_company_name(request))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{payment.receipt_number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def receipt_pdf(request: HttpRequest, payment_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        payment = selectors.payment_get(viewer=viewer, payment_id=payment_id)
    except ServiceError as error:
        return refusal(request, error)
    return _pdf_response(request, payment)


# ------------------------------------------------------------------------------------------ owners
@login_required
def my_fees(request: HttpRequest) -> HttpResponse:
    """An owner's own accounts: the bills still open, the balance, the receipts. Phone-sized."""
    user = acting_user(request)
    accounts = list(selectors.owner_accounts(user=user).select_related("project").order_by("label"))
    if not accounts:
        return message_page(
            request, _("My fees"), _("No household account is linked to you. Ask the front desk."), status=404
        )
    found = []
    for account in accounts:
        statement = selectors.account_statement(viewer=user, account=account, owner_user=user, entries_limit=0)
        found.append(
            {
                "account": account,
                "statement": statement,
                "open_bills": _bill_rows(statement, open_only=True),
                "payments": statement.payments[:24],
            }
        )
    return _page(
        request,
        "my_fees.html",
        {
            "accounts": found,
            "online_open": gateway_selectors.payments_open(company=gateway_selectors.current_company()),
            "in_progress": list(selectors.owner_online_in_progress(user=user)),
        },
        section="my",
    )


@login_required
def my_receipt(request: HttpRequest, payment_id: str) -> HttpResponse:
    owner = acting_user(request)
    try:
        payment = selectors.payment_get(viewer=owner, payment_id=payment_id, owner_user=owner)
    except ServiceError as error:
        return refusal(request, error)
    return _receipt_page(request, payment, owner=True, section="my")


@login_required
def my_receipt_pdf(request: HttpRequest, payment_id: str) -> HttpResponse:
    owner = acting_user(request)
    try:
        payment = selectors.payment_get(viewer=owner, payment_id=payment_id, owner_user=owner)
    except ServiceError as error:
        return refusal(request, error)
    return _pdf_response(request, payment)


# ------------------------------------------------------------------------------------------ tariffs
APPLIES_TO_CHOICES: list[Any] = [
    ("", gettext_lazy("Every kind")),
    (gettext_lazy("Units"), UnitKind.choices),
    (gettext_lazy("Parking spaces"), ParkingKind.choices),
]
TIERS = 3


class TariffForm(forms.Form):
    project = forms.ChoiceField(label=gettext_lazy("Project"))
    charge_item = forms.ChoiceField(label=gettext_lazy("Charge item"))
    applies_to = forms.ChoiceField(label=gettext_lazy("Applies to"), choices=APPLIES_TO_CHOICES, required=False)
    unit_price = forms.DecimalField(
        label=gettext_lazy("Unit price"),
        max_digits=12,
        decimal_places=4,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    valid_from = forms.DateField(label=gettext_lazy("Valid from"), widget=_date_input())
    valid_until = forms.DateField(
        label=gettext_lazy("Valid until"),
        required=False,
        widget=_date_input(),
        help_text=gettext_lazy("The first day it no longer applies; empty: until further notice."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, projects: Sequence[Any], items: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "project", [(str(p.pk), p.name) for p in projects])
        _set_choices(
            self,
            "charge_item",
            [(str(item.pk), f"{item.name} · {item.get_basis_display()}") for item in items if item.archived_at is None],
        )
        for n in range(1, TIERS + 1):
            self.fields[f"tier{n}_above"] = forms.DecimalField(
                label=_("Tier %(n)s: above (quantity)") % {"n": n},
                max_digits=14,
                decimal_places=4,
                required=False,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
            self.fields[f"tier{n}_price"] = forms.DecimalField(
                label=_("Tier %(n)s: unit price") % {"n": n},
                max_digits=12,
                decimal_places=4,
                required=False,
                min_value=0,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )
        self.fields["tier1_above"].help_text = _("Tiers are for water, electricity and gas only.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tiers = []
        for n in range(1, TIERS + 1):
            above, price = data.get(f"tier{n}_above"), data.get(f"tier{n}_price")
            if (above is None) != (price is None):
                self.add_error(f"tier{n}_above", _("Give both the quantity and the price of the tier, or neither."))
            elif above is not None and price is not None:
                tiers.append((above, price))
        data["tiers"] = tiers
        return data


class ChargeItemForm(forms.Form):
    code = forms.SlugField(label=gettext_lazy("Code"), max_length=30)
    name = forms.CharField(label=pgettext_lazy("a record", "Name"), max_length=60)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=ChargeCategory.choices)
    basis = forms.ChoiceField(label=gettext_lazy("Charged"), choices=ChargeBasis.choices)
    sort_order = forms.IntegerField(label=gettext_lazy("Order"), initial=100, min_value=0, max_value=32767)


def _applies_to_label(value: str) -> str:
    if not value:
        return str(_("Every kind"))
    labels = dict(UnitKind.choices) | dict(ParkingKind.choices)
    return str(labels.get(value, value))


@login_required
def tariffs(request: HttpRequest) -> HttpResponse:
    """Charge items and the tariffs of each project; forms to add either, for those who manage tariffs."""
    viewer = acting_user(request)
    params = request.GET
    on = _day(params.get("on"))
    try:
        found = selectors.tariff_list(viewer=viewer, project=params.get("project") or None, on=on)
        items = list(selectors.charge_items(viewer=viewer, include_archived=True))
    except ServiceError as error:
        return refusal(request, error)
    projects = _records(Project, viewer)
    posted = request.POST.get("form") if request.method == "POST" else None
    tariff_form = TariffForm(
        request.POST if posted == "tariff" else None, projects=projects, items=items, auto_id="tariff_%s"
    )
    item_form = ChargeItemForm(request.POST if posted == "item" else None, auto_id="item_%s")
    if posted is not None:
        try:
            require(viewer, policies.MANAGE_TARIFFS)
        except ServiceError as error:
            return refusal(request, error)
    if posted == "tariff" and tariff_form.is_valid():
        data = tariff_form.cleaned_data
        try:
            project = estate_selectors.project_get(viewer=viewer, project_id=data["project"])
            item = selectors.charge_item_get(viewer=viewer, item_id=data["charge_item"])
            services.tariff_create(
                by=viewer,
                project=project,
                charge_item=item,
                unit_price=data["unit_price"],
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
                applies_to=data["applies_to"],
                tiers=data["tiers"],
                note=data["note"],
            )
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(tariff_form, error)
        else:
            messages.success(request, _("Tariff added."))
            return redirect(f"{reverse('fees:tariffs')}?project={project.pk}")
    if posted == "item" and item_form.is_valid():
        try:
            services.charge_item_create(by=viewer, **item_form.cleaned_data)
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(item_form, error)
        else:
            messages.success(request, _("Charge item added."))
            return redirect("fees:tariffs")
    page = Paginator(found, PAGE_SIZE).get_page(params.get("page"))
    today = timezone.localdate()
    rows = [
        {
            "tariff": tariff,
            "applies_to": _applies_to_label(tariff.applies_to),
            "tiers": list(tariff.tiers.all()),
            "current": tariff.valid_from <= today and (tariff.valid_until is None or tariff.valid_until > today),
            "can_end": tariff.valid_until is None or tariff.valid_until > today,
        }
        for tariff in page
    ]
    return _page(
        request,
        "tariffs.html",
        {
            "projects": projects,
            "project": params.get("project", ""),
            "on": params.get("on", ""),
            "page": page,
            "rows": rows,
            "items": items,
            "tariff_form": tariff_form,
            "item_form": item_form,
            "posted": posted,
            "today": today,
            "query": _query(request),
        },
        section="tariffs",
    )


@login_required
@require_POST
def tariff_end(request: HttpRequest, tariff_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        tariff = selectors.tariff_get(viewer=viewer, tariff_id=tariff_id)
        on = _day(request.POST.get("on"))
        if on is None:
            raise ServiceError(_("Give the first day it no longer applies."), code="date_required")
        services.tariff_end(by=viewer, tariff=tariff, on=on)
    except ServiceError as error:
        refused = _refused_or_message(request, error)
        if refused is not None:
            return refused
    else:
        messages.success(request, _("The tariff ends on %(day)s.") % {"day": on.isoformat()})
    return redirect(f"{reverse('fees:tariffs')}?project={request.POST.get('project', '')}")


@login_required
@require_POST
def charge_item_change(request: HttpRequest, item_id: str) -> HttpResponse:
    """Rename a charge item, or archive it (no longer offered) or bring it back."""
    viewer = acting_user(request)
    try:
        item = selectors.charge_item_get(viewer=viewer, item_id=item_id)
        if "archived" in request.POST:
            services.charge_item_update(by=viewer, item=item, archived=request.POST["archived"] == "1")
        else:
            services.charge_item_update(by=viewer, item=item, name=request.POST.get("name", ""))
    except ServiceError as error:
        refused = _refused_or_message(request, error)
        if refused is not None:
            return refused
    else:
        messages.success(request, _("Saved."))
    return redirect("fees:tariffs")


# ------------------------------------------------------------------------------------------ meter readings
class ReadingForm(forms.Form):
    meter = forms.UUIDField(widget=forms.HiddenInput)
    reading = forms.DecimalField(label=gettext_lazy("Reading"), max_digits=14, decimal_places=4)
    replaced = forms.BooleanField(label=gettext_lazy("The meter was replaced"), required=False)
    old_final = forms.DecimalField(label=gettext_lazy("Old meter's final reading"), required=False)
    new_start = forms.DecimalField(label=gettext_lazy("New meter's start reading"), required=False)


def _meter_place(meter: Any) -> str:
    unit = meter.unit
    if unit is None:
        return meter.location or str(_("Common meter"))
    return f"{unit.building.name} {unit.number}"


@login_required
def readings(request: HttpRequest) -> HttpResponse:
    """The reading sheet of a project and month, one row (and one small form) per meter; the abnormal
    readings waiting for review."""
    viewer = acting_user(request)
    params = request.GET
    today = timezone.localdate()
    period = _month(params.get("month"), month_start(today))
    try:
        flagged = list(selectors.readings_flagged(viewer=viewer, project=params.get("project") or None)[:100])
    except ServiceError as error:
        return refusal(request, error)
    projects = _records(Project, viewer)
    project_id = params.get("project", "") or (str(projects[0].pk) if len(projects) == 1 else "")
    sheet: list[dict[str, Any]] = []
    project = None
    if project_id:
        try:
            project = estate_selectors.project_get(viewer=viewer, project_id=project_id)
            sheet = selectors.readings_sheet(viewer=viewer, project=project, period=period)
        except ServiceError as error:
            return refusal(request, error)
    form = None
    if request.method == "POST":
        if project is None:
            return refusal(request, NotFound(_("Choose a project first.")))
        form = ReadingForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            row = next((r for r in sheet if r["meter"].pk == data["meter"]), None)
            try:
                if row is None:
                    raise NotFound(_("No such meter."))
                reading = services.reading_record(
                    by=viewer,
                    project=project,
                    meter=row["meter"],
                    period=period,
                    reading=data["reading"],
                    replaced=data["replaced"],
                    old_final=data["old_final"],
                    new_start=data["new_start"],
                )
            except ServiceError as error:
                if error.http_status in (403, 404):
                    return refusal(request, error)
                form_errors_add(form, error)
            else:
                if reading.flagged:
                    messages.warning(
                        request,
                        _("%(meter)s: %(used)s used is far above its average; it waits for review.")
                        % {"meter": row["meter"].serial, "used": reading.consumption},
                    )
                else:
                    messages.success(request, _("%(meter)s: reading saved.") % {"meter": row["meter"].serial})
                return redirect(f"{request.get_full_path()}#m-{row['meter'].pk}")
    buildings = {}
    for row in sheet:
        unit = row["meter"].unit
        if unit is not None:
            buildings[str(unit.building_id)] = unit.building.name
    building = params.get("building", "")
    missing = params.get("missing") == "1"
    shown = [
        row
        for row in sheet
        if (not building or (row["meter"].unit is not None and str(row["meter"].unit.building_id) == building))
        and (not missing or row["reading"] is None)
    ]
    page = Paginator(shown, SHEET_PAGE_SIZE).get_page(params.get("page"))
    error_meter = form["meter"].value() if form is not None else None
    return _page(
        request,
        "readings.html",
        {
            "projects": projects,
            "project": project_id,
            "month": f"{period:%Y-%m}",
            "period": period,
            "buildings": sorted(buildings.items(), key=lambda pair: pair[1]),
            "building": building,
            "missing": missing,
            "page": page,
            "rows": [{**row, "place": _meter_place(row["meter"])} for row in page],
            "entered": sum(1 for row in sheet if row["reading"] is not None),
            "total": len(sheet),
            "form": form,
            "error_meter": str(error_meter) if error_meter else "",
            "flagged": flagged,
            "query": _query(request),
        },
        section="readings",
    )


@login_required
@require_POST
def reading_review(request: HttpRequest, reading_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        reading = selectors.reading_get(viewer=viewer, reading_id=reading_id)
        services.reading_review(by=viewer, reading=reading)
    except ServiceError as error:
        refused = _refused_or_message(request, error)
        if refused is not None:
            return refused
    else:
        messages.success(request, _("Reviewed: the reading will be billed."))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/fees/") else reverse("fees:readings"))


# ------------------------------------------------------------------------------------------ bill runs
class RunForm(forms.Form):
    project = forms.ChoiceField(label=gettext_lazy("Project"))
    period = MonthField(label=gettext_lazy("Month"))

    def __init__(self, *args: Any, projects: Sequence[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _set_choices(self, "project", [(str(p.pk), p.name) for p in projects])
        self.fields["period"].initial = month_start(timezone.localdate())


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    params = request.GET
    try:
        found = selectors.run_list(viewer=viewer, project=params.get("project") or None)
    except ServiceError as error:
        return refusal(request, error)
    projects = _records(Project, viewer)
    form = RunForm(request.POST or None, projects=projects, auto_id="run_%s")
    if request.method == "POST" and form.is_valid():
        try:
            project = estate_selectors.project_get(viewer=viewer, project_id=form.cleaned_data["project"])
            run = services.run_create(by=viewer, project=project, period=form.cleaned_data["period"])
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(form, error)
        else:
            return redirect("fees:run_detail", run_id=run.pk)
    page = Paginator(found, PAGE_SIZE).get_page(params.get("page"))
    return _page(
        request,
        "runs.html",
        {
            "page": page,
            "rows": [{"run": run, "badge": RUN_STATUS_BADGES.get(run.status, "muted")} for run in page],
            "projects": projects,
            "project": params.get("project", ""),
            "form": form,
            "query": _query(request),
        },
        section="runs",
    )


@login_required
def run_detail(request: HttpRequest, run_id: str) -> HttpResponse:
    """A run: its preview while it is a draft (what posting would bill, and what needs a look first), its
    progress while a worker posts it, its totals once posted."""
    viewer = acting_user(request)
    try:
        run = selectors.run_get(viewer=viewer, run_id=run_id)
    except ServiceError as error:
        return refusal(request, error)
    can = _can(viewer)
    preview = None
    if can["runs"] and run.status in ("draft", "failed"):
        try:
            plan = services.run_preview(by=viewer, run=run)
        except ServiceError as error:
            return refusal(request, error)
        try:
            names = {item.pk: item.name for item in selectors.charge_items(viewer=viewer, include_archived=True)}
        except ServiceError:
            names = {}
        preview = {
            "bills": len(plan.bills),
            "total": plan.total,
            "already_billed": plan.already_billed,
            "items": sorted(
                (
                    {"name": names.get(item_id, str(item_id)), "lines": count, "amount": amount}
                    for item_id, (count, amount) in plan.totals_by_item().items()
                ),
                key=lambda row: str(row["name"]),
            ),
            "exceptions": [
                {
                    "code": code,
                    "label": str(runs.EXCEPTION_LABELS.get(code, code)),
                    "count": count,
                    "labels": labels[:EXCEPTION_LABELS_SHOWN],
                    "more": count - min(len(labels), EXCEPTION_LABELS_SHOWN),
                }
                for code, (count, labels) in sorted(plan.exceptions.items())
            ],
        }
    progress = selectors.run_progress(run=run)
    return _page(
        request,
        "run_detail.html",
        {
            "run": run,
            "badge": RUN_STATUS_BADGES.get(run.status, "muted"),
            "preview": preview,
            "progress": progress,
            "percent": _progress_percent(progress),
            "progress_text": _("%(done)s of %(total)s accounts"),
        },
        section="runs",
    )


def _progress_percent(progress: dict[str, Any]) -> int:
    total = progress.get("total") or 0
    return int(100 * progress.get("done", 0) / total) if total else 0


@login_required
@require_POST
def run_post(request: HttpRequest, run_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        run = selectors.run_get(viewer=viewer, run_id=run_id)
        services.run_post(by=viewer, run=run)
    except ServiceError as error:
        refused = _refused_or_message(request, error)
        if refused is not None:
            return refused
    else:
        messages.success(request, _("Posting the bills."))
    return redirect("fees:run_detail", run_id=run_id)


@login_required
def run_progress(request: HttpRequest, run_id: str) -> HttpResponse:
    """The run's status and progress as JSON, for the page's progress bar."""
    viewer = acting_user(request)
    try:
        run = selectors.run_get(viewer=viewer, run_id=run_id)
    except ServiceError as error:
        return JsonResponse({"error": {"code": error.code, "message": error.message}}, status=error.http_status)
    progress = selectors.run_progress(run=run)
    response = JsonResponse({**progress, "percent": _progress_percent(progress)})
    response["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------------------------------ arrears, chases
@login_required
def arrears(request: HttpRequest) -> HttpResponse:
    """Arrears by age (after the bill's due date) per account, with the last chase; export to Excel."""
    viewer = acting_user(request)
    params = request.GET
    try:
        rows, totals = selectors.arrears_aging(
            viewer=viewer,
            project=params.get("project") or None,
            zone=params.get("zone") or None,
            building=params.get("building") or None,
        )
    except ServiceError as error:
        return refusal(request, error)
    buckets = [(key, label) for key, label, _low, _high in selectors.AGING_BUCKETS]
    if params.get("format") == "xlsx":
        table = _table(
            _("Arrears"),
            [_("Account"), *[label for _key, label in buckets], _("Total"), _("Oldest due"), _("Last chase")],
            (
                [
                    row.account.label,
                    *[row.buckets[key] for key, _label in buckets],
                    row.total,
                    row.oldest_due,
                    row.last_chase.at.date() if row.last_chase else None,
                ]
                for row in rows
            ),
            text_columns=[0],
        )
        return _xlsx("arrears", [table])
    page = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
    return _page(
        request,
        "arrears.html",
        {
            **_places(viewer, params, buildings=True),
            "buckets": buckets,
            "page": page,
            "rows": [{"row": row, "amounts": [row.buckets[key] for key, _label in buckets]} for row in page],
            "totals": [totals[key] for key, _label in buckets],
            "total": sum(totals.values(), Decimal("0.00")),
            "count": len(rows),
            "query": _query(request),
        },
        section="arrears",
    )


@login_required
@require_POST
def arrears_remind(request: HttpRequest) -> HttpResponse:
    """Send reminders (催缴通知) to the owners of the accounts ticked on the arrears page: an e-mail with the
    letter attached where they have an address, and a chase record either way (a letter to print)."""
    from . import notices

    viewer = acting_user(request)
    try:
        accounts = [selectors.account_get(viewer=viewer, account_id=key) for key in request.POST.getlist("account")]
        if not accounts:
            raise ServiceError(_("Tick the accounts to remind."), code="accounts_required")
        sent = notices.reminders_send(by=viewer, accounts=accounts)
    except ServiceError as error:
        refused = _refused_or_message(request, error)
        if refused is not None:
            return refused
    else:
        messages.success(request, _("%(count)s reminders recorded in the chase log.") % {"count": len(sent)})
    target = reverse("fees:arrears")
    back = request.POST.get("query", "")
    return redirect(f"{target}?{back}" if back else target)


@login_required
def reminder_letter(request: HttpRequest, account_id: str) -> HttpResponse:
    """The reminder letter (催缴通知书) of an account, as a PDF to print and hand over."""
    from . import notices

    viewer = acting_user(request)
    try:
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        content = notices.reminder_letter(viewer=viewer, account=account)
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        return message_page(request, str(_("Not possible")), error.message, status=400)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="reminder.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def chases(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    params = request.GET
    try:
        found = selectors.chase_list(viewer=viewer, zone=params.get("zone") or None)
    except ServiceError as error:
        return refusal(request, error)
    page = Paginator(found, PAGE_SIZE).get_page(params.get("page"))
    return _page(
        request,
        "chases.html",
        {"zones": _records(Zone, viewer), "zone": params.get("zone", ""), "page": page, "query": _query(request)},
        section="chases",
    )


# ------------------------------------------------------------------------------------------ write-offs
@login_required
def write_offs(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    try:
        pending = list(selectors.write_off_list(viewer=viewer, pending_only=True)[:200])
        decided = list(selectors.write_off_list(viewer=viewer).exclude(status="requested")[:30])
    except ServiceError as error:
        return refusal(request, error)
    return _page(request, "write_offs.html", {"pending": pending, "decided": decided}, section="write_offs")


@login_required
@require_POST
def write_off_decide(request: HttpRequest, write_off_id: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        found = selectors.write_off_get(viewer=viewer, write_off_id=write_off_id)
        approve = request.POST.get("decision") == "approve"
        services.write_off_decide(by=viewer, write_off=found, approve=approve)
    except ServiceError as error:
        refused = _refused_or_message(request, error)
        if refused is not None:
            return refused
    else:
        messages.success(request, _("Write-off approved.") if approve else _("Write-off rejected."))
    return redirect("fees:write_offs")


# ------------------------------------------------------------------------------------------ reports
def _rate_values(row: selectors.RateRow) -> list[Any]:
    return [
        row.billed,
        row.collected_in_period,
        row.rate_in_period,
        row.collected,
        row.rate,
        row.written_off,
        row.arrears_at_start,
        row.recovered,
        row.recovery_rate,
    ]


RATE_HEADERS = [
    gettext_lazy("Billed"),
    gettext_lazy("Collected in period"),
    gettext_lazy("Rate in period (%)"),
    gettext_lazy("Collected to date"),
    gettext_lazy("Rate (%)"),
    gettext_lazy("Written off"),
    gettext_lazy("Arrears at start"),
    gettext_lazy("Recovered"),
    gettext_lazy("Recovery rate (%)"),
]


def _rate_chart(report: selectors.CollectionReport) -> dict[str, Any]:
    rates_in_period = [row.rate_in_period for row in report.totals]
    rates = [row.rate for row in report.totals]
    top = max([Decimal(100), *[value for value in rates_in_period + rates if value is not None]])
    return _bar_chart(
        _("Collection rate by month"),
        [f"{period:%Y-%m}" for period in report.periods],
        [rates_in_period, rates],
        top=_nice_top(top) if top > 100 else Decimal(100),
        tick=_percent,
    )


@login_required
def collection(request: HttpRequest) -> HttpResponse:
    """The collection rate (收缴率) per month and group, with an SVG chart of the months' totals."""
    viewer = acting_user(request)
    params = request.GET
    this_month = month_start(timezone.localdate())
    last = _month(params.get("to"), this_month)
    first = _month(params.get("from"), month_after(last, -11))
    if first > last:
        first, last = last, first
    if (last.year - first.year) * 12 + last.month - first.month >= REPORT_MONTHS_MAX:
        first = month_after(last, -(REPORT_MONTHS_MAX - 1))
    group = str(params.get("group") or "")
    if group not in selectors.GROUPS:
        group = "project"
    try:
        report = selectors.collection_report(
            viewer=viewer,
            period_from=first,
            period_to=last,
            group=group,
            project=params.get("project") or None,
            zone=params.get("zone") or None,
            charge_item=params.get("charge_item") or None,
        )
    except ServiceError as error:
        return refusal(request, error)
    if params.get("format") == "xlsx":
        rows = _table(
            _("Collection rate"),
            [_("Month"), GROUP_LABELS[group], *RATE_HEADERS, _("Target (%)")],
            ([f"{r.period:%Y-%m}", r.label, *_rate_values(r), r.target] for r in report.rows),
            text_columns=[0, 1],
        )
        totals = _table(
            _("Totals"),
            [_("Month"), *RATE_HEADERS],
            ([f"{r.period:%Y-%m}", *_rate_values(r)] for r in report.totals),
            text_columns=[0],
        )
        return _xlsx("collection-rate", [rows, totals])
    try:
        items = list(selectors.charge_items(viewer=viewer, include_archived=True))
    except ServiceError:
        items = []
    return _page(
        request,
        "collection.html",
        {
            **_places(viewer, params),
            "report": report,
            "chart": _rate_chart(report),
            "first": f"{first:%Y-%m}",
            "last": f"{last:%Y-%m}",
            "group": group,
            "groups": list(GROUP_LABELS.items()),
            "group_label": GROUP_LABELS[group],
            "items": items,
            "charge_item": params.get("charge_item", ""),
            "query": _query(request),
        },
        section="collection",
    )


@login_required
def daily(request: HttpRequest) -> HttpResponse:
    """The daily look at receivables: today's money by method, what was billed, what is owed and overdue."""
    viewer = acting_user(request)
    params = request.GET
    day = _day(params.get("day")) or timezone.localdate()
    try:
        found = selectors.receivables_daily(viewer=viewer, day=day, project=params.get("project") or None)
    except ServiceError as error:
        return refusal(request, error)
    return _page(
        request,
        "daily.html",
        {
            "daily": found,
            "methods": [(_method_label(method), count, total) for method, count, total in found.collected_by_method],
            "day": day,
            "previous": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1),
            "projects": _records(Project, viewer),
            "project": params.get("project", ""),
        },
        section="daily",
    )


WEEK_CHOICES = (8, 12, 26, 52)


@dataclass(frozen=True)
class Week:
    start: dt.date
    end: dt.date
    amount: Decimal
    count: int


@login_required
def weekly(request: HttpRequest) -> HttpResponse:
    """The weekly review: money collected per week (chart and table), and the last three months' collection
    rate by charge item."""
    viewer = acting_user(request)
    params = request.GET
    weeks = int(params["weeks"]) if params.get("weeks", "").isdigit() and int(params["weeks"]) in WEEK_CHOICES else 12
    project = params.get("project") or None
    this_month = month_start(timezone.localdate())
    try:
        found = selectors.weekly_collection(viewer=viewer, weeks=weeks, project=project)
        report = selectors.collection_report(
            viewer=viewer,
            period_from=month_after(this_month, -2),
            period_to=this_month,
            group="charge_item",
            project=project,
        )
    except ServiceError as error:
        return refusal(request, error)
    rows = [
        Week(start=start, end=start + dt.timedelta(days=6), amount=amount, count=count)
        for start, amount, count in found
    ]
    if params.get("format") == "xlsx":
        weekly_table = _table(
            _("Weekly collection"),
            [_("Week from"), _("Week to"), _("Payments"), _("Collected")],
            ([row.start, row.end, row.count, row.amount] for row in rows),
        )
        items_table = _table(
            _("By charge item"),
            [_("Month"), _("Charge item"), *RATE_HEADERS],
            ([f"{r.period:%Y-%m}", r.label, *_rate_values(r)] for r in report.rows),
            text_columns=[0, 1],
        )
        return _xlsx("weekly", [weekly_table, items_table])
    top = max([row.amount for row in rows] + [Decimal(0)])
    chart = _bar_chart(
        _("Collected per week"),
        [f"{row.start:%m-%d}" for row in rows],
        [[row.amount for row in rows]],
        top=_nice_top(top),
        tick=_amount,
    )
    return _page(
        request,
        "weekly.html",
        {
            "rows": rows,
            "total": sum((row.amount for row in rows), Decimal("0.00")),
            "chart": chart,
            "report": report,
            "weeks": weeks,
            "week_choices": WEEK_CHOICES,
            "projects": _records(Project, viewer),
            "project": params.get("project", ""),
            "query": _query(request),
        },
        section="weekly",
    )


# ------------------------------------------------------------------------------------------ settings
class SettingsForm(forms.Form):
    run_day = forms.IntegerField(
        label=gettext_lazy("Monthly bill run on day"),
        min_value=1,
        max_value=28,
        help_text=gettext_lazy("Each project's bills for the month are posted on this day of the month."),
    )
    auto_run = forms.BooleanField(label=gettext_lazy("Post the monthly bill run automatically"), required=False)
    due_days = forms.IntegerField(
        label=gettext_lazy("Days to pay"),
        min_value=0,
        max_value=366,
        help_text=gettext_lazy("A bill is due this many days after its period starts; arrears age from then."),
    )
    auto_apply_prepayment = forms.BooleanField(
        label=gettext_lazy("Pay new bills from prepayment"),
        required=False,
        help_text=gettext_lazy("When a bill is posted, the household's prepaid credit pays it as far as it goes."),
    )
    reminder_text = forms.CharField(
        label=gettext_lazy("Reminder letter text"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )


@login_required
def fee_settings(request: HttpRequest) -> HttpResponse:
    viewer = acting_user(request)
    try:
        require(viewer, policies.MANAGE_SETTINGS)
    except ServiceError as error:
        return refusal(request, error)
    current = services.fee_settings()
    form = SettingsForm(
        request.POST or None, initial={name: getattr(current, name) for name in SettingsForm.base_fields}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_update(by=viewer, **form.cleaned_data)
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("fees:settings")
    return _page(request, "settings.html", {"form": form}, section="settings")


# ------------------------------------------------------------------------------------------ paying online
ONLINE_BADGES: dict[str, str] = {
    OnlineStatus.REQUIRES_PAYMENT.value: "muted",
    OnlineStatus.PROCESSING.value: "warn",
    OnlineStatus.SUCCEEDED.value: "ok",
    OnlineStatus.FAILED.value: "danger",
    OnlineStatus.CANCELED.value: "muted",
}


def _owner_account(owner: Any, account_id: Any) -> Any:
    key = as_uuid(account_id)
    account = selectors.owner_accounts(user=owner).filter(pk=key).select_related("project").first() if key else None
    if account is None:
        raise NotFound(_("No such account."))
    return account


@login_required
def my_pay(request: HttpRequest) -> HttpResponse:
    """GET ?bills=…: what a pay link (or the "pay" button of a bill) will pay, to confirm. POST: start the
    payment (chosen bills, everything due, or a prepayment) and go to its checkout page."""
    owner = acting_user(request)
    if request.method == "POST":
        try:
            account = _owner_account(owner, request.POST.get("account"))
            if request.POST.get("chosen") and not request.POST.getlist("bills"):
                raise ServiceError(_("Choose the bills to pay."), code="bills_required")
            online, _checkout = services.online_payment_start(
                by=owner,
                account=account,
                bills=request.POST.getlist("bills"),
                everything=request.POST.get("everything") == "1",
                amount=request.POST.get("amount") or None,
            )
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            messages.error(request, error.message)
            return redirect("fees:my_fees")
        return redirect("fees:my_online", online.pk)
    try:
        bills = [
            selectors.bill_get(viewer=owner, bill_id=key, owner_user=owner) for key in request.GET.getlist("bills")
        ]
    except ServiceError as error:
        return refusal(request, error)
    if not bills or len({bill.account_id for bill in bills}) != 1:
        return redirect("fees:my_fees")
    return _page(
        request,
        "my_pay.html",
        {
            "account": bills[0].account,
            "bills": bills,
            # bill_get annotates each bill with its balance.
            "total": sum((max(bill.balance, Decimal(0)) for bill in bills), Decimal(0)),  # type: ignore[attr-defined]
            "online_open": gateway_selectors.payments_open(company=gateway_selectors.current_company()),
        },
        section="my",
    )


def _online_state(online: Any) -> dict[str, Any]:
    return {
        "status": online.status,
        "label": str(online.get_status_display()),
        "failure_message": online.failure_message,
        "receipt_url": reverse("fees:my_receipt", args=[online.payment_id]) if online.payment_id else "",
        "receipt_number": online.payment.receipt_number if online.payment_id else "",
    }


@login_required
def my_online(request: HttpRequest, online_id: str) -> HttpResponse:
    """The checkout and result page of one online payment: Stripe's Payment Element while it waits for
    payment; "processing" once paid until the provider's webhook confirms it; then the receipt."""
    owner = acting_user(request)
    try:
        online = selectors.online_payment_get(viewer=owner, online_id=online_id, owner_user=owner)
    except ServiceError as error:
        return refusal(request, error)
    checkout, problem = None, ""
    returned = request.GET.get("redirect_status") or request.GET.get("returned")
    if online.status in (OnlineStatus.REQUIRES_PAYMENT, OnlineStatus.FAILED) and not returned:
        try:
            checkout = gateway_selectors.checkout_get(
                company=gateway_selectors.current_company(), payment_ref=online.payment_ref or ""
            )
        except ServiceError as error:
            problem = error.message
    return _page(
        request,
        "my_online.html",
        {
            "online": online,
            "bills": list(online.bills.order_by("period")),
            "checkout": checkout,
            "problem": problem,
            "state": _online_state(online),
            "badge": ONLINE_BADGES.get(online.status, "muted"),
            "waiting": bool(returned) or online.status == OnlineStatus.PROCESSING,
            "return_url": request.build_absolute_uri(reverse("fees:my_online", args=[online.pk])),
        },
        section="my",
    )


@login_required
def my_online_status(request: HttpRequest, online_id: str) -> JsonResponse:
    """What the result page polls: the online payment's status and, once recorded, its receipt."""
    owner = acting_user(request)
    try:
        online = selectors.online_payment_get(viewer=owner, online_id=online_id, owner_user=owner)
    except ServiceError as error:
        return JsonResponse({"error": error.code}, status=error.http_status)
    return JsonResponse(_online_state(online))


class OnlineRefundForm(forms.Form):
    amount = _money_field(gettext_lazy("Amount to refund"))
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200)


@login_required
def online_list(request: HttpRequest) -> HttpResponse:
    """Every online payment in the viewer's scope with its status at the provider, what was refunded, and
    the receipt."""
    viewer = acting_user(request)
    status = request.GET.get("status", "")
    try:
        found = selectors.online_payment_list(viewer=viewer, status=status if status in OnlineStatus.values else "")
    except ServiceError as error:
        return refusal(request, error)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(
        request,
        "online_list.html",
        {
            "page": page,
            "status": status,
            "statuses": OnlineStatus.choices,
            "badges": ONLINE_BADGES,
            "online_open": gateway_selectors.payments_open(company=gateway_selectors.current_company()),
            "query": _query(request),
        },
        section="online",
    )


@login_required
def online_detail(request: HttpRequest, online_id: str) -> HttpResponse:
    """One online payment; the refund form (POST) for those who may refund."""
    viewer = acting_user(request)
    try:
        online = selectors.online_payment_get(viewer=viewer, online_id=online_id)
    except ServiceError as error:
        return refusal(request, error)
    can_refund = policies.can(viewer, policies.REFUND) and online.status == OnlineStatus.SUCCEEDED
    form = OnlineRefundForm(request.POST or None) if can_refund or request.method == "POST" else None
    if request.method == "POST" and form is not None and form.is_valid():
        try:
            refund = services.online_refund(
                by=viewer, online=online, amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"]
            )
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(form, error)
        else:
            messages.success(request, _("Refunded %(amount)s.") % {"amount": refund.amount})
            return redirect("fees:online_detail", online.pk)
    refunds = list(online.payment.refunds.order_by("at")) if online.payment is not None else []
    return _page(
        request,
        "online_detail.html",
        {
            "online": online,
            "bills": list(online.bills.order_by("period")),
            "refunds": refunds,
            "form": form,
            "badge": ONLINE_BADGES.get(online.status, "muted"),
        },
        section="online",
    )


# ------------------------------------------------------------------------------------------ reconciliation
class ResolveForm(forms.Form):
    resolution = forms.CharField(label=gettext_lazy("What was done"), max_length=300)


class ReconcileForm(forms.Form):
    day = forms.DateField(label=gettext_lazy("Day"), widget=_date_input())


@login_required
def reconciliation(request: HttpRequest) -> HttpResponse:
    """The days compared with the provider, newest first, with their open differences; a day can be
    (re)compared on demand."""
    viewer = acting_user(request)
    try:
        days = selectors.reconciliation_list(viewer=viewer)
    except ServiceError as error:
        return refusal(request, error)
    form = ReconcileForm(request.POST or None, initial={"day": timezone.localdate() - dt.timedelta(days=1)})
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["day"]
        try:
            done = services.reconcile_day(day=day, by=viewer)
        except ServiceError as error:
            if error.http_status in (403, 404):
                return refusal(request, error)
            form_errors_add(form, error)
        else:
            if done is None:
                messages.error(request, _("This company has no connected Stripe account."))
                return redirect("fees:reconciliation")
            return redirect("fees:reconciliation_day", day.isoformat())
    page = Paginator(days, PAGE_SIZE).get_page(request.GET.get("page"))
    return _page(request, "reconciliation.html", {"page": page, "form": form}, section="reconciliation")


@login_required
def reconciliation_day(request: HttpRequest, day: str) -> HttpResponse:
    viewer = acting_user(request)
    try:
        when = dt.date.fromisoformat(day)
        found = selectors.reconciliation_get(viewer=viewer, day=when)
    except ValueError:
        return refusal(request, NotFound(_("There is no such page.")))
    except ServiceError as error:
        return refusal(request, error)
    differences = list(found.differences.select_related("account", "resolved_by").order_by("resolved_at", "kind"))
    return _page(
        request,
        "reconciliation_day.html",
        {"day": found, "differences": differences, "resolve_form": ResolveForm()},
        section="reconciliation",
    )


@login_required
@require_POST
def difference_act(request: HttpRequest, difference_id: str, action: str) -> HttpResponse:
    """Resolve a difference with a note, or record a payment the ledger lacks from the provider's own."""
    viewer = acting_user(request)
    try:
        difference = selectors.difference_get(viewer=viewer, difference_id=difference_id)
        if action == "record":
            services.difference_record_payment(by=viewer, difference=difference)
            messages.success(request, _("The payment is recorded in the ledger."))
        elif action == "resolve":
            form = ResolveForm(request.POST)
            if not form.is_valid():
                raise ServiceError(_("Say what was done about it."), code="resolution_required")
            services.difference_resolve(by=viewer, difference=difference, resolution=form.cleaned_data["resolution"])
            messages.success(request, _("The difference is resolved."))
        else:
            raise NotFound(_("There is no such page."))
    except ServiceError as error:
        if error.http_status in (403, 404):
            return refusal(request, error)
        messages.error(request, error.message)
    return redirect("fees:reconciliation_day", difference.reconciliation.day.isoformat())
