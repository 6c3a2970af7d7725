"""Session recipe options, validated once at ``session.init``; defaults derived from the domains as upstream.

- ``cookie_secure``: true when the API domain is https.
- ``cookie_same_site``: ``none`` when the API and website top-level domains or schemes differ, else ``lax``.
- ``anti_csrf``: ``VIA_CUSTOM_HEADER`` when SameSite is ``none``, else ``NONE`` (``VIA_TOKEN`` only by choice).
- ``token_transfer_method``: ``any`` (verify and refresh read both; create follows the ``st-auth-mode`` header,
  defaulting to headers); ``get_token_transfer_method`` (upstream's callback) decides it per request instead.
Impossible combinations (SameSite=None without Secure across real domains, equal status codes) are errors here,
not surprises at the first login.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from gatepass.errors import ConfigurationError
from gatepass.ratelimit import BucketSpec
from gatepass.recipe.app_info import AppInfo, top_level_domain
from gatepass.recipe.session.client_info import ClientInfoSource, client_info_source
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.http_types import TransferMethod as TransferMethod  # the settings name it too

AntiCsrfMode = Literal["VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE"]
SameSite = Literal["lax", "strict", "none"]
TransferSetting = Literal["cookie", "header", "any"]
# upstream's get_token_transfer_method(request, for_create_new_session, user_context): how tokens travel, per request
TransferChooser = Callable[[RequestView, bool, dict[str, Any]], TransferSetting]


DEFAULT_REFRESH_RATE_LIMIT = BucketSpec(burst=30, per_second=1)


@dataclass(frozen=True)
class SessionOptions:
    """What the application passes to ``session.init`` (every field optional)."""

    cookie_domain: str | None = None
    older_cookie_domain: str | None = None
    cookie_secure: bool | None = None
    cookie_same_site: SameSite | None = None
    anti_csrf: AntiCsrfMode | None = None
    token_transfer_method: TransferSetting = "any"
    get_token_transfer_method: TransferChooser | None = None
    session_expired_status_code: int = 401
    invalid_claim_status_code: int = 403
    use_dynamic_access_token_signing_key: bool = True
    expose_access_token_to_frontend_in_cookie_based_auth: bool = False
    jwks_refresh_interval_sec: int = 14_400
    jwks_refetch_cooldown_ms: int = 500
    # Failed refreshes that presented a token (unauthorised or theft) allowed per client address before the refresh
    # API answers 429; BucketSpec(0, 0) switches the limit off (do that behind a proxy that limits instead: every
    # request then comes from the proxy's address).
    refresh_rate_limit: BucketSpec = DEFAULT_REFRESH_RATE_LIMIT
    # "your devices": send where each login and refresh came from to the core (``client_info``); off by default
    client_info: bool | ClientInfoSource = False


@dataclass(frozen=True)
class SessionConfig:
    """The normalised, validated options the recipe runs on."""

    app_info: AppInfo
    cookie_domain: str | None
    older_cookie_domain: str | None
    cookie_secure: bool
    cookie_same_site: SameSite
    anti_csrf: AntiCsrfMode
    token_transfer_method: TransferSetting
    session_expired_status_code: int
    invalid_claim_status_code: int
    use_dynamic_access_token_signing_key: bool
    expose_access_token_to_frontend_in_cookie_based_auth: bool
    jwks_refresh_interval_ms: int
    jwks_refetch_cooldown_ms: int
    refresh_rate_limit: BucketSpec = DEFAULT_REFRESH_RATE_LIMIT
    get_token_transfer_method: TransferChooser | None = None
    client_info: ClientInfoSource | None = None

    @property
    def refresh_path(self) -> str:
        """The refresh API's path (also the refresh-token cookie's ``Path``)."""
        return self.app_info.refresh_path


def _normalise_cookie_domain(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{name} must be a domain such as example.com or .example.com")
    text = value.strip().lower()
    host = urlsplit(text).hostname if "://" in text else text.split(":")[0].split("/")[0]
    if not host:
        raise ConfigurationError(f"{name} must be a domain such as example.com")
    return host


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> Any:
    if value not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def build_session_config(app_info: AppInfo, options: SessionOptions) -> SessionConfig:
    """The options validated and normalised, with the defaults derived from the domains as above; a
    ``ConfigurationError`` names the first wrong setting."""
    api_scheme = urlsplit(app_info.api_domain).scheme
    website_scheme = urlsplit(app_info.website_domain).scheme
    secure = options.cookie_secure if options.cookie_secure is not None else api_scheme == "https"
    if not isinstance(secure, bool):
        raise ConfigurationError("cookie_secure must be true or false")
    if options.cookie_same_site is not None:
        same_site: SameSite = _choice("cookie_same_site", options.cookie_same_site.lower(), ("lax", "strict", "none"))
    else:
        cross = top_level_domain(app_info.api_host) != top_level_domain(app_info.website_host)
        same_site = "none" if cross or api_scheme != website_scheme else "lax"
    if options.anti_csrf is not None:
        anti_csrf: AntiCsrfMode = _choice("anti_csrf", options.anti_csrf, ("VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE"))
    else:
        anti_csrf = "VIA_CUSTOM_HEADER" if same_site == "none" else "NONE"
    transfer = _choice("token_transfer_method", options.token_transfer_method, ("cookie", "header", "any"))
    for name in ("session_expired_status_code", "invalid_claim_status_code"):
        code = getattr(options, name)
        if isinstance(code, bool) or not isinstance(code, int) or not 400 <= code <= 599:
            raise ConfigurationError(f"{name} must be an HTTP error status (400-599)")
    if options.session_expired_status_code == options.invalid_claim_status_code:
        raise ConfigurationError("session_expired_status_code and invalid_claim_status_code must differ")
    if same_site == "none" and not secure and not app_info.both_local() and transfer != "header":
        raise ConfigurationError(
            "cookie_same_site is none, which browsers accept only on Secure cookies: use https for api_domain "
            "(and do not set cookie_secure to false), or use header-based sessions (token_transfer_method='header')"
        )
    if options.get_token_transfer_method is not None and not callable(options.get_token_transfer_method):
        raise ConfigurationError("get_token_transfer_method must be a function (request, for_create, user_context)")
    if options.jwks_refresh_interval_sec <= 0 or options.jwks_refetch_cooldown_ms < 0:
        raise ConfigurationError("jwks_refresh_interval_sec must be positive and jwks_refetch_cooldown_ms >= 0")
    return SessionConfig(
        app_info=app_info,
        cookie_domain=_normalise_cookie_domain("cookie_domain", options.cookie_domain),
        older_cookie_domain=_normalise_cookie_domain("older_cookie_domain", options.older_cookie_domain),
        cookie_secure=secure,
        cookie_same_site=same_site,
        anti_csrf=anti_csrf,
        token_transfer_method=transfer,
        session_expired_status_code=options.session_expired_status_code,
        invalid_claim_status_code=options.invalid_claim_status_code,
        use_dynamic_access_token_signing_key=bool(options.use_dynamic_access_token_signing_key),
        expose_access_token_to_frontend_in_cookie_based_auth=bool(
            options.expose_access_token_to_frontend_in_cookie_based_auth
        ),
        jwks_refresh_interval_ms=options.jwks_refresh_interval_sec * 1000,
        jwks_refetch_cooldown_ms=options.jwks_refetch_cooldown_ms,
        refresh_rate_limit=_rate_limit(options.refresh_rate_limit),
        get_token_transfer_method=options.get_token_transfer_method,
        client_info=client_info_source(options.client_info),
    )


def _rate_limit(value: Any) -> BucketSpec:
    if not isinstance(value, BucketSpec):  # a BucketSpec checks its own numbers
        raise ConfigurationError("refresh_rate_limit must be a gatepass.ratelimit.BucketSpec(burst, per_second)")
    return value
