"""SDK-side items of shared/reference/security-checklist.md (3-4, 21-23, 26-32), named after the item."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.errors import ConfigurationError
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session import syncio, transport
from gatepass.recipe.session.config import SessionOptions, build_session_config
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.cors import cors_middleware_options
from gatepass.recipe.session.http_types import ResponseChanges
from gatepass.recipe.session.jwks_cache import JwksCache
from tests.core.conftest import b64, forge, segments
from tests.sdk.apps import serve
from tests.sdk.conftest import build_gatepass, cookie_headers


@pytest.fixture
def gp(tmp_path: Path) -> Iterator[Gatepass]:
    instance = build_gatepass("fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'sdk.db'}"), anti_csrf="VIA_TOKEN")
    yield instance
    instance.close()


@pytest.fixture
def app_url(gp: Gatepass) -> Iterator[str]:
    with serve("fastapi", gp) as url:
        yield url


def _signing_key(gp: Gatepass, token: str) -> Any:
    core = gp.core
    assert isinstance(core, EmbeddedCore)
    ctx = core.runtime.apps.get("public")
    key = ctx.keyring.verification_key(segments(token)[0]["kid"], ctx.config.key_times)
    assert key is not None
    return key


# 3 ---------------------------------------------------------------------------------------------------------------
def test_sec_03_unknown_kids_reload_jwks_at_most_once_per_cooldown(gp: Gatepass) -> None:
    token = syncio.create_new_session_without_request_response("public", "u", gatepass=gp).get_access_token()
    header, payload = segments(token)
    key = _signing_key(gp, token)
    assert syncio.get_session_without_request_response(token, gatepass=gp) is not None
    fetches = gp.session.jwks.fetch_count
    for kid in ["d-1", "../../etc/passwd", "d-1' OR 1=1 --", 'x"y', "nul\x00", *[f"d-{n}" for n in range(40)]]:
        forged = forge({**header, "kid": kid}, payload, key.sign)
        with pytest.raises(Exception, match="try refresh|invalid access token"):
            syncio.get_session_without_request_response(forged, gatepass=gp)
    assert gp.session.jwks.fetch_count - fetches <= 1


def test_sec_03_jwks_entries_with_another_algorithm_are_not_used() -> None:
    token_key = {"kty": "RSA", "kid": "d-1", "alg": "RS512", "use": "sig", "n": b64(b"\x01" * 256), "e": "AQAB"}
    cache = JwksCache(lambda: {"keys": [token_key]}, lambda: 0)
    cache.refresh("d-1")
    assert cache.key("d-1") is None


# 4 ---------------------------------------------------------------------------------------------------------------
def test_sec_04_token_headers_never_drive_requests(gp: Gatepass, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from gatepass.tokens.keys import SigningKey

    token = syncio.create_new_session_without_request_response("public", "u", gatepass=gp).get_access_token()
    header, payload = segments(token)
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_key = SigningKey("attacker", "static", 0, attacker, attacker.public_key())
    header.update(
        {
            "jku": "http://203.0.113.9/jwks",
            "x5u": "http://203.0.113.9/x5u",
            "jwk": attacker_key.public_jwk(),
            "x5c": ["MII"],
        }
    )
    sent: list[str] = []
    original = httpx.Client.send

    def recording_send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        sent.append(str(request.url))
        return original(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", recording_send)
    forged = forge(header, payload, attacker_key.sign)
    with pytest.raises(Exception, match="try refresh|invalid access token"):
        syncio.get_session_without_request_response(forged, gatepass=gp)
    assert not any("203.0.113.9" in url for url in sent)


# 21 --------------------------------------------------------------------------------------------------------------
def test_sec_21_revoke_all_sessions_of_a_user_in_one_call(gp: Gatepass) -> None:
    handles = {
        syncio.create_new_session_without_request_response("public", "u21", gatepass=gp).get_handle() for _ in range(3)
    }
    other = syncio.create_new_session_without_request_response("public", "someone-else", gatepass=gp)
    assert set(syncio.revoke_all_sessions_for_user("u21", gatepass=gp)) == handles
    assert syncio.get_all_session_handles_for_user("u21", gatepass=gp) == []
    assert syncio.get_all_session_handles_for_user("someone-else", gatepass=gp) == [other.get_handle()]


# 22 --------------------------------------------------------------------------------------------------------------
def test_sec_22_list_own_sessions_and_revoke_another(gp: Gatepass) -> None:
    laptop = syncio.create_new_session_without_request_response("public", "u22", gatepass=gp)
    phone = syncio.create_new_session_without_request_response("public", "u22", gatepass=gp)
    handles = syncio.get_all_session_handles_for_user("u22", gatepass=gp)
    assert set(handles) == {laptop.get_handle(), phone.get_handle()}
    infos = [syncio.get_session_information(h, gatepass=gp) for h in handles]
    assert all(i is not None and i.time_created > 0 and i.tenant_id == "public" for i in infos)
    assert syncio.revoke_session(phone.get_handle(), gatepass=gp)  # from the laptop, revoke the phone
    assert syncio.get_all_session_handles_for_user("u22", gatepass=gp) == [laptop.get_handle()]


# 23 --------------------------------------------------------------------------------------------------------------
def test_sec_23_login_creates_a_new_handle_and_ends_the_old_session(app_url: str) -> None:
    with httpx.Client(base_url=app_url) as client:
        first = client.post("/login", json={"userId": "u23"}, headers={"st-auth-mode": "cookie"})
        old_handle = first.json()["handle"]
        old_refresh = client.cookies.get("sRefreshToken", path="/auth/session/refresh")
        second = client.post("/login", json={"userId": "u23"}, headers={"st-auth-mode": "cookie"})
        assert second.json()["handle"] != old_handle
        assert client.cookies.get("sRefreshToken", path="/auth/session/refresh") != old_refresh
        stale = httpx.post(
            app_url + "/auth/session/refresh", headers={"Authorization": f"Bearer {old_refresh}", "rid": "session"}
        )
        assert stale.status_code == 401


# 26 --------------------------------------------------------------------------------------------------------------
def _cookies_for(api: str, website: str, **options: Any) -> dict[str, str]:
    config = build_session_config(AppInfo("t", api, website), SessionOptions(**options))
    changes = ResponseChanges()
    transport.set_access_token(changes, config, "access", "front", "cookie", 0)
    transport.set_token(changes, config, "refresh", "refresh", 10_000, "cookie")
    return {c.name: c.render() for c in changes.cookies}


def test_sec_26_cookie_attributes() -> None:
    local = _cookies_for("http://localhost:8000", "http://localhost:3000")
    assert "Secure" not in local["sAccessToken"] and "SameSite=Lax" in local["sAccessToken"]
    assert "Domain=" not in local["sAccessToken"] and "HttpOnly" in local["sAccessToken"]
    assert "Path=/;" in local["sAccessToken"] + ";" and "Path=/auth/session/refresh" in local["sRefreshToken"]
    same_site = _cookies_for("https://api.example.com", "https://app.example.com")
    assert "Secure" in same_site["sAccessToken"] and "SameSite=Lax" in same_site["sAccessToken"]
    cross_site = _cookies_for("https://api.example.com", "https://example.org")
    assert "SameSite=None" in cross_site["sAccessToken"] and "Secure" in cross_site["sAccessToken"]
    with_domain = _cookies_for("https://api.example.com", "https://app.example.com", cookie_domain=".example.com")
    assert "Domain=.example.com" in with_domain["sAccessToken"]


def test_sec_26_samesite_none_without_secure_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Secure"):
        build_session_config(AppInfo("t", "http://api.example.com", "http://example.org"), SessionOptions())
    # localhost and IPs are allowed by browsers, and header mode sets no cookies
    build_session_config(
        AppInfo("t", "http://localhost:1", "http://127.0.0.1:2"), SessionOptions(cookie_same_site="none")
    )
    build_session_config(
        AppInfo("t", "http://api.example.com", "http://example.org"), SessionOptions(token_transfer_method="header")
    )


# 27 --------------------------------------------------------------------------------------------------------------
def test_sec_27_oversized_cookie_is_an_error_not_a_dropped_cookie(app_url: str, gp: Gatepass) -> None:
    from gatepass.recipe.session.http_types import RequestView

    view = RequestView.build("POST", "/login", [("st-auth-mode", "cookie")])
    with pytest.raises(ConfigurationError, match="4096"):
        from gatepass.recipe.session.steps import run_sync

        run_sync(
            gp.session.functions.create_new_session(
                request=view,
                tenant_id="public",
                user_id="u27",
                access_token_payload={"blob": "x" * 5000},
                session_data_in_database={},
                user_context={},
            ),
            gp.session,
        )
    header_mode = syncio.create_new_session_without_request_response("public", "u27", {"blob": "x" * 5000}, gatepass=gp)
    assert header_mode.get_access_token_payload()["blob"] == "x" * 5000


# 28 --------------------------------------------------------------------------------------------------------------
def test_sec_28_tokens_stay_out_of_urls_bodies_and_logs(app_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with httpx.Client(base_url=app_url) as client:
        login = client.post("/login", json={"userId": "u28"})
        assert login.headers["cache-control"] == "no-store"
        access, refresh = login.headers["st-access-token"], login.headers["st-refresh-token"]
        refreshed = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {refresh}"})
        assert refreshed.headers["cache-control"] == "no-store"
        theft = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {refresh}"})
        client.get("/protected", headers={"Authorization": f"Bearer {refreshed.headers['st-access-token']}"})
        theft = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {refresh}"})
        for response in (login, refreshed, theft):
            assert access not in response.text and refresh not in response.text
            assert "location" not in response.headers
    pattern = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+|gp1\.[\w-]{20,}")
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("gatepass")]
    assert ours and not [m for m in ours if pattern.search(m)]


# 29 --------------------------------------------------------------------------------------------------------------
def test_sec_29_anti_csrf_via_token(app_url: str) -> None:
    with httpx.Client(base_url=app_url) as client:
        anti_csrf = client.post("/login", json={"userId": "u29"}, headers={"st-auth-mode": "cookie"}).headers[
            "anti-csrf"
        ]
        simple_post = client.post("/protected", content="x", headers={"content-type": "text/plain"})
        assert simple_post.status_code == 401
        assert client.post("/protected", headers={"anti-csrf": anti_csrf}).status_code == 200
        refused = client.post("/auth/session/refresh", headers={"rid": "session"})  # the refresh is protected too
        assert refused.status_code == 401 and refused.json() == {"message": "unauthorised"}


def test_sec_29_anti_csrf_via_custom_header(tmp_path: Path) -> None:
    gp = build_gatepass("fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 'h.db'}"), anti_csrf="VIA_CUSTOM_HEADER")
    try:
        with serve("fastapi", gp) as url, httpx.Client(base_url=url) as client:
            client.post("/login", json={"userId": "u29"}, headers={"st-auth-mode": "cookie"})
            assert client.post("/protected").status_code == 401
            assert client.post("/protected", content="x", headers={"content-type": "text/plain"}).status_code == 401
            assert client.post("/protected", headers={"rid": "anti-csrf"}).status_code == 200
            refusal = client.post("/auth/session/refresh")
            assert refusal.status_code == 401 and refusal.json() == {"message": "unauthorised"}
            assert client.post("/protected", headers={"rid": "x"}).status_code == 401  # the refusal cleared the cookies
    finally:
        gp.close()


# 30 --------------------------------------------------------------------------------------------------------------
def test_sec_30_cors_allows_only_the_website_origin(app_url: str, gp: Gatepass) -> None:
    options = cors_middleware_options(gp)
    assert options["allow_origins"] == ["http://127.0.0.1:3000"] and "*" not in options["allow_origins"]
    assert options["allow_credentials"] is True
    assert sorted(options["allow_headers"]) == sorted(
        ["rid", "fdi-version", "anti-csrf", "authorization", "st-auth-mode", "content-type"]
    )
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    from tests.helpers import serve_in_thread

    app = FastAPI()
    app.add_middleware(CORSMiddleware, **options)

    @app.get("/x")
    async def x() -> dict[str, str]:
        return {}

    with serve_in_thread(app) as url:
        allowed = httpx.options(
            url + "/x",
            headers={
                "Origin": "http://127.0.0.1:3000",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "rid, anti-csrf, st-auth-mode",
            },
        )
        assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        evil = httpx.get(url + "/x", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in evil.headers


# 31 --------------------------------------------------------------------------------------------------------------
def test_sec_31_header_wins_refresh_token_only_at_refresh_no_cookies_in_header_mode(app_url: str) -> None:
    with httpx.Client(base_url=app_url) as client:
        cookie_user = client.post("/login", json={"userId": "cookie-user"}, headers={"st-auth-mode": "cookie"})
        assert cookie_user.status_code == 200
        header_login = httpx.post(app_url + "/login", json={"userId": "header-user"})
        assert "set-cookie" not in header_login.headers
        bearer = {"Authorization": f"Bearer {header_login.headers['st-access-token']}"}
        assert client.get("/protected", headers=bearer).json()["userId"] == "header-user"  # header wins over cookie
        refresh_as_access = {"Authorization": f"Bearer {header_login.headers['st-refresh-token']}"}
        assert httpx.get(app_url + "/protected", headers=refresh_as_access).status_code == 401
        refreshed = httpx.post(app_url + "/auth/session/refresh", headers=refresh_as_access)
        assert refreshed.status_code == 200 and "set-cookie" not in refreshed.headers


# 32 --------------------------------------------------------------------------------------------------------------
def test_sec_32_signout_ends_the_session_and_expires_both_cookies_identically(tmp_path: Path) -> None:
    gp = build_gatepass(
        "fastapi", EmbeddedCore(f"sqlite:///{tmp_path / 's.db'}"), anti_csrf="NONE", cookie_domain="127.0.0.1"
    )
    try:
        with serve("fastapi", gp) as url, httpx.Client(base_url=url) as client:
            login = client.post("/login", json={"userId": "u32"}, headers={"st-auth-mode": "cookie"})
            handle = login.json()["handle"]
            set_at_login = cookie_headers(login)
            signout = client.post("/auth/signout", headers={"rid": "session"})
            assert signout.status_code == 200 and signout.headers["front-token"] == "remove"
            cleared = cookie_headers(signout)
            for name in ("sAccessToken", "sRefreshToken"):
                attributes = lambda header: sorted(p for p in header.split("; ")[1:] if not p.startswith("Expires"))  # noqa: E731
                assert attributes(cleared[name]) == attributes(set_at_login[name])
                assert cleared[name].startswith(f"{name}=;") and "1970" in cleared[name]
            assert syncio.get_session_information(handle, gatepass=gp) is None
    finally:
        gp.close()


def test_verify_does_no_io(gp: Gatepass, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local verification: after the first (key-fetching) verify, no core call, no database access."""
    token = syncio.create_new_session_without_request_response("public", "u", gatepass=gp).get_access_token()
    assert syncio.get_session_without_request_response(token, gatepass=gp) is not None  # warms the JWKS cache
    core = gp.core
    assert isinstance(core, EmbeddedCore)
    calls: list[str] = []
    for name in ("send_sync", "send_async", "fetch_jwks"):
        monkeypatch.setattr(core, name, lambda *a, _n=name, **k: calls.append(_n))
    storage = core.runtime.storage
    monkeypatch.setattr(storage, "read", lambda: calls.append("db read"))
    monkeypatch.setattr(storage, "transaction", lambda: calls.append("db transaction"))
    for _ in range(200):
        assert syncio.get_session_without_request_response(token, gatepass=gp) is not None
    assert calls == []
    assert json.dumps(calls) == "[]"
