"""Where tokens travel (pure): reading them from a request, and the response changes that set or clear them.

Cookies (upstream names and paths): ``sAccessToken`` on ``/`` for a year (the JWT's ``exp`` governs), and
``sRefreshToken`` on ``<apiBasePath>/session/refresh`` until the refresh token expires, or both without ``Expires``
for a browser-session session (gone when the browser closes; clearing always expires them); HttpOnly, Secure and
SameSite from the config, values percent-encoded. Headers: ``st-access-token`` / ``st-refresh-token`` out,
``Authorization: Bearer`` in. Every new access token also sends ``front-token`` (standard base64 of
``{"ate","uid","up"}``); clearing sends ``front-token: remove``. Responses that carry tokens get
``Cache-Control: no-store``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Literal
from urllib.parse import quote, unquote

from gatepass.errors import ConfigurationError
from gatepass.recipe.session.config import SessionConfig, TransferMethod, TransferSetting
from gatepass.recipe.session.http_types import Cookie, RequestView, ResponseChanges

ACCESS_COOKIE = "sAccessToken"
REFRESH_COOKIE = "sRefreshToken"
LEGACY_ID_REFRESH_COOKIE = "sIdRefreshToken"
ACCESS_HEADER = "st-access-token"
REFRESH_HEADER = "st-refresh-token"
FRONT_TOKEN_HEADER = "front-token"
ANTI_CSRF_HEADER = "anti-csrf"
AUTH_MODE_HEADER = "st-auth-mode"
MAX_COOKIE_BYTES = 4096
ONE_YEAR_MS = 365 * 24 * 3600 * 1000
EPOCH = 0

TokenType = Literal["access", "refresh"]
TRANSFER_METHODS: tuple[TransferMethod, ...] = ("header", "cookie")


def cors_allowed_headers() -> list[str]:
    """Headers the browser SDK sends, to add to the app's CORS ``allow_headers``."""
    return ["rid", "fdi-version", "anti-csrf", "authorization", "st-auth-mode"]


def cors_expose_headers() -> list[str]:
    """Headers the browser SDK reads, to add to the app's CORS ``expose_headers``."""
    return [FRONT_TOKEN_HEADER, ANTI_CSRF_HEADER, ACCESS_HEADER, REFRESH_HEADER]


def bearer_token(request: RequestView) -> str | None:
    """The token of an ``Authorization: Bearer`` header (prefix case-sensitive), or ``None``."""
    value = request.header("authorization")
    if value is None or not value.startswith("Bearer "):
        return None
    token = value[len("Bearer ") :].strip()
    return token or None


def cookie_tokens(request: RequestView, token_type: TokenType) -> list[str]:
    """Every non-empty value of the token's cookie, percent-decoded, in order."""
    name = ACCESS_COOKIE if token_type == "access" else REFRESH_COOKIE
    return [unquote(v) for v in request.cookie_values(name) if v]


def token_in(request: RequestView, token_type: TokenType, method: TransferMethod) -> str | None:
    """The token as ``method`` carries it, or ``None``: the bearer token (for either token type), or the
    first cookie."""
    if method == "header":
        return bearer_token(request)
    values = cookie_tokens(request, token_type)
    return values[0] if values else None


def front_token(user_id: str, access_expiry_ms: int, payload: dict[str, Any]) -> str:
    """The ``front-token`` value: standard base64 of compact, key-sorted ``{"ate","uid","up"}``."""
    body = json.dumps({"uid": user_id, "ate": access_expiry_ms, "up": payload}, separators=(",", ":"), sort_keys=True)
    return base64.b64encode(body.encode("utf-8")).decode("ascii")


def _cookie(
    config: SessionConfig, name: str, value: str, expires_ms: int | None, path: str, domain: str | None
) -> Cookie:
    encoded = quote(value, safe="", encoding="utf-8")
    if len(name) + len(encoded) + 1 > MAX_COOKIE_BYTES:
        raise ConfigurationError(
            f"the {name} cookie would be {len(name) + len(encoded) + 1} bytes, over the browser limit of "
            f"{MAX_COOKIE_BYTES}: make the access-token payload smaller or use header-based sessions"
        )
    return Cookie(name, encoded, expires_ms, path, domain, config.cookie_secure, config.cookie_same_site)


