"""Celery: Redis broker, JSON only, tasks acknowledged after they ran, one fan-out per periodic job."""

from celery.schedules import crontab

from .base import DATA_DIR, REDIS_URL
from .env import env_bool, env_str

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 60 * 60 * 24
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_DEFAULT_QUEUE = env_str("WUYE_CELERY_QUEUE", "wuye", "Name of the Celery queue web, worker and beat share.")
# A task is acknowledged only after it ran: a worker that dies mid-task hands it to another. Tasks are
# written to be safe to run twice (ARCHITECTURE.md).
# A task finds its company (tenant-schemas-celery) once a minute, not once per task.
CELERY_TASK_TENANT_CACHE_SECONDS = 60
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Keep Django's logging in workers: its handler masks owners' ID and phone numbers (LOGGING in base.py),
# which Celery's own root-logger set-up would replace.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = env_bool(
    "WUYE_CELERY_EAGER", False, "Run tasks inline instead of on a worker (only for debugging; never in production)."
)
CELERY_BEAT_SCHEDULE_FILENAME = env_str(
    "WUYE_BEAT_SCHEDULE_FILE", str(DATA_DIR / "celerybeat-schedule"), "Where Celery beat keeps its schedule state."
)

# Periodic jobs run in the public schema; those that concern companies fan out one task per active
# company (tenants.tasks.fan_out), each running in that company's schema.
CELERY_BEAT_SCHEDULE = {
    "spare-pool-refill": {
        "task": "tenants.tasks.spare_pool_refill",
        "schedule": 60 * 10,
    },
    "companies-daily-housekeeping": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=3, minute=15),
        "kwargs": {"task_name": "wuye.accounts.tasks.expired_tokens_purge"},
    },
    # Each company's monthly bill runs, on the day of the month it chose (fees settings); the task does
    # nothing on other days, or where the company posts its runs by hand.
    "companies-monthly-bill-runs": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=2, minute=30),
        "kwargs": {"task_name": "modules.fees.tasks.monthly_runs"},
    },
    # Stripe events whose task was lost, or that failed (a refund before its payment), are taken up again.
    "stripe-events-sweep": {
        "task": "billing_gateway.tasks.events_sweep",
        "schedule": 60 * 5,
    },
    # Online payments started a day ago and never paid are cancelled at Stripe (an old checkout page cannot
    # charge bills paid at the desk meanwhile).
    "companies-online-payments-expire": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute=25),
        "kwargs": {"task_name": "modules.fees.tasks.online_payments_expire"},
    },
    # Each company's online payments and refunds of yesterday compared with its ledger (fees' reconciliation).
    "companies-payments-reconciliation": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(hour=4, minute=10),
        "kwargs": {"task_name": "modules.fees.tasks.reconcile_yesterday"},
    },
    # The collection report's sums gain a row per ledger statement; folding them keeps the report fast.
    "companies-collection-sums": {
        "task": "tenants.tasks.fan_out",
        "schedule": crontab(minute="*/10"),
        "kwargs": {"task_name": "modules.fees.tasks.collection_sums_compact"},
    },
    # Overdue owner requests climb the hierarchy (assignee, department head, CS manager, project manager);
    # the step interval is per deadline policy, in minutes, so a five-minute tick is precise enough.
    "companies-helpdesk-escalation": {
        "task": "tenants.tasks.fan_out",
        "schedule": 60 * 5,
        "kwargs": {"task_name": "modules.helpdesk.tasks.overdue_escalate"},
    },
}
