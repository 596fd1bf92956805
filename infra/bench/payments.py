"""`make bench`, payments: Stripe webhook intake and processing (billing_gateway + fees' handlers).

Targets:
  1. Intake: >= 500 events/s through the real webhook view (verify + store once + queue).
  2. Processing: >= 200 events/s per worker (`services.events_drain`: the company's received events by the
     batch, one ledger payment per event, allocated to the bills it names).

Like the other benchmarks, this works in a database of its own (`<name>_bench_payments` beside
DATABASE_URL's, dropped at the end, also after a failure, Ctrl-C or SIGTERM) and prints everything before
saying PASS or FAIL (exit status 1 on a FAIL). Celery messages go to the real broker (REDIS_URL), on a
queue of this run's own (`wuye-bench-<pid>`, deleted at the end with the task results the worker stored).

The data (not measured): one company with a connected Stripe account (ConnectedAccount, charges enabled);
one project of --units units (buildings of 200, 10 zones), each with an owner, written in bulk; the
property fee through `services.tariff_create`, the household accounts through `services.accounts_ensure`,
and as many monthly bill runs (`run_create` + `run_execute`, the months up to this one) as needed for
every event to pay a bill of its own that is still open. Each event is a `payment_intent.succeeded` of
that bill's amount whose metadata names the account and the bill (what the platform's own PaymentIntents
carry), in an envelope shaped like a real Stripe delivery (API version, request, pending_webhooks; the
intent with its ~40 fields, most of them null): about 2 KB, signed with Stripe's scheme
(`stripe.WebhookSignature._compute_signature`, as the tests do) before the clock starts.

Each round has three batches of --events distinct events (each its own bills):

1. Intake (every batch). Django's test Client posts each delivery to /billing/stripe/webhook/ on the
   public host (settings.BASE_DOMAIN), in this process: the whole middleware stack (company routing to the
   public schema, security, sessions, ...), the view, `services.event_receive` (signature check,
   `stripe.Webhook.construct_event`, the connected account's lookup, the insert in its own transaction)
   and the on-commit callback: `drain_queue(company)`, which publishes an `events_drain` task to the real
   Redis broker unless one is already asked for (a cache key, deleted when the task starts). No test
   transaction wraps it (autocommit, as a web process): on_commit fires for real, and the run checks that
   the queue received at least one message and no more than one per event. No network between client and
   view (no WSGI server: what is timed is Django and the application, not a socket). Then --duplicates
   deliveries of events of the batch already stored, timed apart (Stripe's retries): each must answer
   `duplicate: true`, store no row and queue nothing.
2. Processing.
   a. worker (the figure judged): a real Celery worker (`celery -A wuye.celery worker --concurrency 1`,
      prefork, the production command with this run's queue). The intake's drain message is set aside and
      the worker started; once it has taken a first (empty) drain, i.e. it is up, the clock starts and the
      company's drain is asked for as the intake asks for it (`drain_queue`); the clock stops when the last
      event of the batch is processed (its `processed_at`). So the worker's start (~2 s, once per process in
      production) is left out, and the task's whole work — schema switch, batches, commits — is in.
   b. in-process (for information: the same work without the broker): the batch's message is removed,
      and this process calls `billing_gateway.services.events_drain(company_id=...)`.

The intake figures are the medians of the 2 x --rounds batches; the processing figures the medians of
the rounds. Then the checks: as many webhook events as distinct events delivered, all processed; as many
online payments, one per provider id; each allocated to its bill (one payment entry per payment, no
prepayment) and each paid bill settled; duplicates stored and queued nothing.

--profile: after the rounds, one more batch (not in the figures) with cProfile around its intake and its
in-process processing; the functions that take the time are printed, with the SQL statements per event.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from provisioning import BenchQueue, bench_url, database_create, database_drop, server_params

INTAKE_TARGET = 500.0  # events/s
PROCESS_TARGET = 200.0  # events/s, one worker
SECRET = "whsec_bench_payments_0123456789"  # noqa: S105 - signs the benchmark's own deliveries
ACCOUNT = "acct_benchpayments1"
URL = "/billing/stripe/webhook/"
PER_BUILDING = 200
ZONES = 10
REPO = Path(__file__).resolve().parent.parent.parent


@dataclass
class Batch:
    label: str
    payloads: list[bytes]
    event_ids: list[str]
    intent_ids: list[str]
    bills: list[Any]  # (bill id, account id, amount)
    intake_s: float = 0.0
    duplicates_s: float = 0.0
    duplicates: int = 0
    queued: int = 0
    process_s: float = 0.0  # worker: first to last processed_at; in-process: wall clock
    worker_wall_s: float = 0.0
    mode: str = ""
    processes: int = 1  # web processes of its intake
    pks: list[int] = field(default_factory=list)


def broker_tidy(queue: BenchQueue, cache_prefix: str) -> None:
    """What BenchQueue.delete leaves with this kombu version: the exchange's binding set and its deadline
    (kombu >= 5.5 names them `_kombu.binding_permanent.<exchange>` and `_kombu.binding_deadlines`), and the
    cache keys the set-up wrote (the bill runs' progress), under this run's own prefix."""
    queue.client.delete(f"_kombu.binding_permanent.{queue.name}")
    queue.client.zrem("_kombu.binding_deadlines", queue.name)
    for key in queue.client.scan_iter(match=f"*:{cache_prefix}:*"):
        queue.client.delete(key)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# ------------------------------------------------------------------------------------------ set-up
def setup(units: int, bills_needed: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from billing_gateway.models import ConnectedAccount
    from modules.estate.models import Building, Project, Unit, Zone
    from modules.fees import services
    from modules.fees.models import Bill, ChargeItem
    from modules.households.models import Ownership, Person
    from tenants import services as tenant_services
    from wuye.core.tenancy import use_public_schema
    from wuye.testing.plugin import in_company

    call_command("migrate", interactive=False, verbosity=0)
    use_public_schema()
    provisioned = tenant_services.company_create(
        name="支付基准", slug="paybench", admin_email="admin@paybench.example.com", admin_name="Admin",
        admin_password="pay-bench-password-1",  # noqa: S106 - a throw-away database
    )  # fmt: skip
    company, admin = provisioned.company, provisioned.admin
    ConnectedAccount.objects.create(
        company=company, account_id=ACCOUNT, charges_enabled=True, payouts_enabled=True, details_submitted=True
    )
    months = -(-bills_needed // units)
    today = timezone.localdate()
    periods = []
    for back in range(months - 1, -1, -1):
        index = today.year * 12 + today.month - 1 - back
        periods.append(dt.date(index // 12, index % 12 + 1, 1))
    with in_company(company):
        project = Project.objects.create(name="支付花园", code="zhifu")
        zones = Zone.objects.bulk_create(
            [Zone(project=project, name=f"{n}区", sort_order=n) for n in range(1, ZONES + 1)]
        )
        count = -(-units // PER_BUILDING)
        buildings = Building.objects.bulk_create(
            [
                Building(project=project, zone=zones[n * ZONES // count], name=f"{n + 1}栋", sort_order=n + 1)
                for n in range(count)
            ]
        )
        rows = []
        for index in range(units):
            building = buildings[index // PER_BUILDING]
            floor, door = divmod(index % PER_BUILDING, 4)
            rows.append(
                Unit(
                    project=project, building=building, zone_id=building.zone_id, number=f"{floor + 1}{door + 1:02d}",
                    floor=floor + 1, floor_area=Decimal("68.35") + Decimal(index % 9) * Decimal("11.27"),
                    status="occupied",
                )
            )  # fmt: skip
        made = Unit.objects.bulk_create(rows, batch_size=5000)
        people = Person.objects.bulk_create(
            [Person(name=f"业主{n}", phone=f"139{n:08d}") for n in range(units)], batch_size=5000
        )
        Ownership.objects.bulk_create(
            [
                Ownership(unit=unit, person=person, starts_on=dt.date(2020, 1, 1))
                for unit, person in zip(made, people, strict=True)
            ],
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            for table in ("estate_building", "estate_unit", "households_ownership"):
                cursor.execute(f"ANALYZE {table}")
        services.tariff_create(
            by=admin, project=project, charge_item=ChargeItem.objects.get(code="property"),
            unit_price=Decimal("2.80"), valid_from=dt.date(2020, 1, 1),
        )  # fmt: skip
        services.accounts_ensure(project_id=project.pk)
        for period in periods:
            run = services.run_create(by=admin, project=project, period=period)
            services.run_execute(run_id=run.pk)
        with connection.cursor() as cursor:
            for table in ("fees_account", "fees_bill", "fees_billline", "fees_ledgerentry"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        bills = list(
            Bill.objects.filter(account__project=project)
            .order_by("period", "account_id")
            .values_list("pk", "account_id", "amount")
        )
    return {"company": company, "admin": admin, "bills": bills, "periods": periods, "units": units}


# ------------------------------------------------------------------------------------------ deliveries
def intent(intent_id: str, account_id: Any, bill_id: Any, amount: Decimal, created: int) -> dict[str, Any]:
    """A PaymentIntent as Stripe sends it in `data.object` (API 2024-06-20), of the platform's own making."""
    fen = int(amount * 100)
    return {
        "id": intent_id, "object": "payment_intent", "amount": fen, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": fen, "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic_async",
        "client_secret": f"{intent_id}_secret_Xq3bench0k2LrT", "confirmation_method": "automatic",
        "created": created, "currency": "cny", "customer": None, "description": "物业费",
        "invoice": None, "last_payment_error": None, "latest_charge": intent_id.replace("pi_", "ch_"),
        "livemode": False,
        "metadata": {"wuye_account": str(account_id), "wuye_bills": str(bill_id), "wuye_company": "paybench"},
        "next_action": None, "on_behalf_of": None, "payment_method": intent_id.replace("pi_", "pm_"),
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "alipay": {}, "wechat_pay": {"app_id": None, "client": "web"},
            "card": {"installments": None, "mandate_options": None, "network": None,
                     "request_three_d_secure": "automatic"},
        },
        "payment_method_types": ["card", "alipay", "wechat_pay"], "processing": None, "receipt_email": None,
        "review": None, "setup_future_usage": None, "shipping": None, "source": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None, "status": "succeeded",
        "transfer_data": None, "transfer_group": None,
    }  # fmt: skip


