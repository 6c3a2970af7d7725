"""Where tokens travel (``gatepass.recipe.session.transport``): reading them from requests, and the exact response
changes that set or clear them in cookies and headers."""

from __future__ import annotations

import base64
import json
import time

import pytest

from gatepass.errors import ConfigurationError
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session import transport
from gatepass.recipe.session.config import SessionConfig, SessionOptions, build_session_config
from gatepass.recipe.session.http_types import Cookie, RequestView, ResponseChanges

NOW_MS = 1_800_000_000_000
YEAR_MS = 365 * 24 * 3600 * 1000
LOCAL = AppInfo("app", "http://localhost:8000", "http://localhost:3000", api_base_path="/auth")
PUBLIC = AppInfo("app", "https://api.example.com", "https://www.example.com", api_base_path="/api")


def _config(app_info: AppInfo = LOCAL, **options: object) -> SessionConfig:
    return build_session_config(app_info, SessionOptions(**options))  # type: ignore[arg-type]


def _request(*headers: tuple[str, str]) -> RequestView:
    return RequestView.build("GET", "/", headers)


CONFIG = _config()


# reading tokens ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("authorization", "token"),
    [
        (None, None),
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("Bearer   padded  ", "padded"),
        ("Bearer ", None),
        ("Bearer    ", None),
        ("bearer abc", None),  # the scheme is matched as the SDKs send it
        ("Basic dXNlcjpwYXNz", None),
        ("Bearerabc", None),
    ],
)
def test_bearer_token(authorization: str | None, token: str | None) -> None:
    headers = [("authorization", authorization)] if authorization is not None else []
    assert transport.bearer_token(_request(*headers)) == token


def test_cookie_tokens_are_percent_decoded_in_order_with_duplicates_and_without_empties() -> None:
    request = _request(("cookie", "sAccessToken=a%2Eb; sRefreshToken=r1; sAccessToken=; sAccessToken=second"))
    assert transport.cookie_tokens(request, "access") == ["a.b", "second"]
    assert transport.cookie_tokens(request, "refresh") == ["r1"]
    assert transport.cookie_tokens(_request(), "refresh") == []


def test_token_in_reads_the_transport_asked_for() -> None:
    request = _request(("authorization", "Bearer from-header"), ("cookie", "sAccessToken=c1; sAccessToken=c2"))
    assert transport.token_in(request, "access", "header") == "from-header"
    assert transport.token_in(request, "access", "cookie") == "c1"  # duplicates are the caller's to detect
    assert transport.token_in(request, "refresh", "cookie") is None
    assert transport.token_in(_request(), "access", "header") is None


@pytest.mark.parametrize(
    ("setting", "mode", "method"),
    [
        ("cookie", None, "cookie"),
        ("cookie", "header", "cookie"),
        ("header", "cookie", "header"),
        ("any", None, "header"),
        ("any", "cookie", "cookie"),
        ("any", "  Cookie ", "cookie"),
        ("any", "header", "header"),
        ("any", "cookies", "header"),
    ],
)
def test_transfer_method_for_create(setting: str, mode: str | None, method: str) -> None:
    config = _config(token_transfer_method=setting)
    request = _request(("st-auth-mode", mode)) if mode is not None else _request()
    assert transport.transfer_method_for_create(request, config) == method


def test_transfer_method_for_create_without_a_request() -> None:
    assert transport.transfer_method_for_create(None, _config(token_transfer_method="any")) == "header"
    assert transport.transfer_method_for_create(None, _config(token_transfer_method="cookie")) == "cookie"


# writing tokens ----------------------------------------------------------------------------------------------------
def test_front_token_is_standard_base64_of_sorted_compact_json() -> None:
    front = transport.front_token("user-1", 1234, {"role": "ü", "a": [1]})
    decoded = base64.b64decode(front, validate=True).decode("utf-8")
    assert decoded == '{"ate":1234,"uid":"user-1","up":{"a":[1],"role":"\\u00fc"}}'
    assert json.loads(decoded) == {"ate": 1234, "uid": "user-1", "up": {"role": "ü", "a": [1]}}


def test_access_token_in_a_cookie() -> None:
    changes = ResponseChanges()
    transport.set_access_token(changes, CONFIG, "a.b/c", "FRONT", "cookie", now_ms=NOW_MS)
    assert changes.cookies == [Cookie("sAccessToken", "a.b%2Fc", NOW_MS + YEAR_MS, "/", None, False, "lax")]
    assert changes.headers == {"front-token": "FRONT", "cache-control": "no-store"}
    assert changes.expose == ["front-token"]


def test_access_token_in_a_header() -> None:
    changes = ResponseChanges()
    transport.set_access_token(changes, CONFIG, "a.b/c", "FRONT", "header", now_ms=NOW_MS)
    assert changes.cookies == []
    assert changes.headers == {"front-token": "FRONT", "st-access-token": "a.b/c", "cache-control": "no-store"}
    assert changes.expose == ["front-token", "st-access-token"]


def test_access_token_exposed_to_the_frontend_in_cookie_mode_goes_in_both() -> None:
    config = _config(expose_access_token_to_frontend_in_cookie_based_auth=True)
    changes = ResponseChanges()
    transport.set_access_token(changes, config, "tok", "FRONT", "cookie", now_ms=NOW_MS)
    assert [c.name for c in changes.cookies] == ["sAccessToken"] and changes.headers["st-access-token"] == "tok"
    header_only = ResponseChanges()
    transport.set_access_token(header_only, config, "tok", "FRONT", "header", now_ms=NOW_MS)
    assert header_only.cookies == [] and header_only.headers["st-access-token"] == "tok"


