"""Per-session options at creation (issue 13 item 3), through the CDI endpoints on SQLite and PostgreSQL with an
injected clock: ``refreshTokenValidityMs`` is the session's own inactivity timeout, kept across every rotation;
``browserSession`` is kept and echoed in the ``session`` object of every reply that carries one; hostile values are
a named 400 that writes nothing (Hypothesis over any JSON value)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatepass.core.app_config import AppConfig
from gatepass.core.runtime import CoreRuntime
from gatepass.protocol.cdi_base import ClientInfo
from tests.core.conftest import FakeClock, create_session, db_snapshot, refresh, verify

ACCESS_S, REFRESH_MIN = 60, 120
SHORT_MS = 10 * 60_000


@pytest.fixture
def app_config() -> AppConfig:
    return AppConfig(access_token_validity=ACCESS_S, refresh_token_validity=REFRESH_MIN)


def test_a_sessions_own_inactivity_timeout_holds_at_every_rotation(client: httpx.Client, clock: FakeClock) -> None:
    start = clock.now
    made = create_session(client, "short", refreshTokenValidityMs=SHORT_MS)
    assert made["refreshToken"]["expiry"] == start + SHORT_MS
    token = made["refreshToken"]["token"]
    token = refresh(client, token)["refreshToken"]["token"]  # a child: promoted (and extended) by its first use
    for _ in range(4):
        clock.advance(SHORT_MS - 1)
        rotated = refresh(client, token)
        assert rotated["status"] == "OK" and rotated["refreshToken"]["expiry"] == clock.now + SHORT_MS
        token = rotated["refreshToken"]["token"]
    clock.advance(SHORT_MS)  # ten idle minutes: the app's two hours do not apply to this session
    assert refresh(client, token)["status"] == "UNAUTHORISED"


def test_the_inactivity_timeout_and_the_absolute_end_combine(client: httpx.Client, clock: FakeClock) -> None:
    start = clock.now
    made = create_session(client, "both", refreshTokenValidityMs=SHORT_MS, absoluteLifetimeMs=15 * 60_000)
    token = refresh(client, made["refreshToken"]["token"])["refreshToken"]["token"]
    clock.advance(SHORT_MS - 1)
    rotated = refresh(client, token)
    assert rotated["refreshToken"]["expiry"] == start + 15 * 60_000  # capped by the absolute end
    clock.now = start + 15 * 60_000
    assert refresh(client, rotated["refreshToken"]["token"])["status"] == "UNAUTHORISED"


def test_browser_session_is_kept_and_echoed(client: httpx.Client) -> None:
    made = create_session(client, "browser", browserSession=True)
    assert made["session"]["browserSession"] is True
    rotated = refresh(client, made["refreshToken"]["token"])
    assert rotated["session"]["browserSession"] is True
    promoted = verify(client, rotated["accessToken"]["token"])
    assert "accessToken" in promoted and promoted["session"]["browserSession"] is True
    body = {"accessToken": promoted["accessToken"]["token"], "userDataInJWT": {"k": 1}}
    regenerated = client.post("/recipe/session/regenerate", json=body).json()
    assert regenerated["session"]["browserSession"] is True
    plain = create_session(client, "plain")
    assert "browserSession" not in plain["session"]  # upstream's replies stay byte for byte what they were
    assert "browserSession" not in refresh(client, plain["refreshToken"]["token"])["session"]


@pytest.mark.parametrize(
    ("value", "why"),
    [(ACCESS_S * 1000, "longer than the access token"), (REFRESH_MIN * 60_000 + 1, "at most the app's")],
)
def test_an_inactivity_timeout_out_of_the_apps_range_is_refused(
    client: httpx.Client, runtime: CoreRuntime, value: int, why: str
) -> None:
    before = db_snapshot(runtime)
    body = {"userId": "u", "userDataInJWT": {}, "refreshTokenValidityMs": value}
    response = client.post("/public/recipe/session", json=body)
    assert response.status_code == 400 and why in response.text
    assert db_snapshot(runtime) == before


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["refreshTokenValidityMs", "browserSession", "clientInfo"]), value=JSON)
def test_any_value_of_the_new_fields_is_a_reply_or_a_named_400(client: httpx.Client, field: str, value: Any) -> None:
    response = client.post("/public/recipe/session", json={"userId": "fuzz", "userDataInJWT": {}, field: value})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert field in response.text or "must be" in response.text
    else:
        client.post("/recipe/session/remove", json={"userId": "fuzz"})


def test_client_info_is_recorded_at_creation_and_refresh(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock
) -> None:
    made = create_session(client, "where", clientInfo={"ip": "192.0.2.1", "userAgent": "Firefox\x00"})
    clock.advance(1_000)
    refresh(client, made["refreshToken"]["token"], clientInfo={"ip": "not an address", "userAgent": "Phone"})
    with runtime.storage.read() as tx:
        row = tx.get_session("public", made["session"]["handle"], clock())
    assert row is not None
    assert row.created_client == ClientInfo("192.0.2.1", "Firefox")
    assert row.last_client == ClientInfo(None, "Phone") and row.last_active_at_ms == clock.now


HOSTILE = [
    b'{"userId":"h","refreshTokenValidityMs":' + b"9" * 5000 + b"}",  # 5,000 digits
    b'{"userId":"h","refreshTokenValidityMs":1e309}',
    b'{"userId":"h","browserSession":"true\\u0000"}',
    b'{"userId":"h","clientInfo":' + b'{"ip":' * 2000 + b"1" + b"}" * 2000 + b"}",  # deep nesting
    b'{"userId":"h","clientInfo":{"ip":["192.0.2.1"]}}',
    b'{"userId":"h","clientInfo":"192.0.2.1"}',
    b'{"userId":"h","clientInfo":{"userAgent":"\\ud800"}}',  # a lone surrogate: the JSON reader refuses it
    b'{"userId":"h","clientInfo":{"userAgent":"' + b"x" * (1024 * 1024) + b'"}}',  # over the 1 MiB body limit
]


@pytest.mark.parametrize("raw", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_bodies_for_the_new_fields_are_a_400_and_write_nothing(
    client: httpx.Client, runtime: CoreRuntime, raw: bytes
) -> None:
    before = db_snapshot(runtime)
    response = client.post("/public/recipe/session", content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (400, 413), response.text[:200]
    assert db_snapshot(runtime) == before


def test_odd_but_well_typed_client_info_is_cleaned_not_refused(client: httpx.Client, runtime: CoreRuntime) -> None:
    """NUL and control characters, a long agent, a bogus address: stored cleaned, on both backends (PostgreSQL
    refuses NUL in text: it never reaches it)."""
    agent = '"\\u0000agent\\u001b[31m' + "y" * 5000 + '"'
    raw = '{"userId":"odd","clientInfo":{"ip":"\\u0000::1","userAgent":' + agent + "}}"
    response = client.post("/public/recipe/session", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    with runtime.storage.read() as tx:
        row = tx.get_session("public", response.json()["session"]["handle"], 0)
    assert row is not None and row.created_client is not None
    assert row.created_client.ip is None  # "\0::1" is not an address
    agent_stored = row.created_client.user_agent or ""
    assert agent_stored.startswith("agent[31m") and len(agent_stored) == 512 and "\x00" not in agent_stored