def batch_make(label: str, bills: list[Any], serial: int) -> Batch:
    created = int(time.time())
    payloads, event_ids, intent_ids = [], [], []
    for n, (bill_id, account_id, amount) in enumerate(bills):
        number = f"{serial:02d}{n:06d}"
        event_id, intent_id = f"evt_3Bench{number}", f"pi_3Bench{number}"
        body = {
            "id": event_id, "object": "event", "api_version": "2024-06-20", "account": ACCOUNT,
            "created": created, "data": {"object": intent(intent_id, account_id, bill_id, amount, created)},
            "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": f"bench-{number}"}, "type": "payment_intent.succeeded",
        }  # fmt: skip
        payloads.append(json.dumps(body, ensure_ascii=False, indent=2).encode())  # Stripe sends it indented
        event_ids.append(event_id)
        intent_ids.append(intent_id)
    return Batch(label, payloads, event_ids, intent_ids, bills)


def signed(payload: bytes) -> str:
    import stripe

    timestamp = int(time.time())
    return f"t={timestamp},v1={stripe.WebhookSignature._compute_signature(f'{timestamp}.{payload.decode()}', SECRET)}"


def deliver(client: Any, deliveries: list[tuple[bytes, str]], duplicate: bool) -> float:
    """Post each delivery; the wall clock of the whole loop. Every answer must be 200 and say whether the
    event was a duplicate as expected."""
    expected = b'"duplicate": true' if duplicate else b'"duplicate": false'
    started = time.perf_counter()
    for payload, signature in deliveries:
        response = client.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
        if response.status_code != 200 or expected not in response.content:
            raise RuntimeError(f"delivery answered {response.status_code}: {response.content[:300]!r}")
    return time.perf_counter() - started


