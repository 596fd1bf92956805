"""The public webhook endpoint Stripe delivers Connect events to (one for every company)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import services


@csrf_exempt  # Stripe signs the body instead; there is no session here
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    """Verify, store once, queue; 200 as soon as the event is safely stored (also for a duplicate or an
    unknown account, so that Stripe stops retrying), 400 for anything not genuine, 413 for a body far too
    large to be an event. Nothing is stored unless the signature holds."""
    limit = settings.STRIPE_WEBHOOK_MAX_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return JsonResponse({"error": "too_large"}, status=413)
    payload = request.read(limit + 1)
    if len(payload) > limit:
        return JsonResponse({"error": "too_large"}, status=413)
    try:
        event, created = services.event_receive(
            payload=payload, signature=request.META.get("HTTP_STRIPE_SIGNATURE", "")
        )
    except services.DeliveryRefused as refused:
        return JsonResponse({"error": refused.code}, status=400)
    return JsonResponse({"received": event.event_id, "duplicate": not created, "status": event.status})
