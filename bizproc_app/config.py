"""Typed configuration, read once from the environment."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bizproc_app.linkly.config import SANDBOX_API_URL, SANDBOX_AUTH_URL

ENVIRONMENTS = ("development", "production", "testing")
INSTANCE_DIR = Path(__file__).resolve().parent.parent / "instance"

# A fixed key for development and tests only; production refuses to start without its own.
_DEV_ENCRYPTION_KEY = "ZGV2LW9ubHkta2V5LW5ldmVyLWluLXByb2R1Y3Rpb24="
_DEV_SECRET_KEY = "development-secret-key-not-for-production"  # noqa: S105
# The product's own Linkly POS vendor id: one UUID for every install of this product.
DEFAULT_POS_VENDOR_ID = "5f0c3a7e-5d2b-4c8e-9a43-1b6f0e2d7c91"


REQUIRED_IN_PRODUCTION = (
    "SECRET_KEY",
    "ENCRYPTION_KEY",
    "APP_BASE_URL",
    "DATABASE_URL",
    "REDIS_URL",
    "BITRIX_CLIENT_ID",
    "BITRIX_CLIENT_SECRET",
)


class ConfigError(RuntimeError):
    """The configuration is missing a required value or holds an invalid one."""


@dataclass(frozen=True)
class Timings:
    """The app's own clocks (seconds), in one place; not read from the environment.

    The Linkly and Bitrix24 clients keep the limits of their protocols, and the queue table
    (`payments/queues.py`) its retries and job timeouts.
    """

    # A frame session lasts a shift at the till; reopening the tab issues a new one.
    frame_token: int = 4 * 3600
    # An admin whose right is taken away keeps it at most this long.
    admin_recheck: int = 300
    # A report batch's claim on its payments, longer than any batch request with its retries.
    report_lease: int = 200
    # The drain jobs' Redis lock: held while one runs, renewed as it goes.
    drain_lock: int = 90
    # How long one run of the robot-calls job goes on before it queues the next run.
    calls_run: int = 60
    # The sweep leaves work this recent to the jobs that are about to do it.
    sweep_stale: int = 15
    # How often the scheduler looks for portals whose refresh tokens idle.
    token_upkeep: int = 3600


@dataclass(frozen=True)
class Config:
    """Everything the app reads from its environment."""

    APP_ENV: str = "development"
    APP_BASE_URL: str = "http://127.0.0.1:5000"
    SECRET_KEY: str = _DEV_SECRET_KEY
    ENCRYPTION_KEY: tuple[str, ...] = (_DEV_ENCRYPTION_KEY,)
    DATABASE_URL: str = f"sqlite:///{INSTANCE_DIR / 'bizproc.sqlite3'}"
    REDIS_URL: str = "redis://127.0.0.1:6379/0"
    LINKLY_AUTH_URL: str = SANDBOX_AUTH_URL
    LINKLY_API_URL: str = SANDBOX_API_URL
    LINKLY_POS_VENDOR_ID: str = DEFAULT_POS_VENDOR_ID
    LINKLY_POS_NAME: str = "Bitrix24 POS payments"
    LINKLY_POS_VERSION: str = "0.1.0"
    LINKLY_TIMEOUT_SECONDS: float = 10.0
    BITRIX_OAUTH_URL: str = "https://oauth.bitrix.info"
    BITRIX_CLIENT_ID: str = "local.development"
    BITRIX_CLIENT_SECRET: str = "development-client-secret"  # noqa: S105
    BITRIX_ALLOW_HTTP: bool = False
    # The payment pipeline's clocks (seconds) and the optional stage of a refunded invoice.
    PAYMENT_DEADLINE_SECONDS: float = 600.0
    PAYMENT_EVENT_TIMEOUT_SECONDS: float = 20.0
    PAYMENT_RECOVERY_INTERVAL_SECONDS: float = 10.0
    PAYMENT_NOT_FOUND_GRACE_SECONDS: float = 120.0
    PAYMENT_UNKNOWN_HORIZON_SECONDS: float = 86400.0
    TERMINAL_BUSY_WAIT_SECONDS: float = 300.0
    REFUND_STAGE: str = ""
    timings: Timings = field(default_factory=Timings)

    @property
    def is_production(self) -> bool:
        """Return True outside development and testing."""
        return self.APP_ENV == "production"

    def replace(self, **changes: Any) -> Config:
        """Return a copy with some values changed, validated again."""
        return replace(self, **changes).validated()

    def validated(self) -> Config:
        """Check values and raise ConfigError naming the first bad one."""
        if self.APP_ENV not in ENVIRONMENTS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.is_production:
            if not self.APP_BASE_URL.startswith("https://"):
                raise ConfigError("APP_BASE_URL must be https when APP_ENV=production")
            if self.BITRIX_ALLOW_HTTP:
                raise ConfigError("BITRIX_ALLOW_HTTP is for development and tests only")
            if self.SECRET_KEY == _DEV_SECRET_KEY:
                raise ConfigError("SECRET_KEY must be set when APP_ENV=production")
            if _DEV_ENCRYPTION_KEY in self.ENCRYPTION_KEY:
                raise ConfigError("ENCRYPTION_KEY must be set when APP_ENV=production")
        if not self.ENCRYPTION_KEY:
            raise ConfigError("ENCRYPTION_KEY must hold at least one Fernet key")
        for key in self.ENCRYPTION_KEY:
            try:
                Fernet(key.encode())
            except ValueError as exc:
                raise ConfigError("ENCRYPTION_KEY holds a key that is not a Fernet key") from exc
        try:
            uuid.UUID(self.LINKLY_POS_VENDOR_ID)
        except ValueError as exc:
            raise ConfigError("LINKLY_POS_VENDOR_ID must be a UUID") from exc
        for f in _settings(self):
            if f.type == "float" and getattr(self, f.name) <= 0:
                raise ConfigError(f"{f.name} must be positive")
        return self

    def to_env(self) -> dict[str, str]:
        """The environment variables that reproduce this configuration (for child processes)."""
        env = {}
        for f in _settings(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "1" if value else "0"
            env[f.name] = str(value)
        return env

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Read the configuration from environment variables."""
        env = os.environ if environ is None else environ
        app_env = env.get("APP_ENV", "development")
        strict = app_env == "production"
        values: dict[str, Any] = {"APP_ENV": app_env}
        for f in _settings(cls):
            if f.name == "APP_ENV" or f.name not in env:
                continue
            values[f.name] = _parse(f.name, str(f.type), env[f.name].strip())
        if strict:
            for name in REQUIRED_IN_PRODUCTION:
                if not env.get(name, "").strip():
                    raise ConfigError(f"{name} is required when APP_ENV=production")
        return cls(**values).validated()


def _settings(config: Config | type[Config]) -> list[Field[Any]]:
    """The fields read from the environment (upper case; `timings` is not one)."""
    return [f for f in fields(config) if f.name.isupper()]


def _parse(name: str, type_: str, raw: str) -> Any:
    """Turn one environment value into the field's type, naming the variable on error."""
    if type_ == "tuple[str, ...]":
        return tuple(k.strip() for k in raw.split(",") if k.strip())
    if type_ == "bool":
        return raw.lower() in ("1", "true", "yes", "on")
    if type_ == "float":
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a number") from exc
    return raw
