"""The per-user session cap (issue 13 item 4) through the CDI endpoints, on SQLite and PostgreSQL, with an injected
clock: with ``max_sessions_per_user = n`` a user never has more than ``n`` live sessions once a create commits;
``revoke_oldest`` ends the oldest (by creation) and lists them in the reply, ``refuse`` answers
``SESSION_LIMIT_REACHED`` and writes nothing. The invariant is ``core.session_cap``'s docstring; parallel creates
here (one process) and in ``test_multi_process`` (two)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from gatepass.core.app_config import AppConfig, build_app_config
from gatepass.core.runtime import CoreRuntime
from gatepass.core.session_cap import decide_cap
from gatepass.core.settings import resolve_settings
from gatepass.errors import ConfigurationError
from tests.core.conftest import FakeClock, create_session, db_snapshot, refresh

CAP = 3
MINUTE_MS = 60_000


def _config(policy: str = "revoke_oldest") -> AppConfig:
    return build_app_config(
        {"max_sessions_per_user": CAP, "session_cap_policy": policy},
        AppConfig(access_token_validity=60, refresh_token_validity=60),
    )


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> AppConfig:
    return _config(getattr(request, "param", "revoke_oldest"))


def _create(client: httpx.Client, user_id: str = "capped", **fields: Any) -> dict[str, Any]:
    response = client.post("/public/recipe/session", json={"userId": user_id, **fields})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _handles(client: httpx.Client, user_id: str = "capped") -> list[str]:
    reply = client.get("/recipe/session/user", params={"userId": user_id}).json()
    handles: list[str] = reply["sessionHandles"]
    return handles


def _logins(client: httpx.Client, clock: FakeClock, count: int, user_id: str = "capped") -> list[dict[str, Any]]:
    sessions = []
    for index in range(count):
        sessions.append(create_session(client, user_id, userDataInJWT={"n": index}, userDataInDatabase={"d": index}))
        clock.advance(1)
    return sessions


def test_one_more_login_revokes_the_oldest_and_says_which(client: httpx.Client, clock: FakeClock) -> None:
    first, second, third = _logins(client, clock, CAP)
    assert all("revokedSessions" not in s for s in (first, second, third))  # under the cap: the reply as upstream's
    fourth = create_session(client, "capped")
    oldest = first["session"]["handle"]
    assert fourth["revokedSessions"] == [
        {
            "sessionHandle": oldest,
            "userId": "capped",
            "tenantId": "public",
            "userDataInJWT": {"n": 0, **_protected(first)},
            "userDataInDatabase": {"d": 0},
        }
    ]
    assert refresh(client, first["refreshToken"]["token"])["status"] == "UNAUTHORISED"
    live = {s["session"]["handle"] for s in (second, third, fourth)}
    assert set(_handles(client)) == live
    assert refresh(client, second["refreshToken"]["token"])["status"] == "OK"


def _protected(session: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = session["session"]["userDataInJWT"]
    return {k: v for k, v in payload.items() if k != "n"}


def test_oldest_means_created_first_not_least_active(client: httpx.Client, clock: FakeClock) -> None:
    first, second, _ = _logins(client, clock, CAP)
    clock.advance(MINUTE_MS)
    assert refresh(client, first["refreshToken"]["token"])["status"] == "OK"  # the oldest is the most active
    revoked = create_session(client, "capped")["revokedSessions"]
    assert [r["sessionHandle"] for r in revoked] == [first["session"]["handle"]]
    assert second["session"]["handle"] in _handles(client)


def test_expired_sessions_do_not_count(client: httpx.Client, clock: FakeClock) -> None:
    _logins(client, clock, CAP)
    clock.advance(60 * MINUTE_MS)  # every one of them has ended by inactivity
    fresh = _logins(client, clock, CAP)
    assert all("revokedSessions" not in s for s in fresh)
    assert len(_handles(client)) == CAP


def test_other_users_are_not_counted(client: httpx.Client, clock: FakeClock) -> None:
    _logins(client, clock, CAP, user_id="alice")
    assert "revokedSessions" not in create_session(client, "bob")
    assert len(_handles(client, "alice")) == CAP


def test_sessions_in_every_tenant_count(client: httpx.Client, clock: FakeClock) -> None:
    response = client.put("/recipe/multitenancy/tenant/v2", json={"tenantId": "t1"})
    assert response.status_code == 200, response.text
    _logins(client, clock, CAP)
    reply = client.post("/t1/recipe/session", json={"userId": "capped"}).json()
    assert reply["status"] == "OK" and len(reply["revokedSessions"]) == 1
    assert reply["revokedSessions"][0]["tenantId"] == "public"
    assert len(_handles(client)) == CAP


@pytest.mark.parametrize("app_config", ["refuse"], indirect=True)
def test_refuse_answers_the_limit_and_writes_nothing(
    client: httpx.Client, clock: FakeClock, runtime: CoreRuntime
) -> None:
    first, *_ = _logins(client, clock, CAP)
    before = db_snapshot(runtime)
    assert _create(client) == {"status": "SESSION_LIMIT_REACHED", "maxSessionsPerUser": CAP}
    assert db_snapshot(runtime) == before
    client.post("/recipe/session/remove", json={"sessionHandles": [first["session"]["handle"]]})
    assert _create(client)["status"] == "OK"  # room again
    clock.advance(60 * MINUTE_MS)
    assert _create(client)["status"] == "OK"  # and once they have expired


@pytest.mark.parametrize("app_config", ["revoke_oldest", "refuse"], indirect=True)
def test_the_cap_holds_under_parallel_logins(client: httpx.Client, app_config: AppConfig) -> None:
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(lambda _: _create(client), range(16)))
    statuses = sorted(r["status"] for r in replies)
    live = _handles(client)
    assert len(live) == CAP
    if app_config.session_cap_policy == "refuse":
        assert statuses == ["OK"] * CAP + ["SESSION_LIMIT_REACHED"] * (16 - CAP)
        return
    assert statuses == ["OK"] * 16
    revoked = [r["sessionHandle"] for reply in replies for r in reply.get("revokedSessions", [])]
    created = [reply["session"]["handle"] for reply in replies]
    assert sorted(revoked + live) == sorted(created)  # each session ended once, by exactly one login
    assert len(set(revoked)) == len(revoked)


def test_a_cap_set_per_app_through_core_config(client: httpx.Client, clock: FakeClock) -> None:
    body = {"appId": "tight", "coreConfig": {"max_sessions_per_user": "1", "session_cap_policy": "refuse"}}
    assert client.put("/recipe/multitenancy/app/v2", json=body).status_code == 200
    first = client.post("/appid-tight/public/recipe/session", json={"userId": "u"}).json()
    assert first["status"] == "OK"
    second = client.post("/appid-tight/public/recipe/session", json={"userId": "u"}).json()
    assert second == {"status": "SESSION_LIMIT_REACHED", "maxSessionsPerUser": 1}
    bad = {"appId": "tight", "coreConfig": {"max_sessions_per_user": 1.5}}
    assert client.put("/recipe/multitenancy/app/v2", json=bad).status_code == 400


def test_the_decision() -> None:
    live = ["a", "b", "c", "d"]
    assert decide_cap(live, 0, "revoke_oldest").revoke == ()
    assert decide_cap(live, 5, "refuse").refuse is False
    assert decide_cap(live, 4, "refuse").refuse is True
    assert decide_cap(live, 4, "revoke_oldest").revoke == ("a",)
    assert decide_cap(live, 2, "revoke_oldest").revoke == ("a", "b", "c")  # a cap lowered below what a user has
    assert decide_cap([], 1, "refuse").refuse is False


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_sessions_per_user": -1}, "max_sessions_per_user"),
        ({"max_sessions_per_user": 2.5}, "max_sessions_per_user"),
        ({"max_sessions_per_user": 10_001}, "max_sessions_per_user"),
        ({"max_sessions_per_user": True}, "max_sessions_per_user"),
        ({"max_sessions_per_user": "nan"}, "max_sessions_per_user"),
        ({"session_cap_policy": "revoke_newest"}, "session_cap_policy"),
        ({"session_cap_policy": 1}, "session_cap_policy"),
    ],
)
def test_the_cap_settings_are_checked(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        build_app_config(values)


def test_the_cap_settings_from_flags_environment_and_file() -> None:
    env = {"GATEPASS_MAX_SESSIONS_PER_USER": "5"}
    settings = resolve_settings({"session_cap_policy": "refuse"}, env)
    assert (settings.app_config.session_cap, settings.app_config.session_cap_policy) == (5, "refuse")
    assert resolve_settings({}, {}, {"max_sessions_per_user": 2}).app_config.session_cap == 2
    assert resolve_settings({}, {}).app_config.session_cap == 0  # the default: no cap
    assert resolve_settings({}, {}).app_config.session_cap_policy == "revoke_oldest"
