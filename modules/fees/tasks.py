"""Celery tasks of fees: thin, take ids, safe to run twice."""

from __future__ import annotations

from wuye.celery import app

from . import services


@app.task(name="modules.fees.tasks.bill_run_post")
def bill_run_post(run_id: str) -> str | None:
    """Post a bill run in the schema of the company that queued it. A second delivery (a worker that died
    and handed the task on) resumes: every chunk skips the accounts already billed."""
    run = services.run_execute(run_id=run_id)
    return None if run is None else str(run.status)


@app.task(name="modules.fees.tasks.monthly_runs")
def monthly_runs() -> int:
    """Beat's daily tick in each company (tenants.tasks.fan_out): start the month's runs when it is the
    company's run day and it posts automatically."""
    return len(services.runs_due())


@app.task(name="modules.fees.tasks.collection_sums_compact")
def collection_sums_compact() -> int:
    """Beat's tick in each company: fold the collection report's sums (they stay right unfolded)."""
    return services.collection_sums_compact()


@app.task(name="modules.fees.tasks.reconcile_yesterday")
def reconcile_yesterday() -> str | None:
    """Beat's daily tick in each company: compare yesterday's online payments and refunds at the provider
    with the ledger (a company without a connected account is skipped)."""
    import datetime as dt

    from django.utils import timezone

    found = services.reconcile_day(day=timezone.localdate() - dt.timedelta(days=1))
    return None if found is None else str(found.day)


@app.task(name="modules.fees.tasks.online_payments_expire")
def online_payments_expire() -> int:
    """Beat's hourly tick in each company: cancel the online payments started a day ago and never paid."""
    return services.online_payments_expire()
