"""Provisioning: from the warm pool, the clone fallback, seeding, slugs, and all-or-nothing."""

from __future__ import annotations

import pytest
from django.db import connection

from tenants import schemas, services
from tenants.models import Company, CompanyEvent, Domain, PooledSchema, PooledSchemaKind
from wuye.accounts.models import User
from wuye.core import seeding
from wuye.core.errors import ServiceError
from wuye.testing.plugin import in_company

pytestmark = pytest.mark.usefixtures("company_a")


def _create(slug: str, **kwargs: object) -> services.Provisioned:
    return services.company_create(
        name=kwargs.pop("name", "测试物业"),
        slug=slug,
        admin_email=kwargs.pop("admin_email", f"boss@{slug}.test"),
        admin_name="Boss",
        admin_password=kwargs.pop("admin_password", "a-strong-password-9"),
        **kwargs,  # type: ignore[arg-type]
    )


def _spares() -> list[str]:
    return list(PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).values_list("schema_name", flat=True))


def test_a_company_takes_a_spare_schema_and_queues_the_refill(django_capture_on_commit_callbacks, settings) -> None:
    settings.SPARE_POOL_SIZE = 1
    spare = services.spare_create(method="clone")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _create("poolco")
    assert result.method == "pool"
    # The spare was renamed: its old name is gone, the company's schema exists.
    assert not schemas.exists(spare.schema_name)
    assert schemas.exists("c_poolco")
    assert not PooledSchema.objects.filter(pk=spare.pk).exists()
    # One callback on commit: the refill, which (run inline here) filled the pool back up.
    assert len(callbacks) == 1
    assert len(_spares()) == 1 and _spares()[0] != spare.schema_name
    event = CompanyEvent.objects.get(company=result.company, kind="created")
    assert event.details["method"] == "pool"


def test_an_empty_pool_falls_back_to_cloning_the_template() -> None:
    for spare in PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE):
        schemas.drop(spare.schema_name)
        spare.delete()
    result = _create("cloneco")
    assert result.method == "clone"
    with in_company(result.company):
        assert User.objects.filter(email="boss@cloneco.test").exists()


def test_spares_of_older_code_are_not_handed_out() -> None:
    stale = services.spare_create(method="clone")
    PooledSchema.objects.filter(pk=stale.pk).update(fingerprint="0" * 64)
    PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).exclude(pk=stale.pk).delete()
    result = _create("freshco")
    assert result.method == "clone"
    assert schemas.exists(stale.schema_name)  # untouched, to be discarded by the next refill


def test_defaults_are_seeded_in_the_company_language() -> None:
    from modules.staff.models import Department, Position

    zh = _create("zhco")
    en = _create("enco", language="en")
    with in_company(zh.company):
        assert set(Department.objects.values_list("code", flat=True)) >= {
            "customer_service",
            "security",
            "engineering",
            "finance",
            "cleaning",
            "landscaping",
        }
        assert Position.objects.get(code="zone_manager").reports_to.code == "cs_manager"
        assert Position.objects.get(code="cs_manager").reports_to.code == "project_manager"
        assert Department.objects.get(code="customer_service").name == "客户服务部"
        admin = User.objects.get(email="boss@zhco.test")
        assert admin.has_perm("accounts.invite_user") and admin.has_perm("staff.view_department")
    with in_company(en.company):
        assert Department.objects.get(code="customer_service").name == "Customer service department"


def test_the_company_is_served_at_its_slug_domain() -> None:
    result = _create("hostco")
    assert Domain.objects.get(tenant=result.company, is_primary=True).domain == "hostco.localhost"
    assert result.company.currency == "CNY"
    assert result.company.timezone == "Asia/Shanghai"
    assert result.company.language == "zh-hans"
    assert result.company.status == "active"


@pytest.mark.parametrize(
    ("slug", "code"),
    [
        ("", "slug_required"),
        ("a", "slug_length"),
        ("x" * 41, "slug_length"),
        ("bad_slug", "slug_format"),
        ("-lead", "slug_format"),
        ("trail-", "slug_format"),
        ("double--hyphen", "slug_format"),
        ("9lives", "slug_format"),
        ("物业", "slug_format"),
        ("www", "slug_reserved"),
        ("api", "slug_reserved"),
        ("admin", "slug_reserved"),
        ("public", "slug_reserved"),
        ("alpha", "slug_taken"),
        ("ALPHA", "slug_taken_case"),
        ("Alpha", "slug_taken_case"),
    ],
)
def test_bad_slugs_are_refused_with_their_reason(slug: str, code: str) -> None:
    before = (Company.objects.count(), Domain.objects.count(), len(_spares()))
    with pytest.raises(ServiceError) as refused:
        _create(slug)
    assert refused.value.code == code
    assert refused.value.field == "slug"
    assert refused.value.message
    assert (Company.objects.count(), Domain.objects.count(), len(_spares())) == before


def test_bad_settings_are_refused() -> None:
    for kwargs, code in [
        ({"name": "  "}, "name_required"),
        ({"currency": "rmb"}, "currency_invalid"),
        ({"timezone_name": "Mars/Olympus"}, "timezone_invalid"),
        ({"language": "fr"}, "language_invalid"),
    ]:
        with pytest.raises(ServiceError) as refused:
            _create("okslug", **kwargs)
        assert refused.value.code == code


def test_a_failure_part_way_leaves_nothing_and_returns_the_spare() -> None:
    spare = services.spare_create(method="clone")
    PooledSchema.objects.filter(kind=PooledSchemaKind.SPARE).exclude(pk=spare.pk).delete()

    def broken(context: seeding.SeedContext) -> None:
        raise RuntimeError("seeding failed")

    seeding.register_seeder("zz.broken", broken, order=9999)
    try:
        with pytest.raises(RuntimeError, match="seeding failed"):
            _create("halfway")
    finally:
        seeding._SEEDERS.pop("zz.broken")
    connection.set_schema_to_public()
    assert not Company.objects.filter(slug="halfway").exists()
    assert not Domain.objects.filter(domain="halfway.localhost").exists()
    assert not schemas.exists("c_halfway")
    assert not CompanyEvent.objects.filter(details__admin="boss@halfway.test").exists()
    # The spare is back in the pool, under its own name, and still usable.
    assert _spares() == [spare.schema_name]
    assert schemas.exists(spare.schema_name)
    assert _create("afterwards").method == "pool"


def test_a_bad_admin_email_rolls_the_company_back() -> None:
    with pytest.raises(ServiceError) as refused:
        _create("mailco", admin_email="not-an-email")
    assert refused.value.code == "invalid_email"
    assert not Company.objects.filter(slug="mailco").exists()
    assert not schemas.exists("c_mailco")


def test_the_database_refuses_a_malformed_slug_even_without_the_service() -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.create(name="x", slug="Bad Slug", schema_name="c_bad")
