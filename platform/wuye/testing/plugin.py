"""Fixtures for tests on real PostgreSQL schemas and real Redis.

- Two companies, `alpha` and `beta`, are provisioned once per test session (through the real
  provisioning service) and shared; each has an administrator with a known password.
- Tests that use the `db` fixture (or any fixture below that needs it) run in a transaction that is
  rolled back; the schema is reset to public after every test.
- Tests that need committed data (a real Celery worker, a second connection) use `committed_db` and
  clean up after themselves; mark them `@pytest.mark.committed`.
- Celery tasks run inline (eager) unless a test asks for `celery_worker`, a real worker process
  consuming a queue of its own on the real Redis.
- `stripe_emulator` is Stripe for the payment tests: `wuye.testing.stripe_emulator` (localstripe with
  Connect, idempotency and signed webhooks) in a process of its own, once per session.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode, urlparse, urlunparse
from urllib.request import HTTPRedirectHandler, Request, build_opener, urlopen

import pytest

from wuye.core.tenancy import use_public_schema

ADMIN_PASSWORD = "test-admin-password-1"  # noqa: S105  (test companies only)
COMPANY_SLUGS = ("alpha", "beta")


@dataclass
class CompanyFixture:
    """A company of the test session with its first administrator."""

    company: Any
    admin_email: str
    admin_password: str
    admin_id: Any

    @property
    def host(self) -> str:
        from django.conf import settings

        return f"{self.company.slug}.{settings.BASE_DOMAIN}"

    @property
    def schema_name(self) -> str:
        return str(self.company.schema_name)

    def admin(self) -> Any:
        """The administrator's user row (call inside `in_company`)."""
        from wuye.accounts.models import User

        return User.objects.get(pk=self.admin_id)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("WUYE_ENV", "test")


@pytest.fixture(scope="session", autouse=True)
def _celery_eager() -> Iterator[None]:
    from wuye.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest, django_test_environment: None, django_db_blocker: Any
) -> Iterator[None]:
    """The test database, always created (tests/conftest.py puts this in place of pytest-django's).

    pytest-django creates it only when a collected test asks for `db`; tests that need committed data
    (`committed_db`) do not, and would otherwise run against the real database."""
    from django.test.utils import setup_databases, teardown_databases

    verbosity = request.config.option.verbose
    with django_db_blocker.unblock():
        config = setup_databases(
            verbosity=verbosity, interactive=False, aliases={"default": True}, serialized_aliases=set()
        )
    yield
    with django_db_blocker.unblock():
        from django.db import connection

        # A worker process or the live server's threads may still hold a session for a moment; the
        # test database cannot be dropped while they do.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(config, verbosity=verbosity)


@pytest.fixture(scope="session")
def companies(django_db_setup: None, django_db_blocker: Any) -> dict[str, CompanyFixture]:
    """alpha and beta, provisioned once for the session, committed."""
    from django.db import connection

    from tenants import services

    result = {}
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        assert name.startswith("test_"), f"refusing to provision test companies in {name!r}, not a test database"
        use_public_schema()
        services.template_ensure()
        for slug in COMPANY_SLUGS:
            provisioned = services.company_create(
                name=f"{slug.title()} 物业",
                slug=slug,
                admin_email=f"admin@{slug}.test",
                admin_name=f"{slug.title()} Admin",
                admin_password=ADMIN_PASSWORD,
            )
            result[slug] = CompanyFixture(
                company=provisioned.company,
                admin_email=provisioned.admin.email,
                admin_password=ADMIN_PASSWORD,
                admin_id=provisioned.admin.pk,
            )
    return result


@pytest.fixture
def company_a(companies: dict[str, CompanyFixture], db: None) -> CompanyFixture:
    return companies["alpha"]


@pytest.fixture
def company_b(companies: dict[str, CompanyFixture], db: None) -> CompanyFixture:
    return companies["beta"]


@pytest.fixture(autouse=True)
def _sms_outbox_emptied() -> Iterator[None]:
    """Like Django's mail.outbox: every test starts with no text message sent."""
    from wuye.core import sms

    sms.outbox.clear()
    yield


@pytest.fixture(autouse=True)
def _public_schema_after_test() -> Iterator[None]:
    yield

    with contextlib.suppress(Exception):
        use_public_schema()


@contextlib.contextmanager
def in_company(test_company: CompanyFixture | Any) -> Iterator[None]:
    """Run the block in the company's schema."""
    from django_tenants.utils import schema_context

    company = getattr(test_company, "company", test_company)
    with schema_context(company.schema_name):
        yield


@pytest.fixture
def company_client() -> Any:
    """company_client(company) -> a Django test client whose requests go to the company's host."""
    from django.test import Client

    def make(test_company: CompanyFixture) -> Client:
        return Client(HTTP_HOST=test_company.host)

    return make


