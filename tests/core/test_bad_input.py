"""Bad input gets a 4xx with a clear message (or the protocol's status string), never a 500, and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gatepass.core.runtime import CoreRuntime
from tests.core.conftest import FakeClock, create_session


def _session_count(runtime: CoreRuntime, clock: FakeClock, user: str = "user-1") -> int:
    with runtime.storage.read() as tx:
        return len(tx.handles_for_user("public", user, None, clock()))


@pytest.mark.parametrize(
    "content",
    [b"{", b"not json", b"[]", b'"text"', b"123", b'{"userId": "a", "userId": "b"}', b"\xff\xfe", b'{"a": NaN}'],
)
def test_malformed_json_is_400(client: httpx.Client, runtime: CoreRuntime, clock: FakeClock, content: bytes) -> None:
    response = client.post("/public/recipe/session", content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "JSON" in response.text
    assert _session_count(runtime, clock) == 0


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "userId"),
        ({"userId": 5}, "userId"),
        ({"userId": None}, "userId"),
        ({"userId": "u", "userDataInJWT": []}, "userDataInJWT"),
        ({"userId": "u", "userDataInJWT": "x"}, "userDataInJWT"),
        ({"userId": "u", "userDataInDatabase": 1}, "userDataInDatabase"),
        ({"userId": "u", "useDynamicSigningKey": "yes"}, "useDynamicSigningKey"),
        ({"userId": "u", "enableAntiCsrf": 1}, "enableAntiCsrf"),
    ],
)
def test_wrongly_typed_create_fields_are_400(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock, body: dict[str, Any], field: str
) -> None:
    response = client.post("/public/recipe/session", json=body)
    assert response.status_code == 400
    assert field in response.text
    assert _session_count(runtime, clock, "u") == 0


def test_protected_claim_in_payload_is_400_and_writes_nothing(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock
) -> None:
    response = client.post("/public/recipe/session", json={"userId": "u", "userDataInJWT": {"sub": "admin"}})
    assert response.status_code == 400 and "sub" in response.text
    assert _session_count(runtime, clock, "u") == 0
    created = create_session(client)
    handle = created["session"]["handle"]
    bad = client.put("/recipe/jwt/data", json={"sessionHandle": handle, "userDataInJWT": {"exp": 1}})
    assert bad.status_code == 400
    info = client.get("/recipe/session", params={"sessionHandle": handle}).json()
    assert info["userDataInJWT"] == {}
    regen = client.post(
        "/recipe/session/regenerate",
        json={"accessToken": created["accessToken"]["token"], "userDataInJWT": {"sessionHandle": "x"}},
    )
    assert regen.status_code == 400


def test_stt_in_a_custom_payload_is_taken_as_upstreams_core_takes_it_and_no_verifier_takes_the_token(
    client: httpx.Client,
) -> None:
    created = client.post("/public/recipe/session", json={"userId": "u", "userDataInJWT": {"stt": 1}}).json()
    assert created["status"] == "OK"
    token = created["accessToken"]["token"]
    info = client.get("/recipe/session", params={"sessionHandle": created["session"]["handle"]}).json()
    assert info["userDataInJWT"] == {"stt": 1}
    verify = {"accessToken": token, "doAntiCsrfCheck": False, "enableAntiCsrf": False, "checkDatabase": True}
    assert client.post("/public/recipe/session/verify", json=verify).json()["status"] == "TRY_REFRESH_TOKEN"
    zero = client.post("/public/recipe/session", json={"userId": "u", "userDataInJWT": {"stt": 0}}).json()
    verify["accessToken"] = zero["accessToken"]["token"]
    assert client.post("/public/recipe/session/verify", json=verify).json()["status"] == "OK"


@pytest.mark.parametrize(
    "path,body",
    [
        ("/recipe/session/verify", {"accessToken": 1, "doAntiCsrfCheck": False}),
        ("/recipe/session/verify", {"accessToken": "x"}),
        ("/recipe/session/refresh", {"refreshToken": "x"}),
        ("/recipe/session/refresh", {"refreshToken": ["x"], "useDynamicSigningKey": True}),
        ("/recipe/session/regenerate", {}),
        ("/recipe/session/remove", {}),
        ("/recipe/session/remove", {"userId": "u", "sessionHandles": ["h"]}),
        ("/recipe/session/remove", {"sessionHandles": "h"}),
        ("/recipe/session/remove", {"sessionHandles": [1]}),
        ("/recipe/jwt", {"payload": {}, "validity": "x", "algorithm": "RS256", "jwksDomain": "d"}),
        ("/recipe/jwt", {"payload": {}, "validity": -1, "algorithm": "RS256", "jwksDomain": "d"}),
    ],
)
def test_wrongly_typed_fields_are_400(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.text


def test_put_apis_validate_fields(client: httpx.Client) -> None:
    for path, body in [
        ("/recipe/session/data", {"sessionHandle": "h"}),
        ("/recipe/session/data", {"sessionHandle": 1, "userDataInDatabase": {}}),
        ("/recipe/jwt/data", {"sessionHandle": "h", "userDataInJWT": 3}),
        ("/recipe/multitenancy/app/v2", {}),
        ("/recipe/multitenancy/app/v2", {"appId": "Bad_Id"}),
        ("/recipe/multitenancy/app/v2", {"appId": "appid-x"}),
        ("/recipe/multitenancy/app/v2", {"appId": "ok", "coreConfig": {"access_token_validity": "soon"}}),
        ("/recipe/multitenancy/app/v2", {"appId": "ok", "coreConfig": {"access_token_validity": 0}}),
        ("/recipe/multitenancy/app/v2", {"appId": "ok", "coreConfig": {"refresh_token_validity": 0.001}}),
        ("/recipe/multitenancy/app/v2", {"appId": "ok", "coreConfig": {"access_token_validity": True}}),
        ("/recipe/multitenancy/tenant/v2", {"tenantId": "Has Space"}),
    ]:
        response = client.put(path, json=body)
        assert response.status_code == 400, (path, body, response.text)
    assert client.put("/recipe/session/data", json={"sessionHandle": "h", "userDataInDatabase": {}}).json() == {
        "status": "UNAUTHORISED",
        "message": "Session does not exist.",
    }
    # the rejected app configs created nothing
    assert client.get("/appid-ok/apiversion").status_code == 400


def test_missing_query_parameters_are_400(client: httpx.Client) -> None:
    assert client.get("/recipe/session").status_code == 400
    assert client.get("/recipe/session/user").status_code == 400
    assert client.get("/user/id").status_code == 400
    bad_flag = client.get("/recipe/session/user", params={"userId": "u", "fetchAcrossAllTenants": "maybe"})
    assert bad_flag.status_code == 400


def test_oversized_body_is_400(client: httpx.Client, runtime: CoreRuntime, clock: FakeClock) -> None:
    big = {"userId": "u", "userDataInDatabase": {"blob": "x" * (1024 * 1024)}}
    response = client.post("/public/recipe/session", json=big)
    assert response.status_code == 400 and "too large" in response.text
    assert _session_count(runtime, clock, "u") == 0

    def chunks() -> Any:  # no content-length: the limit still applies while streaming
        yield b'{"userId": "u", "x": "'
        for _ in range(2048):
            yield b"x" * 1024
        yield b'"}'

    streamed = client.post("/public/recipe/session", content=chunks())
    assert streamed.status_code == 400


@pytest.mark.parametrize("token", ["", "a.b.c", "...", "x" * 20000, "eyJ.eyJ.sig", "a.b", "\u00e9.\u00e9.\u00e9"])
def test_garbage_access_tokens_are_try_refresh(client: httpx.Client, token: str) -> None:
    response = client.post("/recipe/session/verify", json={"accessToken": token, "doAntiCsrfCheck": False})
    assert response.status_code == 200 and response.json()["status"] == "TRY_REFRESH_TOKEN"
    regen = client.post("/recipe/session/regenerate", json={"accessToken": token})
    assert regen.status_code == 200 and regen.json()["status"] == "UNAUTHORISED"


def test_unknown_app_and_tenant_are_400(client: httpx.Client) -> None:
    for path in ("/appid-nope/apiversion", "/appid-nope/public/recipe/session", "/nope/recipe/session"):
        method = "GET" if path.endswith("apiversion") else "POST"
        response = client.request(method, path, json={"userId": "u"})
        assert response.status_code == 400 and response.text.startswith("AppId or tenantId not found =>"), path


def test_unknown_path_is_404_and_wrong_method_405(client: httpx.Client) -> None:
    assert client.get("/recipe/nothing-here").status_code == 404
    assert client.get("/appid-/apiversion").status_code == 404
    assert client.delete("/recipe/session/refresh").status_code == 405
    assert client.get("/recipe/session/refresh").status_code == 405


@pytest.mark.parametrize("version", ["2.0", "4.0", "5.5", "99.1", "abc", "5.4.1", ""])
def test_unsupported_cdi_version_is_400(client: httpx.Client, version: str) -> None:
    response = client.get("/user/id", params={"userId": "u"}, headers={"cdi-version": version})
    assert response.status_code == 400 and "not supported" in response.text


def test_missing_cdi_version_means_the_newest(client: httpx.Client) -> None:
    headers = dict(client.headers)
    headers.pop("cdi-version")
    response = httpx.get(str(client.base_url) + "/user/id", params={"userId": "u"}, headers=headers)
    assert response.json() == {"status": "UNKNOWN_USER_ID_ERROR"}


def test_routing_shapes(client: httpx.Client) -> None:
    client.put("/recipe/multitenancy/app/v2", json={"appId": "app1"})
    client.put("/appid-app1/recipe/multitenancy/tenant/v2", json={"tenantId": "t1"})
    for path in (
        "/apiversion",
        "/public/apiversion",
        "/appid-public/apiversion",
        "/APIVERSION/",
        "/appid-app1/t1/apiversion",
    ):
        response = client.get(path)
        assert response.status_code == 200 and "5.4" in response.json()["versions"], path
    created = client.post("/appid-app1/t1/recipe/session", json={"userId": "u"}).json()
    assert created["session"]["tenantId"] == "t1" and created["session"]["handle"].endswith("_t1")
    # sessions and keys are per app: app1's token does not verify in the public app
    token = created["accessToken"]["token"]
    assert (
        client.post("/recipe/session/verify", json={"accessToken": token, "doAntiCsrfCheck": False}).json()["status"]
        == "TRY_REFRESH_TOKEN"
    )
    assert (
        client.post("/appid-app1/recipe/session/verify", json={"accessToken": token, "doAntiCsrfCheck": False}).json()[
            "status"
        ]
        == "OK"
    )
    refreshed = client.post(
        "/recipe/session/refresh", json={"refreshToken": created["refreshToken"]["token"], "useDynamicSigningKey": True}
    ).json()
    assert refreshed["status"] == "UNAUTHORISED"


def test_app_creation_is_idempotent_and_updates_config(client: httpx.Client) -> None:
    first = client.put("/recipe/multitenancy/app/v2", json={"appId": "cfg", "coreConfig": {"access_token_validity": 5}})
    assert first.json() == {"status": "OK", "createdNew": True}
    second = client.put(
        "/recipe/multitenancy/app/v2", json={"appId": "cfg", "coreConfig": {"access_token_validity": "7"}}
    )
    assert second.json() == {"status": "OK", "createdNew": False}
    created = client.post("/appid-cfg/public/recipe/session", json={"userId": "u"}).json()
    token = created["accessToken"]
    assert token["expiry"] - token["createdTime"] == 7000
    removed = client.post("/recipe/multitenancy/app/remove", json={"appId": "cfg"}).json()
    assert removed == {"status": "OK", "didExist": True}
    assert client.get("/appid-cfg/apiversion").status_code == 400
