"""Regression tests for the hostile-input defects of issue 8 (items 1-7), each named after its defect, on SQLite
and PostgreSQL: a clear 4xx or the protocol's status string, never a 5xx, never driver text, nothing written."""

from __future__ import annotations

import base64
import json
import logging
import socket
import threading
from typing import Any

import httpx
import pytest

from gatepass.core.cdi_api import ROUTES
from gatepass.core.runtime import CoreRuntime
from tests.core.conftest import create_session, db_snapshot, segments
from tests.helpers import API_KEY

DRIVER_WORDS = ("psycopg", "SQLSTATE", "session_info", "sqlite3", "Traceback", "violates", "constraint", "relation ")
NOT_JSON_NUMBERS = ["1e309", "-1e309", "NaN", "Infinity", "-Infinity", "1" * 5000, "1" * 4301, "0." + "1" * 5000]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _assert_clean(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:200])
    for word in DRIVER_WORDS:
        assert word.lower() not in response.text.lower()


def _post_raw(client: httpx.Client, path: str, raw: str, method: str = "POST") -> httpx.Response:
    return client.request(method, path, content=raw.encode(), headers={"content-type": "application/json"})


# 1 -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["²", "٥", "3.0", " 5", "1" * 5000, "-5", "", "５"])
def test_defect_01_token_version_not_ascii_digits_is_try_refresh(client: httpx.Client, version: str) -> None:
    real = create_session(client)["accessToken"]["token"]
    header, payload = segments(real)
    crafted = _b64(json.dumps({**header, "version": version}).encode()) + "." + real.split(".", 1)[1]
    response = client.post("/recipe/session/verify", json={"accessToken": crafted, "doAntiCsrfCheck": False})
    _assert_clean(response)
    assert response.json()["status"] == "TRY_REFRESH_TOKEN"


def test_defect_01_the_reported_header_is_try_refresh(client: httpx.Client) -> None:
    header = _b64(b'{"alg":"RS256","typ":"JWT","kid":"d-1","version":"\xc2\xb2"}')
    crafted = header + "." + _b64(b'{"sub":"x"}') + "." + _b64(b"sig")
    response = client.post("/recipe/session/verify", json={"accessToken": crafted, "doAntiCsrfCheck": False})
    assert response.status_code == 200 and response.json()["status"] == "TRY_REFRESH_TOKEN"


@pytest.mark.parametrize("where", ["header", "payload"])
@pytest.mark.parametrize("number", ["1" * 5000, "1e309", "NaN", "-Infinity"])
def test_defect_01_token_json_with_unparseable_numbers_is_try_refresh(
    client: httpx.Client, where: str, number: str
) -> None:
    real = create_session(client)["accessToken"]["token"]
    head, body, sig = real.split(".")
    if where == "header":
        head = _b64(('{"alg":"RS256","typ":"JWT","kid":"d-1","version":"5","n":' + number + "}").encode())
    else:
        body = _b64(('{"sub":"x","n":' + number + "}").encode())
    crafted = f"{head}.{body}.{sig}"
    response = client.post("/recipe/session/verify", json={"accessToken": crafted, "doAntiCsrfCheck": False})
    _assert_clean(response)
    assert response.json()["status"] == "TRY_REFRESH_TOKEN"


# 2 -------------------------------------------------------------------------------------------------------------
WRITE_ROUTES = [(method, path) for path, methods in ROUTES.items() for method in methods if method != "GET"]


@pytest.mark.parametrize("method,path", WRITE_ROUTES)
@pytest.mark.parametrize("number", NOT_JSON_NUMBERS)
def test_defect_02_and_04_numbers_json_cannot_hold_are_400_everywhere(
    client: httpx.Client, runtime: CoreRuntime, method: str, path: str, number: str
) -> None:
    before = db_snapshot(runtime)
    raw = '{"userId":"u","sessionHandle":"h","appId":"a","tenantId":"t","userDataInJWT":{"a":' + number + "}}"
    response = _post_raw(client, path, raw, method)
    _assert_clean(response)
    assert response.status_code == 400
    assert db_snapshot(runtime) == before


# 3 -------------------------------------------------------------------------------------------------------------
def _lone(text: str) -> str:
    return text.replace("LONE", "\\ud800")


