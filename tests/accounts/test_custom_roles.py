"""A company makes roles of its own from its administrator's permissions; nobody gives more than they have."""

from __future__ import annotations

import pytest

from modules.staff import services as staff_services
from tests.support import estate
from wuye.accounts import services
from wuye.accounts.models import Role
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.core.models import AuditEntry
from wuye.testing.plugin import CompanyFixture, in_company


@pytest.fixture
def admin(company_a: CompanyFixture):
    with in_company(company_a):
        yield company_a.admin()


def test_a_custom_role_grants_what_it_says_where_it_reaches(company_a: CompanyFixture, api_client, admin) -> None:
    mine, other = estate.unit(admin), estate.unit(admin)
    role = services.role_create(by=admin, name="抄表员", reach="project", permissions=["estate.view_unit"])
    assert not role.is_system and role.group.name.startswith("own_")
    reader = services.user_create(email="reader@roles.test", name="抄表员", password="reader-password-9")
    services.user_roles_set(by=admin, user=reader, roles=[role.group.name])
    staff_services.staff_member_set(by=admin, user=reader, project=mine.project)
    token = services.api_token_create(user=reader, name="t")[1]
    client = api_client(company_a, token)
    ids = {row["id"] for row in client.get("/api/v1/estate/units/").json()["results"]}
    assert ids == {str(mine.pk)}
    assert client.get(f"/api/v1/estate/units/{other.pk}/").status_code == 404
    assert client.patch(f"/api/v1/estate/units/{mine.pk}/", {"status": "vacant"}, format="json").status_code == 403
    assert client.get("/api/v1/estate/buildings/").status_code == 403


def test_permissions_beyond_the_administrators_are_refused(admin) -> None:
    with pytest.raises(ServiceError) as refused:
        services.role_create(by=admin, name="超级", reach="company", permissions=["tenants.delete_company"])
    assert refused.value.code == "permission_unknown" and refused.value.field == "permissions"
    assert not Role.objects.filter(name="超级").exists()


def test_nobody_gives_a_role_that_can_do_more_than_they_can(admin) -> None:
    hr = services.role_create(
        by=admin, name="人事", reach="company", permissions=["accounts.view_user", "accounts.change_user"]
    )
    clerk = services.user_create(email="hr@roles.test", name="人事", password="hr-password-99")
    services.user_roles_set(by=admin, user=clerk, roles=[hr.group.name])
    target = services.user_create(email="target@roles.test", name="目标", password="target-password-9")
    with pytest.raises(PolicyDenied):
        services.user_roles_set(by=clerk, user=target, roles=["company_admin"])
    assert not target.groups.exists()
    services.user_roles_set(by=clerk, user=target, roles=[hr.group.name])  # what they have themselves: fine


def test_the_last_administrator_keeps_the_role(admin) -> None:
    with pytest.raises(ServiceError) as refused:
        services.user_roles_set(by=admin, user=admin, roles=[])
    assert refused.value.code == "last_admin"
    assert admin.groups.filter(name="company_admin").exists()


def test_platform_roles_cannot_be_changed_and_held_roles_not_deleted(admin) -> None:
    system = Role.objects.get(group__name="zone_manager")
    with pytest.raises(ServiceError) as refused:
        services.role_update(by=admin, role=system, name="改名")
    assert refused.value.code == "system_role"
    own = services.role_create(by=admin, name="保洁领班", reach="project", permissions=["estate.view_building"])
    holder = services.user_create(email="holder@roles.test", name="领班", password="holder-password-9")
    services.user_roles_set(by=admin, user=holder, roles=[own.group.name])
    with pytest.raises(ServiceError) as in_use:
        services.role_delete(by=admin, role=own)
    assert in_use.value.code == "role_in_use"
    services.user_roles_set(by=admin, user=holder, roles=[])
    services.role_delete(by=admin, role=own)
    assert not Role.objects.filter(name="保洁领班").exists()
    assert AuditEntry.objects.filter(object_type="accounts.role", action="deleted").exists()


def test_roles_through_the_api(company_a: CompanyFixture, api_client, admin_token) -> None:
    client = api_client(company_a, admin_token(company_a))
    made = client.post(
        "/api/v1/roles/",
        {"name": "车管员", "reach": "project", "permissions": ["estate.view_parkingspace"]},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert made.json()["permissions"] == ["estate.view_parkingspace"] and made.json()["is_system"] is False
    listed = {row["code"]: row for row in client.get("/api/v1/roles/").json()}
    assert listed["zone_manager"]["reach"] == "zone" and listed["zone_manager"]["is_system"] is True
    bad = client.post("/api/v1/roles/", {"name": "x", "reach": "galaxy", "permissions": []}, format="json")
    assert bad.status_code == 400 and "reach" in bad.json()["error"]["fields"]


def test_the_role_and_audit_pages(company_a: CompanyFixture, company_client) -> None:
    page = company_client(company_a)
    with in_company(company_a):
        admin = company_a.admin()
        page.force_login(admin)
        estate.project(admin, name="审计花园")
        outsider = services.user_create(email="nobody@roles.test", name="无权", password="nobody-password-9")
    roles_page = page.get("/staff/roles/")
    assert roles_page.status_code == 200
    created = page.post(
        "/staff/roles/new/",
        {"name": "门岗", "reach": "project", "permissions": ["estate.view_unit"], "description": ""},
    )
    assert created.status_code == 302
    audit = page.get("/audit/")
    assert audit.status_code == 200 and "审计花园" in audit.content.decode()
    with in_company(company_a):
        page.force_login(outsider)
    refused = page.get("/audit/")
    assert refused.status_code == 403 and "审计花园" not in refused.content.decode()


def test_staff_account_changes_are_in_the_audit_log(admin) -> None:
    invited = services.user_invite(
        by=admin, email="audited@roles.test", name="审计对象", roles=["cs_staff"], send=False
    )
    services.user_deactivate(by=admin, user=invited, reason="离职")
    services.user_reactivate(by=admin, user=invited)
    entries = list(AuditEntry.objects.filter(object_id=str(invited.pk)).order_by("at", "id"))
    assert [entry.action for entry in entries] == ["created", "changed", "changed"]
    assert entries[0].changes["roles"] == [None, ["cs_staff"]]
    assert entries[1].changes == {"active": [True, False], "reason": [None, "离职"]}
    assert all(entry.actor_id == admin.pk for entry in entries)
