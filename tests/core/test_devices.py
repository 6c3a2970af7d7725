"""gatepass's "your devices" endpoints (issue 13 item 6) over HTTP, on SQLite and PostgreSQL, with an injected clock:
``GET [/{tenant}]/recipe/session/user/sessions`` lists a user's live sessions with created time, last activity
(refreshes and promotions), expiry and where they were created and last refreshed from, and no stored data;
``POST [/{tenant}]/recipe/session/user/sessions/remove-others`` revokes every other session of the kept session's
user in one transaction, or nothing when the kept session is gone. Hostile input is a 400, never a 500."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.core.conftest import FakeClock, create_session, db_snapshot, refresh, verify
from tests.core.test_session_options import JSON

LIST = "/recipe/session/user/sessions"
OTHERS = "/recipe/session/user/sessions/remove-others"
PHONE = {"ip": "192.0.2.7", "userAgent": "Phone/1.0"}
LAPTOP = {"ip": "2001:db8::1", "userAgent": "Laptop/2.0"}


def _devices(client: httpx.Client, user_id: str = "u", prefix: str = "", **query: str) -> list[dict[str, Any]]:
    response = client.get(prefix + LIST, params={"userId": user_id, **query})
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["status"] == "OK"
    sessions: list[dict[str, Any]] = reply["sessions"]
    return sessions


def _others(client: httpx.Client, handle: str, prefix: str = "", **body: Any) -> dict[str, Any]:
    response = client.post(prefix + OTHERS, json={"sessionHandle": handle, **body})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def test_the_list_shows_when_and_where_and_nothing_stored(client: httpx.Client, clock: FakeClock) -> None:
    start = clock()
    phone = create_session(client, "u", clientInfo=PHONE, userDataInJWT={"secret": "s"}, userDataInDatabase={"d": 1})
    clock.advance(1_000)
    laptop = create_session(client, "u", browserSession=True)
    assert _devices(client) == [
        {
            "sessionHandle": phone["session"]["handle"],
            "tenantId": "public",
            "timeCreated": start,
            "lastActive": start,
            "expiry": phone["refreshToken"]["expiry"],
            "browserSession": False,
            "createdFrom": PHONE,
            "lastSeenFrom": PHONE,
        },
        {
            "sessionHandle": laptop["session"]["handle"],
            "tenantId": "public",
            "timeCreated": start + 1_000,
            "lastActive": start + 1_000,
            "expiry": laptop["refreshToken"]["expiry"],
            "browserSession": True,
        },
    ]
    assert _devices(client, "nobody") == []


def test_last_activity_follows_refreshes_and_promotions(client: httpx.Client, clock: FakeClock) -> None:
    created = create_session(client, "u", clientInfo=PHONE)
    clock.advance(5_000)
    child = refresh(client, created["refreshToken"]["token"], clientInfo=LAPTOP)
    (device,) = _devices(client)
    assert (device["lastActive"], device["lastSeenFrom"], device["createdFrom"]) == (clock(), LAPTOP, PHONE)
    clock.advance(5_000)
    assert verify(client, child["accessToken"]["token"])["status"] == "OK"  # the promotion is activity too
    (device,) = _devices(client)
    assert device["lastActive"] == clock() and device["expiry"] == child["refreshToken"]["expiry"] + 5_000
    clock.advance(5_000)
    refresh(client, child["refreshToken"]["token"])  # from nowhere in particular: where it was last seen stays
    assert _devices(client)[0]["lastSeenFrom"] == LAPTOP


def test_ended_sessions_are_not_listed(client: httpx.Client, clock: FakeClock) -> None:
    create_session(client, "u")
    clock.advance(60 * 60_000)
    assert _devices(client) == []


def test_one_tenant_or_all(client: httpx.Client) -> None:
    assert client.put("/recipe/multitenancy/tenant/v2", json={"tenantId": "t1"}).status_code == 200
    create_session(client, "u")
    in_t1 = client.post("/t1/recipe/session", json={"userId": "u"}).json()
    assert len(_devices(client)) == 2
    only_t1 = _devices(client, prefix="/t1", fetchAcrossAllTenants="false")
    assert [d["sessionHandle"] for d in only_t1] == [in_t1["session"]["handle"]]


def test_sign_out_everywhere_else(client: httpx.Client, clock: FakeClock) -> None:
    sessions = []
    for n in range(3):
        sessions.append(create_session(client, "u", userDataInJWT={"n": n}))
        clock.advance(1)
    other_user = create_session(client, "v")
    kept = sessions[1]["session"]["handle"]
    reply = _others(client, kept)
    revoked = [entry["sessionHandle"] for entry in reply["revokedSessions"]]
    assert revoked == [sessions[0]["session"]["handle"], sessions[2]["session"]["handle"]]
    assert reply["revokedSessions"][0]["userDataInJWT"]["n"] == 0  # what they stored, to release it
    assert [d["sessionHandle"] for d in _devices(client)] == [kept]
    assert refresh(client, sessions[0]["refreshToken"]["token"])["status"] == "UNAUTHORISED"
    assert refresh(client, sessions[1]["refreshToken"]["token"])["status"] == "OK"
    assert refresh(client, other_user["refreshToken"]["token"])["status"] == "OK"
    assert _others(client, kept) == {"status": "OK", "revokedSessions": []}


def test_sign_out_everywhere_else_in_one_tenant(client: httpx.Client) -> None:
    assert client.put("/recipe/multitenancy/tenant/v2", json={"tenantId": "t1"}).status_code == 200
    public = create_session(client, "u")
    kept, other = (client.post("/t1/recipe/session", json={"userId": "u"}).json() for _ in range(2))
    reply = _others(client, kept["session"]["handle"], "/t1", revokeAcrossAllTenants=False)
    assert [e["sessionHandle"] for e in reply["revokedSessions"]] == [other["session"]["handle"]]
    assert refresh(client, public["refreshToken"]["token"])["status"] == "OK"


@pytest.mark.parametrize("handle", ["0d5c3a18-7a3e-4c43-8c1d-8e7e0e9b4a11", "not a handle", "x" * 5000, "\u0000"])
def test_a_kept_session_that_is_gone_revokes_nothing(client: httpx.Client, runtime: Any, handle: str) -> None:
    create_session(client, "u")
    before = db_snapshot(runtime)
    assert _others(client, handle) == {"status": "UNAUTHORISED", "message": "Session does not exist."}
    assert db_snapshot(runtime) == before


def test_an_expired_kept_session_revokes_nothing(client: httpx.Client, clock: FakeClock) -> None:
    old = create_session(client, "u")
    clock.advance(60 * 60_000)
    fresh = create_session(client, "u")
    assert _others(client, old["session"]["handle"])["status"] == "UNAUTHORISED"
    assert [d["sessionHandle"] for d in _devices(client)] == [fresh["session"]["handle"]]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "userId"),
        ({"userId": "u", "fetchAcrossAllTenants": "maybe"}, "fetchAcrossAllTenants"),
    ],
)
def test_bad_list_queries_are_400(client: httpx.Client, query: dict[str, str], message: str) -> None:
    response = client.get(LIST, params=query)
    assert response.status_code == 400 and message in response.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | st.fixed_dictionaries({"sessionHandle": JSON}, optional={"revokeAcrossAllTenants": JSON}))
def test_any_body_for_remove_others_is_an_answer_or_a_400(client: httpx.Client, body: Any) -> None:
    response = client.post(OTHERS, content=json.dumps(body))
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200:
        assert response.json()["status"] in ("OK", "UNAUTHORISED")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user_id=st.text(max_size=300), across=st.text(max_size=8))
def test_any_query_for_the_list_is_an_answer_or_a_400(client: httpx.Client, user_id: str, across: str) -> None:
    response = client.get(LIST, params={"userId": user_id, "fetchAcrossAllTenants": across})
    assert response.status_code in (200, 400), response.text


def test_every_device_signing_out_the_others_at_once_leaves_one(client: httpx.Client, clock: FakeClock) -> None:
    handles = []
    for _ in range(8):
        handles.append(create_session(client, "u")["session"]["handle"])
        clock.advance(1)
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda handle: _others(client, handle), handles))
    statuses = sorted(reply["status"] for reply in replies)
    assert statuses == ["OK"] + ["UNAUTHORISED"] * 7
    (winner,) = (reply for reply in replies if reply["status"] == "OK")
    assert len(winner["revokedSessions"]) == 7
    assert len(_devices(client)) == 1


def test_signing_out_elsewhere_alongside_other_revocations_never_deadlocks(client: httpx.Client) -> None:
    """Every revocation locks session rows in one order (PostgreSQL would otherwise abort one of two transactions
    that lock the same rows in opposite orders): all answers are 200, whatever runs alongside."""
    statuses: list[int] = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        for round_ in range(30):
            handles = [create_session(client, "u")["session"]["handle"] for _ in range(6)]
            listed = handles if round_ % 2 else list(reversed(handles))
            calls = [
                pool.submit(client.post, OTHERS, json={"sessionHandle": handles[3]}),
                pool.submit(client.post, "/recipe/session/remove", json={"sessionHandles": listed}),
                pool.submit(client.post, "/recipe/session/remove", json={"userId": "u"}),
            ]
            statuses += [call.result().status_code for call in calls]
    assert statuses == [200] * 90


def test_an_ipv6_scope_id_is_not_kept(client: httpx.Client) -> None:
    hostile = "fe80::1%\x00\n\u202e<img src=x onerror=alert(1)>" + "x" * 300_000
    response = client.post("/public/recipe/session", json={"userId": "u", "clientInfo": {"ip": hostile}})
    assert response.status_code == 200, response.text
    (device,) = _devices(client)
    assert device["createdFrom"] == {"ip": "fe80::1"}


def test_a_kept_session_outside_the_tenant_asked_for_revokes_nothing(client: httpx.Client) -> None:
    assert client.put("/recipe/multitenancy/tenant/v2", json={"tenantId": "t1"}).status_code == 200
    kept = create_session(client, "u")
    in_t1 = client.post("/t1/recipe/session", json={"userId": "u"}).json()
    reply = _others(client, kept["session"]["handle"], "/t1", revokeAcrossAllTenants=False)
    assert reply["status"] == "UNAUTHORISED"
    assert refresh(client, in_t1["refreshToken"]["token"])["status"] == "OK"
