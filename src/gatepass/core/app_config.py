"""Per-app session lifetimes, under upstream's config names and units.

``access_token_validity`` is in seconds, ``refresh_token_validity`` in minutes and
``access_token_dynamic_signing_key_update_interval`` in hours (alias ``access_token_signing_key_update_interval``).
gatepass adds ``session_absolute_lifetime`` (minutes; ``0``, the default, is none) and
``access_token_validity_jitter`` (a fraction, ``0`` to ``0.5``; ``0``, the default, is none): see ``lifetimes``;
``refresh_token_grace_period`` (seconds, ``0`` to ``300``; ``0``, the default, is none): see ``rotation``;
``max_sessions_per_user`` (``0``, the default, is no cap) with ``session_cap_policy`` (``revoke_oldest``, the
default, or ``refuse``): see ``session_cap``.
Values may arrive as numbers or numeric strings (the upstream test harnesses send strings). Tiny values are
allowed (a 1 s access token, a key interval of 0.0004 h) because test suites rely on them.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from gatepass.core.lifetimes import MAX_JITTER
from gatepass.core.session_cap import CAP_POLICIES, CapPolicy
from gatepass.errors import ConfigurationError
from gatepass.tokens.key_schedule import KeyTimes

log = logging.getLogger("gatepass.core")

KEY_INTERVAL_NAMES = (
    "access_token_dynamic_signing_key_update_interval",
    "access_token_signing_key_update_interval",
)
MIN_KEY_INTERVAL_HOURS = 1 / 3600  # one second
GATEPASS_LIFETIMES = (  # ours, not upstream's
    "session_absolute_lifetime",
    "access_token_validity_jitter",
    "refresh_token_grace_period",
    "max_sessions_per_user",
)
MAX_GRACE_PERIOD_S = 300  # a grace window is for requests in flight; longer would be a second refresh token
MAX_SESSIONS_CAP = 10_000


@dataclass(frozen=True)
class AppConfig:
    """One app's effective session lifetimes, in upstream's units (see the module docstring)."""

    access_token_validity: float = 3600  # seconds
    refresh_token_validity: float = 144000  # minutes
    access_token_dynamic_signing_key_update_interval: float = 168  # hours
    session_absolute_lifetime: float = 0  # minutes; 0: sessions end only by inactivity (upstream)
    access_token_validity_jitter: float = 0  # fraction of access_token_validity taken off at random; 0: none
    refresh_token_grace_period: float = 0  # seconds a just-superseded refresh token may be used once more; 0: none
    max_sessions_per_user: float = 0  # live sessions a user may have; 0: no cap
    session_cap_policy: CapPolicy = "revoke_oldest"  # or "refuse": what creating one more session does at the cap

    @property
    def access_validity_ms(self) -> int:
        """The access-token lifetime in milliseconds."""
        return int(self.access_token_validity * 1000)

    @property
    def refresh_validity_ms(self) -> int:
        """The refresh-token (session) inactivity lifetime in milliseconds."""
        return int(self.refresh_token_validity * 60_000)

    @property
    def absolute_lifetime_ms(self) -> int:
        """The absolute session lifetime in milliseconds (``0``: none)."""
        return int(self.session_absolute_lifetime * 60_000)

    @property
    def grace_period_ms(self) -> int:
        """The refresh grace window in milliseconds (``0``: none)."""
        return int(self.refresh_token_grace_period * 1000)

    @property
    def session_cap(self) -> int:
        """The most live sessions a user may have (``0``: no cap)."""
        return int(self.max_sessions_per_user)

    @cached_property
    def key_times(self) -> KeyTimes:
        """The signing-key schedule's inputs: key update interval and access-token lifetime, in milliseconds (read
        on every verify and signature; computed once per config, which never changes)."""
        interval_ms = int(self.access_token_dynamic_signing_key_update_interval * 3_600_000)
        return KeyTimes(update_interval_ms=interval_ms, access_validity_ms=self.access_validity_ms)

    def to_json(self) -> str:
        """Compact JSON of the lifetimes; :func:`app_config_from_json` reads it back."""
        return json.dumps(asdict(self), separators=(",", ":"))


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ConfigurationError(f"{name} must be a number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError as exc:
            raise ConfigurationError(f"{name} must be a number") from exc
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(f"{name} must be a number")
    return float(value)


def build_app_config(values: Mapping[str, Any], base: AppConfig | None = None) -> AppConfig:
    """Validate ``values`` (a coreConfig object) on top of ``base``; unknown keys are logged and ignored."""
    current = asdict(base or AppConfig())
    for name, raw in values.items():
        if raw is None:
            continue
        if name in KEY_INTERVAL_NAMES:
            current["access_token_dynamic_signing_key_update_interval"] = _number(name, raw)
        elif name in ("access_token_validity", "refresh_token_validity", *GATEPASS_LIFETIMES):
            current[name] = _number(name, raw)
        elif name == "session_cap_policy":
            current[name] = raw.strip() if isinstance(raw, str) else raw
        else:
            log.info("ignoring unsupported core config key %r", name)
    config = AppConfig(**current)
    validate_app_config(config)
    return config


def validate_app_config(config: AppConfig) -> None:
    """Raise ``ConfigurationError`` unless the lifetimes are in range and a session outlives its access token."""
    if not 1 <= config.access_token_validity <= 86_400_000:
        raise ConfigurationError("access_token_validity must be between 1 and 86400000 seconds")
    if config.refresh_token_validity * 60 <= config.access_token_validity:
        raise ConfigurationError("refresh_token_validity (minutes) must be longer than access_token_validity")
    if config.refresh_token_validity > 10 * 365 * 24 * 60:
        raise ConfigurationError("refresh_token_validity must be at most ten years")
    if not 0 <= config.session_absolute_lifetime <= 10 * 365 * 24 * 60:
        raise ConfigurationError("session_absolute_lifetime must be between 0 (none) and ten years (in minutes)")
    if 0 < config.session_absolute_lifetime * 60 <= config.access_token_validity:
        raise ConfigurationError("session_absolute_lifetime (minutes) must be longer than access_token_validity")
    if not 0 <= config.access_token_validity_jitter <= MAX_JITTER:
        raise ConfigurationError(f"access_token_validity_jitter must be between 0 and {MAX_JITTER}")
    if not 0 <= config.refresh_token_grace_period <= MAX_GRACE_PERIOD_S:
        raise ConfigurationError(f"refresh_token_grace_period must be between 0 and {MAX_GRACE_PERIOD_S} seconds")
    cap = config.max_sessions_per_user
    if not (0 <= cap <= MAX_SESSIONS_CAP and float(cap).is_integer()):
        raise ConfigurationError(f"max_sessions_per_user must be a whole number from 0 (no cap) to {MAX_SESSIONS_CAP}")
    if config.session_cap_policy not in CAP_POLICIES:
        raise ConfigurationError("session_cap_policy must be revoke_oldest or refuse")
    interval = config.access_token_dynamic_signing_key_update_interval
    if not MIN_KEY_INTERVAL_HOURS <= interval <= 10 * 365 * 24:
        raise ConfigurationError(
            "access_token_dynamic_signing_key_update_interval must be between 1 second and ten years (in hours)"
        )


def app_config_from_json(text: str) -> AppConfig:
    """The inverse of :meth:`AppConfig.to_json` (the text is trusted: gatepass wrote it)."""
    return AppConfig(**json.loads(text))