@pytest.mark.parametrize(
    "method,path,raw",
    [
        ("POST", "/recipe/session", '{"userId":"aLONE"}'),
        ("POST", "/recipe/session", '{"userId":"u","userDataInJWT":{"k":"LONE"}}'),
        ("POST", "/recipe/session", '{"userId":"u","userDataInJWT":{"LONE":1}}'),
        ("POST", "/recipe/session", '{"userId":"u","userDataInDatabase":{"k":["x","\\udfff"]}}'),
        ("PUT", "/recipe/session/data", '{"sessionHandle":"HANDLE","userDataInDatabase":{"k":"LONE"}}'),
        ("PUT", "/recipe/jwt/data", '{"sessionHandle":"HANDLE","userDataInJWT":{"k":"LONE"}}'),
        ("POST", "/recipe/session/remove", '{"sessionHandles":["HANDLE","LONE"]}'),
        ("POST", "/recipe/session/remove", '{"userId":"uLONE"}'),
        ("POST", "/recipe/session/regenerate", '{"accessToken":"TOKEN","userDataInJWT":{"k":"LONE"}}'),
        ("POST", "/recipe/jwt", '{"payload":{"k":"LONE"},"algorithm":"RS256","jwksDomain":"x","validity":9}'),
    ],
)
def test_defect_03_lone_surrogates_are_400_and_write_nothing(
    client: httpx.Client, runtime: CoreRuntime, method: str, path: str, raw: str
) -> None:
    created = create_session(client)
    raw = _lone(raw).replace("HANDLE", created["session"]["handle"]).replace("TOKEN", created["accessToken"]["token"])
    before = db_snapshot(runtime)
    response = _post_raw(client, path, raw, method)
    _assert_clean(response)
    assert response.status_code == 400
    assert db_snapshot(runtime) == before


def test_defect_03_paired_surrogates_are_one_character_and_round_trip(client: httpx.Client) -> None:
    response = _post_raw(client, "/recipe/session", '{"userId":"u","userDataInDatabase":{"k":"\\ud83d\\ude00"}}')
    assert response.status_code == 200
    info = client.get("/recipe/session", params={"sessionHandle": response.json()["session"]["handle"]})
    assert info.json()["userDataInDatabase"] == {"k": "\U0001f600"}


# 4 -------------------------------------------------------------------------------------------------------------
def test_defect_04_infinity_in_a_create_inserts_nothing(client: httpx.Client, runtime: CoreRuntime) -> None:
    before = db_snapshot(runtime)
    response = _post_raw(client, "/recipe/session", '{"userId":"u","userDataInJWT":{"a":1e309}}')
    assert response.status_code == 400
    assert db_snapshot(runtime) == before


@pytest.mark.parametrize(
    "path,field", [("/recipe/jwt/data", "userDataInJWT"), ("/recipe/session/data", "userDataInDatabase")]
)
def test_defect_04_infinity_is_never_stored_and_the_session_keeps_refreshing(
    client: httpx.Client, runtime: CoreRuntime, path: str, field: str
) -> None:
    created = create_session(client)
    handle = created["session"]["handle"]
    for number in ("1e309", "NaN", "-Infinity"):
        raw = '{"sessionHandle":"' + handle + '","' + field + '":{"a":' + number + "}}"
        assert _post_raw(client, path, raw, "PUT").status_code == 400
    regen = _post_raw(
        client,
        "/recipe/session/regenerate",
        '{"accessToken":"' + created["accessToken"]["token"] + '","userDataInJWT":{"a":1e309}}',
    )
    assert regen.status_code == 400
    info = client.get("/recipe/session", params={"sessionHandle": handle})
    assert info.status_code == 200 and "Infinity" not in info.text and "NaN" not in info.text
    assert info.json()["userDataInJWT"] == {} and info.json()["userDataInDatabase"] == {}
    body = {"refreshToken": created["refreshToken"]["token"], "enableAntiCsrf": False, "useDynamicSigningKey": True}
    assert client.post("/recipe/session/refresh", json=body).json()["status"] == "OK"


# 5 -------------------------------------------------------------------------------------------------------------
LONG = "a" * 3000


