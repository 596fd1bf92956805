"""Celery tasks of the gateway: thin, take ids, safe to run twice. They start in the public schema (the
event log lives there); `services.event_process` enters the event's company schema itself."""

from __future__ import annotations

from wuye.celery import app

from . import services


# Nothing reads its result: not storing one spares the broker a write per event and the web process a
# subscription per delivery.
@app.task(
    name="billing_gateway.tasks.event_process",
    autoretry_for=(Exception,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def event_process(event_pk: int) -> str | None:
    event = services.event_process(event_pk=event_pk)
    return None if event is None else str(event.status)


@app.task(name="billing_gateway.tasks.events_drain", ignore_result=True)
def events_drain(company_id: int) -> int:
    return services.events_drain(company_id=company_id)


@app.task(name="billing_gateway.tasks.events_sweep", ignore_result=True)
def events_sweep() -> int:
    return services.events_sweep()
