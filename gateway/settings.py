"""Settings of the activity gateway, read from the environment and nowhere else.

Every knob is an environment variable with a default that suits one machine (SQLite,
in-memory channel layer). `DATABASE_URL` and `REDIS_URL` turn the same code into a
gateway of several processes sharing PostgreSQL and Redis.
"""

import hashlib
import os
from pathlib import Path
from typing import Any, TypeVar

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

T = TypeVar("T")


def env(name: str, default: T, cast: type[T] | None = None) -> T:
    """Read `name` from the environment, cast like `default`; fail if unparsable."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    kind: Any = cast or type(default)
    if kind is bool:
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True  # type: ignore[return-value]
        if raw.lower() in {"0", "false", "no", "off"}:
            return False  # type: ignore[return-value]
        raise ImproperlyConfigured(f"{name} must be a boolean, not {raw!r}")
    if kind is list:
        return [item.strip() for item in raw.split(",") if item.strip()]  # type: ignore[return-value]
    try:
        return kind(raw)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a {kind.__name__}: {exc}") from exc


DEBUG = env("DJANGO_DEBUG", False)
SECRET_KEY = env("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env("DJANGO_REQUIRE_SECRET", False):
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required")
    # A fixed development key keeps sessions valid across restarts of `make run`;
    # any deployment sets DJANGO_SECRET_KEY (docker-compose.yml does).
    SECRET_KEY = "insecure-development-key-set-DJANGO_SECRET_KEY"  # noqa: S105

ALLOWED_HOSTS: list[str] = env(
    "DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"]
)
PUBLIC_BASE_URL: str = env("PUBLIC_BASE_URL", "").rstrip("/")
HOST: str = env("HOST", "127.0.0.1")
PORT: int = env("PORT", 8000)
REDIS_URL: str = env("REDIS_URL", "")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "iam",
    "activities",
    "consumers",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, and synchronous: it keeps the whole chain in the request's thread (see
    # its docstring).
    "gateway.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "gateway.urls"
ASGI_APPLICATION = "gateway.asgi.application"
AUTH_USER_MODEL = "iam.IAMUser"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/dashboard/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'gateway.sqlite3'}"),
        conn_max_age=env("DATABASE_CONN_MAX_AGE", 60),
    )
}
# Connections each process keeps in its PostgreSQL pool (0: no pool). Under ASGI
# every request runs in a thread of its own, and Django's connections belong to a
# thread: without a pool each request would open, and pay for, a new connection.
DATABASE_POOL_SIZE: int = env("DATABASE_POOL_SIZE", 10)
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # One test database per process: test runs on one server do not collide.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = (
        f"test_{DATABASES['default']['NAME']}_{os.getpid()}"
    )
    if DATABASE_POOL_SIZE > 0:
        # A pooled connection goes back to the pool when a request ends instead of
        # being kept by its thread, so Django requires CONN_MAX_AGE 0 with a pool.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DATABASE_POOL_SIZE),
            "max_size": DATABASE_POOL_SIZE,
            # A request waits this long for a free connection before failing.
            "timeout": 10,
        }
else:
    # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of one
    # failing with "database is locked" when it upgrades a read lock.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A file (not memory) so that threads of async tests share it; one per process
    # so that concurrent test runs on one machine do not share it.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3"
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis pub/sub channels ignore the database number of REDIS_URL, so two gateways
# on one Redis server would hear each other's groups. The default prefix is derived
# from the database the gateway writes to: one stream of seqs, one namespace.
_database_identity = "{HOST}:{PORT}/{NAME}".format(**DATABASES["default"])
CHANNEL_LAYER_PREFIX: str = env(
    "CHANNEL_LAYER_PREFIX",
    "gw-" + hashlib.sha256(_database_identity.encode()).hexdigest()[:12],
)

# "pubsub" (default) or "core": channels-redis' two layers. Both work; pub/sub
# measured ahead (bench/README.md) and has no per-channel capacity to overflow.
CHANNEL_LAYER: str = env("CHANNEL_LAYER", "pubsub")
if CHANNEL_LAYER not in {"pubsub", "core"}:
    raise ImproperlyConfigured(
        f"CHANNEL_LAYER must be pubsub or core, not {CHANNEL_LAYER}"
    )

if REDIS_URL and CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            # One Redis pub/sub subscription per group per process; messages are
            # fanned out to local sockets by consumers.hub, so per-channel queues
            # (the core layer's capacity drops) never sit on the delivery path.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNEL_LAYER_PREFIX},
        }
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # One channel per process (the hub's) carries every event of the
            # process's groups, so its capacity is sized for bursts, not sockets.
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": CHANNEL_LAYER_PREFIX,
                "capacity": 100_000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            # The hub reads one channel per process; a burst must not be dropped.
            "CONFIG": {"capacity": 100_000, "expiry": 60},
        }
    }

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS: list[str] = env("DJANGO_CSRF_TRUSTED_ORIGINS", [])

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
# WhiteNoise warns at start-up about a missing STATIC_ROOT; `collectstatic` fills it
# for `make run`, and an empty one is fine everywhere else (finders serve files).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes unauthenticated calls 401.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "activities.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Activity gateway API",
    "DESCRIPTION": "User activities over REST; live changes on /ws/activities/.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ActivityTypeEnum": "activities.types.ActivityType"},
    "PREPROCESSING_HOOKS": ["gateway.schema.canonical_paths_only"],
}

# Gateway knobs, read through `gateway.conf.gateway_setting`.
GATEWAY = {
    "WS_ALLOWED_ORIGINS": env("WS_ALLOWED_ORIGINS", []),
    "EVENT_RETENTION_SECS": env("EVENT_RETENTION_SECS", 7 * 24 * 3600),
    "EVENT_RETENTION_COUNT": env("EVENT_RETENTION_COUNT", 10_000),
    "ACCESS_POLL_SECS": env("ACCESS_POLL_SECS", 0.5),
    "PUBLISH_TIMEOUT_SECS": env("PUBLISH_TIMEOUT_SECS", 2.0),
    "SOCKET_QUEUE_LIMIT": env("SOCKET_QUEUE_LIMIT", 1000),
    "SOCKET_BUFFER_LIMIT_BYTES": env("SOCKET_BUFFER_LIMIT_BYTES", 4 * 1024 * 1024),
    "WS_RATE_PER_SEC": env("WS_RATE_PER_SEC", 20.0),
    "WS_RATE_BURST": env("WS_RATE_BURST", 60),
    "SHUTDOWN_GRACE_SECS": env("SHUTDOWN_GRACE_SECS", 5.0),
}

LOG_LEVEL: str = env("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        name: {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False}
        for name in ("gateway", "iam", "activities", "consumers", "dashboard")
    },
}