@pytest.mark.parametrize(
    "path",
    [
        "/appid-%00/.well-known/jwks.json",
        "/appid-%00/recipe/session/user?userId=u",
        f"/appid-{LONG}/.well-known/jwks.json",
        "/%00/recipe/session/user?userId=u",
        f"/{LONG}/recipe/session/user?userId=u",
        "/appid-%ff/%00/recipe/session/user?userId=u",
        "/appid-a%20b/recipe/session/user?userId=u",
        "/users/recipe/session/user?userId=u",
    ],
)
def test_defect_05_bad_app_or_tenant_in_the_path_is_400_not_503(
    client: httpx.Client, runtime: CoreRuntime, path: str
) -> None:
    before = db_snapshot(runtime)
    response = client.get(path)
    _assert_clean(response)
    assert response.status_code == 400
    assert response.text.startswith("AppId or tenantId not found")
    assert db_snapshot(runtime) == before


@pytest.mark.parametrize("user_id", ["a\x00b", LONG, "x" * 129])
def test_defect_05_impossible_user_ids_cannot_log_in_and_own_nothing(
    client: httpx.Client, runtime: CoreRuntime, user_id: str
) -> None:
    before = db_snapshot(runtime)
    created = client.post("/recipe/session", json={"userId": user_id})
    _assert_clean(created)
    assert created.status_code == 400 and "userId" in created.text
    listed = client.get("/recipe/session/user", params={"userId": user_id})
    assert listed.json() == {"status": "OK", "sessionHandles": []}  # as upstream: a lookup that finds nothing
    removed = client.post("/recipe/session/remove", json={"userId": user_id})
    assert removed.json() == {"status": "OK", "sessionHandlesRevoked": []}
    assert db_snapshot(runtime) == before


def test_defect_05_the_longest_user_id_works(client: httpx.Client) -> None:
    user_id = "é" * 128
    handle = create_session(client, user_id)["session"]["handle"]
    listed = client.get("/recipe/session/user", params={"userId": user_id}).json()
    assert listed["sessionHandles"] == [handle]


@pytest.mark.parametrize("handle", ["\x00\ufffd", "a\x00", LONG, ""])
def test_defect_05_impossible_handles_get_the_domain_status(
    client: httpx.Client, runtime: CoreRuntime, handle: str
) -> None:
    create_session(client)
    before = db_snapshot(runtime)
    info = client.get("/recipe/session", params={"sessionHandle": handle} if handle else {"sessionHandle": "%00%ff"})
    _assert_clean(info)
    assert info.json()["status"] == "UNAUTHORISED"
    for path, field in (("/recipe/session/data", "userDataInDatabase"), ("/recipe/jwt/data", "userDataInJWT")):
        response = client.put(path, json={"sessionHandle": handle, field: {"a": 1}})
        _assert_clean(response)
        assert response.json()["status"] == "UNAUTHORISED"
    removed = client.post("/recipe/session/remove", json={"sessionHandles": [handle, "x"]})
    _assert_clean(removed)
    assert removed.json() == {"status": "OK", "sessionHandlesRevoked": []}
    assert db_snapshot(runtime) == before


def test_defect_05_raw_nul_and_ff_in_the_query_string(client: httpx.Client) -> None:
    response = client.get("/recipe/session?sessionHandle=%00%ff")
    _assert_clean(response)
    assert response.json()["status"] == "UNAUTHORISED"
    response = client.get("/recipe/session/user?userId=a%00b")
    _assert_clean(response)
    assert response.json() == {"status": "OK", "sessionHandles": []}


def test_new_app_and_tenant_ids_are_trimmed_and_lower_cased_as_upstream(client: httpx.Client) -> None:
    assert client.put("/recipe/multitenancy/tenant/v2", json={"tenantId": " Tenant-A "}).json()["createdNew"]
    assert not client.put("/recipe/multitenancy/tenant/v2", json={"tenantId": "tenant-a"}).json()["createdNew"]
    assert client.get("/tenant-a/recipe/session/user", params={"userId": "u"}).status_code == 200
    assert client.put("/recipe/multitenancy/app/v2", json={"appId": "App-1"}).json()["createdNew"]
    assert client.get("/appid-app-1/recipe/session/user", params={"userId": "u"}).status_code == 200


