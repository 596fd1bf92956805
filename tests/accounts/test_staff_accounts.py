"""A company admin invites, deactivates and resets staff accounts; staff sign in and use tokens."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from wuye.accounts import services
from wuye.accounts.models import ApiToken, User
from wuye.core.errors import PolicyDenied, ServiceError
from wuye.testing.factories import UserFactory
from wuye.testing.plugin import CompanyFixture, in_company


def _signed_in(company_client, company: CompanyFixture):
    client = company_client(company)
    assert (
        client.post(
            "/accounts/login/", {"username": company.admin_email, "password": company.admin_password}
        ).status_code
        == 302
    )
    return client


def _link_in(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://[^\s]+/accounts/link/[^\s]+/", message.body)
    assert match, message.body
    return match.group(0)


def test_invitation_from_the_portal_to_first_sign_in(
    company_a: CompanyFixture, company_client, django_capture_on_commit_callbacks
) -> None:
    admin = _signed_in(company_client, company_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/staff/invite/", {"name": "王小明", "email": "Xiaoming@Example.test", "phone": "13800138000"}
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["xiaoming@example.test"]
    link = _link_in(message)
    assert link.startswith(f"http://{company_a.host}:8000/accounts/link/")
    assert "Alpha 物业" in message.subject

    path = link.split(":8000", 1)[1]
    newcomer = company_client(company_a)
    assert newcomer.get(path).status_code == 200
    response = newcomer.post(path, {"password": "a-new-good-password", "password_again": "a-new-good-password"})
    assert response.status_code == 302
    assert newcomer.get("/").status_code == 200
    # The link is spent once the password is set.
    assert company_client(company_a).get(path).status_code == 404
    signin = company_client(company_a).post(
        "/accounts/login/", {"username": "XIAOMING@example.test", "password": "a-new-good-password"}
    )
    assert signin.status_code == 302


def test_a_weak_password_is_refused_on_the_link_page(company_a: CompanyFixture, company_client) -> None:
    from wuye.accounts.tokens import encode_uid, link_tokens

    with in_company(company_a):
        user = services.user_invite(by=company_a.admin(), email="weak@example.test", name="Weak", send=False)
        path = f"/accounts/link/{encode_uid(user.pk)}/{link_tokens.make_token(user)}/"
    response = company_client(company_a).post(path, {"password": "123", "password_again": "123"})
    assert response.status_code == 200
    with in_company(company_a):
        assert not User.objects.get(pk=user.pk).has_usable_password()


def test_inviting_needs_the_permission_and_a_fresh_email(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        clerk = UserFactory()
        with pytest.raises(PolicyDenied):
            services.user_invite(by=clerk, email="x@example.test", name="X")
        with pytest.raises(ServiceError) as taken:
            services.user_invite(by=company_a.admin(), email=company_a.admin_email.upper(), name="Dup")
        assert taken.value.code == "email_taken"
        with pytest.raises(ServiceError) as bad:
            services.user_invite(by=company_a.admin(), email="not an email", name="X")
        assert bad.value.code == "invalid_email"
        assert not User.objects.filter(name="X").exists()


def test_a_staff_member_without_the_permission_cannot_see_staff(company_a: CompanyFixture, company_client) -> None:
    with in_company(company_a):
        UserFactory(email="clerk@alpha.test")
    client = company_client(company_a)
    client.post("/accounts/login/", {"username": "clerk@alpha.test", "password": "correct-horse-battery"})
    assert client.get("/").status_code == 200
    assert client.get("/staff/").status_code == 403
    assert client.get("/staff/invite/").status_code == 403


def test_deactivation_stops_sessions_and_tokens(company_a: CompanyFixture, company_client, api_client) -> None:
    with in_company(company_a):
        member = UserFactory(email="leaver@alpha.test")
        _token, raw = services.api_token_create(user=member, name="phone")
    member_client = company_client(company_a)
    member_client.post("/accounts/login/", {"username": "leaver@alpha.test", "password": "correct-horse-battery"})
    assert member_client.get("/").status_code == 200
    assert api_client(company_a, raw).get("/api/v1/me/").status_code == 200

    admin = _signed_in(company_client, company_a)
    assert admin.post(f"/staff/{member.pk}/deactivate/").status_code == 302

    assert member_client.get("/").status_code == 302
    assert api_client(company_a, raw).get("/api/v1/me/").status_code == 401
    with in_company(company_a):
        assert ApiToken.objects.get(user=member).revoked_at is not None
    assert (
        company_client(company_a)
        .post("/accounts/login/", {"username": "leaver@alpha.test", "password": "correct-horse-battery"})
        .status_code
        == 200
    )

    assert admin.post(f"/staff/{member.pk}/reactivate/").status_code == 302
    with in_company(company_a):
        assert User.objects.get(pk=member.pk).is_active


def test_an_admin_cannot_deactivate_themselves(company_a: CompanyFixture) -> None:
    with in_company(company_a):
        admin = company_a.admin()
        with pytest.raises(ServiceError) as own:
            services.user_deactivate(by=admin, user=admin)
        assert own.value.code == "self_deactivation"
        second = UserFactory(roles=["company_admin"])
        services.user_deactivate(by=second, user=admin)  # allowed: another admin remains
        assert not User.objects.get(pk=admin.pk).is_active
        services.user_reactivate(by=second, user=admin)
        assert User.objects.get(pk=admin.pk).is_active


def test_the_last_active_admin_is_protected(company_a: CompanyFixture) -> None:
    from django.contrib.auth.models import Group, Permission

    with in_company(company_a):
        admin = company_a.admin()
        # An operator role that may deactivate staff but is not an admin.
        group = Group.objects.create(name="hr")
        group.permissions.add(Permission.objects.get(codename="deactivate_user"))
        hr = UserFactory()
        hr.groups.add(group)
        with pytest.raises(ServiceError) as last:
            services.user_deactivate(by=hr, user=admin)
        assert last.value.code == "last_admin"
        assert User.objects.get(pk=admin.pk).is_active


def test_password_reset_sent_by_an_admin(
    company_a: CompanyFixture, company_client, django_capture_on_commit_callbacks
) -> None:
    with in_company(company_a):
        member = UserFactory(email="forgetful@alpha.test", language="en")
    admin = _signed_in(company_client, company_a)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/staff/{member.pk}/password-reset/")
    assert len(mail.outbox) == 1
    assert "new password" in mail.outbox[0].subject  # in the member's language
    path = _link_in(mail.outbox[0]).split(":8000", 1)[1]
    client = company_client(company_a)
    client.post(path, {"password": "another-good-pass-1", "password_again": "another-good-pass-1"})
    assert (
        company_client(company_a)
        .post("/accounts/login/", {"username": "forgetful@alpha.test", "password": "another-good-pass-1"})
        .status_code
        == 302
    )


def test_forgot_password_does_not_reveal_who_has_an_account(
    company_a: CompanyFixture, company_client, django_capture_on_commit_callbacks
) -> None:
    client = company_client(company_a)
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/accounts/forgot-password/", {"email": company_a.admin_email})
        unknown = client.post("/accounts/forgot-password/", {"email": "nobody@alpha.test"})
    assert known.status_code == unknown.status_code == 200
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [company_a.admin_email]


def test_sign_in_is_throttled_after_ten_failures(company_a: CompanyFixture, company_client) -> None:
    from django.core.cache import cache

    client = company_client(company_a)
    try:
        for _ in range(10):
            client.post("/accounts/login/", {"username": company_a.admin_email, "password": "wrong"})
        response = client.post(
            "/accounts/login/", {"username": company_a.admin_email, "password": company_a.admin_password}
        )
        assert response.status_code == 200
        assert not response.wsgi_request.user.is_authenticated
    finally:
        with in_company(company_a):
            cache.delete(f"signin-failures:{company_a.admin_email}")


def test_api_tokens_are_issued_listed_and_revoked(company_a: CompanyFixture, api_client) -> None:
    anonymous = api_client(company_a)
    wrong = anonymous.post("/api/v1/auth/tokens/", {"email": company_a.admin_email, "password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    created = anonymous.post(
        "/api/v1/auth/tokens/",
        {"email": company_a.admin_email, "password": company_a.admin_password, "name": "cli", "expires_in_days": 30},
    )
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith(f"wy_{company_a.schema_name}_")
    client = api_client(company_a, raw)
    tokens = client.get("/api/v1/auth/tokens/").json()
    assert [t["name"] for t in tokens] == ["cli"]
    with in_company(company_a):
        # Only the hash is stored. (The secret itself may contain "_": cut the prefix off, not at the last "_".)
        secret = raw.removeprefix(f"wy_{company_a.schema_name}_")
        assert len(secret) >= 32
        assert not ApiToken.objects.filter(key_hash__contains=secret).exists()
    assert client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401


def test_api_errors_share_one_shape(company_a: CompanyFixture, api_client, admin_token) -> None:
    client = api_client(company_a, admin_token(company_a))
    invalid = client.post("/api/v1/users/", {"email": "nope", "name": ""})
    assert invalid.status_code == 400
    body = invalid.json()["error"]
    assert body["code"] == "invalid" and set(body["fields"]) == {"email", "name"}
    missing = client.get("/api/v1/users/00000000-0000-7000-8000-000000000000/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    anonymous = api_client(company_a).get("/api/v1/me/")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "not_authenticated"


def test_staff_api_lists_invites_and_orders(
    company_a: CompanyFixture, api_client, admin_token, django_capture_on_commit_callbacks
) -> None:
    client = api_client(company_a, admin_token(company_a))
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/users/",
            {"email": "api-invite@alpha.test", "name": "Api Invite", "roles": ["company_admin"]},
            format="json",
        )
    assert created.status_code == 201
    assert created.json()["status"] == "invited" and created.json()["roles"] == ["company_admin"]
    assert len(mail.outbox) == 1
    listed = client.get("/api/v1/users/", {"ordering": "-email"}).json()
    emails = [u["email"] for u in listed["results"]]
    assert emails == sorted(emails, reverse=True) and "api-invite@alpha.test" in emails
    bad_role = client.post(
        "/api/v1/users/", {"email": "r@alpha.test", "name": "R", "roles": ["emperor"]}, format="json"
    )
    assert bad_role.status_code == 400
    assert list(bad_role.json()["error"]["fields"]) == ["roles"] and "emperor" in bad_role.json()["error"]["message"]


def test_the_language_switch_is_remembered(company_a: CompanyFixture, company_client) -> None:
    client = _signed_in(company_client, company_a)
    assert client.get("/").headers["Content-Language"] == "zh-hans"
    client.post("/i18n/language/", {"language": "en", "next": "/staff/"})
    page = client.get("/staff/")
    assert page.headers["Content-Language"] == "en"
    assert "Staff accounts" in page.content.decode()
    with in_company(company_a):
        assert company_a.admin().language == "en"
