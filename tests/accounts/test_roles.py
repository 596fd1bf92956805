"""Roles as data: every company schema's role groups hold exactly what the code grants, kept so by
every migration (post_migrate), so provisioning does not seed them and a release reaches old companies."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.management.sql import emit_post_migrate_signal

from tenants import services as tenant_services
from wuye.accounts import roles
from wuye.accounts.policies import COMPANY_ADMIN
from wuye.accounts.services import roles_sync
from wuye.testing.plugin import CompanyFixture, in_company


def _held(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_a_new_company_has_the_roles_the_code_grants(company_a: CompanyFixture) -> None:
    tenant_services.spare_create()  # by migration, as the refill makes them: the roles come with it
    provisioned = tenant_services.company_create(
        name="角色物业", slug="roleco", admin_email="boss@roleco.test", admin_name="Boss", admin_password=None
    )
    assert provisioned.method == "pool"
    with in_company(provisioned.company):
        assert _held(COMPANY_ADMIN) == set(roles.permissions_of(COMPANY_ADMIN))
        assert {"staff.view_department", "accounts.invite_user"} <= _held(COMPANY_ADMIN)
        assert provisioned.admin.groups.filter(name=COMPANY_ADMIN).exists()


def test_a_migration_brings_roles_back_to_the_code_and_leaves_company_roles(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin_role = Group.objects.get(name=COMPANY_ADMIN)
        granted = Permission.objects.get(content_type__app_label="staff", codename="view_department")
        stray = Permission.objects.get(content_type__app_label="auth", codename="delete_group")
        admin_role.permissions.remove(granted)
        admin_role.permissions.add(stray)
        own = Group.objects.create(name="夜班")
        own.permissions.add(stray)

        # What `wuye migrate` sends in every company schema once its migrations ran.
        emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

        assert _held(COMPANY_ADMIN) == set(roles.permissions_of(COMPANY_ADMIN))
        assert _held("夜班") == {"auth.delete_group"}
        assert roles_sync() == 0  # nothing left to change


def test_roles_sync_refuses_a_grant_of_a_permission_that_does_not_exist(company_a: CompanyFixture, monkeypatch) -> None:
    monkeypatch.setitem(roles._GRANTS, COMPANY_ADMIN, {*roles.permissions_of(COMPANY_ADMIN), "staff.fly_department"})
    with in_company(company_a):
        try:
            roles_sync()
        except RuntimeError as error:
            assert "staff.fly_department" in str(error)
        else:
            raise AssertionError("a grant of an unknown permission was accepted")
        assert _held(COMPANY_ADMIN) == set(roles.permissions_of(COMPANY_ADMIN)) - {"staff.fly_department"}