def test_revoking_too_many_handles_at_once_is_400(client: httpx.Client, runtime: CoreRuntime) -> None:
    before = db_snapshot(runtime)
    response = client.post("/recipe/session/remove", json={"sessionHandles": ["h"] * 10_001})
    assert response.status_code == 400 and "sessionHandles" in response.text
    assert db_snapshot(runtime) == before


@pytest.mark.parametrize("tenant", ["a\x00", LONG, "appid-x", "recipe", "a b", "", "é"])
def test_defect_05_bad_new_tenant_or_app_ids_are_400(client: httpx.Client, runtime: CoreRuntime, tenant: str) -> None:
    before = db_snapshot(runtime)
    for path, body in (
        ("/recipe/multitenancy/tenant/v2", {"tenantId": tenant}),
        ("/recipe/multitenancy/app/v2", {"appId": tenant.replace("recipe", "appid-y")}),
    ):
        response = client.put(path, json=body)
        _assert_clean(response)
        assert response.status_code == 400
    assert db_snapshot(runtime) == before


# 6 -------------------------------------------------------------------------------------------------------------
def _put_all_at_once(base_url: str, path: str, body: dict[str, Any], count: int) -> list[httpx.Response]:
    results: list[httpx.Response] = []
    barrier = threading.Barrier(count)

    def put() -> None:
        with httpx.Client(base_url=base_url, headers={"api-key": API_KEY}, timeout=30) as http:
            barrier.wait()
            results.append(http.put(path, json=body))

    threads = [threading.Thread(target=put) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.parametrize("kind", ["tenant", "app"])
def test_defect_06_concurrent_creation_of_one_tenant_or_app_is_idempotent(client: httpx.Client, kind: str) -> None:
    for round_number in range(5):
        name = f"{kind}-{round_number}"
        if kind == "tenant":
            path, body = "/recipe/multitenancy/tenant/v2", {"tenantId": name}
        else:
            path, body = "/recipe/multitenancy/app/v2", {"appId": name}
        results = _put_all_at_once(str(client.base_url), path, body, 12)
        assert [r.status_code for r in results] == [200] * 12, [r.text for r in results if r.status_code != 200]
        assert sum(r.json()["createdNew"] for r in results) == 1


# 7 -------------------------------------------------------------------------------------------------------------
def test_defect_07_a_create_with_protected_claims_or_bad_types_writes_nothing(
    client: httpx.Client, runtime: CoreRuntime
) -> None:
    before = db_snapshot(runtime)
    bad_bodies: list[dict[str, Any]] = [
        {"userId": "u", "userDataInJWT": {"sub": "admin"}},
        {"userId": "u", "userDataInDatabase": []},
        {"userId": "u", "useDynamicSigningKey": "yes"},
        {"userId": "u" * 129},
    ]
    for body in bad_bodies:
        assert client.post("/recipe/session", json=body).status_code == 400
    assert db_snapshot(runtime) == before


def test_defect_07_regenerate_with_a_bad_payload_stores_nothing(client: httpx.Client, runtime: CoreRuntime) -> None:
    created = create_session(client, userDataInJWT={"role": "reader"})
    before = db_snapshot(runtime)
    for payload in ('{"exp":1}', '{"a":1e309}', '{"a":"\\ud800"}', '{"a":' + "9" * 200 + "}"):
        raw = '{"accessToken":"' + created["accessToken"]["token"] + '","userDataInJWT":' + payload + "}"
        assert _post_raw(client, "/recipe/session/regenerate", raw).status_code == 400
    assert db_snapshot(runtime) == before


def test_a_client_that_hangs_up_mid_body_is_not_an_internal_error(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    url = httpx.URL(str(client.base_url))
    with socket.create_connection((url.host, url.port), timeout=10) as sock:
        sock.sendall(
            b"POST /recipe/session HTTP/1.1\r\nHost: x\r\napi-key: " + API_KEY.encode() + b"\r\n"
            b"Content-Length: 50\r\n\r\n{}"
        )
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1000)
    assert client.get("/hello").status_code == 200  # the server is fine, and the request above has been handled
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