def _deliver_share(share: list[tuple[bytes, str]], go: Any, finished: Any) -> None:
    """A web process of the parallel intake (forked): its own database session, its share of deliveries."""
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    go.wait()
    deliver(client, share, duplicate=False)
    finished.put(time.perf_counter())


def deliver_parallel(deliveries: list[tuple[bytes, str]], processes: int) -> float:
    """The deliveries shared among `processes` web processes posting at once (as a deployment's web
    workers take Stripe's deliveries): the wall clock from the start signal to the last one done."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # the children open their own sessions; none is shared across a fork
    context = multiprocessing.get_context("fork")
    go, finished = context.Event(), context.Queue()
    children = [
        context.Process(target=_deliver_share, args=(deliveries[n::processes], go, finished)) for n in range(processes)
    ]
    for child in children:
        child.start()
    time.sleep(0.5)  # every child set up and waiting
    started = time.perf_counter()
    go.set()
    ends = [finished.get(timeout=600) for _ in children]
    for child in children:
        child.join()
        if child.exitcode != 0:
            raise RuntimeError(f"a web process of the parallel intake failed ({child.exitcode})")
    return max(ends) - started


def intake(
    client: Any, batch: Batch, duplicates: int, queue: BenchQueue, published: list[str], *, processes: int = 1
) -> None:
    from billing_gateway.models import WebhookEvent

    deliveries = [(payload, signed(payload)) for payload in batch.payloads]  # Stripe's side: untimed
    before = queue.length()
    sent = len(published)
    batch.processes = processes
    if processes > 1:
        batch.intake_s = deliver_parallel(deliveries, processes)
        published.extend(["(a child's)"] * (queue.length() - before))  # the children's publications
    else:
        batch.intake_s = deliver(client, deliveries, duplicate=False)
    batch.queued = queue.length() - before
    asked = len(published) - sent
    if not 1 <= asked <= len(deliveries) or batch.queued != asked:
        raise RuntimeError(
            f"{batch.label}: {len(deliveries)} events, {len(published) - sent} tasks published, "
            f"{batch.queued} on the queue"
        )
    stored = WebhookEvent.objects.count()
    step = max(1, len(batch.payloads) // max(1, duplicates))
    again = [(batch.payloads[(n * step) % len(batch.payloads)], "") for n in range(duplicates)]
    again = [(payload, signed(payload)) for payload, _ in again]
    sent = len(published)
    batch.duplicates_s = deliver(client, again, duplicate=True) if again else 0.0
    batch.duplicates = len(again)
    if WebhookEvent.objects.count() != stored or len(published) != sent or queue.length() - before != batch.queued:
        raise RuntimeError(f"{batch.label}: a duplicate delivery stored or queued something")
    batch.pks = list(
        WebhookEvent.objects.filter(event_id__in=batch.event_ids).order_by("pk").values_list("pk", flat=True)
    )


def _set_aside(queue: BenchQueue, company_id: int) -> None:
    """The intake's drain message removed, and its cache key with it (so that the next ask publishes)."""
    from billing_gateway import services as gateway

    queue.delete()
    gateway.drain_flag_clear(company_id)


