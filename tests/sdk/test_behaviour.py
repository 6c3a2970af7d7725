"""The SDK's behaviour over real HTTP round trips, for every framework adapter (FastAPI, Starlette, Flask, Django
sync and async), each with an embedded core and with a remote ``gatepass core`` process. The apps use VIA_TOKEN
anti-CSRF."""

from __future__ import annotations

import json
import re

import httpx

from tests.sdk.conftest import SdkApp, cookie_headers, decode_front_token


def _login_cookie(client: httpx.Client, user: str = "user-1", **extra: object) -> httpx.Response:
    response = client.post("/login", json={"userId": user, **extra}, headers={"st-auth-mode": "cookie"})
    assert response.status_code == 200, response.text
    return response


def test_login_in_cookie_mode_sets_cookies_front_token_and_anti_csrf(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        response = _login_cookie(client, payload={"role": "admin"})
        cookies = cookie_headers(response)
        access, refresh = cookies["sAccessToken"], cookies["sRefreshToken"]
        assert re.search(r"; Path=/;", access + ";") and "HttpOnly" in access and "SameSite=Lax" in access
        assert "Path=/auth/session/refresh" in refresh and "HttpOnly" in refresh
        assert "Secure" not in access and "Domain=" not in access  # http API domain, host-only cookie
        front = decode_front_token(response.headers["front-token"])
        assert front["uid"] == "user-1" and front["up"]["role"] == "admin" and front["up"]["sub"] == "user-1"
        assert front["ate"] == front["up"]["exp"] * 1000
        assert response.headers["anti-csrf"]
        expose = response.headers["access-control-expose-headers"]
        assert "front-token" in expose and "anti-csrf" in expose
        assert response.headers["cache-control"] == "no-store"
        assert "st-access-token" not in response.headers


def test_protected_api_with_cookies_and_anti_csrf(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        anti_csrf = _login_cookie(client).headers["anti-csrf"]
        assert client.get("/protected").json()["userId"] == "user-1"  # GET is not anti-CSRF checked
        rejected = client.post("/protected")
        assert rejected.status_code == 401 and rejected.json() == {"message": "try refresh token"}
        wrong = client.post("/protected", headers={"anti-csrf": "not-it"})
        assert wrong.status_code == 401
        assert client.post("/protected", headers={"anti-csrf": anti_csrf}).json()["userId"] == "user-1"


def test_header_mode(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        response = client.post("/login", json={"userId": "header-user"})
        assert "set-cookie" not in response.headers and "anti-csrf" not in response.headers
        access, refresh = response.headers["st-access-token"], response.headers["st-refresh-token"]
        assert "st-access-token" in response.headers["access-control-expose-headers"]
        bearer = {"Authorization": f"Bearer {access}"}
        assert (
            client.post("/protected", headers=bearer).json()["userId"] == "header-user"
        )  # no anti-CSRF in header mode
        refreshed = client.post(
            "/auth/session/refresh", headers={"Authorization": f"Bearer {refresh}", "rid": "session"}
        )
        assert refreshed.status_code == 200 and refreshed.json() == {}
        assert refreshed.headers["st-refresh-token"] != refresh and "set-cookie" not in refreshed.headers
        new_access = refreshed.headers["st-access-token"]
        promoted = client.get("/protected", headers={"Authorization": f"Bearer {new_access}"})
        assert promoted.status_code == 200 and promoted.headers.get("st-access-token")  # replacement after refresh


def test_refresh_in_cookie_mode_then_promotion(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        login = _login_cookie(client)
        refreshed = client.post(
            "/auth/session/refresh", headers={"rid": "session", "anti-csrf": login.headers["anti-csrf"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        assert {"sAccessToken", "sRefreshToken"} <= set(cookie_headers(refreshed))
        assert refreshed.headers["front-token"] and refreshed.headers["anti-csrf"] != login.headers["anti-csrf"]
        promoted = client.get("/protected")
        assert promoted.status_code == 200
        assert "sAccessToken" in cookie_headers(promoted) and promoted.headers.get("front-token")
        assert "sAccessToken" not in cookie_headers(client.get("/protected"))  # verified locally from now on


def test_refresh_without_tokens_is_a_fast_unauthorised(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        response = client.post("/auth/session/refresh", headers={"rid": "session"})
        assert response.status_code == 401 and response.json() == {"message": "unauthorised"}
        assert response.headers["front-token"] == "remove"


def test_refresh_with_wrong_anti_csrf_is_unauthorised(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        _login_cookie(client)
        response = client.post("/auth/session/refresh", headers={"rid": "session", "anti-csrf": "wrong"})
        assert response.status_code == 401 and response.json() == {"message": "unauthorised"}


def test_token_theft_revokes_the_session(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        login = client.post("/login", json={"userId": "victim"})
        rt0 = login.headers["st-refresh-token"]
        first = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {rt0}"})
        rt1, at1 = first.headers["st-refresh-token"], first.headers["st-access-token"]
        assert client.get("/protected", headers={"Authorization": f"Bearer {at1}"}).status_code == 200  # promotes rt1
        theft = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {rt0}"})
        assert theft.status_code == 401 and theft.json() == {"message": "token theft detected"}
        assert theft.headers["front-token"] == "remove" and theft.headers["st-access-token"] == ""
        after = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {rt1}"})
        assert after.status_code == 401 and after.json() == {"message": "unauthorised"}


def test_signout_clears_everything(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        anti_csrf = _login_cookie(client).headers["anti-csrf"]
        signout = client.post("/auth/signout", headers={"rid": "session", "anti-csrf": anti_csrf})
        assert signout.status_code == 200 and signout.json() == {"status": "OK"}
        assert signout.headers["front-token"] == "remove"
        cleared = cookie_headers(signout)
        assert cleared["sAccessToken"].startswith("sAccessToken=;") and "Path=/;" in cleared["sAccessToken"]
        assert "1970" in cleared["sAccessToken"] and "Path=/auth/session/refresh" in cleared["sRefreshToken"]
        assert client.get("/protected").status_code == 401
        assert client.post("/auth/session/refresh", headers={"rid": "session"}).status_code == 401


def test_signout_without_session_is_unauthorised(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        response = client.post("/auth/signout", headers={"rid": "session"})
        assert response.status_code == 401 and response.json() == {"message": "unauthorised"}


def test_garbage_tokens_and_headers_get_clean_401s(sdk_app: SdkApp) -> None:
    cases = [
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Cookie": "sAccessToken=garbage"},
        {"Cookie": "sAccessToken=%ZZ%; sRefreshToken=%%%"},
        {"Cookie": "sAccessToken=" + "x" * 9000},
        {"Cookie": "=;;;==;sAccessToken"},
        {"anti-csrf": "\u00e9".encode("latin-1"), "rid": "x" * 5000},  # type: ignore[dict-item]
        {"st-auth-mode": "nonsense"},
    ]
    with sdk_app.client() as client:
        for headers in cases:
            for method, path in (("GET", "/protected"), ("POST", "/auth/session/refresh"), ("POST", "/auth/signout")):
                response = client.request(method, path, headers=headers)
                assert response.status_code == 401, (headers, path, response.text)
                assert response.json()["message"] in ("unauthorised", "try refresh token")


def test_duplicate_access_cookies_ask_for_refresh(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        token = _login_cookie(client).cookies.get("sAccessToken")
        client.cookies.clear()
        response = client.get("/protected", headers={"Cookie": f"sAccessToken={token}; sAccessToken={token}"})
        assert response.status_code == 401 and response.json() == {"message": "try refresh token"}


def test_payload_merge_and_session_data(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        login = client.post("/login", json={"userId": "u", "payload": {"a": 1}, "data": {"secret": "db-only"}})
        bearer = {"Authorization": f"Bearer {login.headers['st-access-token']}"}
        merged = client.post("/merge", json={"update": {"b": 2, "a": None}}, headers=bearer)
        assert merged.status_code == 200
        front = decode_front_token(merged.headers["front-token"])
        assert front["up"]["b"] == 2 and "a" not in front["up"]
        new_token = merged.headers["st-access-token"]
        assert client.get("/protected", headers={"Authorization": f"Bearer {new_token}"}).json()["payload"]["b"] == 2
        assert client.get("/data", headers=bearer).json() == {"data": {"secret": "db-only"}}
        assert "db-only" not in json.dumps(front)


def test_optional_session_and_check_database(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        assert client.get("/optional").json() == {"userId": None}
        login = client.post("/login", json={"userId": "u"})
        bearer = {"Authorization": f"Bearer {login.headers['st-access-token']}"}
        assert client.get("/optional", headers=bearer).json()["userId"] == "u"
        assert client.get("/checkdb", headers=bearer).status_code == 200
        assert client.post("/revoke", headers=bearer).status_code == 200
        assert client.get("/protected", headers=bearer).status_code == 200  # stateless: valid until exp
        revoked = client.get("/checkdb", headers=bearer)
        assert revoked.status_code == 401 and revoked.json() == {"message": "unauthorised"}


def test_invalid_claim_is_403(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        user = client.post("/login", json={"userId": "u", "payload": {"role": "user"}})
        response = client.get("/claim", headers={"Authorization": f"Bearer {user.headers['st-access-token']}"})
        assert response.status_code == 403
        assert response.json() == {
            "message": "invalid claim",
            "claimValidationErrors": [{"id": "role", "reason": {"expected": "admin"}}],
        }
        admin = client.post("/login", json={"userId": "u", "payload": {"role": "admin"}})
        assert (
            client.get("/claim", headers={"Authorization": f"Bearer {admin.headers['st-access-token']}"}).status_code
            == 200
        )


def test_login_replaces_the_session_the_request_carried(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        first = client.post("/login", json={"userId": "u"})
        old = first.headers["st-access-token"]
        second = client.post("/login", json={"userId": "u"}, headers={"Authorization": f"Bearer {old}"})
        assert second.json()["handle"] != first.json()["handle"]
        assert client.get("/checkdb", headers={"Authorization": f"Bearer {old}"}).status_code == 401
