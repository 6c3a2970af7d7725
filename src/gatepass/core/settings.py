"""``gatepass core`` settings from flags, environment (``GATEPASS_*``) and a TOML config file, in that order of
precedence, validated into one immutable value. Pure: the caller passes the three sources in.

An invalid value is reported with where it came from (``GATEPASS_PORT``, ``--port`` or the config file), so a
person can find it; values are echoed only for settings that are never secret."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.errors import ConfigurationError
from gatepass.ratelimit import BucketSpec

_API_KEY = re.compile(r"[=a-zA-Z0-9-]{20,}")

MAX_WORKERS = 64

LIFETIME_NAMES = (
    "access_token_validity",
    "refresh_token_validity",
    "access_token_dynamic_signing_key_update_interval",
    "session_absolute_lifetime",
    "access_token_validity_jitter",
    "refresh_token_grace_period",
    "max_sessions_per_user",
    "session_cap_policy",
)


@dataclass(frozen=True)
class ServerLimits:
    """How long and how many connections an HTTP server gives its clients (the slowloris defences).

    ``header_timeout_seconds`` bounds the time from a connection's opening (or from the first byte of a later
    request on it) to the end of the request's headers; ``body_timeout_seconds`` bounds the time from the end of the
    headers to the end of the body (a total, not an idle timer, so a client sending one byte a second cannot keep
    a 1 MiB body open for days); ``keep_alive_timeout_seconds`` closes idle kept-alive connections;
    ``max_connections`` caps open connections, beyond which new ones are closed at once, which keeps the process
    under a typical 1024 file-descriptor limit with room for database connections and logs.
    """

    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    keep_alive_timeout_seconds: int = 5
    max_connections: int = 500


@dataclass(frozen=True)
class RateLimits:
    """Failures allowed per client address before the core answers 429 (a zero ``burst`` switches one off).

    A request with the right API key always passes the first limit. The others count refresh tokens that do not
    even open and access tokens that fail for any reason but expiry (``cdi_api.is_failure``; SDKs verify locally,
    so a well-behaved backend rarely sends one). A limited address is refused before its request is evaluated, so
    an attacker learns nothing while blocked. The SDK limits its own refresh API per browser address in front.
    """

    failed_api_keys: BucketSpec = BucketSpec(burst=20, per_second=1)
    failed_refreshes: BucketSpec = BucketSpec(burst=200, per_second=20)
    failed_verifies: BucketSpec = BucketSpec(burst=200, per_second=20)

    @classmethod
    def off(cls) -> RateLimits:
        """No rate limits at all (for tests and benchmarks)."""
        none = BucketSpec(0, 0)
        return cls(none, none, none)


@dataclass(frozen=True)
class CoreSettings:
    """Everything ``gatepass core`` runs with; the repr hides the database URL and the API keys."""

    host: str = "127.0.0.1"
    port: int = 3567
    database_url: str = field(default="sqlite:///./gatepass.db", repr=False)  # may hold a password
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    app_config: AppConfig = AppConfig()
    cleanup_interval_seconds: float = 3600.0
    log_level: str = "info"
    workers: int = 1  # core processes serving the port (``workers``)
    limits: ServerLimits = ServerLimits()
    rate_limits: RateLimits = RateLimits()


LIMIT_NAMES = ("header_timeout_seconds", "body_timeout_seconds", "keep_alive_timeout_seconds", "max_connections")
RATE_LIMIT_NAMES = ("rate_limit_failed_api_keys", "rate_limit_failed_refreshes", "rate_limit_failed_verifies")
SETTING_NAMES = (
    "host",
    "port",
    "database_url",
    "api_keys",
    "cleanup_interval_seconds",
    "log_level",
    "workers",
    *LIFETIME_NAMES,
    *LIMIT_NAMES,
    *RATE_LIMIT_NAMES,
)


def env_name(name: str) -> str:
    """The environment variable of a setting: ``port`` is ``GATEPASS_PORT``."""
    return "GATEPASS_" + name.upper()


def _env_values(env: Mapping[str, str], names: tuple[str, ...] = SETTING_NAMES) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in names:
        raw = env.get(env_name(name))
        if raw is not None and raw != "":
            values[name] = raw
    return values


def load_config_file(path: str) -> dict[str, Any]:
    """The values of a TOML config file; an unreadable or invalid file is a ``ConfigurationError``."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"config file {path} is not valid TOML: {exc}") from exc


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


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ConfigurationError(f"{name} must be an integer (got {_shown(value)})")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{name} must be an integer (got {_shown(value)})") from exc
    if not low <= number <= high:
        raise ConfigurationError(f"{name} must be between {low} and {high} (got {number})")
    return number