def _company_of(batch: Batch) -> int:
    from billing_gateway.models import WebhookEvent

    return int(WebhookEvent.objects.filter(pk=batch.pks[0]).values_list("company_id", flat=True).get())


def process_in_process(batch: Batch, queue: BenchQueue) -> None:
    from billing_gateway import services as gateway
    from billing_gateway.models import EventStatus, WebhookEvent

    company_id = _company_of(batch)
    _set_aside(queue, company_id)  # this process does the work below
    batch.mode = "in-process"
    started = time.perf_counter()
    gateway.events_drain(company_id=company_id)
    batch.process_s = time.perf_counter() - started
    left = WebhookEvent.objects.filter(pk__in=batch.pks).exclude(status=EventStatus.PROCESSED)
    if left.exists():
        raise RuntimeError(f"{left.count()} events not processed in-process: {left.first().error}")  # type: ignore[union-attr]


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    env["WUYE_CELERY_EAGER"] = "false"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return env


def process_by_worker(batch: Batch, queue: BenchQueue, timeout: float) -> None:
    """Start a Celery worker (concurrency 1); once it is up, ask for the company's drain; wait until the
    batch is processed; stop the worker. Rate: the batch's events over the time from the ask to the last
    event's processed_at."""
    from django.db.models import Max
    from django.utils import timezone

    from billing_gateway import services as gateway
    from billing_gateway.models import EventStatus, WebhookEvent
    from billing_gateway.tasks import events_drain

    company_id = _company_of(batch)
    _set_aside(queue, company_id)
    batch.mode = "worker"
    events = WebhookEvent.objects.filter(pk__in=batch.pks)
    command = [
        sys.executable, "-m", "celery", "-A", "wuye.celery", "worker", "--loglevel", "WARNING",
        "--concurrency", "1", "-Q", queue.name, "-n", f"paybench-{os.getpid()}@%h",
    ]  # fmt: skip
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below, after the worker
    started = time.perf_counter()
    worker = subprocess.Popen(
        command, cwd=REPO, env=worker_env(), start_new_session=True, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        events_drain.delay(0)  # a company with no events: taken off the queue once the worker is up
        while queue.length():
            if worker.poll() is not None or time.perf_counter() - started > 60:
                raise RuntimeError("the worker did not start")
            time.sleep(0.01)
        asked = timezone.now()
        gateway.drain_queue(company_id)
        while True:
            left = events.exclude(status=EventStatus.PROCESSED).count()
            if left == 0:
                break
            if worker.poll() is not None:
                log.seek(0)
                print(log.read().decode(errors="replace")[-4000:], file=sys.stderr)
                raise RuntimeError(f"the worker exited ({worker.returncode}) with {left} events left")
            if events.filter(status=EventStatus.FAILED).exists():
                failed = events.filter(status=EventStatus.FAILED).first()
                raise RuntimeError(f"event {failed.event_id} failed: {failed.error}")  # type: ignore[union-attr]
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"the worker did not finish in {timeout:.0f} s ({left} events left)")
            time.sleep(0.05)
        batch.worker_wall_s = time.perf_counter() - started
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: the pool child goes with it
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        log.close()
    last = events.aggregate(last=Max("processed_at"))["last"]
    batch.process_s = (last - asked).total_seconds()
    if queue.length():
        raise RuntimeError(f"{queue.length()} messages left on the queue after the worker")


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


