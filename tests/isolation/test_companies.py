"""Isolation between companies: accounts, sessions, tokens and objects of one are unknown to another."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from wuye.accounts import services
from wuye.accounts.signals import SESSION_SCHEMA_KEY
from wuye.testing.plugin import CompanyFixture, in_company


def test_a_user_of_a_cannot_sign_in_at_b(company_a: CompanyFixture, company_b: CompanyFixture, company_client) -> None:
    at_b = company_client(company_b)
    response = at_b.post("/accounts/login/", {"username": company_a.admin_email, "password": company_a.admin_password})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated
    assert at_b.get("/").status_code == 302
    # The same credentials work at A: the refusal at B is about the company, not the password.
    at_a = company_client(company_a)
    assert (
        at_a.post(
            "/accounts/login/", {"username": company_a.admin_email, "password": company_a.admin_password}
        ).status_code
        == 302
    )


def test_a_session_cookie_of_a_is_refused_at_b(company_a: CompanyFixture, company_b: CompanyFixture) -> None:
    client = Client(HTTP_HOST=company_a.host)
    client.post("/accounts/login/", {"username": company_a.admin_email, "password": company_a.admin_password})
    assert client.get("/staff/").status_code == 200
    # The test client sends its cookies to any host: present A's session cookie at B.
    response = client.get("/staff/", HTTP_HOST=company_b.host)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    response = client.get("/api/v1/me/", HTTP_HOST=company_b.host)
    assert response.status_code in (401, 403)


def test_a_session_opened_for_a_is_refused_even_if_found_at_b(
    company_a: CompanyFixture, company_b: CompanyFixture
) -> None:
    """Were a session store shared (a cache engine), a session opened at A would be readable at B: the
    binding refuses it anyway."""

    def session_bound_to(schema_name: str) -> str:
        with in_company(company_b):
            b_admin = company_b.admin()
            store = SessionStore()
            store["_auth_user_id"] = str(b_admin.pk)
            store["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
            store["_auth_user_hash"] = b_admin.get_session_auth_hash()
            store[SESSION_SCHEMA_KEY] = schema_name
            store.create()
            return str(store.session_key)

    client = Client(HTTP_HOST=company_b.host)
    client.cookies["wuye_session"] = session_bound_to(company_a.schema_name)
    assert client.get("/staff/").status_code == 302
    # The same session, bound to B, is accepted: the refusal is the binding's doing.
    client.cookies["wuye_session"] = session_bound_to(company_b.schema_name)
    assert client.get("/staff/").status_code == 200


def test_an_api_token_of_a_is_refused_at_b(
    company_a: CompanyFixture, company_b: CompanyFixture, api_client, admin_token
) -> None:
    token = admin_token(company_a)
    assert api_client(company_a, token).get("/api/v1/me/").json()["email"] == company_a.admin_email
    response = api_client(company_b, token).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_of_another_company"


def test_a_token_rewritten_to_name_b_is_still_refused(
    company_a: CompanyFixture, company_b: CompanyFixture, api_client, admin_token
) -> None:
    token = admin_token(company_a)
    forged = token.replace(company_a.schema_name, company_b.schema_name, 1)
    assert api_client(company_b, forged).get("/api/v1/me/").status_code == 401


def test_a_user_of_a_is_not_found_through_bs_api(
    company_a: CompanyFixture, company_b: CompanyFixture, api_client, admin_token
) -> None:
    with in_company(company_a):
        a_user = services.user_invite(by=company_a.admin(), email="only-at-a@example.test", name="Only A", send=False)
    b_api = api_client(company_b, admin_token(company_b))
    assert b_api.get(f"/api/v1/users/{a_user.pk}/").status_code == 404
    assert b_api.post(f"/api/v1/users/{a_user.pk}/deactivate/").status_code == 404
    listed = [u["email"] for u in b_api.get("/api/v1/users/").json()["results"]]
    assert "only-at-a@example.test" not in listed
    # ...while A's own API finds it.
    assert api_client(company_a, admin_token(company_a)).get(f"/api/v1/users/{a_user.pk}/").status_code == 200


def test_an_invitation_link_of_a_does_not_work_at_b(company_a: CompanyFixture, company_b: CompanyFixture) -> None:
    from wuye.accounts.tokens import encode_uid, link_tokens

    with in_company(company_a):
        user = services.user_invite(by=company_a.admin(), email="link@example.test", name="Link", send=False)
        path = f"/accounts/link/{encode_uid(user.pk)}/{link_tokens.make_token(user)}/"
    assert Client(HTTP_HOST=company_b.host).get(path).status_code == 404
    assert Client(HTTP_HOST=company_a.host).get(path).status_code == 200


def test_cache_keys_are_per_company(company_a: CompanyFixture, company_b: CompanyFixture) -> None:
    from django.core.cache import cache

    with in_company(company_a):
        cache.set("isolation-probe", "secret of A", 30)
    with in_company(company_b):
        assert cache.get("isolation-probe") is None
    with in_company(company_a):
        assert cache.get("isolation-probe") == "secret of A"
        cache.delete("isolation-probe")