@pytest.fixture
def vendor_client(db: None) -> Any:
    """A client at the bare base domain, signed in as a vendor operator."""
    from django.conf import settings
    from django.test import Client

    from wuye.accounts import services
    from wuye.accounts.models import UserKind

    use_public_schema()
    vendor = services.user_create(
        email="operator@vendor.test", name="Operator", password=ADMIN_PASSWORD, kind=UserKind.VENDOR, is_staff=True
    )
    client = Client(HTTP_HOST=settings.BASE_DOMAIN)
    client.force_login(vendor)
    return client


@pytest.fixture
def api_client() -> Any:
    """api_client(company, token=None) -> a DRF client for the company's host, optionally with a token."""
    from rest_framework.test import APIClient

    def make(test_company: CompanyFixture, token: str | None = None) -> APIClient:
        client = APIClient(HTTP_HOST=test_company.host)
        if token:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


@pytest.fixture
def admin_token(db: None) -> Any:
    """admin_token(company) -> a fresh API token of the company's administrator."""
    from wuye.accounts import services

    def make(test_company: CompanyFixture) -> str:
        with in_company(test_company):
            _token, raw = services.api_token_create(user=test_company.admin(), name="test")
        return raw

    return make


@pytest.fixture
def committed_db(companies: dict[str, CompanyFixture], django_db_blocker: Any) -> Iterator[None]:
    """Database access without the rolled-back transaction: what the test writes is committed and
    visible to other processes. The test must remove what it made."""
    with django_db_blocker.unblock():
        yield


def _test_database_url() -> str:
    from django.db import connection

    parsed = urlparse(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/wuye"))
    return urlunparse(parsed._replace(path="/" + connection.settings_dict["NAME"]))


@dataclass
class WorkerHandle:
    queue: str
    process: subprocess.Popen[bytes]


@pytest.fixture(scope="session")
def _celery_worker_process(companies: dict[str, CompanyFixture]) -> Iterator[WorkerHandle]:
    from wuye.celery import app

    queue = f"wuye-test-{uuid.uuid4().hex[:8]}"
    node = f"{queue}@{os.uname().nodename}"
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "WUYE_CELERY_QUEUE": queue, "WUYE_ENV": "test"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wuye.celery",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-l",
            "WARNING",
            "--include",
            "tests.support.celery_tasks",
            "-n",
            node,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[node], timeout=0.5):
            if process.poll() is not None:
                raise RuntimeError("the Celery worker exited at start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not answer within 60 s")
        yield WorkerHandle(queue=queue, process=process)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def celery_worker(_celery_worker_process: WorkerHandle) -> Iterator[WorkerHandle]:
    """A real Celery worker process on the real Redis broker, on a queue of its own (send to
    `celery_worker.queue`), pointed at the test database. Started once per session; while a test holds
    this fixture, tasks are not run inline."""
    from wuye.celery import app

    app.conf.task_always_eager = False
    try:
        yield _celery_worker_process
    finally:
        app.conf.task_always_eager = True


# ---------------------------------------------------------------- browser (headless Chromium)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


@dataclass
class LiveServer:
    port: int

    def url(self, test_company: CompanyFixture | None = None, path: str = "/") -> str:
        from django.conf import settings

        host = test_company.host if test_company is not None else settings.BASE_DOMAIN
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def company_live_server(companies: dict[str, CompanyFixture], django_db_blocker: Any) -> Iterator[LiveServer]:
    """The real WSGI app on a free port, in a thread with its own database connection: it sees committed
    data only (the session's companies, and what `committed_db` tests write). Browsers reach a company at
    http://<slug>.localhost:<port>/ (Chromium resolves *.localhost to this machine)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    django_db_blocker.unblock()
    thread = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=None, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield LiveServer(port=thread.port)
    finally:
        thread.terminate()
        django_db_blocker.restore()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright. Skipped where no Chromium is installed (CI installs it)."""
    executable = next((path for path in CHROMIUM_CANDIDATES if Path(path).exists()), None)
    if executable is None:
        pytest.skip("no Chromium here: `apt-get install chromium` (CI does) to run browser tests")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django would take the test's own ORM
    # calls for async code. They are not: they run between browser steps, one at a time.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            yield launched
        finally:
            launched.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@dataclass
class CompanyPage:
    """A browser page bound to one company's address (or the vendor console's, for company None)."""

    page: Any
    live_server: LiveServer
    company: CompanyFixture | None

    def open(self, path: str = "/") -> Any:
        return self.page.goto(self.live_server.url(self.company, path))


@pytest.fixture
def browser_for(browser: Any, company_live_server: LiveServer) -> Iterator[Any]:
    """browser_for(company, language="zh-CN") -> a CompanyPage in a fresh browser context (own cookies)."""
    contexts: list[Any] = []

    def make(test_company: CompanyFixture | None, language: str = "zh-CN") -> CompanyPage:
        context = browser.new_context(locale=language)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return CompanyPage(page=page, live_server=company_live_server, company=test_company)

    yield make
    for context in contexts:
        context.close()


