"""Configuration: typed reads, defaults, and refusing to start without secrets in production."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bizproc_app.config import Config, ConfigError

KEY = Fernet.generate_key().decode()
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 32,
    "ENCRYPTION_KEY": KEY,
    "APP_BASE_URL": "https://pos.example.com",
    "DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/db",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "BITRIX_CLIENT_ID": "app.5f0c3a7e.12345678",
    "BITRIX_CLIENT_SECRET": "c" * 40,
}


def test_development_defaults_need_no_environment() -> None:
    cfg = Config.from_env({})
    assert cfg.APP_ENV == "development"
    assert cfg.DATABASE_URL.startswith("sqlite:///") and "instance" in cfg.DATABASE_URL
    assert cfg.LINKLY_AUTH_URL == "https://auth.sandbox.cloud.pceftpos.com"
    assert cfg.LINKLY_API_URL == "https://rest.pos.sandbox.cloud.pceftpos.com"


def test_production_with_everything_set_starts() -> None:
    cfg = Config.from_env(PRODUCTION)
    assert cfg.is_production and cfg.ENCRYPTION_KEY == (KEY,)


@pytest.mark.parametrize(
    "missing",
    [
        "SECRET_KEY",
        "ENCRYPTION_KEY",
        "APP_BASE_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "BITRIX_CLIENT_ID",
        "BITRIX_CLIENT_SECRET",
    ],
)
def test_production_refuses_to_start_without(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Config.from_env(env)


def test_production_refuses_the_development_keys() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Config.from_env({**PRODUCTION, "SECRET_KEY": Config().SECRET_KEY})
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        Config.from_env({**PRODUCTION, "ENCRYPTION_KEY": Config().ENCRYPTION_KEY[0]})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("APP_ENV", "staging", "APP_ENV"),
        ("ENCRYPTION_KEY", "not-a-fernet-key", "ENCRYPTION_KEY"),
        ("ENCRYPTION_KEY", " , ", "ENCRYPTION_KEY"),
        ("LINKLY_POS_VENDOR_ID", "vendor", "LINKLY_POS_VENDOR_ID"),
        ("LINKLY_TIMEOUT_SECONDS", "soon", "LINKLY_TIMEOUT_SECONDS"),
        ("LINKLY_TIMEOUT_SECONDS", "0", "LINKLY_TIMEOUT_SECONDS"),
    ],
)
def test_invalid_values_are_named(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env({name: value})


def test_comma_separated_keys_allow_rotation() -> None:
    second = Fernet.generate_key().decode()
    cfg = Config.from_env({"ENCRYPTION_KEY": f"{KEY}, {second}"})
    assert (KEY, second) == cfg.ENCRYPTION_KEY


def test_error_messages_never_contain_the_secret_values() -> None:
    with pytest.raises(ConfigError) as err:
        Config.from_env({**PRODUCTION, "ENCRYPTION_KEY": "leaky-value"})
    assert "leaky-value" not in str(err.value)


def test_production_refuses_a_plain_http_base_url() -> None:
    with pytest.raises(ConfigError, match="APP_BASE_URL"):
        Config.from_env({**PRODUCTION, "APP_BASE_URL": "http://pos.example.com"})


def test_bitrix_allow_http_is_refused_in_production() -> None:
    assert Config.from_env({"BITRIX_ALLOW_HTTP": "1"}).BITRIX_ALLOW_HTTP is True
    with pytest.raises(ConfigError, match="BITRIX_ALLOW_HTTP"):
        Config.from_env({**PRODUCTION, "BITRIX_ALLOW_HTTP": "1"})


def test_to_env_round_trips() -> None:
    cfg = Config.from_env(
        {**PRODUCTION, "BITRIX_ALLOW_HTTP": "0", "PAYMENT_DEADLINE_SECONDS": "90"}
    )
    assert Config.from_env(cfg.to_env()) == cfg
