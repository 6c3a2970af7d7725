"""Refresh-token rotation, promotion and theft detection through the CDI endpoints, on SQLite and PostgreSQL.
Each scenario of the protocol's table (§8.4) is one test."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gatepass.core.runtime import CoreRuntime
from tests.core.conftest import FakeClock, create_session, refresh, segments, verify


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _stored_hash2(runtime: CoreRuntime, handle: str, now: int) -> str:
    with runtime.storage.read() as tx:
        row = tx.get_session("public", handle, now)
    assert row is not None
    return row.refresh_token_hash2


def test_create_stores_only_the_double_hash(client: httpx.Client, runtime: CoreRuntime, clock: FakeClock) -> None:
    created = create_session(client)
    rt0 = created["refreshToken"]["token"]
    handle = created["session"]["handle"]
    assert _stored_hash2(runtime, handle, clock()) == _hash(_hash(rt0))
    _, payload = segments(created["accessToken"]["token"])
    assert payload["refreshTokenHash1"] == _hash(rt0) and payload["parentRefreshTokenHash1"] is None


def test_refresh_then_verify_promotes_and_returns_new_token(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock
) -> None:
    created = create_session(client)
    handle = created["session"]["handle"]
    first = refresh(client, created["refreshToken"]["token"])
    assert first["status"] == "OK"
    rt1 = first["refreshToken"]["token"]
    # a refresh with the current token writes nothing
    assert _stored_hash2(runtime, handle, clock()) == _hash(_hash(created["refreshToken"]["token"]))
    _, payload = segments(first["accessToken"]["token"])
    assert payload["parentRefreshTokenHash1"] == _hash(created["refreshToken"]["token"])

    result = verify(client, first["accessToken"]["token"])
    assert result["status"] == "OK" and "accessToken" in result
    _, promoted = segments(result["accessToken"]["token"])
    assert promoted["parentRefreshTokenHash1"] is None and promoted["refreshTokenHash1"] == _hash(rt1)
    assert _stored_hash2(runtime, handle, clock()) == _hash(_hash(rt1))


def test_refresh_with_the_child_promotes_it_then_rotates(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock
) -> None:
    created = create_session(client)
    rt1 = refresh(client, created["refreshToken"]["token"])["refreshToken"]["token"]
    second = refresh(client, rt1)
    assert second["status"] == "OK"
    assert _stored_hash2(runtime, created["session"]["handle"], clock()) == _hash(_hash(rt1))
    _, payload = segments(second["accessToken"]["token"])
    assert payload["parentRefreshTokenHash1"] == _hash(rt1)


def test_reuse_of_superseded_token_after_promotion_is_theft(client: httpx.Client) -> None:
    created = create_session(client, "thief-victim")
    rt0 = created["refreshToken"]["token"]
    first = refresh(client, rt0)
    assert verify(client, first["accessToken"]["token"])["status"] == "OK"
    stolen = refresh(client, rt0)
    assert stolen == {
        "status": "TOKEN_THEFT_DETECTED",
        "session": {"handle": created["session"]["handle"], "userId": "thief-victim", "recipeUserId": "thief-victim"},
    }


def test_sibling_children_first_used_wins_second_is_theft(client: httpx.Client) -> None:
    created = create_session(client)
    rt0 = created["refreshToken"]["token"]
    sibling_a = refresh(client, rt0)["refreshToken"]["token"]
    sibling_b = refresh(client, rt0)["refreshToken"]["token"]
    assert sibling_a != sibling_b
    assert refresh(client, sibling_a)["status"] == "OK"
    assert refresh(client, sibling_b)["status"] == "TOKEN_THEFT_DETECTED"


def test_grandchild_of_an_unpromoted_child_is_theft(client: httpx.Client) -> None:
    """A token two generations ahead was minted from a child that never became current: not a child of current."""
    created = create_session(client)
    rt1 = refresh(client, created["refreshToken"]["token"])["refreshToken"]["token"]
    rt2 = refresh(client, rt1)["refreshToken"]["token"]  # promotes rt1
    rt3 = refresh(client, rt2)["refreshToken"]["token"]  # promotes rt2
    assert refresh(client, rt3)["status"] == "OK"
    assert refresh(client, rt1)["status"] == "TOKEN_THEFT_DETECTED"


def test_theft_then_revoke_makes_the_newest_token_fail_too(client: httpx.Client) -> None:
    created = create_session(client)
    rt0 = created["refreshToken"]["token"]
    rt1 = refresh(client, rt0)["refreshToken"]["token"]
    rt2 = refresh(client, rt1)["refreshToken"]["token"]
    theft = refresh(client, rt0)
    assert theft["status"] == "TOKEN_THEFT_DETECTED"
    removed = client.post("/recipe/session/remove", json={"sessionHandles": [theft["session"]["handle"]]}).json()
    assert removed["sessionHandlesRevoked"] == [created["session"]["handle"]]
    assert refresh(client, rt2)["status"] == "UNAUTHORISED"


def test_verify_with_an_older_branch_token_returns_no_replacement(client: httpx.Client) -> None:
    created = create_session(client)
    first = refresh(client, created["refreshToken"]["token"])
    second = refresh(client, first["refreshToken"]["token"])  # promotes rt1
    refresh(client, second["refreshToken"]["token"])  # promotes rt2: first's access token is an older branch
    result = verify(client, first["accessToken"]["token"])
    assert result["status"] == "OK" and "accessToken" not in result


def test_verify_after_promotion_by_refresh_mints_a_clean_token(client: httpx.Client) -> None:
    created = create_session(client)
    first = refresh(client, created["refreshToken"]["token"])
    refresh(client, first["refreshToken"]["token"])  # promotes rt1, which first's access token belongs to
    result = verify(client, first["accessToken"]["token"])
    _, payload = segments(result["accessToken"]["token"])
    assert payload["parentRefreshTokenHash1"] is None


def test_lost_refresh_response_retry_succeeds(client: httpx.Client) -> None:
    """Checklist 19: the client never saw the answer to a refresh (or to a promotion) and retries."""
    created = create_session(client)
    rt0 = created["refreshToken"]["token"]
    lost = refresh(client, rt0)  # the answer is lost
    retried = refresh(client, rt0)
    assert lost["status"] == "OK" and retried["status"] == "OK"
    rt1 = retried["refreshToken"]["token"]
    lost_again = refresh(client, rt1)  # promotes rt1; this answer is lost too
    assert lost_again["status"] == "OK"
    assert refresh(client, rt1)["status"] == "OK"  # rt1 is now current: still fine


def test_lost_promotion_response_retry_gets_a_token(client: httpx.Client) -> None:
    created = create_session(client)
    first = refresh(client, created["refreshToken"]["token"])
    assert "accessToken" in verify(client, first["accessToken"]["token"])  # promotion; answer lost
    again = verify(client, first["accessToken"]["token"])
    assert again["status"] == "OK" and "accessToken" in again


@pytest.mark.parametrize("parallel", [2, 8, 50])
def test_concurrent_refreshes_of_one_token(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock, parallel: int
) -> None:
    """Checklist 18: N parallel refreshes of the current token all succeed, write nothing, and converge."""
    created = create_session(client)
    rt0 = created["refreshToken"]["token"]
    with ThreadPoolExecutor(max_workers=min(parallel, 16)) as pool:
        results = list(pool.map(lambda _: refresh(client, rt0), range(parallel)))
    assert [r["status"] for r in results] == ["OK"] * parallel
    assert _stored_hash2(runtime, created["session"]["handle"], clock()) == _hash(_hash(rt0))
    children = [r["refreshToken"]["token"] for r in results]
    assert len(set(children)) == parallel
    # the client converges on the first sibling it uses; the lineage goes on from there
    winner = refresh(client, children[0])
    assert winner["status"] == "OK"
    assert refresh(client, winner["refreshToken"]["token"])["status"] == "OK"


def test_concurrent_refreshes_of_a_child_promote_once(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock
) -> None:
    created = create_session(client)
    rt1 = refresh(client, created["refreshToken"]["token"])["refreshToken"]["token"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: refresh(client, rt1), range(8)))
    assert [r["status"] for r in results] == ["OK"] * 8
    assert _stored_hash2(runtime, created["session"]["handle"], clock()) == _hash(_hash(rt1))


def test_refresh_extends_the_session_only_on_promotion(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock
) -> None:
    created = create_session(client)
    handle = created["session"]["handle"]
    with runtime.storage.read() as tx:
        row = tx.get_session("public", handle, clock())
    assert row is not None
    expires = row.expires_at_ms
    clock.advance(10_000)
    rt1 = refresh(client, created["refreshToken"]["token"])["refreshToken"]["token"]
    with runtime.storage.read() as tx:
        assert (row := tx.get_session("public", handle, clock())) is not None and row.expires_at_ms == expires
    refresh(client, rt1)
    with runtime.storage.read() as tx:
        assert (row := tx.get_session("public", handle, clock())) is not None and row.expires_at_ms == expires + 10_000


def test_expired_session_is_gone_and_cleaned_up(client: httpx.Client, runtime: CoreRuntime, clock: FakeClock) -> None:
    created = create_session(client)
    clock.advance(61 * 60_000)  # refresh validity is 60 minutes in these tests
    assert refresh(client, created["refreshToken"]["token"])["status"] == "UNAUTHORISED"
    info = client.get("/recipe/session", params={"sessionHandle": created["session"]["handle"]}).json()
    assert info["status"] == "UNAUTHORISED"
    assert client.get("/recipe/session/user", params={"userId": "user-1"}).json()["sessionHandles"] == []
    assert runtime.records.delete_expired() == 1
    assert runtime.records.delete_expired() == 0


def test_expired_access_token_is_try_refresh(client: httpx.Client, clock: FakeClock) -> None:
    created = create_session(client)
    clock.advance(61_000)
    result = verify(client, created["accessToken"]["token"])
    assert result["status"] == "TRY_REFRESH_TOKEN"


def test_key_type_switch_heals_on_refresh(client: httpx.Client) -> None:
    created = create_session(client, useDynamicSigningKey=False)
    header, _ = segments(created["accessToken"]["token"])
    assert header["kid"].startswith("s-")
    switched = refresh(client, created["refreshToken"]["token"], useDynamicSigningKey=True)
    header, _ = segments(switched["accessToken"]["token"])
    assert header["kid"].startswith("d-")
    promoted = verify(client, switched["accessToken"]["token"])
    header, _ = segments(promoted["accessToken"]["token"])
    assert header["kid"].startswith("d-")


def test_check_database_detects_payload_drift(client: httpx.Client) -> None:
    created = create_session(client, userDataInJWT={"role": "user"})
    handle = created["session"]["handle"]
    update = client.put("/recipe/jwt/data", json={"sessionHandle": handle, "userDataInJWT": {"role": "admin"}})
    assert update.json() == {"status": "OK"}
    stateless = verify(client, created["accessToken"]["token"])
    assert stateless["status"] == "OK" and "accessToken" not in stateless
    checked = verify(client, created["accessToken"]["token"], checkDatabase=True)
    _, payload = segments(checked["accessToken"]["token"])
    assert payload["role"] == "admin" and checked["session"]["userDataInJWT"] == {"role": "admin"}


def test_regenerate_keeps_identity_and_expiry(client: httpx.Client) -> None:
    created = create_session(client, userDataInJWT={"a": 1}, enableAntiCsrf=True)
    token = created["accessToken"]["token"]
    result = client.post("/recipe/session/regenerate", json={"accessToken": token, "userDataInJWT": {"b": 2}}).json()
    assert result["status"] == "OK"
    _, old = segments(token)
    _, new = segments(result["accessToken"]["token"])
    for claim in ("exp", "sessionHandle", "refreshTokenHash1", "parentRefreshTokenHash1", "antiCsrfToken"):
        assert new[claim] == old[claim]
    assert new["b"] == 2 and "a" not in new
    assert result["accessToken"]["expiry"] == old["exp"] * 1000


def test_regenerate_of_expired_token_stores_payload_without_token(client: httpx.Client, clock: FakeClock) -> None:
    created = create_session(client, userDataInJWT={"a": 1})
    clock.advance(61_000)
    result = client.post(
        "/recipe/session/regenerate", json={"accessToken": created["accessToken"]["token"], "userDataInJWT": {"c": 3}}
    ).json()
    assert result["status"] == "OK" and "accessToken" not in result
    refreshed = refresh(client, created["refreshToken"]["token"])
    assert segments(refreshed["accessToken"]["token"])[1]["c"] == 3


def test_regenerate_of_revoked_session_is_unauthorised(client: httpx.Client) -> None:
    created = create_session(client)
    client.post("/recipe/session/remove", json={"sessionHandles": [created["session"]["handle"]]})
    result = client.post("/recipe/session/regenerate", json={"accessToken": created["accessToken"]["token"]}).json()
    assert result == {"status": "UNAUTHORISED", "message": "Session does not exist."}


def test_a_verify_never_lengthens_an_access_token(client: httpx.Client, runtime: CoreRuntime, clock: FakeClock) -> None:
    """The first use after a refresh (promotion), and a payload changed in the database (check_database), both get
    a replacement that keeps the presented token's exp: only a refresh starts a new validity, so whatever was
    issued with the refresh (the FaunaDB integration's token TTL) covers every token of that lineage."""
    created = create_session(client)
    refreshed = refresh(client, created["refreshToken"]["token"])
    expiry = refreshed["accessToken"]["expiry"]
    clock.advance(35_000)  # an idle tab: the first request comes long after the refresh
    promoted = verify(client, refreshed["accessToken"]["token"])["accessToken"]
    assert promoted["expiry"] == expiry and segments(promoted["token"])[1]["exp"] * 1000 == expiry
    assert segments(promoted["token"])[1]["iat"] * 1000 == clock()
    handle = created["session"]["handle"]
    update = client.put("/recipe/jwt/data", json={"sessionHandle": handle, "userDataInJWT": {"role": "admin"}})
    assert update.status_code == 200 and update.json()["status"] == "OK"
    clock.advance(10_000)
    reminted = verify(client, promoted["token"], checkDatabase=True)["accessToken"]
    assert reminted["expiry"] == expiry and segments(reminted["token"])[1]["role"] == "admin"
