"""Property-based tests of every CDI route over real HTTP, on SQLite and PostgreSQL: hostile bodies, query strings
and paths never get a 5xx or a database's text, and a rejected request (4xx) writes nothing."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.core.cdi_api import ROUTES
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import RateLimits
from gatepass.untrusted import MalformedInput, parse_json
from tests.core.conftest import create_session, db_snapshot
from tests.core.test_hostile_input import DRIVER_WORDS
from tests.fuzz_settings import fuzz_settings
from tests.helpers import API_KEY, serve_in_thread

FIELDS = [
    "userId",
    "userDataInJWT",
    "userDataInDatabase",
    "useDynamicSigningKey",
    "enableAntiCsrf",
    "accessToken",
    "refreshToken",
    "antiCsrfToken",
    "doAntiCsrfCheck",
    "checkDatabase",
    "sessionHandle",
    "sessionHandles",
    "revokeAcrossAllTenants",
    "payload",
    "algorithm",
    "jwksDomain",
    "validity",
    "useStaticSigningKey",
    "appId",
    "tenantId",
    "coreConfig",
]
QUERY_FIELDS = ["userId", "sessionHandle", "fetchAcrossAllTenants", "fetchSessionsForAllLinkedAccounts"]
HOSTILE_TEXT = ["\x00", "a\x00b", "\ud800", "²", "٥", "a" * 3000, "appid-x", "public", "RS256", "../..", "' OR 1=1 --"]
HOSTILE_RAW = ["1e309", "-1e309", "NaN", "Infinity", "1" * 5000, '"\\ud800"', '"\\u0000"', "[" * 80 + "]" * 80]


def _raw(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)


text = st.one_of(st.text(max_size=12), st.sampled_from(HOSTILE_TEXT))
scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), text).map(
    _raw
)
raw_value = st.recursive(
    st.one_of(scalar, st.sampled_from(HOSTILE_RAW), st.sampled_from(["REAL_TOKEN", "REAL_REFRESH", "REAL_HANDLE"])),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]"),
        st.dictionaries(st.text(max_size=4).map(_raw), inner, max_size=3).map(
            lambda d: "{" + ",".join(f"{k}:{v}" for k, v in d.items()) + "}"
        ),
    ),
    max_leaves=8,
)
body = st.dictionaries(st.sampled_from(FIELDS), raw_value, max_size=6).map(
    lambda d: "{" + ",".join(f"{_raw(k)}:{v}" for k, v in d.items()) + "}"
)
route = st.sampled_from([(method, path) for path, methods in ROUTES.items() for method in methods])
prefix = st.one_of(
    st.just(""),
    st.sampled_from(["/appid-public", "/public", "/appid-public/public", "/appid-nope", "/t1"]),
    text.map(lambda t: "/" + urllib.parse.quote(t, safe="", errors="surrogatepass")),
    text.map(lambda t: "/appid-" + urllib.parse.quote(t, safe="", errors="surrogatepass")),
)
query = st.dictionaries(st.sampled_from(QUERY_FIELDS), text, max_size=3)


@pytest.fixture
def open_core(runtime: CoreRuntime) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with serve_in_thread(CoreHttpApp(runtime, [API_KEY], RateLimits.off())) as base_url:
        headers = {"api-key": API_KEY, "cdi-version": "5.4", "content-type": "application/json"}
        with httpx.Client(base_url=base_url, headers=headers, timeout=30) as http:
            created = create_session(http, enableAntiCsrf=True)
            real = {
                "REAL_TOKEN": _raw(created["accessToken"]["token"]),
                "REAL_REFRESH": _raw(created["refreshToken"]["token"]),
                "REAL_HANDLE": _raw(created["session"]["handle"]),
            }
            yield http, real


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.request.method, response.request.url, response.text[:300])
    lowered = response.text.lower()
    assert not any(word.lower() in lowered for word in DRIVER_WORDS), response.text[:300]
    if response.status_code == 200 and response.headers.get("content-type", "").startswith("application/json"):
        try:
            parse_json(response.content)
        except MalformedInput:  # pragma: no cover - the failure message is the point
            pytest.fail(f"the core answered JSON it could not read back: {response.text[:200]}")


@fuzz_settings()
@given(route=route, prefix=prefix, raw_body=body, params=query)
def test_fuzz_every_cdi_route_never_5xx_and_rejections_write_nothing(
    open_core: tuple[httpx.Client, dict[str, str]],
    runtime: CoreRuntime,
    route: tuple[str, str],
    prefix: str,
    raw_body: str,
    params: dict[str, str],
) -> None:
    http, real = open_core
    for marker, value in real.items():
        raw_body = raw_body.replace(marker, value)
    method, path = route
    before = db_snapshot(runtime)
    content = None if method == "GET" else raw_body.encode("utf-8", "surrogatepass")
    query_string = urllib.parse.urlencode(params, errors="surrogatepass")
    response = http.request(method, prefix + path + ("?" + query_string if params else ""), content=content)
    _check(response)
    if 400 <= response.status_code < 500:
        assert db_snapshot(runtime) == before, (method, prefix + path, raw_body[:200], response.text[:200])


@fuzz_settings()
@given(raw=st.binary(max_size=300), path=st.sampled_from(["/recipe/session", "/recipe/session/refresh"]))
def test_fuzz_arbitrary_bytes_as_a_body_are_400(
    open_core: tuple[httpx.Client, dict[str, str]], runtime: CoreRuntime, raw: bytes, path: str
) -> None:
    http, _ = open_core
    before = db_snapshot(runtime)
    response = http.post(path, content=raw)
    _check(response)
    if response.status_code == 400:
        assert db_snapshot(runtime) == before
