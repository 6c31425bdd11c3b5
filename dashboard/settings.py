"""Settings for the moderator dashboard, all read from the environment.

Every variable is listed with its default in `.env.example` and the README.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from dashboard.encryption_keys import MAKE_A_KEY, derive_development_key, validate_keys

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A missing file is skipped. The tests point DJANGO_ENV_FILE away from a developer's own `.env`.
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# A development key is allowed only with DEBUG on, so a production start without a real key fails.
_DEVELOPMENT_SECRET_KEY = "development-only-key-not-for-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is missing: set it, or set DJANGO_DEBUG=true.")

# Fernet keys for the API tokens stored in the database, newest first. MultiFernet encrypts with
# the first and decrypts with any, so an old key stays listed until every token is re-encrypted.
TOKEN_ENCRYPTION_KEYS = [
    key.strip() for key in env.list("TOKEN_ENCRYPTION_KEYS", default=[]) if key.strip()
]
if not TOKEN_ENCRYPTION_KEYS and DEBUG:
    TOKEN_ENCRYPTION_KEYS = [derive_development_key(SECRET_KEY)]
if not TOKEN_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "TOKEN_ENCRYPTION_KEYS is missing: set it to one or more Fernet keys, newest first and "
        f"comma-separated, or set DJANGO_DEBUG=true. {MAKE_A_KEY}"
    )
validate_keys(TOKEN_ENCRYPTION_KEYS)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "dashboard",
    "polls",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.HtmxAwareLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, so its 400 response still passes through the middleware above and gets their headers.
    # It still runs before any view, or the CSRF check, reads the form.
    "dashboard.middleware.RejectUndecodableFormMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# An empty value, as `.env.example` ships it, means the default too.
_DATABASE_URL = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": env.db_url_config(_DATABASE_URL)}
# Without this each request opens a new database connection, which costs PostgreSQL several
# milliseconds: more than a live fragment's own work. The health check replaces a connection
# that broke while it was idle.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=300)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Observers of one meeting write at the same moment. A deferred transaction that starts
    # by reading fails at once with "database is locked" when another has begun writing.
    # An immediate one waits for the write lock instead.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_REDIS_URL = env.str("REDIS_URL", default="")
if _REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": _REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Whether every process that serves the dashboard uses the same cache: true with Redis, or
# with the local-memory cache in a single process (threads share it). Only then do live
# fragments learn "nothing changed" from the cache alone. Otherwise they read the database.
CACHE_SHARED = env.bool("CACHE_SHARED", default=bool(_REDIS_URL))

AUTHENTICATION_BACKENDS = ["polls.access.MemberBackend"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "meeting_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# No inline script or style anywhere: every script and stylesheet is a static file.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0 if DEBUG else 365 * 24 * 60 * 60)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading puts the domain and all its subdomains into the HTTPS-only lists built into
    # browsers, which is slow to undo, so it is the deployer's choice. While it is off, the
    # warning of `check --deploy` that recommends it (security.W021) is silenced.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Django treats a request as HTTPS when this header is set to https. Only a proxy that
# terminates TLS and always sets X-Forwarded-Proto itself may be trusted with it. Without such a
# proxy, any client could send the header and pass a plain HTTP request off as HTTPS.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Django rejects a larger body, or a form with more fields, with a 400 when the request data is
# first read. The largest form, the poll form, is about 21 KB at most: 300 characters of question
# and 12 options of 120, even if each character takes 4 bytes of UTF-8, each sent as %XX.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# Failed logins are counted per username and per client address (REMOTE_ADDR) in the cache.
# Reaching either limit within the window locks that username or address out for one more window.
# Behind a reverse proxy, the WSGI server must put the client's address in REMOTE_ADDR: otherwise
# every client shares the proxy's address and its limit. X-Forwarded-For is not trusted.
LOGIN_FAILURE_LIMIT_PER_USERNAME = 5
LOGIN_FAILURE_LIMIT_PER_ADDRESS = 20
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60

# The organisation created on first start (see polls.signals) when none exists yet.
CLOUDFLARE_ACCOUNT_ID = env.str("CLOUDFLARE_ACCOUNT_ID", default="")
REALTIMEKIT_APP_ID = env.str("REALTIMEKIT_APP_ID", default="")
CLOUDFLARE_API_TOKEN = env.str("CLOUDFLARE_API_TOKEN", default="")
CLOUDFLARE_API_BASE_URL = env.str(
    "CLOUDFLARE_API_BASE_URL", default="https://api.cloudflare.com/client/v4"
)
ORGANISATION_NAME = env.str("ORGANISATION_NAME", default="My organisation")

# Live results: the preset that the first organisation's observers join with (later changed on
# the Connection page), and the RealtimeKit browser SDK that observer pages load. No SDK URL
# means live results are off. The official bundle, pinned to a version, is
# https://cdn.jsdelivr.net/npm/@cloudflare/realtimekit@1.2.3/dist/browser.js; it connects to
# Cloudflare's servers, which REALTIMEKIT_CSP_CONNECT_SRC must then list.
REALTIMEKIT_OBSERVER_PRESET = env.str("REALTIMEKIT_OBSERVER_PRESET", default="")
REALTIMEKIT_SDK_URL = env.str("REALTIMEKIT_SDK_URL", default="")
REALTIMEKIT_CSP_CONNECT_SRC = env.list("REALTIMEKIT_CSP_CONNECT_SRC", default=[])

# Upstream timeouts in seconds, and how often a failed read is tried again.
REALTIMEKIT_CONNECT_TIMEOUT = env.float("REALTIMEKIT_CONNECT_TIMEOUT", default=3.05)
REALTIMEKIT_READ_TIMEOUT = env.float("REALTIMEKIT_READ_TIMEOUT", default=10.0)
REALTIMEKIT_READ_RETRIES = env.int("REALTIMEKIT_READ_RETRIES", default=2)

# Seconds that a read of meetings and live sessions is reused by every page and worker before
# Cloudflare is asked again. Every call counts against the token's 1,200 requests in 5 minutes,
# so this window, not the number of moderators watching, sets the dashboard's upstream cost.
REALTIMEKIT_READ_FRESH_SECONDS = env.float("REALTIMEKIT_READ_FRESH_SECONDS", default=10.0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own console handler would print each of its records a second time.
    "loggers": {"django": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