# ---------------------------------------------------------------- Stripe (the emulator)
class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 302 itself is the answer


@dataclass
class StripeEmulator:
    """The running emulator: `url` is the API base (`base_addresses={"api": url}`), the keys are accepted by
    it. Helpers play what is not an API call of ours: Stripe delivering webhooks to us, the owner's browser
    (Stripe.js) confirming a payment, the company's admin finishing Stripe's onboarding."""

    url: str
    secret_key: str
    publishable_key: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        """A `stripe.StripeClient` on the emulator, without retries."""
        import stripe

        return stripe.StripeClient(self.secret_key, base_addresses={"api": self.url}, max_network_retries=0)

    def http(
        self, method: str, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """A raw request to the emulator (form-encoded), as a browser or Stripe.js would make it: (status, JSON)."""
        body = urlencode(params or {}).encode() if method == "POST" else None
        request = Request(self.url + path, data=body, method=method, headers=headers or {})  # noqa: S310  (our own http://127.0.0.1 emulator)
        try:
            with urlopen(request, timeout=10) as answer:  # noqa: S310  (idem)
                return answer.status, json.loads(answer.read() or b"{}")
        except HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def webhooks_to(self, url: str, secret: str) -> None:
        """Deliver every event to `url`, signed with `secret` (one endpoint per url)."""
        status, _answer = self.http("POST", f"/_config/webhooks/{self._endpoint(url)}", {"url": url, "secret": secret})
        assert status == 200, f"the emulator refused the webhook endpoint {url}: {status}"

    def webhooks_stop(self, url: str) -> None:
        """No more deliveries to `url`."""
        status, _answer = self.http("DELETE", f"/_config/webhooks/{self._endpoint(url)}")
        assert status == 200, f"the emulator kept the webhook endpoint {url}: {status}"

    @staticmethod
    def _endpoint(url: str) -> str:
        return "we_" + uuid.uuid5(uuid.NAMESPACE_URL, url).hex[:16]

    def confirm(self, intent_id: str, *, account: str | None, card: str = "4242424242424242") -> dict[str, Any]:
        """Confirm a PaymentIntent the way Stripe.js does in the owner's browser: the publishable key, the
        intent's client secret and the card (`payment_method_data`), the connected account as
        `_stripe_account`. Returns Stripe's answer: the intent, or {"error": {..., "payment_intent": ...}}
        when the card is declined."""
        headers = {"Authorization": f"Bearer {self.secret_key}"}
        if account:
            headers["Stripe-Account"] = account
        status, intent = self.http("GET", f"/v1/payment_intents/{intent_id}", headers=headers)
        assert status == 200, f"no payment intent {intent_id} on {account}: {intent}"
        params = {
            "key": self.publishable_key,
            "client_secret": intent["client_secret"],
            "payment_method_data[type]": "card",
            "payment_method_data[card][number]": card,
            "payment_method_data[card][exp_month]": "12",
            "payment_method_data[card][exp_year]": str(time.gmtime().tm_year + 3),
            "payment_method_data[card][cvc]": "123",
            "return_url": "http://localhost/return",
        }
        if account:
            params["_stripe_account"] = account
        _status, answer = self.http("POST", f"/v1/payment_intents/{intent_id}/confirm", params)
        return answer

    def complete_onboarding(self, link_url: str, *, outcome: str = "complete") -> str:
        """Finish (or, with outcome="incomplete", abandon) Stripe's hosted onboarding behind an account
        link; returns where Stripe sends the browser back (the link's return_url, or refresh_url when the
        link expired or was used)."""
        separator = "&" if "?" in link_url else "?"
        opener = build_opener(_NoRedirect)
        try:
            opener.open(f"{link_url}{separator}{urlencode({'outcome': outcome})}", timeout=10)
        except HTTPError as error:
            if error.code == 302:
                return str(error.headers["Location"])
            raise
        raise AssertionError(f"the onboarding link {link_url} did not redirect")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def stripe_emulator() -> Iterator[StripeEmulator]:
    """Stripe's API, Connect and webhooks, emulated in a process of its own on a free port (no state on
    disk: each session starts empty). Use the real `stripe` library against it: `stripe_emulator.client()`."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "wuye.testing.stripe_emulator", "--host", "127.0.0.1", "--port", str(port)]
    )
    emulator = StripeEmulator(
        url=f"http://127.0.0.1:{port}",
        secret_key="sk_test_" + secrets.token_hex(12),
        publishable_key="pk_test_" + secrets.token_hex(12),
        process=process,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urlopen(f"{emulator.url}/_harness/health", timeout=1) as answer:  # noqa: S310  (our emulator)
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None:
                raise RuntimeError("the Stripe emulator exited at start-up")
            if time.monotonic() > deadline:
                raise RuntimeError("the Stripe emulator did not answer within 30 s")
            time.sleep(0.05)
        yield emulator
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
