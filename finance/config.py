"""Configuration classes, chosen by ``FINANCE_ENV`` and read from the environment once.

Every value is parsed and checked here, at start-up, so a bad deployment fails
with one clear sentence instead of a confusing error on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
AUTH_MODES = ("firebase", "jwt", "dev")
GOOGLE_JWKS_URL = (
    "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com"
)
# Only development and testing fall back to this; production refuses AUTH_MODE=dev.
DEV_SECRET_DEFAULT = "kartay-local-development-secret-not-for-production"  # noqa: S105


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}.")
    return value


def _list(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    return raw.strip()


class BaseConfig:
    """Settings shared by every environment; subclasses change the defaults."""

    ENV_NAME = "base"
    TESTING = False
    DEBUG = False
    DEFAULT_AUTH_MODE = "firebase"
    DEFAULT_CORS_ORIGINS: tuple[str, ...] = ()
    ALLOW_DEV_AUTH = True
    REQUIRE_DATABASE_URI = False

    # flask-smorest / OpenAPI
    API_TITLE = "KarTay Finance API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "api/openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"

    def __init__(self, environ: Mapping[str, str] | None = None, **overrides: Any):
        env = os.environ if environ is None else environ
        self.MONGODB_URI = _str(env, "MONGODB_URI") or _str(env, "MONGODB_URL")
        self.MONGODB_DATABASE = _str(env, "MONGODB_DATABASE", "financial_tracker")
        self.MONGODB_TIMEOUT_MS = _int(env, "MONGODB_TIMEOUT_MS", 1000, minimum=100)
        self.MONGODB_MOCK = False
        self.GOOGLE_API_KEY = _str(env, "GOOGLE_API_KEY")
        self.GENAI_MODEL = _str(env, "GENAI_MODEL", "gemini-2.5-flash")
        self.GENAI_TIMEOUT_S = _int(env, "GENAI_TIMEOUT_S", 8)
        self.ALLOWED_HOSTS = _list(env, "ALLOWED_HOSTS", ("*",))
        self.ENFORCE_HTTPS = _bool(env, "ENFORCE_HTTPS", False)
        self.CORS_ORIGINS = _list(env, "CORS_ORIGINS", self.DEFAULT_CORS_ORIGINS)
        self.MAX_UPLOAD_BYTES = _int(env, "MAX_UPLOAD_BYTES", 4_000_000)
        self.MAX_UPLOAD_ROWS = _int(env, "MAX_UPLOAD_ROWS", 200_000)
        self.MAX_LOG_BATCH = _int(env, "MAX_LOG_BATCH", 100)
        self.LOG_LEVEL = (_str(env, "LOG_LEVEL", "INFO") or "INFO").upper()

        self.AUTH_MODE = (_str(env, "AUTH_MODE", self.DEFAULT_AUTH_MODE) or "").lower()
        self.FIREBASE_PROJECT_ID = _str(env, "FIREBASE_PROJECT_ID")
        self.AUTH_JWKS_URL = _str(env, "AUTH_JWKS_URL")
        self.AUTH_ISSUER = _str(env, "AUTH_ISSUER")
        self.AUTH_AUDIENCE = _str(env, "AUTH_AUDIENCE")
        self.AUTH_ALGORITHMS = _list(env, "AUTH_ALGORITHMS", ("RS256",))
        self.AUTH_DEV_SECRET = _str(env, "AUTH_DEV_SECRET", self._dev_secret_default())
        self.AUTH_LEEWAY_SECONDS = _int(env, "AUTH_LEEWAY_SECONDS", 60, minimum=0)
        self.AUTH_FAILURE_LIMIT = _int(env, "AUTH_FAILURE_LIMIT", 20)
        self.AUTH_FAILURE_WINDOW_SECONDS = _int(env, "AUTH_FAILURE_WINDOW_SECONDS", 60)

        for key, value in overrides.items():
            setattr(self, key, value)
        self.validate()

    def _dev_secret_default(self) -> str | None:
        return None

    def validate(self) -> None:
        """Fail fast, with one sentence naming the variable, on anything unusable."""
        if self.LOG_LEVEL not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
        if self.MONGODB_URI and not self.MONGODB_URI.startswith(("mongodb://", "mongodb+srv://")):
            raise ConfigError("MONGODB_URI must start with mongodb:// or mongodb+srv://.")
        if self.REQUIRE_DATABASE_URI and not self.MONGODB_URI:
            raise ConfigError(
                f"MONGODB_URI (or MONGODB_URL) must be set when FINANCE_ENV={self.ENV_NAME}."
            )
        if self.AUTH_MODE not in AUTH_MODES:
            raise ConfigError(
                f"AUTH_MODE must be one of {', '.join(AUTH_MODES)}, not {self.AUTH_MODE!r}."
            )
        if self.AUTH_MODE == "dev":
            if not self.ALLOW_DEV_AUTH:
                raise ConfigError(
                    "AUTH_MODE=dev is for local development and is refused when "
                    f"FINANCE_ENV={self.ENV_NAME}."
                )
            if not self.AUTH_DEV_SECRET or len(self.AUTH_DEV_SECRET) < 32:
                raise ConfigError(
                    "AUTH_DEV_SECRET must be set to at least 32 characters for AUTH_MODE=dev."
                )
        if self.AUTH_MODE == "firebase" and not self.FIREBASE_PROJECT_ID:
            raise ConfigError("FIREBASE_PROJECT_ID must be set for AUTH_MODE=firebase.")
        if self.AUTH_MODE == "jwt":
            missing = [
                n for n in ("AUTH_JWKS_URL", "AUTH_ISSUER", "AUTH_AUDIENCE") if not getattr(self, n)
            ]
            if missing:
                raise ConfigError(f"{' and '.join(missing)} must be set for AUTH_MODE=jwt.")
            bad = sorted(set(self.AUTH_ALGORITHMS) - {"RS256", "ES256"})
            if bad or not self.AUTH_ALGORITHMS:
                raise ConfigError("AUTH_ALGORITHMS may only list RS256 and ES256.")
        if "*" in self.CORS_ORIGINS:
            raise ConfigError("CORS_ORIGINS must list origins explicitly; '*' is not allowed.")
        bad_origins = [o for o in self.CORS_ORIGINS if not o.startswith(("http://", "https://"))]
        if bad_origins:
            raise ConfigError(
                f"CORS_ORIGINS entries must start with http:// or https://: {bad_origins[0]!r}."
            )

    @property
    def MAX_CONTENT_LENGTH(self) -> int:
        # Multipart framing and the small form fields ride on top of the file itself.
        return self.MAX_UPLOAD_BYTES + 64 * 1024

    def as_flask_config(self) -> dict[str, Any]:
        return {
            name: getattr(self, name)
            for name in dir(self)
            if name.isupper() and not name.startswith("_")
        }


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    DEBUG = False
    DEFAULT_AUTH_MODE = "dev"
    DEFAULT_CORS_ORIGINS = ("http://localhost:3000", "http://localhost:5173")

    def _dev_secret_default(self) -> str | None:
        return DEV_SECRET_DEFAULT


class TestingConfig(BaseConfig):
    __test__ = False  # not a pytest test class, despite the name
    ENV_NAME = "testing"
    TESTING = True
    DEFAULT_AUTH_MODE = "dev"
    DEFAULT_CORS_ORIGINS = ("http://localhost:3000",)

    def __init__(self, environ: Mapping[str, str] | None = None, **overrides: Any):
        super().__init__(environ, **overrides)
        # Without an explicit server the suite runs on the in-process fake.
        if not self.MONGODB_URI and "MONGODB_MOCK" not in overrides:
            self.MONGODB_MOCK = True

    def _dev_secret_default(self) -> str | None:
        return DEV_SECRET_DEFAULT


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"
    ALLOW_DEV_AUTH = False
    REQUIRE_DATABASE_URI = True


CONFIGS: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(environ: Mapping[str, str] | None = None) -> BaseConfig:
    """Pick the class named by ``FINANCE_ENV`` (default production) and read the environment."""
    env = os.environ if environ is None else environ
    name = (env.get("FINANCE_ENV") or "production").strip().lower()
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigError(
            f"FINANCE_ENV must be one of {', '.join(CONFIGS)}, not {name!r}."
        ) from None
    return cls(env)