def _seconds(name: str, value: Any, high: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{name} must be a number of seconds (got {_shown(value)})") from exc
    if not 0 < number <= high:  # also refuses NaN
        raise ConfigurationError(f"{name} must be more than 0 and at most {high:g} seconds (got {number:g})")
    return number


class _Sources:
    """The three sources merged, remembering where each value came from for error messages."""

    def __init__(self, flags: Mapping[str, Any], env: Mapping[str, str], file_values: Mapping[str, Any]) -> None:
        self.values: dict[str, Any] = {}
        self.origins: dict[str, str] = {}
        for name, value in file_values.items():
            self.values[name], self.origins[name] = value, f"{name} in the config file"
        for name, value in _env_values(env).items():
            self.values[name], self.origins[name] = value, env_name(name)
        for name, value in flags.items():
            if value is not None:
                self.values[name], self.origins[name] = value, "--" + name.replace("_", "-")

    def get(self, name: str, parse: Callable[[Any], Any], default: Any) -> Any:
        """The parsed value of a setting, or ``default`` if no source sets it; errors name the source."""
        if name not in self.values:
            return default
        try:
            return parse(self.values[name])
        except ConfigurationError as exc:
            raise ConfigurationError(f"invalid {self.origins[name]}: {exc.message}") from exc


def _limits(sources: _Sources) -> ServerLimits:
    d = ServerLimits()
    return ServerLimits(
        header_timeout_seconds=sources.get(
            "header_timeout_seconds", lambda v: _seconds("header_timeout_seconds", v, 3600), d.header_timeout_seconds
        ),
        body_timeout_seconds=sources.get(
            "body_timeout_seconds", lambda v: _seconds("body_timeout_seconds", v, 3600), d.body_timeout_seconds
        ),
        keep_alive_timeout_seconds=sources.get(
            "keep_alive_timeout_seconds",
            lambda v: _integer("keep_alive_timeout_seconds", v, 1, 3600),
            d.keep_alive_timeout_seconds,
        ),
        max_connections=sources.get(
            "max_connections", lambda v: _integer("max_connections", v, 1, 100_000), d.max_connections
        ),
    )


def _bucket(name: str, value: Any) -> BucketSpec:
    """``"BURST/PER_SECOND"`` (e.g. ``"20/1"``) or ``"off"``."""
    text = str(value).strip().lower()
    if text in ("off", "0", "false"):
        return BucketSpec(0, 0)
    burst, sep, rate = text.partition("/")
    try:
        spec = BucketSpec(float(burst), float(rate)) if sep else None
    except ValueError:
        spec = None
    if spec is None or not (1 <= spec.burst <= 10**6 and 0 < spec.per_second <= 10**6):
        raise ConfigurationError(f"{name} must be BURST/PER_SECOND (e.g. 20/1) or off (got {_shown(value)})")
    return spec


def _rate_limits(sources: _Sources) -> RateLimits:
    d = RateLimits()
    defaults = (d.failed_api_keys, d.failed_refreshes, d.failed_verifies)
    specs = [
        sources.get(name, partial(_bucket, name), default)
        for name, default in zip(RATE_LIMIT_NAMES, defaults, strict=True)
    ]
    return RateLimits(*specs)


def limits_from_env(env: Mapping[str, str]) -> ServerLimits:
    """The server limits from ``GATEPASS_*`` variables alone: ``gatepass fauna-dev`` and ``gatepass demo`` use the
    same variables as the core, without its flags or config file."""
    return _limits(_Sources({}, env, {}))


def _log_level(value: Any) -> str:
    level = str(value).lower()
    if level not in ("debug", "info", "warning", "error"):
        raise ConfigurationError("log_level must be one of debug, info, warning, error")
    return level


def _database_url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError("database_url must be a non-empty string")
    return value


def resolve_settings(
    flags: Mapping[str, Any], env: Mapping[str, str], file_values: Mapping[str, Any] | None = None
) -> CoreSettings:
    """Validate the three sources into settings (flags win over the environment, which wins over the file); an
    unknown name or a bad value is a ``ConfigurationError`` naming where it came from."""
    sources = _Sources(flags, env, file_values or {})
    unknown = sorted(set(sources.values) - set(SETTING_NAMES))
    if unknown:
        raise ConfigurationError(f"unknown setting(s): {', '.join(unknown)}")
    d = CoreSettings()
    lifetimes = {name: sources.values[name] for name in LIFETIME_NAMES if name in sources.values}
    return CoreSettings(
        host=sources.get("host", str, d.host),
        port=sources.get("port", lambda v: _integer("port", v, 0, 65535), d.port),
        database_url=sources.get("database_url", _database_url, d.database_url),
        api_keys=sources.get("api_keys", _api_keys, d.api_keys),
        app_config=build_app_config(lifetimes),
        cleanup_interval_seconds=sources.get(
            "cleanup_interval_seconds", lambda v: _seconds("cleanup_interval_seconds", v, 10**9), 3600.0
        ),
        log_level=sources.get("log_level", _log_level, d.log_level),
        workers=sources.get("workers", lambda v: _integer("workers", v, 1, MAX_WORKERS), d.workers),
        limits=_limits(sources),
        rate_limits=_rate_limits(sources),
    )
