"""Session lifetime policies (security checklist 24 and 25) on every backend, with an injected clock across the whole
timeline: an absolute lifetime ends a session however active it is (the app's, or one asked for at creation), the
inactivity timeout still ends an idle one before that, and access-token jitter is subtract-only within
``[v(1 - j), v]``. The invariants are ``core.lifetimes``' docstring; here they are checked at every step of a
continuously refreshing client's life, not only at its ends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatepass.core import lifetimes
from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.core.settings import resolve_settings
from gatepass.errors import ConfigurationError
from gatepass.storage import sql
from gatepass.storage.opening import open_storage
from gatepass.storage.schema import LATEST_VERSION, MIGRATIONS
from tests.core.conftest import FakeClock, create_session, forge, refresh, segments, verify

ACCESS_S, REFRESH_MIN, ABSOLUTE_MIN = 60, 30, 120
STEP_MS = 50_000  # the client's activity: a call every 50 s, a refresh whenever its access token has expired


@pytest.fixture
def app_config() -> AppConfig:
    return AppConfig(
        access_token_validity=ACCESS_S, refresh_token_validity=REFRESH_MIN, session_absolute_lifetime=ABSOLUTE_MIN
    )


def _live_client(client: httpx.Client, clock: FakeClock, end_ms: int, tokens: dict[str, Any]) -> int:
    """Walk a busy client to past the session's absolute end; returns how many refreshes succeeded."""
    access, refresh_token, refreshes = tokens["accessToken"]["token"], tokens["refreshToken"]["token"], 0
    while clock.now < end_ms + 3 * STEP_MS:
        clock.advance(STEP_MS)
        exp_ms = segments(access)[1]["exp"] * 1000
        assert exp_ms <= end_ms  # no access token outlives the session's absolute end
        answer = verify(client, access)
        assert (answer["status"] == "OK") == (clock.now < exp_ms), (clock.now, exp_ms, answer["status"])
        if answer["status"] == "OK":
            continue
        rotated = refresh(client, refresh_token)
        if clock.now >= end_ms:
            assert rotated["status"] == "UNAUTHORISED", (clock.now - end_ms, rotated)
            return refreshes
        assert rotated["status"] == "OK", (clock.now, end_ms)
        assert rotated["refreshToken"]["expiry"] <= end_ms and rotated["accessToken"]["expiry"] <= end_ms
        access, refresh_token, refreshes = (
            rotated["accessToken"]["token"],
            rotated["refreshToken"]["token"],
            refreshes + 1,
        )
    raise AssertionError("the session outlived its absolute end")


def test_a_busy_session_ends_at_the_apps_absolute_lifetime(client: httpx.Client, clock: FakeClock) -> None:
    start = clock.now
    created = create_session(client, "busy")
    end_ms = start + ABSOLUTE_MIN * 60_000
    assert created["refreshToken"]["expiry"] == start + REFRESH_MIN * 60_000  # inactivity first, as before
    refreshes = _live_client(client, clock, end_ms, created)
    assert refreshes >= ABSOLUTE_MIN * 60_000 // (2 * STEP_MS) - 2  # it really was refreshing all along
    handle = created["session"]["handle"]
    info = client.get("/public/recipe/session", params={"sessionHandle": handle}).json()
    assert info["status"] == "UNAUTHORISED"


def test_an_idle_session_still_ends_by_inactivity_first(client: httpx.Client, clock: FakeClock) -> None:
    created = create_session(client, "idle")
    clock.advance(REFRESH_MIN * 60_000)  # the inactivity timeout, well before the absolute end
    assert refresh(client, created["refreshToken"]["token"])["status"] == "UNAUTHORISED"


def test_a_session_can_ask_for_its_own_absolute_lifetime(client: httpx.Client, clock: FakeClock) -> None:
    start = clock.now
    short = create_session(client, "short", absoluteLifetimeMs=10 * 60_000)
    assert short["refreshToken"]["expiry"] == start + 10 * 60_000  # shorter than the inactivity timeout
    assert segments(short["accessToken"]["token"])[1]["exp"] * 1000 <= start + 10 * 60_000
    _live_client(client, clock, start + 10 * 60_000, short)
    clock.now = start
    longer = create_session(client, "longer", absoluteLifetimeMs=200 * 60_000)  # longer than the app's
    _live_client(client, clock, start + 200 * 60_000, longer)


