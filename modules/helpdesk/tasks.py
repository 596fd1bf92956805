"""Celery tasks of the helpdesk: thin, take ids, safe to run twice. They run in the schema of the company
that queued them (tenant-schemas-celery); beat's escalation tick fans out one per company."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail

from wuye.celery import app
from wuye.core import sms
from wuye.core.errors import ServiceError

from . import services
from .models import Notification

logger = logging.getLogger(__name__)


@app.task(name="modules.helpdesk.tasks.overdue_escalate")
def overdue_escalate() -> int:
    """Beat's tick in each company (tenants.tasks.fan_out): overdue requests go up the hierarchy."""
    return services.overdue_escalate()


@app.task(name="modules.helpdesk.tasks.notifications_send")
def notifications_send(notification_ids: list[str]) -> int:
    """Send urgent notices by e-mail and text message, each to the addresses its user has. A notice sent
    twice (a redelivered task) is a repeated reminder, not a wrong one; nothing is written back."""
    sent = 0
    for notice in Notification.objects.filter(pk__in=notification_ids).select_related("user", "request"):
        user = notice.user
        if user.email:
            send_mail(
                subject=notice.text[:120],
                message=notice.text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[user.email],
                fail_silently=False,
            )
            sent += 1
        phone = getattr(user, "phone", "")
        if phone:
            try:
                sms.send_sms(to=phone, text=notice.text)
                sent += 1
            except ServiceError:
                logger.warning("notification %s: the user's phone number takes no text messages", notice.pk)
    return sent