# ------------------------------------------------------------------------------------------ profile
def queries_per_event(client: Any, batch: Batch, queue: BenchQueue, show: bool) -> tuple[int, int, int]:
    """SQL statements of one intake, one duplicate intake and one processing (the batch's first event);
    printed when `show`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from billing_gateway import services as gateway
    from billing_gateway.models import WebhookEvent

    payload = batch.payloads[0]
    with CaptureQueriesContext(connection) as first:
        deliver(client, [(payload, signed(payload))], duplicate=False)
    with CaptureQueriesContext(connection) as again:
        deliver(client, [(payload, signed(payload))], duplicate=True)
    pk = WebhookEvent.objects.get(event_id=batch.event_ids[0]).pk
    queue.delete()
    with CaptureQueriesContext(connection) as processing:
        gateway.event_process(event_pk=pk)
    if show:
        for label, captured in (("intake", first), ("duplicate", again), ("processing", processing)):
            print(f"\n---- SQL of one {label} ({len(captured)} statements)")
            for query in captured.captured_queries:
                print(f"  {query['time']:>6} s  {' '.join(query['sql'].split())[:150]}")
    return len(first), len(again), len(processing)


def profiled(label: str, function: Any, count: int, lines: int, callees: tuple[str, ...] = ()) -> None:
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    function()
    profile.disable()
    elapsed = time.perf_counter() - started
    print(f"\n---- profile: {label}: {count} events in {elapsed:.2f} s under cProfile ({rate(count, elapsed):.0f}/s)")
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order)
        stats.print_stats(lines)
        text = out.getvalue()
        print(f"-- by {order}:")
        print(text[text.find("   ncalls") :].rstrip())
    for name in callees:  # where the time of the application's own functions goes
        out = io.StringIO()
        pstats.Stats(profile, stream=out).strip_dirs().sort_stats("cumulative").print_callees(name)
        text = out.getvalue()
        print(f"-- callees of {name}:")
        print(text[text.find("Function ") :].rstrip())


def profile_run(client: Any, batch: Batch, queue: BenchQueue, published: list[str]) -> None:
    from billing_gateway import services as gateway

    deliveries = [(payload, signed(payload)) for payload in batch.payloads]
    profiled(
        "intake (test client -> view -> event_receive -> .delay)", lambda: deliver(client, deliveries, False),
        len(deliveries), 25, (r"services.py:\d+\(event_receive\)", r"\(apply_async\)", r"\(construct_event\)"),
    )  # fmt: skip
    from billing_gateway.models import WebhookEvent

    pks = list(WebhookEvent.objects.filter(event_id__in=batch.event_ids).order_by("pk").values_list("pk", flat=True))
    queue.delete()
    batch.pks = pks

    company_id = _company_of(batch)
    _set_aside(queue, company_id)

    def work() -> None:
        gateway.events_drain(company_id=company_id)

    profiled(
        "processing in-process (services.events_drain)", work, len(pks), 25,
        (r"\(events_drain\)", r"\(payments_succeeded\)", r"\(online_payments_record\)", r"\(_open_lines_of\)"),
    )  # fmt: skip


# ------------------------------------------------------------------------------------------ checks
def verify(world: dict[str, Any], batches: list[Batch], published: list[str]) -> list[tuple[str, bool]]:
    from django.db.models import Count, Sum

    from billing_gateway.models import EventStatus, WebhookEvent
    from modules.fees.models import BillLine, EntryKind, LedgerEntry, Payment, PaymentMethod
    from wuye.testing.plugin import in_company

    distinct = sum(len(b.event_ids) for b in batches)
    delivered_again = sum(b.duplicates for b in batches)
    statuses = dict(WebhookEvent.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    events_ok = WebhookEvent.objects.count() == distinct and statuses == {EventStatus.PROCESSED: distinct}
    intents = {i for b in batches for i in b.intent_ids}
    paid_bills = [bill[0] for b in batches for bill in b.bills]
    with in_company(world["company"]):
        online = Payment.objects.filter(method=PaymentMethod.ONLINE)
        external = set(online.values_list("external_id", flat=True))
        entries = LedgerEntry.objects.filter(payment__method=PaymentMethod.ONLINE)
        kinds = dict(entries.values_list("kind").annotate(n=Count("pk")).values_list("kind", "n"))
        allocated_ok = kinds == {EntryKind.PAYMENT: distinct} and not entries.filter(line__isnull=True).exists()
        owed = LedgerEntry.objects.filter(line__in=BillLine.objects.filter(bill_id__in=paid_bills)).aggregate(
            total=Sum("amount")
        )["total"]
        paid_total = online.aggregate(total=Sum("amount"))["total"]
        expected_total = sum((bill[2] for b in batches for bill in b.bills), Decimal(0))
        settled_ok = owed == 0 and paid_total == expected_total
        numbers = sorted(int(n) for n in online.values_list("receipt_number", flat=True))
        receipts_ok = numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else False
        online_count = online.count()
        payments_ok = online_count == distinct == len(intents) and external == intents
    return [
        (f"{distinct:,} distinct events delivered: {WebhookEvent.objects.count():,} stored, statuses {statuses}",
         events_ok),
        (f"{distinct:,} online payments, one per PaymentIntent id ({online_count:,} found)", payments_ok),
        (f"each payment allocated to its bill: entries by kind {kinds}, none without a line", allocated_ok),
        (f"the {len(paid_bills):,} bills paid owe nothing (balance {owed}); payments total {paid_total} = "
         f"bills {expected_total}", settled_ok),
        (f"receipt numbers without a gap ({len(numbers):,})", receipts_ok),
        (f"{delivered_again:,} duplicate deliveries: no row stored, no task queued; drains asked "
         f"{len(published):,} for {distinct:,} distinct events", 1 <= len(published) <= distinct),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ the run
def run(options: argparse.Namespace, queue_name: str) -> int:
    from celery.signals import before_task_publish
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from wuye.celery import app

    settings.DEBUG = False  # no query log
    print("==> migrating, provisioning a company, its estate and bills", flush=True)
    started = time.perf_counter()
    batches_needed = 2 * options.rounds + (1 if options.profile else 0) + 1  # + the warm-up batch
    world = setup(options.units, batches_needed * options.events + 1)  # + the batch of one that counts SQL
    from billing_gateway import services as gateway

    # A drain flag an earlier run left (its message deleted with its queue) would hold this run's first ask
    # for up to a minute: the company's ids start again in the new database.
    gateway.drain_flag_clear(world["company"].pk)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(
        f"    {options.units:,} units and accounts, {len(world['bills']):,} open bills "
        f"({world['periods'][0]:%Y-%m} .. {world['periods'][-1]:%Y-%m}), "
        f"set up in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    print(
        f"    Python {sys.version.split()[0]}, PostgreSQL {server}, {os.cpu_count()} CPUs, "
        f"broker {settings.CELERY_BROKER_URL}"
    )

    app.conf.task_always_eager = False  # from here on, tasks go to the broker (the set-up's ran inline)
    queue = BenchQueue(settings.CELERY_BROKER_URL)
    if queue.name != queue_name:
        raise RuntimeError(f"queue {queue.name} is not the configured {queue_name}")
    published: list[str] = []

    def on_publish(sender: Any = None, headers: Any = None, routing_key: Any = None, **_: Any) -> None:
        if sender in ("billing_gateway.tasks.events_drain", "billing_gateway.tasks.event_process"):
            if routing_key != queue_name:
                raise RuntimeError(f"a task went to {routing_key}, not to {queue_name}")
            published.append(str((headers or {}).get("id")))

    before_task_publish.connect(on_publish, weak=False)
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    bills = world["bills"]
    serial = 0

    def next_batch(label: str) -> Batch:
        nonlocal serial
        chunk = bills[serial * options.events : (serial + 1) * options.events]
        serial += 1
        return batch_make(label, chunk, serial)

    try:
        # Warm-up (not in the figures): imports, caches, the first sessions, one worker start.
        print("==> warm-up batch (not counted)", flush=True)
        warm = next_batch("warm-up")
        warm.bills, warm.payloads = warm.bills[:200], warm.payloads[:200]
        warm.event_ids, warm.intent_ids = warm.event_ids[:200], warm.intent_ids[:200]
        intake(client, warm, 20, queue, published)
        process_by_worker(warm, queue, options.timeout)
        done: list[Batch] = [warm]
        rounds: list[tuple[Batch, Batch]] = []
        for number in range(1, options.rounds + 1):
            for mode in ("worker", "in-process"):
                batch = next_batch(f"round {number} {mode}")
                # The in-process round's intake runs in one web process per CPU, the other's in one.
                processes = (os.cpu_count() or 1) if mode == "in-process" else 1
                intake(client, batch, options.duplicates, queue, published, processes=processes)
                if mode.startswith("worker"):
                    process_by_worker(batch, queue, options.timeout)
                    extra = f" (worker's wall clock from its start {batch.worker_wall_s:.1f} s)"
                else:
                    process_in_process(batch, queue)
                    extra = ""
                done.append(batch)
                n = len(batch.pks)
                print(
                    f"    {batch.label:<22} intake ({batch.processes} web) {rate(n, batch.intake_s):6.0f}/s "
                    f"({1000 * batch.intake_s / n:.2f} ms), "
                    f"duplicates {rate(batch.duplicates, batch.duplicates_s):6.0f}/s, "
                    f"processing {rate(n, batch.process_s):6.0f}/s "
                    f"({1000 * batch.process_s / n:.2f} ms){extra}",
                    flush=True,
                )
            rounds.append((done[-2], done[-1]))
        measured = [b for trio in rounds for b in trio]
        query_batch = next_batch("queries")
        query_batch.bills, query_batch.payloads = query_batch.bills[:1], query_batch.payloads[:1]
        query_batch.event_ids, query_batch.intent_ids = query_batch.event_ids[:1], query_batch.intent_ids[:1]
        sql_intake, sql_duplicate, sql_process = queries_per_event(client, query_batch, queue, options.profile)
        done.append(query_batch)
        query_batch.duplicates = 1
        if options.profile:
            extra_batch = next_batch("profile")
            profile_run(client, extra_batch, queue, published)
            done.append(extra_batch)
        checks = verify(world, done, published)
    finally:
        before_task_publish.disconnect(on_publish)
        results = [f"celery-task-meta-{task_id}" for task_id in published]
        for start in range(0, len(results), 1000):
            queue.client.delete(*results[start : start + 1000])

    n = options.events
    intake_s = [b.intake_s for b in measured if b.processes == 1]
    intake_parallel = [rate(len(b.pks), b.intake_s) for b in measured if b.processes > 1]
    dup = [rate(b.duplicates, b.duplicates_s) for b in measured if b.duplicates]
    worker = [rate(len(b.pks), b.process_s) for b, _ in rounds]
    inproc = [rate(len(b.pks), b.process_s) for _, b in rounds]
    intake_rates = [rate(n, s) for s in intake_s]
    print()
    print(
        f"payment_intent.succeeded, {n:,} distinct events a batch, {options.duplicates:,} duplicate deliveries, "
        f"{options.rounds} rounds; company of {options.units:,} household accounts"
    )
    print(f"{'measure':<52} {'n':>3} {'median/s':>9} {'ms/event':>9} {'min/s':>7} {'max/s':>7}")

    def row(label: str, values: list[float]) -> None:
        m = median(values)
        print(f"{label:<52} {len(values):>3} {m:>9.0f} {1000 / m:>9.2f} {min(values):>7.0f} {max(values):>7.0f}")

    row("intake: one web process (info)", intake_rates)
    row(f"intake: {os.cpu_count()} web processes, one per CPU", intake_parallel)
    row("intake: webhook view, duplicate deliveries", dup)
    row("processing: Celery worker, concurrency 1", worker)
    row("processing: events_drain in-process (info)", inproc)
    worker_ms, inproc_ms = 1000 / median(worker), 1000 / median(inproc)
    print(f"broker and worker overhead per event: {worker_ms - inproc_ms:.2f} ms (worker - in-process, medians)")
    print(
        f"SQL statements per event: intake {sql_intake}, duplicate {sql_duplicate}, "
        f"processing one event alone (event_process, the retry's path) {sql_process}"
    )
    print()
    for label, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    targets = [
        (f"intake, a web process per CPU: median {median(intake_parallel):.0f} events/s >= {INTAKE_TARGET:.0f} "
         "events/s", median(intake_parallel) >= INTAKE_TARGET),
        (f"processing, one Celery worker: median {median(worker):.0f} events/s >= {PROCESS_TARGET:.0f} events/s",
         median(worker) >= PROCESS_TARGET),
        (f"processing, in-process: median {median(inproc):.0f} events/s >= {PROCESS_TARGET:.0f} events/s",
         median(inproc) >= PROCESS_TARGET),
    ]  # fmt: skip
    for label, ok in targets:
        print(f"{'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks + targets) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stripe webhook intake and processing benchmark.")
    parser.add_argument("--units", type=int, default=3_000, help="household accounts (default 3,000)")
    parser.add_argument("--events", type=int, default=2_000, help="distinct events per batch (default 2,000)")
    parser.add_argument("--duplicates", type=int, default=1_000, help="duplicate deliveries per batch (1,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (a worker and an in-process batch each)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a worker may take for a batch")
    parser.add_argument("--profile", action="store_true", help="one more batch under cProfile (not counted)")
    options = parser.parse_args(argv)
    if options.rounds < 1 or options.events < 2 or options.units < 1:
        parser.error("--rounds >= 1, --events >= 2, --units >= 1")
    source = os.environ.get("DATABASE_URL")
    if not source:
        print("DATABASE_URL is not set: run `make bench`.", file=sys.stderr)
        return 2
    params = server_params(source)
    name = f"{params.pop('dbname')}_bench_payments"
    if len(name) > 63:
        print(f"database name {name!r} is longer than PostgreSQL's 63 characters", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"==> creating database {name}", flush=True)
    database_create(params, name)
    queue_name = f"wuye-bench-{os.getpid()}"  # BenchQueue's name
    ready = False
    queue: BenchQueue | None = None
    try:
        os.environ["DATABASE_URL"] = bench_url(source, name)
        os.environ.setdefault("WUYE_ENV", "test")
        os.environ.setdefault("WUYE_LOG_LEVEL", "WARNING")
        os.environ["WUYE_EMAIL_URL"] = "locmem:"
        os.environ["WUYE_CELERY_EAGER"] = "true"  # the set-up's few tasks (the invitation) run inline
        os.environ["WUYE_CELERY_QUEUE"] = queue_name  # this process's and the worker's
        os.environ["WUYE_SPARE_POOL_SIZE"] = "0"  # one company: no spare schemas to make
        os.environ["WUYE_STRIPE_WEBHOOK_SECRET"] = SECRET
        os.environ["WUYE_CACHE_PREFIX"] = os.environ.get("WUYE_CACHE_PREFIX", "wuye") + "-bench-payments"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuye.settings")
        import django

        django.setup()
        ready = True
        from django.conf import settings

        if settings.DATABASES["default"]["NAME"] != name:
            raise RuntimeError(f"Django points at {settings.DATABASES['default']['NAME']!r}, not at {name!r}")
        queue = BenchQueue(settings.CELERY_BROKER_URL)
        return run(options, queue_name)
    except Exception:
        traceback.print_exc()
        return 1
    finally:
        if queue is not None:
            queue.delete()
            broker_tidy(queue, os.environ["WUYE_CACHE_PREFIX"])
        if ready:
            from django.db import connections

            connections.close_all()
        database_drop(params, name)
        print(f"==> dropped database {name}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
