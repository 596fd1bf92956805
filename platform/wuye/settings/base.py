"""Django settings shared by every environment. Integrations live in their own files beside this one."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import IS_PRODUCTION, WUYE_ENV, env_bool, env_int, env_list, env_str

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = Path(
    env_str(
        "WUYE_DATA_DIR",
        str(REPO_DIR / ".wuye-data"),
        "Folder for the embedded PostgreSQL and Redis, uploaded files and beat state in development.",
    )
)

# ---------------------------------------------------------------- core safety
DEVELOPMENT_SECRET_KEY = "wuye-development-only-secret-key-do-not-use-in-production-0123456789"  # noqa: S105
SECRET_KEY = env_str(
    "WUYE_SECRET_KEY",
    DEVELOPMENT_SECRET_KEY,
    "Django's secret key. Production refuses to start with the development default.",
    secret=True,
)
DEBUG = env_bool("WUYE_DEBUG", WUYE_ENV == "development", "Django debug pages. Production refuses to start with it on.")

if IS_PRODUCTION:
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY:
        raise ImproperlyConfigured(
            "WUYE_ENV=production refuses the development secret key: set WUYE_SECRET_KEY to a long random value."
        )
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("WUYE_SECRET_KEY must be at least 50 characters with at least 5 different ones.")
    if DEBUG:
        raise ImproperlyConfigured("WUYE_ENV=production refuses WUYE_DEBUG=true.")

# Hosts are resolved by the company routing middleware: a host that is neither the base domain nor a
# company's domain answers 404 there, which is stricter than a static list (custom domains are data).
ALLOWED_HOSTS = ["*"]

BASE_DOMAIN = (
    env_str(
        "WUYE_BASE_DOMAIN",
        "localhost",
        "The vendor console answers here; company <slug> answers at <slug>.<base domain>.",
    )
    .lower()
    .strip(".")
)
URL_SCHEME = env_str(
    "WUYE_URL_SCHEME", "https" if IS_PRODUCTION else "http", "Scheme of links in e-mails (http or https)."
)
URL_PORT = env_str(
    "WUYE_URL_PORT", "" if IS_PRODUCTION else "8000", "Port of links in e-mails; empty for the scheme's default."
)

# ---------------------------------------------------------------- database
DATABASE_URL = env_str(
    "DATABASE_URL",
    "postgresql://postgres@127.0.0.1:5432/wuye",
    "PostgreSQL (>= 15). `make dev`/`make test` start an embedded server when this is not set.",
    secret=True,
)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        engine="django_tenants.postgresql_backend",
        conn_max_age=env_int(
            "WUYE_DB_CONN_MAX_AGE", 60, "Seconds a database connection is kept open (0: per request)."
        ),
        conn_health_checks=True,
    )
}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------- redis, cache
REDIS_URL = env_str(
    "REDIS_URL",
    "redis://127.0.0.1:6379/0",
    "Redis: cache, Celery broker and results. `make dev`/`make test` start an embedded server when this is not set.",
    secret=True,
)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        # Every key carries the schema of the company that wrote it: no key can leak across companies.
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": env_str(
            "WUYE_CACHE_PREFIX", "wuye", "Prefix of every cache key (to share one Redis between deployments)."
        ),
    }
}

# ---------------------------------------------------------------- apps (the split is in tenancy.py)
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
if WUYE_ENV == "test":
    # Hashing strength is not under test; a fast hasher keeps the suite quick.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "accounts:login"

MIDDLEWARE = [
    # Health answers on any host (load balancers probe by IP), before the host is resolved.
    "wuye.core.middleware.HealthCheckMiddleware",
    "tenants.middleware.CompanyRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # A suspended company is answered before anything reads its schema (no session, no user).
    "tenants.middleware.SuspendedCompanyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "wuye.accounts.middleware.CompanyBoundSessionMiddleware",
    # After authentication: a signed-in person's own language choice is on their account.
    "wuye.portal.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
if IS_PRODUCTION:
    # Static files from the collected folder; in development runserver serves them from the apps.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
        "whitenoise.middleware.WhiteNoiseMiddleware",
    )

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wuye.portal.context_processors.portal",
            ],
        },
    }
]
WSGI_APPLICATION = "wuye.wsgi.application"

# ---------------------------------------------------------------- language and time
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "wuye_language"
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# ---------------------------------------------------------------- files
STATIC_URL = "/static/"
STATIC_ROOT = env_str("WUYE_STATIC_ROOT", str(DATA_DIR / "static"), "Where `collectstatic` gathers static files.")
MEDIA_URL = "/media/"
MEDIA_ROOT = env_str("WUYE_MEDIA_ROOT", str(DATA_DIR / "media"), "Uploaded files (one sub-folder per company).")
# Uploaded files land in a folder named after the company's schema.
MULTITENANT_RELATIVE_MEDIA_ROOT = "%s"
# S3-compatible object storage for uploaded files when a bucket is named (production); the files are then
# filed under the company's schema by the code that saves them (a bucket has no tenant folders of its own).
S3_BUCKET = env_str("WUYE_S3_BUCKET", "", "Bucket for uploaded files on S3-compatible storage (empty: local folders).")
S3_ENDPOINT_URL = env_str("WUYE_S3_ENDPOINT_URL", "", "The S3 service's address when not AWS (MinIO, OSS, COS, ...).")
S3_REGION = env_str("WUYE_S3_REGION", "", "The bucket's region.")
S3_ACCESS_KEY_ID = env_str("WUYE_S3_ACCESS_KEY_ID", "", "Access key for the bucket.", secret=True)
S3_SECRET_ACCESS_KEY = env_str("WUYE_S3_SECRET_ACCESS_KEY", "", "Secret key for the bucket.", secret=True)
DEFAULT_STORAGE: dict[str, object] = {"BACKEND": "django_tenants.files.storage.TenantFileSystemStorage"}
if S3_BUCKET:
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": S3_REGION or None,
            "access_key": S3_ACCESS_KEY_ID or None,
            "secret_key": S3_SECRET_ACCESS_KEY or None,
            # Private objects, never overwritten; read only through the application's checked views.
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# ---------------------------------------------------------------- sessions, cookies, security
SESSION_COOKIE_NAME = "wuye_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("WUYE_SESSION_AGE", 60 * 60 * 12, "Seconds a sign-in lasts.")
CSRF_COOKIE_NAME = "wuye_csrftoken"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Read in every environment (so they are declared and documented), applied in production only.
_ssl_redirect = env_bool("WUYE_SSL_REDIRECT", True, "Redirect plain HTTP to HTTPS (production only).")
_hsts_seconds = env_int("WUYE_HSTS_SECONDS", 31536000, "HSTS max-age in seconds (production only).")
_hsts_preload = env_bool("WUYE_HSTS_PRELOAD", True, "Ask browsers to preload HSTS (production only).")
if IS_PRODUCTION:
    SECURE_SSL_REDIRECT = _ssl_redirect
    # The ingress terminates TLS and says so in X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = _hsts_seconds
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _hsts_preload
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
CSRF_TRUSTED_ORIGINS = env_list(
    "WUYE_CSRF_TRUSTED_ORIGINS",
    [f"{URL_SCHEME}://{BASE_DOMAIN}", f"{URL_SCHEME}://*.{BASE_DOMAIN}"],
    "Origins allowed to POST forms (comma-separated); custom company domains are same-origin and need no entry.",
)


# ---------------------------------------------------------------- e-mail
def _email_settings(url: str) -> dict[str, object]:
    """`console:`, `locmem:`, `dummy:` or `smtp://user:password@host:port` (`smtps://` for implicit TLS,
    `?starttls=true` for STARTTLS)."""
    parsed = urlparse(url)
    scheme = parsed.scheme or url.rstrip(":")
    simple = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if scheme in simple:
        return {"EMAIL_BACKEND": simple[scheme]}
    if scheme not in {"smtp", "smtps"}:
        raise ImproperlyConfigured(f"WUYE_EMAIL_URL: unknown scheme {scheme!r} (console, locmem, dummy, smtp, smtps)")
    query = parse_qs(parsed.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": scheme == "smtps",
        "EMAIL_USE_TLS": query.get("starttls", ["false"])[0].lower() in {"1", "true", "yes"},
        "EMAIL_TIMEOUT": 10,
    }


globals().update(
    _email_settings(
        env_str(
            "WUYE_EMAIL_URL",
            "console:",
            "Where e-mail goes: console:, smtp://user:password@host:587?starttls=true, smtps://...",
            secret=True,
        )
    )
)
DEFAULT_FROM_EMAIL = env_str("WUYE_EMAIL_FROM", "Wuye 物业 <noreply@localhost>", "Sender of the platform's e-mails.")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# ---------------------------------------------------------------- API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wuye.accounts.authentication.CompanyTokenAuthentication",
        "wuye.accounts.authentication.CompanySessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "wuye.core.pagination.PageNumberPagination",
    "DEFAULT_FILTER_BACKENDS": ["rest_framework.filters.OrderingFilter", "rest_framework.filters.SearchFilter"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wuye.core.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Wuye API",
    "DESCRIPTION": "The REST API of one company on Wuye. Authenticate with a token issued by this company.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several records have a "kind" and a "status" of their own; name each set of choices after its record.
    # (Dotted paths as strings: the settings import no module.)
    "ENUM_NAME_OVERRIDES": {
        "UnitKindEnum": "modules.estate.models.UnitKind",
        "UnitStatusEnum": "modules.estate.models.UnitStatus",
        "ParkingKindEnum": "modules.estate.models.ParkingKind",
        "ParkingStatusEnum": "modules.estate.models.ParkingStatus",
        "MeterKindEnum": "modules.estate.models.MeterKind",
        "FacilityKindEnum": "modules.estate.models.FacilityKind",
        "FacilityStatusEnum": "modules.estate.models.FacilityStatus",
        "BillKindEnum": "modules.fees.models.BillKind",
        "BillStatusEnum": "modules.fees.api.BILL_STATUS_CHOICES",
        "RunStatusEnum": "modules.fees.models.RunStatus",
        "ChaseChannelEnum": "modules.fees.models.ChaseChannel",
        "EntryKindEnum": "modules.fees.models.EntryKind",
        "WriteOffStatusEnum": "modules.fees.models.WriteOffStatus",
        "PaymentMethodEnum": "modules.fees.models.PaymentMethod",
        "OnlineStatusEnum": "modules.fees.models.OnlineStatus",
        "OnlinePurposeEnum": "modules.fees.models.OnlinePurpose",
        "RequestKindEnum": "modules.helpdesk.models.Kind",
        "RequestGradeEnum": "modules.helpdesk.models.Grade",
        "RequestStatusEnum": "modules.helpdesk.models.Status",
        "RequestChannelEnum": "modules.helpdesk.models.Channel",
        "PhotoStageEnum": "modules.helpdesk.models.PhotoStage",
        "DispatchModeEnum": "modules.helpdesk.models.DispatchMode",
        "ReachEnum": "wuye.core.scope.Reach",
        "UserKindEnum": "wuye.accounts.models.UserKind",
    },
}

# ---------------------------------------------------------------- logging
LOG_LEVEL = env_str("WUYE_LOG_LEVEL", "INFO", "Log level of the platform's own loggers.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Owners' ID and phone numbers are masked before the handler writes a record.
    "filters": {"personal_data": {"()": "wuye.core.logfilter.PersonalDataFilter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["personal_data"]}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        "wuye": {"level": LOG_LEVEL},
        "tenants": {"level": LOG_LEVEL},
        "modules": {"level": LOG_LEVEL},
        "billing_gateway": {"level": LOG_LEVEL},
    },
}

# The process-wide sign that code runs under the test suite (tests must not need special cases in code).
TESTING = WUYE_ENV == "test" or "PYTEST_CURRENT_TEST" in os.environ
