"""django-tenants: which apps live in the public schema, which in every company's schema."""

from .env import env_int, env_str

SHARED_APPS = [
    # Our apps first: where two apps define the same management command, the first one listed wins,
    # and `tenants` extends `migrate` to cover the template and the spare schemas.
    "tenants",
    "django_tenants",
    "wuye.core",
    "wuye.portal",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    # After auth: its post_migrate receiver (roles sync) must run after auth's permission creation, and
    # receivers run in the order the apps became ready.
    "wuye.accounts",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Online payments: connected accounts and webhook events arrive before any company is known.
    "billing_gateway",
]

# Every company's schema. Its own users (staff, later owners) and sessions live here, so a session or a
# token of one company does not exist in another's schema.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "wuye.core",
    "wuye.accounts",
    # Spreadsheet import and export; modules register their kinds into wuye.imports.registry.
    "wuye.imports",
    "modules.estate",
    "modules.staff",
    "modules.households",
    "modules.fees",
    "modules.helpdesk",
]

INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Company"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "wuye.urls.public"
ROOT_URLCONF = "wuye.urls.tenant"

# The template every new schema is cloned from; migrated with the companies.
TENANT_BASE_SCHEMA = env_str(
    "WUYE_TEMPLATE_SCHEMA", "wuye_template", "Name of the template schema new company schemas are cloned from."
)
# Used only by django-tenants' own create_schema (the benchmark compares it); provisioning renames spares.
TENANT_CREATION_FAKES_MIGRATIONS = True
# Issue `SET search_path` once per schema switch instead of before every cursor: half of a provisioning's
# statements were these. Safe here because django-tenants forgets the cached path on (savepoint) rollback.
TENANT_LIMIT_SET_CALLS = True

# Accounts written per transaction when a bill run is posted: a worker that dies loses at most one chunk,
# and the resumed run carries on from there.
FEES_RUN_CHUNK = env_int(
    "WUYE_FEES_RUN_CHUNK", 5000, "Accounts per transaction when a bill run is posted (a resumed run restarts there)."
)
FEES_RUN_WRITERS = env_int(
    "WUYE_FEES_RUN_WRITERS", 2, "Database sessions writing a bill run's chunks at once (1: one after another)."
)
SPARE_POOL_SIZE = env_int(
    "WUYE_SPARE_POOL_SIZE", 3, "Spare schemas kept ready so that a new company never waits for migrations."
)
# Migrating is the default: measured by `make bench`, a clone costs more than a replay of today's
# migrations with a handful of companies, and grows with every company (its SQL function scans the
# catalog of every schema); a replay grows only with migrations, and gives exactly what `migrate` gives.
SPARE_METHOD = env_str(
    "WUYE_SPARE_METHOD", "migrate", "How spares are made in the background: migrate, or clone (of the template)."
)
if SPARE_METHOD not in {"clone", "migrate"}:
    raise ValueError(f"WUYE_SPARE_METHOD={SPARE_METHOD!r}: use clone or migrate")
