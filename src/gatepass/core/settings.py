"""``gatepass core`` settings from flags, environment (``GATEPASS_*``) and a TOML config file, in that order of
precedence, validated into one immutable value. Pure: the caller passes the three sources in."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.errors import ConfigurationError

_API_KEY = re.compile(r"[=a-zA-Z0-9-]{20,}")

LIFETIME_NAMES = (
    "access_token_validity",
    "refresh_token_validity",
    "access_token_dynamic_signing_key_update_interval",
)


@dataclass(frozen=True)
class CoreSettings:
    host: str = "127.0.0.1"
    port: int = 3567
    database_url: str = field(default="sqlite:///./gatepass.db", repr=False)  # may hold a password
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    app_config: AppConfig = AppConfig()
    cleanup_interval_seconds: float = 3600.0
    log_level: str = "info"


SETTING_NAMES = ("host", "port", "database_url", "api_keys", "cleanup_interval_seconds", "log_level", *LIFETIME_NAMES)


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in SETTING_NAMES:
        raw = env.get("GATEPASS_" + name.upper())
        if raw is not None and raw != "":
            values[name] = raw
    return values


def load_config_file(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from None


def _api_keys(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value if v.strip()]
    else:
        raise ConfigurationError("api_keys must be a string (comma-separated) or a list of strings")
    for key in items:
        if not _API_KEY.fullmatch(key):
            raise ConfigurationError("each API key must be at least 20 characters from [=a-zA-Z0-9-]")
    return tuple(dict.fromkeys(items))


def _port(value: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ConfigurationError("port must be an integer") from None
    if not 0 <= port <= 65535:
        raise ConfigurationError("port must be between 0 and 65535")
    return port


def resolve_settings(
    flags: Mapping[str, Any], env: Mapping[str, str], file_values: Mapping[str, Any] | None = None
) -> CoreSettings:
    merged: dict[str, Any] = {}
    for source in (file_values or {}, _env_values(env), {k: v for k, v in flags.items() if v is not None}):
        merged.update(source)
    unknown = sorted(set(merged) - set(SETTING_NAMES))
    if unknown:
        raise ConfigurationError(f"unknown setting(s): {', '.join(unknown)}")
    defaults = CoreSettings()
    lifetimes = {name: merged[name] for name in LIFETIME_NAMES if name in merged}
    try:
        cleanup = float(merged.get("cleanup_interval_seconds", defaults.cleanup_interval_seconds))
    except (TypeError, ValueError):
        raise ConfigurationError("cleanup_interval_seconds must be a number") from None
    if cleanup <= 0:
        raise ConfigurationError("cleanup_interval_seconds must be positive")
    log_level = str(merged.get("log_level", defaults.log_level)).lower()
    if log_level not in ("debug", "info", "warning", "error"):
        raise ConfigurationError("log_level must be one of debug, info, warning, error")
    database_url = merged.get("database_url", defaults.database_url)
    if not isinstance(database_url, str) or not database_url:
        raise ConfigurationError("database_url must be a non-empty string")
    return CoreSettings(
        host=str(merged.get("host", defaults.host)),
        port=_port(merged.get("port", defaults.port)),
        database_url=database_url,
        api_keys=_api_keys(merged.get("api_keys", ())),
        app_config=build_app_config(lifetimes),
        cleanup_interval_seconds=cleanup,
        log_level=log_level,
    )
