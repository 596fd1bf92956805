"""Celery tasks of accounts: thin, take ids, safe to run twice."""

from __future__ import annotations

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from wuye.celery import app
from wuye.core.sms import send_sms
from wuye.core.tenancy import current_tenant
from wuye.core.urls import absolute_url

from . import services
from .models import User
from .tokens import encode_uid, link_tokens


def _company_name() -> str:
    return str(getattr(current_tenant(), "name", "") or "Wuye")


def _language_for(user: User) -> str:
    return user.language or getattr(current_tenant(), "language", "") or "zh-hans"


@app.task(name="wuye.accounts.tasks.link_mail_send")
def link_mail_send(user_id: str, purpose: str, channel: str = "email") -> bool:
    """Send an invitation or a password-reset link, by e-mail or by text message. Sending twice sends two
    valid links, which is harmless: either one works until the password is set."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    path = reverse("accounts:link", kwargs={"uidb64": encode_uid(user.pk), "token": link_tokens.make_token(user)})
    with translation.override(_language_for(user)):
        context = {"user": user, "company": _company_name(), "link": absolute_url(path), "purpose": purpose}
        if channel == "sms":
            send_sms(to=user.phone, text=render_to_string(f"accounts/sms/{purpose}.txt", context).strip())
            return True
        subject = render_to_string(f"accounts/email/{purpose}_subject.txt", context).strip()
        body = render_to_string(f"accounts/email/{purpose}.txt", context)
    send_mail(subject, body, None, [user.email])
    return True


@app.task(name="wuye.accounts.tasks.expired_tokens_purge")
def expired_tokens_purge() -> int:
    return services.expired_tokens_purge()
