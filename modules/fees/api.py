"""REST API of fees (DOMAIN.md §3): charge items and tariffs, settings, meter readings, bill runs, household
accounts and their statements, the desk (payments, prepayment, collection in advance, refunds, one-off
charges), bills, reversals and write-offs, receipts and voids, the chase log, the collection reports, and
an owner's own bills (/my/bills/).

Money is a string with two places ("120.50"); unit prices and quantities carry four. A billing month is
"YYYY-MM". Every id named in a request body is looked up through the selectors, in the user's scope: an
id the user may not see is "not found", as in a URL.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from modules.estate import selectors as estate_selectors
from modules.estate.models import Meter
from wuye.accounts.policies import acting_user
from wuye.core.errors import NotFound
from wuye.core.pagination import PageNumberPagination

from . import runs, selectors, services
from .models import (
    DESK_METHODS,
    Account,
    Bill,
    BillLine,
    BillRun,
    ChargeBasis,
    ChargeCategory,
    ChargeItem,
    ChaseChannel,
    ChaseRecord,
    FeeSettings,
    LedgerEntry,
    MeterReading,
    OnlinePayment,
    OnlineStatus,
    Payment,
    PaymentMethod,
    Refund,
    Tariff,
    TariffTier,
    WriteOff,
)

TAGS = ["fees"]
OWNER_TAGS = ["owner portal"]
OPEN_STATUSES = ("unpaid", "part_paid")
# The statuses of a bill (derived from its entries), as choices: settings name their OpenAPI enum after them.
BILL_STATUS_CHOICES = list(selectors.BILL_STATUSES.items())


# ------------------------------------------------------------------------------------------ fields
def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def _price(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=12, decimal_places=4, **kwargs)


def _quantity(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=4, **kwargs)


def _rate(**kwargs: Any) -> serializers.DecimalField:
    """A percentage with two places ("96.25"), null when there is nothing to divide by."""
    return serializers.DecimalField(max_digits=9, decimal_places=2, allow_null=True, read_only=True, **kwargs)


_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-03"})
class MonthField(serializers.Field):
    """A billing month as "YYYY-MM"; inside, the first day of the month."""

    default_error_messages = {"month": _("Give a month as YYYY-MM, like 2026-03.")}

    def to_internal_value(self, data: Any) -> dt.date:
        found = _MONTH.match(str(data).strip()) if isinstance(data, str) else None
        if not found or not 1 <= int(found[2]) <= 12 or not 2000 <= int(found[1]) <= 2999:
            self.fail("month")
        assert found is not None
        return dt.date(int(found[1]), int(found[2]), 1)

    def to_representation(self, value: Any) -> str | None:
        return value.strftime("%Y-%m") if value else None


def _input(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict[str, Any]:
    """The request's data, validated (a 400 with the fields at fault otherwise)."""
    found = serializer_class(data=data, **kwargs)
    found.is_valid(raise_exception=True)
    return dict(found.validated_data)


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The query string, validated; an empty parameter (?project=) counts as not given."""
    return _input(serializer_class, {key: value for key, value in request.query_params.items() if value != ""})


def _page(view: APIView, request: Request, rows: Any, output: type[serializers.Serializer]) -> Response:
    paginator = PageNumberPagination()
    page: Any = paginator.paginate_queryset(rows, request, view=view)
    return paginator.get_paginated_response(output(page, many=True).data)


# ------------------------------------------------------------------------------------------ charge items
class ChargeItemOutput(serializers.ModelSerializer):
    class Meta:
        model = ChargeItem
        fields = ["id", "code", "name", "category", "basis", "sort_order", "archived_at"]


class ChargeItemInput(serializers.Serializer):
    code = serializers.SlugField(max_length=30)
    name = serializers.CharField(max_length=60)
    category = serializers.ChoiceField(choices=ChargeCategory.choices)
    basis = serializers.ChoiceField(choices=ChargeBasis.choices)
    sort_order = serializers.IntegerField(min_value=0, max_value=32767, required=False, default=100)


class ChargeItemUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    sort_order = serializers.IntegerField(min_value=0, max_value=32767)
    archived = serializers.BooleanField(help_text="True takes the item out of use; false brings it back")


class ChargeItemQuery(serializers.Serializer):
    archived = serializers.BooleanField(required=False, default=False, help_text="Include items out of use")


class ChargeItemListApi(APIView):
    @extend_schema(
        parameters=[ChargeItemQuery], responses=ChargeItemOutput(many=True), summary="Charge items", tags=TAGS
    )
    def get(self, request: Request) -> Response:
        query = _query(ChargeItemQuery, request)
        items = selectors.charge_items(viewer=acting_user(request), include_archived=query["archived"])
        return _page(self, request, items, ChargeItemOutput)

    @extend_schema(request=ChargeItemInput, responses={201: ChargeItemOutput}, summary="Add a charge item", tags=TAGS)
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        values = _input(ChargeItemInput, request.data)
        item = services.charge_item_create(by=viewer, **values)
        return Response(ChargeItemOutput(item).data, status=status.HTTP_201_CREATED)


class ChargeItemDetailApi(APIView):
    @extend_schema(responses=ChargeItemOutput, summary="One charge item", tags=TAGS)
    def get(self, request: Request, charge_item_id: str) -> Response:
        item = selectors.charge_item_get(viewer=acting_user(request), item_id=charge_item_id)
        return Response(ChargeItemOutput(item).data)

    @extend_schema(
        request=ChargeItemUpdateInput(partial=True),
        responses=ChargeItemOutput,
        summary="Rename, reorder, take out of use or bring back a charge item",
        tags=TAGS,
    )
    def patch(self, request: Request, charge_item_id: str) -> Response:
        viewer = acting_user(request)
        item = selectors.charge_item_get(viewer=viewer, item_id=charge_item_id)
        changes = _input(ChargeItemUpdateInput, request.data, partial=True)
        return Response(ChargeItemOutput(services.charge_item_update(by=viewer, item=item, **changes)).data)


# ------------------------------------------------------------------------------------------ tariffs
class TierOutput(serializers.ModelSerializer):
    class Meta:
        model = TariffTier
        fields = ["starts_above", "unit_price"]


class TariffOutput(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    charge_item_name = serializers.CharField(source="charge_item.name", read_only=True)
    charge_item_code = serializers.CharField(source="charge_item.code", read_only=True)
    tiers = TierOutput(many=True, read_only=True)

    class Meta:
        model = Tariff
        fields = [
            "id", "project", "project_name", "charge_item", "charge_item_name", "charge_item_code", "applies_to",
            "unit_price", "valid_from", "valid_until", "note", "tiers",
        ]  # fmt: skip


class TierInput(serializers.Serializer):
    starts_above = _quantity(help_text="Quantity per bill above which this band's price applies")
    unit_price = _price(min_value=Decimal("0"))


class TariffInput(serializers.Serializer):
    project = serializers.UUIDField()
    charge_item = serializers.UUIDField()
    unit_price = _price(min_value=Decimal("0"))
    valid_from = serializers.DateField()
    valid_until = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="The first day it no longer applies"
    )
    applies_to = serializers.CharField(
        max_length=12, required=False, allow_blank=True, default="",
        help_text="Empty for every unit or space; else a unit kind (flat, shop...) or a parking kind",
    )  # fmt: skip
    tiers = TierInput(many=True, required=False, help_text="Tiered (阶梯) prices of a meter charge")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class TariffQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    on = serializers.DateField(required=False, help_text="Only the tariffs in force on this day")


class TariffEndInput(serializers.Serializer):
    on = serializers.DateField()


class TariffListApi(APIView):
    @extend_schema(parameters=[TariffQuery], responses=TariffOutput(many=True), summary="Tariffs", tags=TAGS)
    def get(self, request: Request) -> Response:
        query = _query(TariffQuery, request)
        tariffs = selectors.tariff_list(viewer=acting_user(request), project=query.get("project"), on=query.get("on"))
        return _page(self, request, tariffs, TariffOutput)

    @extend_schema(
        request=TariffInput,
        responses={201: TariffOutput},
        summary="Set a price of a charge item in a project from a day",
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        values = _input(TariffInput, request.data)
        values["project"] = estate_selectors.project_get(viewer=viewer, project_id=values["project"])
        values["charge_item"] = selectors.charge_item_get(viewer=viewer, item_id=values["charge_item"])
        values["tiers"] = [(tier["starts_above"], tier["unit_price"]) for tier in values.get("tiers", [])]
        tariff = services.tariff_create(by=viewer, **values)
        return Response(TariffOutput(tariff).data, status=status.HTTP_201_CREATED)


class TariffDetailApi(APIView):
    @extend_schema(responses=TariffOutput, summary="One tariff", tags=TAGS)
    def get(self, request: Request, tariff_id: str) -> Response:
        return Response(TariffOutput(selectors.tariff_get(viewer=acting_user(request), tariff_id=tariff_id)).data)


class TariffEndApi(APIView):
    @extend_schema(
        request=TariffEndInput,
        responses=TariffOutput,
        summary="End a tariff: it no longer applies from this day",
        tags=TAGS,
    )
    def post(self, request: Request, tariff_id: str) -> Response:
        viewer = acting_user(request)
        tariff = selectors.tariff_get(viewer=viewer, tariff_id=tariff_id)
        on = _input(TariffEndInput, request.data)["on"]
        return Response(TariffOutput(services.tariff_end(by=viewer, tariff=tariff, on=on)).data)


# ------------------------------------------------------------------------------------------ settings
class SettingsOutput(serializers.ModelSerializer):
    class Meta:
        model = FeeSettings
        fields = ["run_day", "auto_run", "due_days", "auto_apply_prepayment", "reminder_text"]


class SettingsInput(serializers.Serializer):
    run_day = serializers.IntegerField(min_value=1, max_value=28)
    auto_run = serializers.BooleanField()
    due_days = serializers.IntegerField(min_value=0, max_value=366)
    auto_apply_prepayment = serializers.BooleanField()
    reminder_text = serializers.CharField(allow_blank=True)


class SettingsApi(APIView):
    @extend_schema(responses=SettingsOutput, summary="The company's fee settings", tags=TAGS)
    def get(self, request: Request) -> Response:
        return Response(SettingsOutput(selectors.settings_get(viewer=acting_user(request))).data)

    @extend_schema(
        request=SettingsInput(partial=True), responses=SettingsOutput, summary="Change the fee settings", tags=TAGS
    )
    def patch(self, request: Request) -> Response:
        viewer = acting_user(request)
        values = _input(SettingsInput, request.data, partial=True)
        return Response(SettingsOutput(services.settings_update(by=viewer, **values)).data)


# ------------------------------------------------------------------------------------------ meter readings
class ReadingOutput(serializers.ModelSerializer):
    period = MonthField(read_only=True)

    class Meta:
        model = MeterReading
        fields = [
            "id", "meter", "project", "period", "reading", "read_on", "previous", "replaced", "old_final",
            "new_start", "consumption", "flagged", "reviewed_at", "reviewed_by", "entered_by",
        ]  # fmt: skip


class FlaggedReadingOutput(ReadingOutput):
    meter_serial = serializers.CharField(source="meter.serial", read_only=True)
    meter_kind = serializers.CharField(source="meter.kind", read_only=True)
    unit = serializers.UUIDField(source="meter.unit_id", read_only=True, allow_null=True)
    unit_number = serializers.CharField(source="meter.unit.number", read_only=True, allow_null=True)

    class Meta(ReadingOutput.Meta):
        fields = [*ReadingOutput.Meta.fields, "meter_serial", "meter_kind", "unit", "unit_number"]


class SheetMeterOutput(serializers.ModelSerializer):
    unit_number = serializers.CharField(source="unit.number", read_only=True, allow_null=True)
    building_name = serializers.CharField(source="unit.building.name", read_only=True, allow_null=True)

    class Meta:
        model = Meter
        fields = ["id", "serial", "kind", "multiplier", "location", "unit", "unit_number", "building_name"]


class PreviousReadingOutput(serializers.Serializer):
    reading = _quantity(read_only=True)
    period = MonthField(read_only=True)


class SheetRowOutput(serializers.Serializer):
    meter = SheetMeterOutput(read_only=True)
    previous = PreviousReadingOutput(read_only=True, allow_null=True, help_text="The last reading before the month")
    reading = ReadingOutput(read_only=True, allow_null=True, help_text="The month's reading, once entered")


class SheetQuery(serializers.Serializer):
    period = MonthField(required=False, help_text="The month; this month when not given")


class ReadingInput(serializers.Serializer):
    meter = serializers.UUIDField()
    period = MonthField()
    reading = _quantity()
    read_on = serializers.DateField(required=False, allow_null=True, default=None)
    replaced = serializers.BooleanField(required=False, default=False, help_text="The meter was replaced")
    old_final = _quantity(required=False, allow_null=True, default=None, help_text="The old meter's final reading")
    new_start = _quantity(required=False, allow_null=True, default=None, help_text="The new meter's start reading")


class ReadingCorrectInput(serializers.Serializer):
    reading = _quantity()
    replaced = serializers.BooleanField(required=False)
    old_final = _quantity(required=False, allow_null=True)
    new_start = _quantity(required=False, allow_null=True)


class ReadingFlaggedQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)


class ReadingSheetApi(APIView):
    @extend_schema(
        parameters=[SheetQuery],
        responses=SheetRowOutput(many=True),
        summary="A project's meter-reading sheet for a month (抄表单)",
        tags=TAGS,
    )
    def get(self, request: Request, project_id: str) -> Response:
        viewer = acting_user(request)
        project = estate_selectors.project_get(viewer=viewer, project_id=project_id)
        period = _query(SheetQuery, request).get("period") or timezone.localdate().replace(day=1)
        rows = selectors.readings_sheet(viewer=viewer, project=project, period=period)
        for row in rows:
            if row["previous"] is not None:
                row["previous"] = {"reading": row["previous"][0], "period": row["previous"][1]}
        return Response(SheetRowOutput(rows, many=True).data)

    @extend_schema(
        request=ReadingInput,
        responses={201: ReadingOutput},
        summary="Record a meter's reading for a month (a meter of this project only)",
        tags=TAGS,
    )
    def post(self, request: Request, project_id: str) -> Response:
        viewer = acting_user(request)
        project = estate_selectors.project_get(viewer=viewer, project_id=project_id)
        values = _input(ReadingInput, request.data)
        values["meter"] = estate_selectors.record_get(Meter, viewer=viewer, record_id=values["meter"])
        reading = services.reading_record(by=viewer, project=project, **values)
        return Response(ReadingOutput(reading).data, status=status.HTTP_201_CREATED)


class ReadingDetailApi(APIView):
    @extend_schema(
        request=ReadingCorrectInput,
        responses=ReadingOutput,
        summary="Correct the latest reading of a meter before it is billed",
        tags=TAGS,
    )
    def patch(self, request: Request, reading_id: str) -> Response:
        viewer = acting_user(request)
        reading = selectors.reading_get(viewer=viewer, reading_id=reading_id)
        values = _input(ReadingCorrectInput, request.data)
        value = values.pop("reading")
        return Response(ReadingOutput(services.reading_correct(by=viewer, reading=reading, value=value, **values)).data)


class ReadingReviewApi(APIView):
    @extend_schema(
        request=None, responses=ReadingOutput, summary="Confirm an abnormal reading: it may be billed", tags=TAGS
    )
    def post(self, request: Request, reading_id: str) -> Response:
        viewer = acting_user(request)
        reading = selectors.reading_get(viewer=viewer, reading_id=reading_id)
        return Response(ReadingOutput(services.reading_review(by=viewer, reading=reading)).data)


class ReadingFlaggedApi(APIView):
    @extend_schema(
        parameters=[ReadingFlaggedQuery],
        responses=FlaggedReadingOutput(many=True),
        summary="Abnormal readings waiting for review",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(ReadingFlaggedQuery, request)
        readings = selectors.readings_flagged(viewer=acting_user(request), project=query.get("project"))
        return _page(self, request, readings, FlaggedReadingOutput)


# ------------------------------------------------------------------------------------------ bill runs
class RunOutput(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    period = MonthField(read_only=True)

    class Meta:
        model = BillRun
        fields = [
            "id", "project", "project_name", "period", "status", "created_by", "created_at", "posted_at",
            "bill_count", "total", "error",
        ]  # fmt: skip


class ProgressOutput(serializers.Serializer):
    status = serializers.CharField()
    done = serializers.IntegerField(help_text="While posting: accounts looked at; once posted: bills.")
    total = serializers.IntegerField(help_text="While posting: the project's accounts; once posted: bills.")


class RunDetailOutput(RunOutput):
    progress = serializers.SerializerMethodField()

    class Meta(RunOutput.Meta):
        fields = [*RunOutput.Meta.fields, "progress"]

    @extend_schema_field(ProgressOutput)
    def get_progress(self, run: BillRun) -> dict[str, Any]:
        return dict(ProgressOutput(selectors.run_progress(run=run)).data)


class RunInput(serializers.Serializer):
    project = serializers.UUIDField()
    period = MonthField()


class RunQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)


class PreviewItemOutput(serializers.Serializer):
    charge_item = serializers.UUIDField()
    name = serializers.CharField()
    lines = serializers.IntegerField()
    amount = _money()


class PreviewExceptionOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(runs.EXCEPTION_LABELS))
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    count = serializers.IntegerField()
    examples = serializers.ListField(child=serializers.CharField(), help_text="The first few accounts concerned")


class PreviewOutput(serializers.Serializer):
    run = serializers.UUIDField()
    period = MonthField()
    bills = serializers.IntegerField(help_text="Bills posting would issue now")
    already_billed = serializers.IntegerField(help_text="Accounts that already have their bill of the month")
    total = _money()
    items = PreviewItemOutput(many=True)
    exceptions = PreviewExceptionOutput(many=True)


class RunListApi(APIView):
    @extend_schema(parameters=[RunQuery], responses=RunOutput(many=True), summary="Bill runs", tags=TAGS)
    def get(self, request: Request) -> Response:
        query = _query(RunQuery, request)
        found = selectors.run_list(viewer=acting_user(request), project=query.get("project"))
        return _page(self, request, found, RunOutput)

    @extend_schema(
        request=RunInput,
        responses={201: RunDetailOutput},
        summary="Start a project's bill run for a month (a draft to preview)",
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        viewer = acting_user(request)
        values = _input(RunInput, request.data)
        project = estate_selectors.project_get(viewer=viewer, project_id=values["project"])
        run = services.run_create(by=viewer, project=project, period=values["period"])
        return Response(RunDetailOutput(run).data, status=status.HTTP_201_CREATED)


class RunDetailApi(APIView):
    @extend_schema(responses=RunDetailOutput, summary="A bill run and how far its posting is", tags=TAGS)
    def get(self, request: Request, run_id: str) -> Response:
        return Response(RunDetailOutput(selectors.run_get(viewer=acting_user(request), run_id=run_id)).data)


class RunPreviewApi(APIView):
    @extend_schema(
        responses=PreviewOutput,
        summary="What posting the run would bill now: counts, totals per item, exceptions",
        tags=TAGS,
    )
    def get(self, request: Request, run_id: str) -> Response:
        viewer = acting_user(request)
        run = selectors.run_get(viewer=viewer, run_id=run_id)
        plan = services.run_preview(by=viewer, run=run)
        per_item = plan.totals_by_item()
        # Charge items are the company's own list (not scoped): their names label the totals.
        names = {item.pk: item.name for item in ChargeItem.objects.filter(pk__in=list(per_item))}
        items: list[dict[str, Any]] = [
            {"charge_item": key, "name": names.get(key, ""), "lines": count, "amount": amount}
            for key, (count, amount) in per_item.items()
        ]
        items.sort(key=lambda row: (-row["amount"], row["name"]))
        exceptions = [
            {"code": code, "label": str(runs.EXCEPTION_LABELS.get(code, code)), "count": count, "examples": examples}
            for code, (count, examples) in sorted(plan.exceptions.items())
        ]
        body = {
            "run": run.pk,
            "period": plan.period,
            "bills": len(plan.bills),
            "already_billed": plan.already_billed,
            "total": plan.total,
            "items": items,
            "exceptions": exceptions,
        }
        return Response(PreviewOutput(body).data)


class RunPostApi(APIView):
    @extend_schema(
        request=None,
        responses={202: RunDetailOutput},
        summary="Post the run: a worker writes the bills (follow its progress on the run)",
        tags=TAGS,
    )
    def post(self, request: Request, run_id: str) -> Response:
        viewer = acting_user(request)
        run = selectors.run_get(viewer=viewer, run_id=run_id)
        run = services.run_post(by=viewer, run=run)
        # The task may already have run (eagerly, on commit): show the run as it is now.
        return Response(
            RunDetailOutput(selectors.run_get(viewer=viewer, run_id=run.pk)).data, status=status.HTTP_202_ACCEPTED
        )


# ------------------------------------------------------------------------------------------ bills, lines
class LineOutput(serializers.ModelSerializer):
    charge_item_name = serializers.CharField(source="charge_item.name", read_only=True)
    charged = _money(read_only=True, help_text="Charged, net of reversals")
    balance = _money(read_only=True, help_text="Still owed on the line")

    class Meta:
        model = BillLine
        fields = [
            "id", "bill", "charge_item", "charge_item_name", "description", "quantity", "unit_price", "amount",
            "meter_reading", "charged", "balance",
        ]  # fmt: skip


class BillOutput(serializers.ModelSerializer):
    account_label = serializers.CharField(source="account.label", read_only=True)
    period = MonthField(read_only=True)
    charged = _money(read_only=True, help_text="Charged, net of reversals")
    balance = _money(read_only=True, help_text="Still owed")
    status = serializers.ChoiceField(choices=BILL_STATUS_CHOICES, read_only=True)

    class Meta:
        model = Bill
        fields = [
            "id", "account", "account_label", "kind", "period", "run", "issued_on", "due_on", "amount", "charged",
            "balance", "status", "note",
        ]  # fmt: skip


class BillDetailOutput(BillOutput):
    lines = serializers.SerializerMethodField()

    class Meta(BillOutput.Meta):
        fields = [*BillOutput.Meta.fields, "lines"]

    @extend_schema_field(LineOutput(many=True))
    def get_lines(self, bill: Bill) -> list[Any]:
        lines = self.context.get("lines")
        found = lines.get(bill.pk, []) if lines is not None else selectors.bill_lines_with_balance([bill])
        return list(LineOutput(found, many=True).data)


def _bill_with_lines(bill: Bill) -> dict[str, Any]:
    return dict(
        BillDetailOutput(bill, context={"lines": {bill.pk: list(selectors.bill_lines_with_balance([bill]))}}).data
    )


class BillQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    period = MonthField(required=False)
    status = serializers.ChoiceField(choices=BILL_STATUS_CHOICES, required=False)


class BillListApi(APIView):
    @extend_schema(parameters=[BillQuery], responses=BillOutput(many=True), summary="Bills", tags=TAGS)
    def get(self, request: Request) -> Response:
        query = _query(BillQuery, request)
        bills = selectors.bill_list(
            viewer=acting_user(request),
            project=query.get("project"),
            period=query.get("period"),
            status=query.get("status", ""),
        )
        return _page(self, request, bills, BillOutput)


class BillDetailApi(APIView):
    @extend_schema(responses=BillDetailOutput, summary="A bill with its lines and what each still owes", tags=TAGS)
    def get(self, request: Request, bill_id: str) -> Response:
        return Response(_bill_with_lines(selectors.bill_get(viewer=acting_user(request), bill_id=bill_id)))


class EntryOutput(serializers.ModelSerializer):
    charge_item_name = serializers.CharField(source="charge_item.name", read_only=True, allow_null=True)
    period = MonthField(read_only=True, allow_null=True)
    receipt_number = serializers.CharField(source="payment.receipt_number", read_only=True, allow_null=True)
    by_name = serializers.CharField(source="by.name", read_only=True, allow_null=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id", "kind", "amount", "at", "booked_on", "line", "charge_item", "charge_item_name", "period",
            "payment", "receipt_number", "refund", "write_off", "reverses", "reason", "by", "by_name",
        ]  # fmt: skip


class ReverseInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = _money(required=False, allow_null=True, default=None, help_text="Part of the charge; all when not given")


class ReverseOutput(serializers.Serializer):
    line = LineOutput()
    entries = EntryOutput(many=True)


def _line_now(line: BillLine) -> BillLine:
    return selectors.bill_lines_with_balance([line.bill_id]).get(pk=line.pk)  # type: ignore[list-item]


class LineReverseApi(APIView):
    @extend_schema(
        request=ReverseInput,
        responses={201: ReverseOutput},
        summary="Reverse (part of) a charge with a reason (冲红/减免)",
        tags=TAGS,
    )
    def post(self, request: Request, line_id: str) -> Response:
        viewer = acting_user(request)
        line = selectors.line_get(viewer=viewer, line_id=line_id)
        values = _input(ReverseInput, request.data)
        entries = services.charge_reverse(by=viewer, line=line, reason=values["reason"], amount=values["amount"])
        body = {"line": _line_now(line), "entries": entries}
        return Response(ReverseOutput(body).data, status=status.HTTP_201_CREATED)


class WriteOffOutput(serializers.ModelSerializer):
    bill = serializers.UUIDField(source="line.bill_id", read_only=True)
    account = serializers.UUIDField(source="line.bill.account_id", read_only=True)
    account_label = serializers.CharField(source="line.bill.account.label", read_only=True)
    charge_item_name = serializers.CharField(source="line.charge_item.name", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.name", read_only=True)
    decided_by_name = serializers.CharField(source="decided_by.name", read_only=True, allow_null=True)

    class Meta:
        model = WriteOff
        fields = [
            "id", "line", "bill", "account", "account_label", "charge_item_name", "amount", "reason", "status",
            "requested_by", "requested_by_name", "requested_at", "decided_by", "decided_by_name", "decided_at",
        ]  # fmt: skip


class WriteOffInput(serializers.Serializer):
    amount = _money()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WriteOffQuery(serializers.Serializer):
    pending = serializers.BooleanField(required=False, default=False, help_text="Only those awaiting approval")


class DecideInput(serializers.Serializer):
    approve = serializers.BooleanField()


class LineWriteOffApi(APIView):
    @extend_schema(
        request=WriteOffInput,
        responses={201: WriteOffOutput},
        summary="Ask to write off what a line still owes (someone else approves)",
        tags=TAGS,
    )
    def post(self, request: Request, line_id: str) -> Response:
        viewer = acting_user(request)
        line = selectors.line_get(viewer=viewer, line_id=line_id)
        values = _input(WriteOffInput, request.data)
        write_off = services.write_off_request(by=viewer, line=line, **values)
        return Response(WriteOffOutput(write_off).data, status=status.HTTP_201_CREATED)


class WriteOffListApi(APIView):
    @extend_schema(parameters=[WriteOffQuery], responses=WriteOffOutput(many=True), summary="Write-offs", tags=TAGS)
    def get(self, request: Request) -> Response:
        query = _query(WriteOffQuery, request)
        found = selectors.write_off_list(viewer=acting_user(request), pending_only=query["pending"])
        return _page(self, request, found, WriteOffOutput)


class WriteOffDecideApi(APIView):
    @extend_schema(
        request=DecideInput,
        responses=WriteOffOutput,
        summary="Approve or reject a write-off (not by who asked for it)",
        tags=TAGS,
    )
    def post(self, request: Request, write_off_id: str) -> Response:
        viewer = acting_user(request)
        write_off = selectors.write_off_get(viewer=viewer, write_off_id=write_off_id)
        approve = _input(DecideInput, request.data)["approve"]
        decided = services.write_off_decide(by=viewer, write_off=write_off, approve=approve)
        return Response(WriteOffOutput(selectors.write_off_get(viewer=viewer, write_off_id=decided.pk)).data)


# ------------------------------------------------------------------------------------------ payments, receipts
class PaymentOutput(serializers.ModelSerializer):
    voided = serializers.SerializerMethodField()
    by_name = serializers.CharField(source="by.name", read_only=True, allow_null=True)

    class Meta:
        model = Payment
        fields = [
            "id", "account", "receipt_number", "method", "amount", "received_at", "booked_on", "payer_name",
            "reference", "note", "voided", "by", "by_name",
        ]  # fmt: skip

    def get_voided(self, payment: Payment) -> bool:
        return getattr(payment, "void", None) is not None


class PaymentListOutput(PaymentOutput):
    account_label = serializers.CharField(source="account.label", read_only=True)

    class Meta(PaymentOutput.Meta):
        fields = [*PaymentOutput.Meta.fields, "account_label"]


class ReceiptLineOutput(serializers.Serializer):
    item = serializers.CharField()
    period = MonthField(allow_null=True)
    amount = _money()


class ReceiptOutput(serializers.Serializer):
    paid = ReceiptLineOutput(many=True, help_text="What the payment paid: item, month, amount")
    prepaid = _money(help_text="What became prepayment (预存)")
    refunded = _money()
    voided = serializers.BooleanField()
    void_reason = serializers.CharField(allow_blank=True)


class PaymentDetailOutput(serializers.Serializer):
    payment = PaymentListOutput()
    receipt = ReceiptOutput()


def _payment_detail(viewer: Any, payment_id: Any) -> dict[str, Any]:
    payment = selectors.payment_get(viewer=viewer, payment_id=payment_id)
    found = selectors.receipt(payment=payment)
    receipt = {
        "paid": [{"item": item, "period": period, "amount": amount} for item, period, amount in found.paid],
        "prepaid": found.prepaid,
        "refunded": found.refunded,
        "voided": found.voided,
        "void_reason": found.void_reason,
    }
    return dict(PaymentDetailOutput({"payment": payment, "receipt": receipt}).data)


class PaymentQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    day = serializers.DateField(required=False, help_text="Booked on this day")


class VoidInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PaymentListApi(APIView):
    @extend_schema(
        parameters=[PaymentQuery], responses=PaymentListOutput(many=True), summary="Payments (receipts)", tags=TAGS
    )
    def get(self, request: Request) -> Response:
        query = _query(PaymentQuery, request)
        found = selectors.payment_list(viewer=acting_user(request), project=query.get("project"), day=query.get("day"))
        return _page(self, request, found, PaymentListOutput)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentDetailOutput, summary="A payment with its receipt", tags=TAGS)
    def get(self, request: Request, payment_id: str) -> Response:
        return Response(_payment_detail(acting_user(request), payment_id))


class PaymentVoidApi(APIView):
    @extend_schema(
        request=VoidInput,
        responses=PaymentDetailOutput,
        summary="Void a receipt (作废): its entries are reversed, its number stays used",
        tags=TAGS,
    )
    def post(self, request: Request, payment_id: str) -> Response:
        viewer = acting_user(request)
        payment = selectors.payment_get(viewer=viewer, payment_id=payment_id)
        reason = _input(VoidInput, request.data)["reason"]
        services.payment_void(by=viewer, payment=payment, reason=reason)
        return Response(_payment_detail(viewer, payment.pk))


# ------------------------------------------------------------------------------------------ accounts
class AccountOutput(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    owed = _money(read_only=True, help_text="Still owed on bills")
    credit = _money(read_only=True, help_text="Prepaid credit (预存)")
    balance = _money(read_only=True, help_text="Owed minus credit")

    class Meta:
        model = Account
        fields = [
            "id", "label", "project", "project_name", "zone", "building", "unit", "parking_space", "owed", "credit",
            "balance",
        ]  # fmt: skip


class StatementOutput(serializers.Serializer):
    account = AccountOutput()
    owed = _money()
    credit = _money()
    balance = _money()
    bills = BillDetailOutput(many=True)
    entries = EntryOutput(many=True, help_text="The latest ledger entries, newest first")
    payments = PaymentOutput(many=True, help_text="The latest payments, newest first")


class AccountQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    zone = serializers.UUIDField(required=False)
    building = serializers.UUIDField(required=False)
    search = serializers.CharField(required=False, allow_blank=True, default="")
    owing = serializers.BooleanField(required=False, default=False, help_text="Only accounts that owe")


class AccountListApi(APIView):
    @extend_schema(
        parameters=[AccountQuery],
        responses=AccountOutput(many=True),
        summary="Household accounts with what each owes and its prepaid credit",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(AccountQuery, request)
        accounts = selectors.account_list(
            viewer=acting_user(request),
            project=query.get("project"),
            zone=query.get("zone"),
            building=query.get("building"),
            search=query["search"],
            owing_only=query["owing"],
        )
        return _page(self, request, accounts, AccountOutput)


def _statement(viewer: Any, account: Account, *, owner_user: Any = None) -> dict[str, Any]:
    found = selectors.account_statement(viewer=viewer, account=account, owner_user=owner_user)
    body = {
        "account": found.account,
        "owed": found.owed,
        "credit": found.credit,
        "balance": found.balance,
        "entries": found.entries,
        "payments": found.payments,
    }
    return dict(StatementOutput({**body, "bills": found.bills}, context={"lines": found.lines}).data)


class AccountDetailApi(APIView):
    @extend_schema(
        responses=StatementOutput,
        summary="An account's statement: bills with their lines, the latest entries and payments",
        tags=TAGS,
    )
    def get(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        return Response(_statement(viewer, selectors.account_get(viewer=viewer, account_id=account_id)))


class AllocationInput(serializers.Serializer):
    line = serializers.UUIDField()
    amount = _money()


DESK_ONLY = f"Paid at the desk: {', '.join(DESK_METHODS)} (online payments come from the payment gateway)"


class PaymentInput(serializers.Serializer):
    amount = _money()
    method = serializers.ChoiceField(choices=PaymentMethod.choices, help_text=DESK_ONLY)
    bills = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="Pay these bills (oldest line first)"
    )
    allocations = AllocationInput(many=True, required=False, help_text="Or: exactly these amounts on these lines")
    payer_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reference = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", help_text="Bank or QR transaction number"
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AccountPaymentApi(APIView):
    @extend_schema(
        request=PaymentInput,
        responses={201: PaymentDetailOutput},
        summary="Take a payment at the desk (收款): oldest first unless bills or lines are chosen; "
        "what is left becomes prepayment",
        tags=TAGS,
    )
    def post(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        values = _input(PaymentInput, request.data)
        bill_ids = values.pop("bills", None)
        allocations = values.pop("allocations", None)
        bills = [selectors.bill_get(viewer=viewer, bill_id=key) for key in bill_ids] if bill_ids else None
        shares = (
            [
                services.Allocation(line=selectors.line_get(viewer=viewer, line_id=row["line"]), amount=row["amount"])
                for row in allocations
            ]
            if allocations
            else None
        )
        payment = services.payment_record(by=viewer, account=account, bills=bills, allocations=shares, **values)
        return Response(_payment_detail(viewer, payment.pk), status=status.HTTP_201_CREATED)


class ApplyPrepaymentInput(serializers.Serializer):
    bills = serializers.ListField(
        child=serializers.UUIDField(), required=False, help_text="Only these bills; every open bill when not given"
    )


class ApplyPrepaymentOutput(serializers.Serializer):
    used = _money(help_text="Prepayment used")
    account = AccountOutput()


class AccountApplyPrepaymentApi(APIView):
    @extend_schema(
        request=ApplyPrepaymentInput,
        responses=ApplyPrepaymentOutput,
        summary="Pay open bills from the prepaid credit (预存抵扣), oldest first",
        tags=TAGS,
    )
    def post(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        bill_ids = _input(ApplyPrepaymentInput, request.data).get("bills")
        bills = [selectors.bill_get(viewer=viewer, bill_id=key) for key in bill_ids] if bill_ids else None
        used = services.credit_apply(by=viewer, account=account, bills=bills)
        body = {"used": used, "account": selectors.account_get(viewer=viewer, account_id=account.pk)}
        return Response(ApplyPrepaymentOutput(body).data)


class AdvanceInput(serializers.Serializer):
    months = serializers.IntegerField(help_text="1 to 36 months from this one")
    method = serializers.ChoiceField(choices=PaymentMethod.choices, help_text=DESK_ONLY)
    prepayment = _money(required=False, allow_null=True, default=None, help_text="Also kept as prepaid credit")
    payer_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class AccountAdvanceApi(APIView):
    @extend_schema(
        request=AdvanceInput,
        responses={201: PaymentDetailOutput},
        summary="Collect months of fees in advance (预收), with an optional prepayment",
        tags=TAGS,
    )
    def post(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        values = _input(AdvanceInput, request.data)
        payment = services.advance_collect(by=viewer, account=account, **values)
        return Response(_payment_detail(viewer, payment.pk), status=status.HTTP_201_CREATED)


class RefundOutput(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "account", "payment", "amount", "method", "reason", "at", "by"]


class RefundInput(serializers.Serializer):
    amount = _money()
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    payment = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Against this payment; from prepayment when not given"
    )


class AccountRefundApi(APIView):
    @extend_schema(
        request=RefundInput,
        responses={201: RefundOutput},
        summary="Pay money back (退款): from prepayment, or against a payment",
        tags=TAGS,
    )
    def post(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        values = _input(RefundInput, request.data)
        if values["payment"] is not None:
            values["payment"] = selectors.payment_get(viewer=viewer, payment_id=values["payment"])
        refund = services.refund_record(by=viewer, account=account, **values)
        return Response(RefundOutput(refund).data, status=status.HTTP_201_CREATED)


class ChargeInput(serializers.Serializer):
    charge_item = serializers.UUIDField()
    quantity = _quantity(required=False, default=Decimal(1))
    unit_price = _price(required=False, allow_null=True, default=None, help_text="The project's tariff when not given")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class AccountChargeApi(APIView):
    @extend_schema(
        request=ChargeInput,
        responses={201: BillDetailOutput},
        summary="Charge a one-off item (a special service, a card, a deposit): a bill of its own",
        tags=TAGS,
    )
    def post(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        values = _input(ChargeInput, request.data)
        values["charge_item"] = selectors.charge_item_get(viewer=viewer, item_id=values["charge_item"])
        bill = services.one_off_charge(by=viewer, account=account, **values)
        return Response(
            _bill_with_lines(selectors.bill_get(viewer=viewer, bill_id=bill.pk)), status=status.HTTP_201_CREATED
        )


class ChaseOutput(serializers.ModelSerializer):
    by_name = serializers.CharField(source="by.name", read_only=True, allow_null=True)

    class Meta:
        model = ChaseRecord
        fields = ["id", "account", "at", "by", "by_name", "channel", "result", "promised_on", "owed"]


class ChaseInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ChaseChannel.choices)
    result = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    promised_on = serializers.DateField(required=False, allow_null=True, default=None)


class AccountChaseApi(APIView):
    @extend_schema(responses=ChaseOutput(many=True), summary="An account's chase log (催缴记录)", tags=TAGS)
    def get(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        return _page(self, request, selectors.chase_list(viewer=viewer, account=account), ChaseOutput)

    @extend_schema(
        request=ChaseInput, responses={201: ChaseOutput}, summary="Log an attempt to collect arrears", tags=TAGS
    )
    def post(self, request: Request, account_id: str) -> Response:
        viewer = acting_user(request)
        account = selectors.account_get(viewer=viewer, account_id=account_id)
        values = _input(ChaseInput, request.data)
        chase = services.chase_record(by=viewer, account=account, **values)
        return Response(ChaseOutput(chase).data, status=status.HTTP_201_CREATED)


# ------------------------------------------------------------------------------------------ reports
class RateRowOutput(serializers.Serializer):
    key = serializers.UUIDField(allow_null=True, help_text="The project, zone, building or item; null in totals")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    period = MonthField()
    billed = _money(help_text="Billed for the month, net of reversals (应收)")
    collected_in_period = _money(help_text="Of it, paid by the month's end (当期实收)")
    collected = _money(help_text="Of it, paid by the report's date")
    written_off = _money()
    arrears_at_start = _money(help_text="Owed on earlier months when the month began (往期欠费)")
    recovered = _money(help_text="Of those arrears, paid during the month (往期追缴)")
    rate_in_period = _rate(help_text="collected_in_period / billed, in %")
    rate = _rate(help_text="collected / billed, in %")
    recovery_rate = _rate(help_text="recovered / arrears_at_start, in %")
    outstanding = _money(help_text="billed − collected − written off")
    target = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="The project's target, in %"
    )


class CollectionOutput(serializers.Serializer):
    group = serializers.CharField()
    periods = serializers.ListField(child=MonthField())
    rows = RateRowOutput(many=True)
    totals = RateRowOutput(many=True, help_text="One per month, over every group")


# "from" is a Python keyword, so the query's serializer is built from a dict of its fields.
CollectionQuery = type(
    "CollectionQuery",
    (serializers.Serializer,),
    {
        "from": MonthField(help_text="The first month"),
        "to": MonthField(help_text="The last month"),
        "group": serializers.ChoiceField(choices=sorted(selectors.GROUPS), required=False, default="project"),
        "project": serializers.UUIDField(required=False),
        "zone": serializers.UUIDField(required=False),
        "charge_item": serializers.UUIDField(required=False),
        "as_of": serializers.DateField(required=False, help_text="Count what was booked up to this day (today)"),
    },
)


class ArrearsQuery(serializers.Serializer):
    project = serializers.UUIDField(required=False)
    zone = serializers.UUIDField(required=False)
    building = serializers.UUIDField(required=False)
    as_of = serializers.DateField(required=False)


class AgingAccountOutput(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = ["id", "label", "project", "zone", "building"]


class AgingRowOutput(serializers.Serializer):
    account = AgingAccountOutput()
    buckets = serializers.DictField(child=_money(), help_text="Overdue amounts per bucket key")
    total = _money()
    oldest_due = serializers.DateField(allow_null=True)
    last_chase = ChaseOutput(allow_null=True)


class BucketOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    from_day = serializers.IntegerField()
    to_day = serializers.IntegerField(allow_null=True)


class ArrearsOutput(serializers.Serializer):
    as_of = serializers.DateField()
    buckets = BucketOutput(many=True, help_text="Days overdue after the due date")
    rows = AgingRowOutput(many=True)
    totals = serializers.DictField(child=_money())


class DailyQuery(serializers.Serializer):
    day = serializers.DateField(required=False)
    project = serializers.UUIDField(required=False)


class MethodTotalOutput(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    count = serializers.IntegerField()
    amount = _money()


class DailyOutput(serializers.Serializer):
    day = serializers.DateField()
    collected_by_method = MethodTotalOutput(many=True)
    collected_total = _money()
    billed_today = _money()
    outstanding = _money()
    overdue = _money()
    credit = _money()
    payments = PaymentListOutput(many=True)


class WeeklyQuery(serializers.Serializer):
    weeks = serializers.IntegerField(min_value=1, max_value=104, required=False, default=12)
    project = serializers.UUIDField(required=False)


class WeekOutput(serializers.Serializer):
    week = serializers.DateField(help_text="The Monday the week starts")
    amount = _money()
    count = serializers.IntegerField()


class CollectionReportApi(APIView):
    @extend_schema(
        parameters=[CollectionQuery],
        responses=CollectionOutput,
        summary="The collection rate (收缴率) per month and group",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(CollectionQuery, request)
        found = selectors.collection_report(
            viewer=acting_user(request),
            period_from=query["from"],
            period_to=query["to"],
            group=query["group"],
            project=query.get("project"),
            zone=query.get("zone"),
            charge_item=query.get("charge_item"),
            as_of=query.get("as_of"),
        )
        body = {"group": found.group, "periods": found.periods, "rows": found.rows, "totals": found.totals}
        return Response(CollectionOutput(body).data)


class ArrearsReportApi(APIView):
    @extend_schema(
        parameters=[ArrearsQuery],
        responses=ArrearsOutput,
        summary="Arrears by how long they are overdue, per account (欠费账龄)",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(ArrearsQuery, request)
        as_of = query.get("as_of") or timezone.localdate()
        rows, totals = selectors.arrears_aging(
            viewer=acting_user(request),
            project=query.get("project"),
            zone=query.get("zone"),
            building=query.get("building"),
            as_of=as_of,
        )
        buckets = [
            {"key": key, "label": str(label), "from_day": low, "to_day": high}
            for key, label, low, high in selectors.AGING_BUCKETS
        ]
        body = {"as_of": as_of, "buckets": buckets, "rows": rows, "totals": totals}
        return Response(ArrearsOutput(body).data)


class DailyReportApi(APIView):
    @extend_schema(
        parameters=[DailyQuery],
        responses=DailyOutput,
        summary="Receivables of a day: collected by method, billed, outstanding, overdue, credit held",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(DailyQuery, request)
        found = selectors.receivables_daily(
            viewer=acting_user(request), day=query.get("day"), project=query.get("project")
        )
        body = {
            "day": found.day,
            "collected_by_method": [
                {"method": method, "count": count, "amount": amount}
                for method, count, amount in found.collected_by_method
            ],
            "collected_total": found.collected_total,
            "billed_today": found.billed_today,
            "outstanding": found.outstanding,
            "overdue": found.overdue,
            "credit": found.credit,
            "payments": found.payments,
        }
        return Response(DailyOutput(body).data)


class WeeklyReportApi(APIView):
    @extend_schema(
        parameters=[WeeklyQuery],
        responses=WeekOutput(many=True),
        summary="Money collected per week (Monday to Sunday), oldest week first",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(WeeklyQuery, request)
        found = selectors.weekly_collection(
            viewer=acting_user(request), weeks=query["weeks"], project=query.get("project")
        )
        rows = [{"week": week, "amount": amount, "count": count} for week, amount, count in found]
        return Response(WeekOutput(rows, many=True).data)


# ------------------------------------------------------------------------------------------ the owner's own bills
class MyAccountOutput(serializers.Serializer):
    id = serializers.UUIDField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    owed = _money()
    credit = _money()
    balance = _money()


class MyBillsOutput(serializers.Serializer):
    owed = _money(help_text="Still owed, over every account")
    credit = _money(help_text="Prepaid credit, over every account")
    balance = _money()
    accounts = MyAccountOutput(many=True)
    bills = BillDetailOutput(many=True, help_text="Open bills (unpaid or part-paid), oldest first")


class MyBillListApi(APIView):
    @extend_schema(
        responses=MyBillsOutput,
        operation_id="v1_fees_my_bills_summary",
        summary="For an owner: their open bills, what they owe and their prepaid credit",
        tags=OWNER_TAGS,
    )
    def get(self, request: Request) -> Response:
        user = acting_user(request)
        accounts: list[dict[str, Any]] = []
        bills: list[Bill] = []
        lines: dict[Any, list[BillLine]] = {}
        for account in selectors.owner_accounts(user=user).order_by("label", "id"):
            found = selectors.account_statement(viewer=user, account=account, owner_user=user, entries_limit=0)
            accounts.append(
                {
                    "id": account.pk,
                    "label": account.label,
                    "owed": found.owed,
                    "credit": found.credit,
                    "balance": found.balance,
                }
            )
            bills += [bill for bill in found.bills if bill.status in OPEN_STATUSES]  # type: ignore[attr-defined]
            lines.update(found.lines)
        bills.sort(key=lambda bill: (bill.period, bill.due_on, str(bill.pk)))
        owed = sum((row["owed"] for row in accounts), Decimal("0.00"))
        credit = sum((row["credit"] for row in accounts), Decimal("0.00"))
        body = {"owed": owed, "credit": credit, "balance": owed - credit, "accounts": accounts}
        return Response(MyBillsOutput({**body, "bills": bills}, context={"lines": lines}).data)


class MyBillDetailApi(APIView):
    @extend_schema(
        responses=BillDetailOutput, summary="For an owner: one of their bills with its lines", tags=OWNER_TAGS
    )
    def get(self, request: Request, bill_id: str) -> Response:
        user = acting_user(request)
        return Response(_bill_with_lines(selectors.bill_get(viewer=user, bill_id=bill_id, owner_user=user)))


class DepositReturnInput(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    amount = _money(required=False, allow_null=True, default=None, help_text="Less deductions; all when not given")


class LineDepositReturnApi(APIView):
    @extend_schema(
        request=DepositReturnInput,
        responses={201: RefundOutput},
        summary="Return a refundable deposit (退押金), in full or less deductions",
        tags=TAGS,
    )
    def post(self, request: Request, line_id: str) -> Response:
        viewer = acting_user(request)
        line = selectors.line_get(viewer=viewer, line_id=line_id)
        refund = services.deposit_return(by=viewer, line=line, **_input(DepositReturnInput, request.data))
        return Response(RefundOutput(refund).data, status=status.HTTP_201_CREATED)


# ------------------------------------------------------------------------------------------ online payments
class OnlinePaymentOutput(serializers.ModelSerializer):
    account_label = serializers.CharField(source="account.label", read_only=True)
    bills: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    receipt_number = serializers.CharField(source="payment.receipt_number", read_only=True, default=None)
    payment_id = serializers.UUIDField(read_only=True, allow_null=True, help_text="The ledger's payment, once paid")
    amount = _money(read_only=True)

    class Meta:
        model = OnlinePayment
        fields = [
            "id", "account", "account_label", "purpose", "bills", "amount", "currency", "status",
            "failure_message", "payment_ref", "payment_id", "receipt_number", "created_at", "updated_at",
        ]  # fmt: skip


class OnlinePaymentStaffOutput(OnlinePaymentOutput):
    refunded = _money(read_only=True, help_text="Paid back so far")

    class Meta(OnlinePaymentOutput.Meta):
        fields = [*OnlinePaymentOutput.Meta.fields, "refunded"]


class CheckoutOutput(serializers.Serializer):
    provider = serializers.CharField()
    payment_ref = serializers.CharField(help_text="The provider's id (Stripe: the PaymentIntent)")
    client_secret = serializers.CharField(help_text="For Stripe's Payment Element or mobile SDK; never log it")
    publishable_key = serializers.CharField()
    account_ref = serializers.CharField(help_text="The company's connected account (Stripe-Account)")
    script_url = serializers.CharField()


class OnlineStartOutput(serializers.Serializer):
    online_payment = OnlinePaymentOutput()
    checkout = CheckoutOutput()


class OnlineStartInput(serializers.Serializer):
    account = serializers.UUIDField()
    bills = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    everything = serializers.BooleanField(required=False, default=False)
    amount = _money(required=False, allow_null=True, help_text="A prepayment (when neither bills nor everything)")


class OnlineQuery(serializers.Serializer):
    status = serializers.ChoiceField(choices=OnlineStatus.choices, required=False)


class OnlineRefundInput(serializers.Serializer):
    amount = _money()
    reason = serializers.CharField(max_length=200)


class MyOnlinePaymentListApi(APIView):
    @extend_schema(
        request=OnlineStartInput,
        responses={201: OnlineStartOutput},
        summary="For an owner: start paying online — chosen bills, everything due, or a prepayment; the amount "
        "comes from the ledger. Starting the same payment again returns the one started.",
        tags=OWNER_TAGS,
    )
    def post(self, request: Request) -> Response:
        user = acting_user(request)
        data = _input(OnlineStartInput, request.data)
        account = selectors.owner_accounts(user=user).filter(pk=data["account"]).first()
        if account is None:
            raise NotFound(str(_("No such account.")))
        online, checkout = services.online_payment_start(
            by=user, account=account, bills=data["bills"], everything=data["everything"], amount=data.get("amount")
        )
        body = {"online_payment": OnlinePaymentOutput(online).data, "checkout": CheckoutOutput(checkout).data}
        return Response(body, status=201)


class MyOnlinePaymentDetailApi(APIView):
    @extend_schema(
        responses=OnlinePaymentOutput,
        summary="For an owner: one of their online payments — its status and, once paid, its receipt",
        tags=OWNER_TAGS,
    )
    def get(self, request: Request, online_id: str) -> Response:
        user = acting_user(request)
        return Response(
            OnlinePaymentOutput(selectors.online_payment_get(viewer=user, online_id=online_id, owner_user=user)).data
        )


class OnlinePaymentListApi(APIView):
    @extend_schema(
        parameters=[OnlineQuery],
        responses=OnlinePaymentStaffOutput(many=True),
        summary="Online payments in the caller's scope with their provider status, newest first",
        tags=TAGS,
    )
    def get(self, request: Request) -> Response:
        query = _query(OnlineQuery, request)
        found = selectors.online_payment_list(viewer=acting_user(request), status=query.get("status", ""))
        return _page(self, request, found, OnlinePaymentStaffOutput)


class OnlinePaymentDetailApi(APIView):
    @extend_schema(responses=OnlinePaymentStaffOutput, summary="One online payment", tags=TAGS)
    def get(self, request: Request, online_id: str) -> Response:
        found = selectors.online_payment_get(viewer=acting_user(request), online_id=online_id)
        return Response(OnlinePaymentStaffOutput(found).data)


class OnlinePaymentRefundApi(APIView):
    @extend_schema(
        request=OnlineRefundInput,
        responses={201: OnlinePaymentStaffOutput},
        summary="Refund (part of) an online payment through the provider, with a reason; recorded once",
        tags=TAGS,
    )
    def post(self, request: Request, online_id: str) -> Response:
        viewer = acting_user(request)
        online = selectors.online_payment_get(viewer=viewer, online_id=online_id)
        data = _input(OnlineRefundInput, request.data)
        services.online_refund(by=viewer, online=online, amount=data["amount"], reason=data["reason"])
        found = selectors.online_payment_get(viewer=viewer, online_id=online_id)
        return Response(OnlinePaymentStaffOutput(found).data, status=201)