@pytest.mark.parametrize("value", [0, -1, 1.5, "60000", True, 1e309, 10**400, 10 * 365 * 24 * 3_600_000 + 1, [1]])
def test_a_bad_absolute_lifetime_is_a_400_and_writes_nothing(client: httpx.Client, value: Any) -> None:
    body = {"userId": "bad", "userDataInJWT": {}, "userDataInDatabase": {}, "absoluteLifetimeMs": value}
    raw = httpx.Request("POST", "/x", json=body).content if value != 1e309 else None
    content = raw if raw is not None else b'{"userId":"bad","userDataInJWT":{},"absoluteLifetimeMs":1e309}'
    response = client.post("/public/recipe/session", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400  # named, or refused by the JSON reader first (1e309, 400 digits)
    assert "absoluteLifetimeMs" in response.text or "number" in response.text
    handles = client.get("/recipe/session/user", params={"userId": "bad"}).json()["sessionHandles"]
    assert handles == []


def _served(tmp_path: Path, config: AppConfig, clock: FakeClock) -> Iterator[httpx.Client]:
    from gatepass.core.http_app import CoreHttpApp
    from gatepass.core.runtime import CoreRuntime
    from tests.helpers import serve_in_thread

    runtime = CoreRuntime.open(f"sqlite:///{tmp_path / 'own.db'}", config, clock)
    try:
        with serve_in_thread(CoreHttpApp(runtime)) as url, httpx.Client(base_url=url) as http:
            yield http
    finally:
        runtime.close()


def test_without_an_absolute_lifetime_sessions_live_by_inactivity_alone(tmp_path: Path, clock: FakeClock) -> None:
    for http in _served(tmp_path, AppConfig(access_token_validity=60, refresh_token_validity=30), clock):
        token = create_session(http, "forever")["refreshToken"]["token"]
        for _ in range(20):  # 20 x 25 minutes: far past any absolute end, each within the inactivity timeout
            clock.advance(25 * 60_000)
            rotated = refresh(http, token)
            assert rotated["status"] == "OK"
            assert verify(http, rotated["accessToken"]["token"])["status"] == "OK"  # its first use promotes it
            token = rotated["refreshToken"]["token"]


# jitter ----------------------------------------------------------------------------------------------------------
def test_jitter_spreads_access_token_lifetimes_within_the_bound(tmp_path: Path, clock: FakeClock) -> None:
    config = AppConfig(access_token_validity=1000, refresh_token_validity=60, access_token_validity_jitter=0.2)
    lifetimes_s = set()
    for http in _served(tmp_path, config, clock):
        for i in range(40):
            tokens = create_session(http, f"j{i}")
            claims = segments(tokens["accessToken"]["token"])[1]
            lifetimes_s.add(claims["exp"] - claims["iat"])
            rotated = refresh(http, tokens["refreshToken"]["token"])
            claims = segments(rotated["accessToken"]["token"])[1]
            lifetimes_s.add(claims["exp"] - claims["iat"])
        assert all(800 - 1 <= s <= 1000 for s in lifetimes_s), lifetimes_s  # subtract-only, within [v(1-j), v]
        assert len(lifetimes_s) > 10  # spread out, not synchronised


@given(
    now=st.integers(0, 2**41),
    validity=st.integers(1000, 10**10),
    jitter=st.floats(0, lifetimes.MAX_JITTER),
    uniform=st.floats(0, 1, exclude_max=True),
    end_after=st.one_of(st.none(), st.integers(0, 10**11)),
)
def test_access_expiry_is_subtract_only_and_never_past_the_end(
    now: int, validity: int, jitter: float, uniform: float, end_after: int | None
) -> None:
    end = None if end_after is None else now + end_after
    exp_ms = lifetimes.access_expiry_s(now, validity, jitter, uniform, end) * 1000
    assert exp_ms <= now + validity
    assert end is None or exp_ms <= end
    if end is None or end >= now + validity:
        assert exp_ms >= (now + validity - int(validity * jitter)) // 1000 * 1000 - 1000
    expiry = lifetimes.session_expiry(now, validity, end)
    assert expiry <= now + validity and (end is None or expiry <= end)


def test_lifetime_settings_are_checked() -> None:
    assert build_app_config({"session_absolute_lifetime": "1440"}).absolute_lifetime_ms == 1440 * 60_000
    assert build_app_config({"access_token_validity_jitter": 0.05}).access_token_validity_jitter == 0.05
    for bad in [{"session_absolute_lifetime": -1}, {"access_token_validity_jitter": 0.6},
                {"access_token_validity_jitter": -0.1}, {"session_absolute_lifetime": 0.5},  # 30 s < the access token
                {"session_absolute_lifetime": "nan"}]:  # fmt: skip
        with pytest.raises(ConfigurationError):
            build_app_config(bad)
    settings = resolve_settings({}, {"GATEPASS_SESSION_ABSOLUTE_LIFETIME": "600"}, {})
    assert settings.app_config.session_absolute_lifetime == 600
    assert AppConfig().absolute_lifetime_ms == 0 and AppConfig().access_token_validity_jitter == 0  # off by default


# storage -----------------------------------------------------------------------------------------------------------
def test_a_database_from_before_the_absolute_lifetime_is_upgraded_in_place(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sql, "MIGRATIONS", MIGRATIONS[:1])
    old = open_storage(database_url)
    with old.transaction() as tx:
        tx._execute(  # type: ignore[attr-defined]
            "INSERT INTO session_info (app_id, session_handle, tenant_id, user_id, refresh_token_hash_2, session_data, "
            "jwt_user_payload, expires_at, created_at_time, last_updated_at, use_static_key) "
            "VALUES ('public', 'h-old', 'public', 'u', 'x', '{}', '{}', 9999999999999, 1, 1, 0)"
        )
    old.close()
    monkeypatch.setattr(sql, "MIGRATIONS", MIGRATIONS)
    upgraded = open_storage(database_url)
    try:
        with upgraded.read() as tx:
            row = tx.get_session("public", "h-old", 2)
            versions = [int(r[0]) for r in tx._fetchall("SELECT version FROM gatepass_schema")]  # type: ignore[attr-defined]
        assert row is not None and row.absolute_expires_at_ms is None  # an old session keeps its old rules
        assert versions == list(range(1, LATEST_VERSION + 1))
    finally:
        upgraded.close()


def test_the_embedded_core_takes_the_lifetimes_too(tmp_path: Path, clock: FakeClock) -> None:
    from gatepass.recipe import session
    from gatepass.recipe.app_info import AppInfo
    from gatepass.recipe.instance import create
    from gatepass.recipe.session import syncio
    from gatepass.recipe.session.core_client import EmbeddedCore
    from gatepass.recipe.session.errors import UnauthorisedError

    core = EmbeddedCore(
        f"sqlite:///{tmp_path / 'e.db'}", access_token_validity=60, session_absolute_lifetime=5, clock=clock
    )
    info = AppInfo(app_name="t", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")
    gp = create(app_info=info, core=core, framework="flask", recipe_list=[session.init()])
    try:
        start = clock.now
        made = syncio.create_new_session_without_request_response("public", "e", gatepass=gp)
        tokens = made.get_all_session_tokens_dangerously()
        assert made.get_access_token_payload()["exp"] * 1000 <= start + 5 * 60_000
        clock.advance(5 * 60_000)
        with pytest.raises(UnauthorisedError):
            syncio.refresh_session_without_request_response(tokens["refreshToken"], True, gatepass=gp)
    finally:
        gp.close()


def test_a_re_minted_token_never_outlives_the_absolute_end(
    client: httpx.Client, clock: FakeClock, runtime: Any
) -> None:
    """A token signed with the session keys may claim any ``exp`` (the JWT recipe signs session-shaped payloads):
    regenerate and verify's replacement keep the presented ``exp`` only up to the session's absolute end."""
    start = clock.now
    made = create_session(client, "stretch", absoluteLifetimeMs=10 * 60_000)
    token = made["accessToken"]["token"]
    header, payload = segments(token)
    ctx = runtime.apps.get("public")
    key = ctx.keyring.verification_key(header["kid"], ctx.config.key_times)
    far = {**payload, "exp": payload["exp"] + 10 * 365 * 24 * 3600}
    stretched = forge(header, far, key.sign)
    regenerated = client.post("/recipe/session/regenerate", json={"accessToken": stretched, "userDataInJWT": {"a": 1}})
    assert regenerated.status_code == 200 and regenerated.json()["status"] == "OK", regenerated.text
    new_exp = segments(regenerated.json()["accessToken"]["token"])[1]["exp"]
    assert new_exp * 1000 <= start + 10 * 60_000
    clock.advance(10 * 60_000)
    assert verify(client, stretched, checkDatabase=True)["status"] != "OK"  # the session itself has ended
    assert client.post("/recipe/session/regenerate", json={"accessToken": stretched}).json()["status"] != "OK"


@given(exp=st.integers(0, 2**40), end=st.one_of(st.none(), st.integers(0, 2**50)))
def test_a_kept_expiry_is_capped_at_the_end(exp: int, end: int | None) -> None:
    kept = lifetimes.kept_expiry_s(exp, end)
    assert kept <= exp and (end is None or kept * 1000 <= end) and (end is not None or kept == exp)
