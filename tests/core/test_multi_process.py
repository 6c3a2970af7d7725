"""Two real ``gatepass core`` processes on one database (PostgreSQL, and SQLite on one file): sessions, keys and
rotation state are shared; concurrent work across processes neither raises false theft nor creates two keys."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.core.conftest import segments
from tests.helpers import API_KEY, CoreProcess, running_core

HEADERS = {"api-key": API_KEY, "cdi-version": "5.4"}


@pytest.fixture
def two_cores(database_url: str, tmp_path: Path) -> Iterator[tuple[CoreProcess, CoreProcess]]:
    args = ["--api-key", API_KEY]
    with (
        running_core(database_url, tmp_path / "a.log", args) as a,
        running_core(database_url, tmp_path / "b.log", args) as b,
    ):
        yield a, b


def _post(core: CoreProcess, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(core.url + path, json=body, headers=HEADERS, timeout=30)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _refresh(core: CoreProcess, token: str, prefix: str = "") -> dict[str, Any]:
    return _post(core, prefix + "/recipe/session/refresh", {"refreshToken": token, "useDynamicSigningKey": True})


def _verify(core: CoreProcess, token: str, prefix: str = "") -> dict[str, Any]:
    return _post(core, prefix + "/recipe/session/verify", {"accessToken": token, "doAntiCsrfCheck": False})


def test_created_on_one_refreshed_and_verified_on_the_other(two_cores: tuple[CoreProcess, CoreProcess]) -> None:
    a, b = two_cores
    created = _post(a, "/public/recipe/session", {"userId": "u", "userDataInJWT": {"k": 1}})
    assert _verify(b, created["accessToken"]["token"])["status"] == "OK"
    refreshed = _refresh(b, created["refreshToken"]["token"])
    assert refreshed["status"] == "OK"
    promoted = _verify(a, refreshed["accessToken"]["token"])
    assert "accessToken" in promoted
    assert _refresh(b, created["refreshToken"]["token"])["status"] == "TOKEN_THEFT_DETECTED"
    kid = segments(created["accessToken"]["token"])[0]["kid"]
    for core in (a, b):
        keys = httpx.get(core.url + "/.well-known/jwks.json").json()["keys"]
        assert kid in {k["kid"] for k in keys}
    removed = _post(b, "/recipe/session/remove", {"sessionHandles": [created["session"]["handle"]]})
    assert removed["sessionHandlesRevoked"] == [created["session"]["handle"]]
    assert _refresh(a, promoted["accessToken"]["token"])["status"] == "UNAUTHORISED"


def test_parallel_refreshes_across_processes_no_false_theft(two_cores: tuple[CoreProcess, CoreProcess]) -> None:
    a, b = two_cores
    rt0 = _post(a, "/public/recipe/session", {"userId": "u"})["refreshToken"]["token"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: _refresh((a, b)[i % 2], rt0), range(16)))
    assert [r["status"] for r in results] == ["OK"] * 16
    child = results[0]["refreshToken"]["token"]
    with ThreadPoolExecutor(max_workers=8) as pool:  # the child is promoted exactly once, by whichever wins
        promoted = list(pool.map(lambda i: _refresh((a, b)[i % 2], child), range(8)))
    assert [r["status"] for r in promoted] == ["OK"] * 8


def test_two_processes_rotating_at_once_create_one_key(two_cores: tuple[CoreProcess, CoreProcess]) -> None:
    a, b = two_cores
    app_id = str(uuid.uuid4())
    created = httpx.put(a.url + "/recipe/multitenancy/app/v2", json={"appId": app_id}, headers=HEADERS)
    assert created.json()["createdNew"] is True
    prefix = f"/appid-{app_id}"

    def first_session(core: CoreProcess) -> str:
        token = _post(core, prefix + "/public/recipe/session", {"userId": "u"})["accessToken"]["token"]
        return str(segments(token)[0]["kid"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        kids = list(pool.map(lambda i: first_session((a, b)[i % 2]), range(8)))
    assert len(set(kids)) == 1
    for core in (a, b):
        keys = httpx.get(core.url + prefix + "/.well-known/jwks.json").json()["keys"]
        assert [k["kid"] for k in keys if k["kid"].startswith("d-")] == [kids[0]]


def test_app_created_on_one_process_serves_on_the_other(two_cores: tuple[CoreProcess, CoreProcess]) -> None:
    a, b = two_cores
    app_id = str(uuid.uuid4())
    httpx.put(
        a.url + "/recipe/multitenancy/app/v2",
        json={"appId": app_id, "coreConfig": {"access_token_validity": 9}},
        headers=HEADERS,
    )
    created = _post(b, f"/appid-{app_id}/public/recipe/session", {"userId": "u"})
    assert created["accessToken"]["expiry"] - created["accessToken"]["createdTime"] == 9000
    assert _refresh(a, created["refreshToken"]["token"], f"/appid-{app_id}")["status"] == "OK"


@pytest.fixture
def two_graceful_cores(database_url: str, tmp_path: Path) -> Iterator[tuple[CoreProcess, CoreProcess]]:
    args = ["--api-key", API_KEY, "--refresh-token-grace-period", "60"]
    with (
        running_core(database_url, tmp_path / "a.log", args) as a,
        running_core(database_url, tmp_path / "b.log", args) as b,
    ):
        yield a, b


def test_the_grace_window_is_used_once_across_processes(
    two_graceful_cores: tuple[CoreProcess, CoreProcess],
) -> None:
    """Issue 13 item 5: a displaced sibling sent to both processes at once is accepted exactly once."""
    a, b = two_graceful_cores
    parent = _post(a, "/public/recipe/session", {"userId": "tabs"})["refreshToken"]["token"]
    current, sibling = (_refresh(core, parent)["refreshToken"]["token"] for core in (a, b))
    assert _refresh(b, current)["status"] == "OK"  # promoted on b
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(r["status"] for r in pool.map(lambda i: _refresh((a, b)[i % 2], sibling), range(8)))
    assert statuses == ["OK"] + ["TOKEN_THEFT_DETECTED"] * 7


@pytest.fixture(params=["revoke_oldest", "refuse"])
def two_capped_cores(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[tuple[str, CoreProcess, CoreProcess]]:
    args = ["--api-key", API_KEY, "--max-sessions-per-user", "3", "--session-cap-policy", request.param]
    with (
        running_core(database_url, tmp_path / "a.log", args) as a,
        running_core(database_url, tmp_path / "b.log", args) as b,
    ):
        yield request.param, a, b


def test_the_session_cap_holds_across_processes(two_capped_cores: tuple[str, CoreProcess, CoreProcess]) -> None:
    """Issue 13 item 4: 16 logins of one user sent to both processes at once leave exactly 3 live sessions."""
    policy, a, b = two_capped_cores
    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(lambda i: _post((a, b)[i % 2], "/public/recipe/session", {"userId": "u"}), range(16)))
    listed = httpx.get(a.url + "/recipe/session/user", params={"userId": "u"}, headers=HEADERS, timeout=30).json()
    assert len(listed["sessionHandles"]) == 3
    statuses = sorted(reply["status"] for reply in replies)
    if policy == "refuse":
        assert statuses == ["OK"] * 3 + ["SESSION_LIMIT_REACHED"] * 13
    else:
        assert statuses == ["OK"] * 16
        revoked = [r["sessionHandle"] for reply in replies for r in reply.get("revokedSessions", [])]
        assert len(revoked) == len(set(revoked)) == 13