def set_token(
    changes: ResponseChanges,
    config: SessionConfig,
    token_type: TokenType,
    value: str,
    expires_ms: int | None,
    method: TransferMethod,
    *,
    domain: str | None = None,
) -> None:
    """Deliver one token by ``method``: its cookie (access on ``/``, refresh on the refresh path; ``expires_ms``
    ``None``: a browser-session cookie) or its exposed header, and ``Cache-Control: no-store``. A cookie over 4096
    bytes is a ``ConfigurationError``."""
    if method == "cookie":
        name, path = (ACCESS_COOKIE, "/") if token_type == "access" else (REFRESH_COOKIE, config.refresh_path)
        changes.add_cookie(_cookie(config, name, value, expires_ms, path, domain or config.cookie_domain))
    else:
        changes.set_header(ACCESS_HEADER if token_type == "access" else REFRESH_HEADER, value, expose=True)
    changes.set_header("cache-control", "no-store")


def set_access_token(
    changes: ResponseChanges,
    config: SessionConfig,
    token: str,
    front: str,
    method: TransferMethod,
    now_ms: int | None = None,
    browser_session: bool = False,
) -> None:
    """Deliver a new access token with its ``front-token``; the cookie lasts a year from ``now_ms`` (the
    JWT's ``exp`` governs), or the browser session. With ``expose_access_token_to_frontend_in_cookie_based_auth``,
    a cookie token also goes out as a header."""
    changes.set_header(FRONT_TOKEN_HEADER, front, expose=True)
    expires: int | None = (now_ms if now_ms is not None else int(time.time() * 1000)) + ONE_YEAR_MS
    if browser_session:
        expires = None
    set_token(changes, config, "access", token, expires, method)
    if config.expose_access_token_to_frontend_in_cookie_based_auth and method == "cookie":
        set_token(changes, config, "access", token, expires, "header")


def set_anti_csrf(changes: ResponseChanges, value: str) -> None:
    """Send the anti-CSRF token in the exposed ``anti-csrf`` header."""
    changes.set_header(ANTI_CSRF_HEADER, value, expose=True)


def clear_tokens(
    changes: ResponseChanges, config: SessionConfig, method: TransferMethod, *, domain: str | None = None
) -> None:
    """Clear both tokens in one transport: same name, path and domain, empty value, expired."""
    token_types: tuple[TokenType, ...] = ("access", "refresh")
    for token_type in token_types:
        set_token(changes, config, token_type, "", EPOCH, method, domain=domain)
    changes.remove_header(ANTI_CSRF_HEADER)
    changes.set_header(FRONT_TOKEN_HEADER, "remove", expose=True)


def clear_everywhere(changes: ResponseChanges, config: SessionConfig) -> None:
    """Clear both tokens in cookies and in headers."""
    for method in TRANSFER_METHODS:
        clear_tokens(changes, config, method)


def clear_legacy_cookie(changes: ResponseChanges, config: SessionConfig) -> None:
    """Clear the legacy ``sIdRefreshToken`` cookie (path ``/``, the cookie domain)."""
    changes.add_cookie(_cookie(config, LEGACY_ID_REFRESH_COOKIE, "", EPOCH, "/", config.cookie_domain))


def allowed_transfer(request: RequestView, config: SessionConfig, for_create: bool) -> TransferSetting:
    """How ``request``'s tokens may travel: the app's ``get_token_transfer_method(request, for_create, {})`` when it
    has one (upstream's callback), else ``token_transfer_method``."""
    chooser = config.get_token_transfer_method
    if chooser is None:
        return config.token_transfer_method
    chosen = chooser(request, for_create, {})
    if chosen not in ("cookie", "header", "any"):
        raise ConfigurationError(f"get_token_transfer_method must return cookie, header or any, not {chosen!r}")
    return chosen


def transfer_method_for_create(request: RequestView | None, config: SessionConfig) -> TransferMethod:
    """How a new session's tokens travel: the allowed method or, with ``any``, ``cookie`` if the request's
    ``st-auth-mode`` says so and headers otherwise (also without a request)."""
    allowed = config.token_transfer_method if request is None else allowed_transfer(request, config, True)
    if allowed != "any":
        return allowed
    mode = request.header(AUTH_MODE_HEADER) if request is not None else None
    return "cookie" if mode is not None and mode.strip().lower() == "cookie" else "header"


def refresh_request_for(refresh_token: str, anti_csrf_token: str | None, config: SessionConfig) -> RequestView:
    """The refresh request a token stands for when there is no real one (``*_without_request_response``): the
    token carried the way the recipe accepts it (a bearer header, or the refresh cookie when only cookies are)."""
    carrier = ("authorization", f"Bearer {refresh_token}")
    if config.token_transfer_method == "cookie":
        carrier = ("cookie", f"{REFRESH_COOKIE}={refresh_token}")
    headers = [carrier, ("rid", "session")]
    if anti_csrf_token is not None:
        headers.append((ANTI_CSRF_HEADER, anti_csrf_token))
    return RequestView.build("POST", config.refresh_path, headers)