def test_access_cookie_lasts_a_year_from_the_clock_when_no_time_is_given() -> None:
    before = int(time.time() * 1000)
    changes = ResponseChanges()
    transport.set_access_token(changes, CONFIG, "tok", "FRONT", "cookie")
    after = int(time.time() * 1000)
    assert before + YEAR_MS <= changes.cookies[0].expires_ms <= after + YEAR_MS


def test_refresh_token_cookie_is_scoped_to_the_refresh_path_and_the_cookie_domain() -> None:
    config = _config(PUBLIC, cookie_domain="Example.COM")
    changes = ResponseChanges()
    transport.set_token(changes, config, "refresh", "rt", NOW_MS + 5, "cookie")
    assert changes.cookies == [
        Cookie("sRefreshToken", "rt", NOW_MS + 5, "/api/session/refresh", "example.com", True, "lax")
    ]
    transport.set_token(changes, config, "refresh", "rt2", NOW_MS + 6, "cookie", domain="old.example.com")
    assert [(c.value, c.domain) for c in changes.cookies] == [("rt", "example.com"), ("rt2", "old.example.com")]
    assert changes.headers == {"cache-control": "no-store"} and changes.expose == []


def test_refresh_token_in_a_header() -> None:
    changes = ResponseChanges()
    transport.set_token(changes, CONFIG, "refresh", "rt", NOW_MS, "header")
    assert changes.headers == {"st-refresh-token": "rt", "cache-control": "no-store"}
    assert changes.expose == ["st-refresh-token"] and changes.cookies == []


def test_anti_csrf_header_is_exposed() -> None:
    changes = ResponseChanges()
    transport.set_anti_csrf(changes, "csrf-1")
    assert changes.headers == {"anti-csrf": "csrf-1"} and changes.expose == ["anti-csrf"]


@pytest.mark.parametrize(
    ("value", "fits"), [("a" * 4083, True), ("a" * 4084, False), ("é" * 680, True), ("é" * 681, False)]
)
def test_a_cookie_over_4096_bytes_once_encoded_is_a_configuration_error(value: str, fits: bool) -> None:
    changes = ResponseChanges()
    if fits:
        transport.set_token(changes, CONFIG, "access", value, NOW_MS, "cookie")
        assert len(changes.cookies[0].name) + len(changes.cookies[0].value) + 1 <= transport.MAX_COOKIE_BYTES
        return
    with pytest.raises(ConfigurationError, match="sAccessToken cookie would be .* over the browser limit") as caught:
        transport.set_token(changes, CONFIG, "access", value, NOW_MS, "cookie")
    assert value[:20] not in str(caught.value) and "%C3%A9%C3%A9" not in str(caught.value)
    assert changes.empty


# clearing tokens ---------------------------------------------------------------------------------------------------
def test_clearing_cookies_expires_both_with_their_paths() -> None:
    changes = ResponseChanges()
    transport.set_anti_csrf(changes, "csrf-1")
    transport.clear_tokens(changes, CONFIG, "cookie")
    assert changes.cookies == [
        Cookie("sAccessToken", "", 0, "/", None, False, "lax"),
        Cookie("sRefreshToken", "", 0, "/auth/session/refresh", None, False, "lax"),
    ]
    assert changes.headers == {"cache-control": "no-store", "front-token": "remove"}
    assert changes.removed_headers == {"anti-csrf"}


def test_clearing_headers_sends_empty_tokens() -> None:
    changes = ResponseChanges()
    transport.clear_tokens(changes, CONFIG, "header")
    assert changes.cookies == []
    assert changes.headers == {
        "st-access-token": "",
        "st-refresh-token": "",
        "cache-control": "no-store",
        "front-token": "remove",
    }
    assert changes.removed_headers == {"anti-csrf"}


def test_clearing_on_an_older_domain() -> None:
    changes = ResponseChanges()
    transport.clear_tokens(changes, _config(PUBLIC, cookie_domain="example.com"), "cookie", domain="api.example.com")
    assert {(c.name, c.domain, c.secure) for c in changes.cookies} == {
        ("sAccessToken", "api.example.com", True),
        ("sRefreshToken", "api.example.com", True),
    }


def test_clear_everywhere_clears_cookies_and_headers() -> None:
    changes = ResponseChanges()
    transport.clear_everywhere(changes, CONFIG)
    assert {(c.name, c.value, c.expires_ms) for c in changes.cookies} == {
        ("sAccessToken", "", 0),
        ("sRefreshToken", "", 0),
    }
    assert changes.headers["st-access-token"] == changes.headers["st-refresh-token"] == ""
    assert changes.headers["front-token"] == "remove"


def test_clear_legacy_cookie() -> None:
    changes = ResponseChanges()
    transport.clear_legacy_cookie(changes, _config(PUBLIC, cookie_domain="example.com"))
    assert changes.cookies == [Cookie("sIdRefreshToken", "", 0, "/", "example.com", True, "lax")]
    assert changes.headers == {}


def test_cors_headers_name_what_the_browser_sdk_sends_and_reads() -> None:
    assert transport.cors_allowed_headers() == ["rid", "fdi-version", "anti-csrf", "authorization", "st-auth-mode"]
    assert transport.cors_expose_headers() == ["front-token", "anti-csrf", "st-access-token", "st-refresh-token"]
