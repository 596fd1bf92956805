"""Fees (收费, DOMAIN.md §3): charge items and tariffs, meter readings, bill runs, bills, the ledger of each
household account, payments with their receipts, refunds, write-offs, and the chase log of arrears.

Money is never edited. A bill, its lines, a payment, a refund and every ledger entry are append-only in the
database itself (triggers in migration 0002 refuse UPDATE and DELETE); a mistake is corrected by a
reversing entry with a reason. Balances and a bill's status are sums of entries, never stored.

Sign of an entry: positive is owed by the household (a charge), negative is owed to it (a payment, a
prepayment). An entry on a bill line moves what that line still owes; an entry without a line moves the
account's prepaid credit (预存). So an account's balance is the sum of its entries, a line's balance the sum
of the entries on it, and the credit the negated sum of the entries without a line.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuye.core.ids import uuid7
from wuye.core.models import TimeStampedModel

# Money has two places; unit prices and quantities carry four (ARCHITECTURE.md, Money).
AMOUNT_MAX = Decimal("100000000.00")


def _valid(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": [choice.value for choice in choices]})


# ------------------------------------------------------------------------------------------ charge items
class ChargeCategory(models.TextChoices):
    PROPERTY = "property", _("Property service fee")  # 物业服务费
    PARKING = "parking", _("Parking service fee")  # 车位服务费
    WATER = "water", pgettext_lazy("fee", "Water")  # 水费
    ELECTRICITY = "electricity", pgettext_lazy("fee", "Electricity")  # 电费
    GAS = "gas", pgettext_lazy("fee", "Gas")  # 燃气费
    SERVICE = "service", _("Special service")  # 特约服务费
    CARD = "card", _("Card fee")  # 卡费
    OTHER = "other", _("Other")  # 其他
    DEPOSIT = "deposit", _("Refundable deposit")  # 押金: held apart from income


METER_CATEGORIES = (ChargeCategory.WATER, ChargeCategory.ELECTRICITY, ChargeCategory.GAS)


class ChargeBasis(models.TextChoices):
    AREA = "area", _("Per m² of floor area per month")  # 按建筑面积
    UNIT = "unit", _("Per unit per month")  # 按户
    SPACE = "space", _("Per parking space per month")  # 按车位
    METER = "meter", _("By meter reading")  # 按抄表读数
    ITEM = "item", _("Per item, when charged")  # 按次/件

    @classmethod
    def periodic(cls) -> list[str]:
        """Bases a monthly bill run charges."""
        return [cls.AREA, cls.UNIT, cls.SPACE, cls.METER]


class ChargeItem(TimeStampedModel):
    """What a company charges for (收费项目). Seeded with the usual items; a company adds its own."""

    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(pgettext_lazy("a record", "Name"), max_length=60)
    category = models.CharField(_("category"), max_length=12, choices=ChargeCategory.choices)
    basis = models.CharField(_("charged"), max_length=8, choices=ChargeBasis.choices)
    sort_order = models.PositiveSmallIntegerField(default=100)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("charge item")
        verbose_name_plural = _("charge items")
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                name="fees_chargeitem_code_unique",
                violation_error_message=_("Another item has this code."),
            ),
            models.CheckConstraint(condition=_valid("category", ChargeCategory), name="fees_chargeitem_category_valid"),
            models.CheckConstraint(condition=_valid("basis", ChargeBasis), name="fees_chargeitem_basis_valid"),
            # Utilities are charged by meter and only they are; deposits and services per item.
            models.CheckConstraint(
                condition=Q(basis="meter", category__in=METER_CATEGORIES)
                | (~Q(basis="meter") & ~Q(category__in=METER_CATEGORIES)),
                name="fees_chargeitem_meter_basis",
                violation_error_message=_("Water, electricity and gas are charged by meter reading, and only they."),
            ),
            models.CheckConstraint(
                condition=~Q(category__in=["deposit", "service", "card"]) | Q(basis="item"),
                name="fees_chargeitem_item_basis",
                violation_error_message=_("Deposits, special services and cards are charged per item."),
            ),
        ]
        permissions = [("view_collection", "Can see the collection rate and receivables reports")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_deposit(self) -> bool:
        return self.category == ChargeCategory.DEPOSIT

    @property
    def meter_kind(self) -> str | None:
        return self.category if self.category in METER_CATEGORIES else None


class Tariff(TimeStampedModel):
    """The price of a charge item in a project from one day (收费标准), optionally only for one kind of unit
    or parking space, with tiers for utilities (阶梯价). Validity is half-open [valid_from, valid_until);
    the periods of one item, project and kind never overlap (a trigger, migration 0002)."""

    charge_item = models.ForeignKey(ChargeItem, on_delete=models.PROTECT, related_name="tariffs")
    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="tariffs")
    # "" for every unit (or space); else a unit kind (flat, shop...) or a parking kind (underground...).
    applies_to = models.CharField(_("applies to"), max_length=12, blank=True)
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=12,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1000000"))],
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("The first day it no longer applies.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["project", "charge_item__sort_order", "applies_to", "-valid_from"]
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        constraints = [
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="fees_tariff_price_not_negative"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=F("valid_from")),
                name="fees_tariff_period_order",
                violation_error_message=_("A tariff ends after it starts."),
            ),
        ]
        indexes = [models.Index(fields=["project", "charge_item", "valid_from"], name="fees_tariff_lookup")]

    def __str__(self) -> str:
        return f"{self.charge_item} {self.unit_price}"


class TariffTier(models.Model):
    """A band of a tiered tariff: quantity above `starts_above` (per bill) costs `unit_price`; quantity up to
    the first band costs the tariff's own unit price."""

    tariff = models.ForeignKey(Tariff, on_delete=models.CASCADE, related_name="tiers")
    starts_above = models.DecimalField(_("above"), max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4)

    class Meta:
        ordering = ["tariff", "starts_above"]
        constraints = [
            models.UniqueConstraint(fields=["tariff", "starts_above"], name="fees_tier_unique"),
            models.CheckConstraint(condition=Q(starts_above__gt=0), name="fees_tier_threshold_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="fees_tier_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"> {self.starts_above}: {self.unit_price}"


class FeeSettings(models.Model):
    """A company's fee settings (one row)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    run_day = models.PositiveSmallIntegerField(
        _("monthly bill run on day"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("Each project's bills for the month are posted on this day of the month."),
    )
    auto_run = models.BooleanField(_("post the monthly bill run automatically"), default=False)
    due_days = models.PositiveSmallIntegerField(
        _("days to pay"), default=30, validators=[MinValueValidator(0), MaxValueValidator(366)],
        help_text=_("A bill is due this many days after its period starts; arrears age from then."),
    )  # fmt: skip
    auto_apply_prepayment = models.BooleanField(
        _("pay new bills from prepayment"),
        default=False,
        help_text=_("When a bill is posted, the household's prepaid credit pays it as far as it goes."),
    )
    reminder_text = models.TextField(_("reminder letter text"), blank=True)

    class Meta:
        verbose_name = _("fee settings")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="fees_settings_single_row"),
            models.CheckConstraint(condition=Q(run_day__gte=1, run_day__lte=28), name="fees_settings_run_day_range"),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


# ------------------------------------------------------------------------------------------ accounts
class Account(TimeStampedModel):
    """A household account (收费账户): one per unit and one per parking space, made when first billed. Its
    project, zone and building are copied so that reports and scope filters need no join."""

    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    zone = models.ForeignKey("estate.Zone", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    building = models.ForeignKey("estate.Building", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unit = models.OneToOneField(
        "estate.Unit", on_delete=models.PROTECT, null=True, blank=True, related_name="fee_account"
    )
    parking_space = models.OneToOneField(
        "estate.ParkingSpace", on_delete=models.PROTECT, null=True, blank=True, related_name="fee_account"
    )
    label = models.CharField(_("account"), max_length=80)

    class Meta:
        ordering = ["label"]
        verbose_name = _("household account")
        verbose_name_plural = _("household accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(unit__isnull=False, parking_space__isnull=True)
                | Q(unit__isnull=True, parking_space__isnull=False),
                name="fees_account_one_object",
            ),
            # Targets of the composite keys that keep a bill's lines and entries on one account (0002).
            models.UniqueConstraint(fields=["id", "project"], name="fees_account_id_project"),
        ]
        indexes = [models.Index(fields=["project", "zone"], name="fees_account_scope")]

    def __str__(self) -> str:
        return self.label


# ------------------------------------------------------------------------------------------ meter readings
class MeterReading(TimeStampedModel):
    """A meter's reading for a billing period (抄表). The first reading of a meter is its baseline; later
    ones bill the difference × the meter's multiplier. A reading below the previous is refused unless the
    meter was replaced, recorded with the old meter's final reading and the new one's start. A jump above
    three times the recent average is flagged and billed only once someone has reviewed it."""

    meter = models.ForeignKey("estate.Meter", on_delete=models.PROTECT, related_name="readings")
    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("period"))
    reading = models.DecimalField(
        _("reading"), max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    read_on = models.DateField(_("read on"))
    previous = models.DecimalField(_("previous reading"), max_digits=14, decimal_places=4, null=True, blank=True)
    replaced = models.BooleanField(_("meter replaced"), default=False)
    old_final = models.DecimalField(
        _("old meter's final reading"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    new_start = models.DecimalField(
        _("new meter's start reading"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    consumption = models.DecimalField(_("consumption"), max_digits=14, decimal_places=4, null=True, blank=True)
    flagged = models.BooleanField(_("abnormal, to review"), default=False)
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["meter", "-period"]
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
        constraints = [
            models.UniqueConstraint(
                fields=["meter", "period"],
                name="fees_reading_one_per_period",
                violation_error_message=_("This meter already has a reading for this period."),
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="fees_reading_period_first_day"),
            models.CheckConstraint(condition=Q(reading__gte=0), name="fees_reading_not_negative"),
            models.CheckConstraint(
                condition=Q(consumption__isnull=True) | Q(consumption__gte=0),
                name="fees_reading_consumption_not_negative",
            ),
            # Below the previous reading only with a recorded replacement.
            models.CheckConstraint(
                condition=Q(previous__isnull=True) | Q(reading__gte=F("previous")) | Q(replaced=True),
                name="fees_reading_not_below_previous",
            ),
            models.CheckConstraint(
                condition=Q(replaced=False) | Q(old_final__isnull=False, new_start__isnull=False),
                name="fees_reading_replacement_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meter_id} {self.period:%Y-%m}: {self.reading}"


# ------------------------------------------------------------------------------------------ bill runs, bills
class RunStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    POSTING = "posting", _("Posting")
    POSTED = "posted", _("Posted")
    FAILED = "failed", _("Failed")


class BillRun(TimeStampedModel):
    """A project's monthly bill run (月度计费). One per project and period: posting it again adds only what
    is missing (a unit added since), never a second bill (a unique constraint on bills)."""

    project = models.ForeignKey("estate.Project", on_delete=models.PROTECT, related_name="+")
    period = models.DateField(_("period"))
    status = models.CharField(_("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    posted_at = models.DateTimeField(_("posted"), null=True, blank=True)
    bill_count = models.PositiveIntegerField(_("bills"), default=0)
    total = models.DecimalField(_("total"), max_digits=14, decimal_places=2, default=Decimal("0"))
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period", "project"]
        verbose_name = _("bill run")
        verbose_name_plural = _("bill runs")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "period"],
                name="fees_run_one_per_period",
                violation_error_message=_("This project already has a bill run for this period."),
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="fees_run_period_first_day"),
            models.CheckConstraint(condition=_valid("status", RunStatus), name="fees_run_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"


class BillKind(models.TextChoices):
    PERIODIC = "periodic", _("Monthly")
    ONE_OFF = "one_off", _("One-off")


class Bill(models.Model):
    """A bill (账单): the monthly bill of an account for a period, or a one-off bill (a special service, a
    card, a deposit). Its lines say what for. Append-only; `amount` is the sum of its lines as issued."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # Indexed by fees_bill_account (account, period).
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="bills", db_index=False)
    kind = models.CharField(_("kind"), max_length=8, choices=BillKind.choices, default=BillKind.PERIODIC)
    period = models.DateField(_("period"))
    run = models.ForeignKey(BillRun, on_delete=models.PROTECT, null=True, blank=True, related_name="bills")
    issued_on = models.DateField(_("issued"))
    due_on = models.DateField(_("due"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period", "account"]
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        constraints = [
            # The idempotence of bill runs: one monthly bill per account and period, whatever posts it.
            models.UniqueConstraint(
                fields=["account", "period"],
                condition=Q(kind="periodic"),
                name="fees_bill_one_per_period",
                violation_error_message=_("This account already has a bill for this period."),
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="fees_bill_period_first_day"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fees_bill_amount_positive"),
            models.CheckConstraint(condition=_valid("kind", BillKind), name="fees_bill_kind_valid"),
            models.CheckConstraint(condition=Q(due_on__gte=F("issued_on")), name="fees_bill_due_after_issue"),
            models.UniqueConstraint(fields=["id", "account"], name="fees_bill_id_account"),
        ]
        indexes = [models.Index(fields=["account", "period"], name="fees_bill_account")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.period:%Y-%m}"


class BillLine(models.Model):
    """One charge on a bill: item, quantity × unit price = amount, rounded half-up to the fen once."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # The bill's account, copied so that the database can hold every entry of the line to that account.
    # Both are checked by one key, (bill, account) -> the bill's (id, account) (migration 0002), and the
    # bill's account by the bill's own: a key per column would check the same thing again, per row of a
    # bill run (see infra/bench/README.md, "Fees").
    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="lines", db_constraint=False)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    # Not indexed: items are archived, never deleted; reports read the ledger's copy.
    charge_item = models.ForeignKey(ChargeItem, on_delete=models.PROTECT, related_name="+", db_index=False)
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=4)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    # A reading is billed once: a partial unique index, so the lines without one (most) cost it nothing.
    meter_reading = models.ForeignKey(
        MeterReading, on_delete=models.PROTECT, null=True, blank=True, related_name="bill_line", db_index=False
    )

    class Meta:
        ordering = ["bill", "charge_item"]
        constraints = [
            # An item once per bill, except utilities: one line per meter (a reading is billed once).
            models.UniqueConstraint(
                fields=["bill", "charge_item"],
                condition=Q(meter_reading__isnull=True),
                name="fees_line_item_once_per_bill",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0, amount__lte=AMOUNT_MAX), name="fees_line_amount_range"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="fees_line_quantity_positive"),
            # The target of the entries' key (line, account, item) (migrations 0002, 0005).
            models.UniqueConstraint(fields=["id", "account", "charge_item"], name="fees_line_id_account_item"),
            models.UniqueConstraint(
                fields=["meter_reading"], condition=Q(meter_reading__isnull=False), name="fees_line_reading_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.charge_item_id} {self.amount}"


# ------------------------------------------------------------------------------------------ payments
class PaymentMethod(models.TextChoices):
    CASH = "cash", _("Cash")  # 现金
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")  # 银行转账
    POS = "pos", _("POS card")  # 刷卡
    WECHAT = "wechat", _("WeChat Pay (company QR code)")  # 微信收款码
    ALIPAY = "alipay", _("Alipay (company QR code)")  # 支付宝收款码
    ONLINE = "online", _("Online payment")  # 线上支付 (billing_gateway)


DESK_METHODS = [
    PaymentMethod.CASH,
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.POS,
    PaymentMethod.WECHAT,
    PaymentMethod.ALIPAY,
]


class Payment(models.Model):
    """Money received (收款), with its receipt number: per company and year, gapless, never reused (a void
    keeps its number). Append-only; a void is a PaymentVoid and reversing entries."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="payments")
    receipt_number = models.CharField(_("receipt number"), max_length=20)
    method = models.CharField(_("method"), max_length=14, choices=PaymentMethod.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    booked_on = models.DateField(_("booked on"))
    payer_name = models.CharField(_("paid by"), max_length=100, blank=True)
    reference = models.CharField(
        _("reference"), max_length=100, blank=True, help_text=_("Bank or QR transaction number.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # The payment provider's id of an online payment: the same payment is never recorded twice.
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001  (NULLs are not unique)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["receipt_number"], name="fees_payment_receipt_unique"),
            models.UniqueConstraint(fields=["external_id"], name="fees_payment_external_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0, amount__lte=AMOUNT_MAX), name="fees_payment_amount_range"),
            models.CheckConstraint(condition=_valid("method", PaymentMethod), name="fees_payment_method_valid"),
        ]
        permissions = [
            ("void_payment", "Can void a receipt"),
            ("reverse_charge", "Can reverse a charge"),
            ("approve_writeoff", "Can approve write-offs"),
        ]

    def __str__(self) -> str:
        return self.receipt_number


class PaymentVoid(models.Model):
    """A voided receipt (作废): its number stays used; the payment's entries are reversed."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="void")
    reason = models.CharField(_("reason"), max_length=200)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="fees_void_reason_present")]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.reason}"


class ReceiptCounter(models.Model):
    """The last receipt number of a year. Taken under a row lock in the payment's transaction: a payment
    that rolls back gives its number back, so numbers have no gaps."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Refund(models.Model):
    """Money paid back (退款): from prepaid credit, or against a payment (which re-opens what it paid)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    method = models.CharField(_("method"), max_length=14, choices=PaymentMethod.choices)
    reason = models.CharField(_("reason"), max_length=200)
    external_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001  (NULLs are not unique)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        ordering = ["-at"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.UniqueConstraint(fields=["external_id"], name="fees_refund_external_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0, amount__lte=AMOUNT_MAX), name="fees_refund_amount_range"),
            models.CheckConstraint(condition=~Q(reason=""), name="fees_refund_reason_present"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.reason})"


class OnlineStatus(models.TextChoices):
    """Where an online payment stands, as the provider last told it (billing_gateway.interface)."""

    REQUIRES_PAYMENT = "requires_payment", _("Waiting for payment")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", pgettext_lazy("an online payment", "Paid")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Cancelled")


class OnlinePurpose(models.TextChoices):
    BILLS = "bills", _("Chosen bills")
    EVERYTHING = "everything", _("Everything due")
    PREPAYMENT = "prepayment", _("Prepayment")


class OnlinePayment(models.Model):
    """An owner paying online (线上支付): started here with the amount the ledger says, paid with the provider
    (billing_gateway), and recorded as a Payment with its receipt when the provider confirms it. Its amount
    never changes; its status follows the provider's events."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="online_payments")
    purpose = models.CharField(_("pays for"), max_length=12, choices=OnlinePurpose.choices)
    bills = models.ManyToManyField(Bill, blank=True, related_name="online_payments")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    provider = models.CharField(max_length=16, default="stripe")
    # The provider's id (Stripe: the PaymentIntent), known once it answered.
    payment_ref = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001  (NULLs are not unique)
    status = models.CharField(
        _("status"), max_length=16, choices=OnlineStatus.choices, default=OnlineStatus.REQUIRES_PAYMENT
    )
    failure_message = models.CharField(_("why it failed"), max_length=300, blank=True)
    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="online", verbose_name=_("receipt")
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        constraints = [
            models.UniqueConstraint(fields=["payment_ref"], name="fees_online_ref_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0, amount__lte=AMOUNT_MAX), name="fees_online_amount_range"),
            models.CheckConstraint(condition=_valid("status", OnlineStatus), name="fees_online_status_valid"),
            models.CheckConstraint(condition=_valid("purpose", OnlinePurpose), name="fees_online_purpose_valid"),
            # Paid exactly when the ledger holds its payment.
            models.CheckConstraint(
                condition=Q(status=OnlineStatus.SUCCEEDED, payment__isnull=False)
                | (~Q(status=OnlineStatus.SUCCEEDED) & Q(payment__isnull=True)),
                name="fees_online_paid_has_receipt",
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at"], name="fees_online_account")]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.status})"


class Reconciliation(models.Model):
    """One day's comparison of what the provider settled with what the ledger holds (对账): made by the daily
    job, again on demand; its differences stay until finance resolves them."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    day = models.DateField(_("day"), unique=True)
    provider_payments = models.PositiveIntegerField(default=0)
    provider_refunds = models.PositiveIntegerField(default=0)
    ledger_payments = models.PositiveIntegerField(default=0)
    ledger_refunds = models.PositiveIntegerField(default=0)
    ran_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("reconciliation")

    def __str__(self) -> str:
        return str(self.day)


class DifferenceKind(models.TextChoices):
    MISSING_IN_LEDGER = "missing_in_ledger", _("At the provider, not in the ledger")
    MISSING_AT_PROVIDER = "missing_at_provider", _("In the ledger, not at the provider")
    AMOUNT = "amount", _("Amounts differ")


class ReconciliationDifference(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(_("difference"), max_length=20, choices=DifferenceKind.choices)
    movement = models.CharField(_("payment or refund"), max_length=10)
    ref = models.CharField(_("provider's id"), max_length=100)
    provider_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    ledger_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    resolution = models.CharField(_("resolution"), max_length=300, blank=True)

    class Meta:
        ordering = ["kind", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["reconciliation", "movement", "ref"], name="fees_difference_once"),
            models.CheckConstraint(condition=_valid("kind", DifferenceKind), name="fees_difference_kind_valid"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | ~Q(resolution=""), name="fees_difference_resolution_said"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.ref}"


class WriteOffStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", pgettext_lazy("a request", "Rejected")


class WriteOff(models.Model):
    """A request to write off what a bill line still owes (核销/坏账), approved by someone else. Only the
    approval books an entry; the request itself holds no money."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    line = models.ForeignKey(BillLine, on_delete=models.PROTECT, related_name="write_offs")
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.REQUESTED
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("write-off")
        verbose_name_plural = _("write-offs")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="fees_writeoff_amount_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="fees_writeoff_reason_present"),
            models.CheckConstraint(condition=_valid("status", WriteOffStatus), name="fees_writeoff_status_valid"),
            # Four eyes: whoever asked does not approve.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="fees_writeoff_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.status})"


# ------------------------------------------------------------------------------------------ the ledger
class EntryKind(models.TextChoices):
    CHARGE = "charge", pgettext_lazy("ledger entry", "Charge")  # 应收
    CHARGE_REVERSAL = "charge_reversal", _("Charge reversed")  # 冲红/减免
    PAYMENT = "payment", _("Payment")  # 实收
    PREPAYMENT = "prepayment", _("Prepayment")  # 预存
    CREDIT_USED = "credit_used", _("Prepayment used")  # 预存抵扣 (the credit side)
    CREDIT_PAYMENT = "credit_payment", _("Paid from prepayment")  # 预存抵扣 (the bill side)
    TO_CREDIT = "to_credit", _("Overpaid, moved to prepayment")  # 多收转预存 (the line side)
    FROM_LINE = "from_line", _("Prepayment from an overpaid bill")  # (the credit side)
    REFUND = "refund", _("Refund")  # 退款
    WRITE_OFF = "write_off", _("Write-off")  # 核销
    VOID = "void", _("Receipt voided")  # 作废


# Which entries count as what in the reports (collected = minus their sum).
BILLED_KINDS = (EntryKind.CHARGE, EntryKind.CHARGE_REVERSAL)
COLLECTED_KINDS = (EntryKind.PAYMENT, EntryKind.CREDIT_PAYMENT, EntryKind.TO_CREDIT, EntryKind.REFUND, EntryKind.VOID)


class LedgerEntry(models.Model):
    """One movement of money on an account (分户账). Append-only; the entries one operation writes share
    `group`. `reverses` links a reversal to what it reverses (once: unique)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    # Account, line and project are checked together by the keys (line, account) -> the line's and
    # (account, project) -> the account's (migration 0002); one key per column would check each again, per
    # row of a bill run. Indexed by fees_entry_account_line and fees_entry_line.
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_constraint=False, db_index=False
    )
    line = models.ForeignKey(
        BillLine,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        db_constraint=False,
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=16, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    at = models.DateTimeField(_("when"), default=timezone.now)
    booked_on = models.DateField(_("booked on"))
    group = models.UUIDField(default=uuid7)
    # The links below are empty on most entries (every charge): partial indexes (Meta) keep those out.
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", db_index=False
    )
    refund = models.ForeignKey(
        Refund, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", db_index=False
    )
    write_off = models.ForeignKey(
        WriteOff, on_delete=models.PROTECT, null=True, blank=True, related_name="entries", db_index=False
    )
    reverses = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by", db_index=False
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # Copied from the line and the account for reports that need no join (the ledger never changes). Not
    # indexed one by one: the report index holds them, and projects, zones, buildings and items are
    # archived, not deleted.
    project = models.ForeignKey(
        "estate.Project", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    zone = models.ForeignKey(
        "estate.Zone", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    building = models.ForeignKey(
        "estate.Building", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # The line's item: the key (line, account, item) -> the line's (migration 0005) holds it to the line's
    # own, which its own key checks.
    charge_item = models.ForeignKey(
        ChargeItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    period = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="fees_entry_amount_not_zero"),
            models.CheckConstraint(condition=_valid("kind", EntryKind), name="fees_entry_kind_valid"),
            # Which kinds sit on a line, which on the credit, and which way each moves.
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["charge", "to_credit"], line__isnull=False, amount__gt=0)
                    | Q(
                        kind__in=["charge_reversal", "payment", "credit_payment", "write_off"],
                        line__isnull=False,
                        amount__lt=0,
                    )
                    | Q(kind__in=["prepayment", "from_line"], line__isnull=True, amount__lt=0)
                    | Q(kind="credit_used", line__isnull=True, amount__gt=0)
                    | Q(kind="refund", amount__gt=0)
                    | Q(kind="void", reverses__isnull=False)
                ),
                name="fees_entry_kind_shape",
            ),
            models.CheckConstraint(
                condition=Q(line__isnull=True, charge_item__isnull=True, period__isnull=True)
                | Q(line__isnull=False, charge_item__isnull=False, period__isnull=False),
                name="fees_entry_line_dimensions",
            ),
            models.UniqueConstraint(
                fields=["reverses"], condition=Q(reverses__isnull=False), name="fees_entry_reversed_once"
            ),
        ]
        indexes = [
            models.Index(fields=["account", "line"], name="fees_entry_account_line"),
            models.Index(fields=["line"], name="fees_entry_line"),
            *[
                models.Index(fields=[link], name=f"fees_entry_{link}", condition=Q(**{f"{link}__isnull": False}))
                for link in ("payment", "refund", "write_off", "by")
            ],
            # The collection-rate report reads only these columns.
            models.Index(
                fields=["period", "project", "kind"],
                name="fees_entry_report",
                include=["booked_on", "amount", "zone", "building", "charge_item"],
                condition=Q(line__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class CollectionSum(models.Model):
    """The ledger's line entries summed by what the collection-rate report groups on (收缴汇总): project,
    zone, building, item, period billed, kind and month booked. Derived, never entered: a trigger on the
    ledger (migration 0004) adds one row per group of each INSERT statement, so writers never wait on
    each other for it; `services.collection_sums_compact` (beat, every few minutes) folds a group's rows
    into one. The report reads these few thousand rows instead of millions of entries, and is the same
    whether they are folded or not."""

    id = models.BigAutoField(primary_key=True)
    # Copies, like the ledger's; no keys to check and nothing to protect (it can be rebuilt from the ledger).
    project = models.ForeignKey(
        "estate.Project", on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    zone = models.ForeignKey(
        "estate.Zone", on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False, db_index=False
    )
    building = models.ForeignKey(
        "estate.Building",
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    charge_item = models.ForeignKey(
        ChargeItem, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False, db_index=False
    )
    period = models.DateField()
    kind = models.CharField(max_length=16, choices=EntryKind.choices)
    booked_month = models.DateField()
    amount = models.DecimalField(max_digits=16, decimal_places=2)
    # The last day booked in the month: a report "as of" a day inside it can tell whether all of it counts.
    last_booked_on = models.DateField()

    class Meta:
        indexes = [models.Index(fields=["period", "project"], name="fees_sum_period")]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.kind} {self.amount}"


# ------------------------------------------------------------------------------------------ arrears
class ChaseChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    VISIT = "visit", _("Visit")  # 上门
    SMS = "sms", _("Text message")
    EMAIL = "email", _("E-mail")
    LETTER = "letter", _("Reminder letter")  # 催缴通知书
    WECHAT = "wechat", _("WeChat message")


class ChaseRecord(models.Model):
    """An attempt to collect arrears (催缴记录): who, how, the result, and any promised date."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="chases")
    at = models.DateTimeField(_("when"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    channel = models.CharField(_("how"), max_length=8, choices=ChaseChannel.choices)
    result = models.CharField(_("result"), max_length=300, blank=True)
    promised_on = models.DateField(_("promised to pay by"), null=True, blank=True)
    owed = models.DecimalField(_("owed then"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("chase record")
        verbose_name_plural = _("chase log")
        constraints = [
            models.CheckConstraint(condition=_valid("channel", ChaseChannel), name="fees_chase_channel_valid")
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.channel}"
