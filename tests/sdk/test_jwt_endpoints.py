"""The SDK as a JWT issuer: ``GET {base}/jwt/jwks.json`` and ``GET {base}/.well-known/openid-configuration`` over
real HTTP on every framework adapter (embedded and remote core), and ``create_jwt`` (``gatepass.recipe.jwt`` and
``.openid``, sync and async) whose JWTs those keys verify."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from joserfc import jwt as jose_jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from gatepass.errors import ConfigurationError, CoreError
from gatepass.recipe.jwt import asyncio as jwt_async
from gatepass.recipe.jwt import syncio as jwt_sync
from gatepass.recipe.openid import asyncio as openid_async
from gatepass.recipe.openid import syncio as openid_sync
from gatepass.recipe.session import syncio as st_sync
from gatepass.recipe.session.core_client import RemoteCore
from gatepass.recipe.session.errors import TryRefreshTokenError, UnauthorisedError
from gatepass.recipe.session.recipe import APIInterface, Overrides
from tests.helpers import free_port
from tests.sdk.conftest import SdkApp, build_gatepass, make_core, running_app

ISSUER = "http://127.0.0.1:8000/auth"  # the test apps' api domain + base path


def _claims(token: str, keys: dict[str, Any]) -> dict[str, Any]:
    return dict(jose_jwt.decode(token, KeySet.import_key_set(keys), algorithms=["RS256"]).claims)


def test_the_jwks_and_discovery_documents_are_served_publicly(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        jwks = client.get("/auth/jwt/jwks.json")
        discovery = client.get("/auth/.well-known/openid-configuration")
    assert jwks.status_code == 200, jwks.text
    assert jwks.headers["access-control-allow-origin"] == "*"
    max_age = jwks.headers["cache-control"]
    assert max_age.endswith(", must-revalidate") and 0 <= int(max_age.split(",")[0].removeprefix("max-age=")) <= 60
    keys = jwks.json()["keys"]
    assert keys and all(set(key) <= {"kty", "kid", "n", "e", "alg", "use"} for key in keys)
    assert all(key["kty"] == "RSA" and key["alg"] == "RS256" for key in keys)
    assert discovery.status_code == 200 and discovery.headers["access-control-allow-origin"] == "*"
    assert discovery.json() == {
        "issuer": ISSUER,
        "jwks_uri": ISSUER + "/jwt/jwks.json",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }
    signed = jwt_sync.create_jwt({"scope": "read"}, 60, gatepass=sdk_app.gp).jwt
    assert _claims(signed, jwks.json())["scope"] == "read"  # the published keys verify the SDK's JWTs


def test_other_methods_on_those_paths_are_not_served_by_the_sdk(sdk_app: SdkApp) -> None:
    with sdk_app.client() as client:
        for path in ("/auth/jwt/jwks.json", "/auth/.well-known/openid-configuration"):
            answer = client.post(path, json={})
            assert answer.status_code in (404, 405), (path, answer.status_code, answer.text)


@pytest.mark.parametrize("core_mode", ["embedded", "remote"])
def test_anonymous_jwks_traffic_costs_the_core_at_most_one_fetch_a_minute(
    core_mode: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    remote = request.getfixturevalue("remote_core") if core_mode == "remote" else None
    gp = build_gatepass("fastapi", make_core(core_mode, remote, tmp_path))
    try:
        with running_app("fastapi", gp) as url:
            with httpx.Client(base_url=url) as client:
                assert client.get("/auth/jwt/jwks.json").status_code == 200
                before = gp.session.jwks.fetch_count
                for _ in range(40):
                    assert client.get("/auth/jwt/jwks.json").status_code == 200
            assert gp.session.jwks.fetch_count == before
    finally:
        gp.close()


def test_the_documents_can_be_switched_off_by_an_api_override(tmp_path: Any) -> None:
    def apis(original: APIInterface) -> APIInterface:
        original.disable_jwks_get = True
        original.disable_open_id_discovery_configuration_get = True
        return original

    gp = build_gatepass("fastapi", make_core("embedded", None, tmp_path), override=Overrides(apis=apis))
    try:
        with running_app("fastapi", gp) as url:
            assert httpx.get(url + "/auth/jwt/jwks.json").status_code == 404
            assert httpx.get(url + "/auth/.well-known/openid-configuration").status_code == 404
    finally:
        gp.close()


@pytest.mark.parametrize("core_mode", ["embedded", "remote"])
def test_create_jwt_sync_and_async_with_upstreams_issuers(
    core_mode: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    remote = request.getfixturevalue("remote_core") if core_mode == "remote" else None
    gp = build_gatepass("fastapi", make_core(core_mode, remote, tmp_path))
    try:
        keys = {"keys": jwt_sync.get_jwks(gatepass=gp).keys}
        plain = _claims(jwt_sync.create_jwt({"role": "reader"}, 120, gatepass=gp).jwt, keys)
        assert plain["iss"] == "http://127.0.0.1:8000" and plain["role"] == "reader"  # the JWT recipe: api domain
        assert plain["exp"] - plain["iat"] == 120
        openid = _claims(openid_sync.create_jwt({"sub": "u1"}, 60, gatepass=gp).jwt, keys)
        assert openid["iss"] == ISSUER and openid["sub"] == "u1"  # the OpenId recipe: the discovery issuer
        own = _claims(openid_sync.create_jwt({"iss": "https://mine.example"}, 60, gatepass=gp).jwt, keys)
        assert own["iss"] == "https://mine.example"  # the payload's own iss wins, as upstream's core does
        signed = asyncio.run(jwt_async.create_jwt({"n": 1}, 60, gatepass=gp)).jwt
        assert _claims(signed, keys)["n"] == 1
        signed = asyncio.run(openid_async.create_jwt({"n": 2}, 60, gatepass=gp)).jwt
        assert _claims(signed, keys)["iss"] == ISSUER
        discovery = asyncio.run(openid_async.get_open_id_discovery_configuration(gatepass=gp))
        assert (discovery.issuer, discovery.jwks_uri) == (ISSUER, ISSUER + "/jwt/jwks.json")
        assert asyncio.run(jwt_async.get_jwks(gatepass=gp)).keys == keys["keys"]
        tampered = signed[:-4] + ("AAAA" if not signed.endswith("AAAA") else "BBBB")
        with pytest.raises(BadSignatureError):
            _claims(tampered, keys)
    finally:
        gp.close()


@pytest.mark.parametrize("mode", ["embedded", "remote"])
def test_a_jwt_signed_from_a_sessions_payload_verifies_as_that_session_as_upstream(
    mode: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """Upstream's core signs session-shaped payloads and its SDK verifies them as sessions (its own tests rely on
    it); the type check stays: ``stt`` other than 0 is no session's token, and a dynamic key's JWT is refused where
    sessions are signed with the static key."""
    remote = request.getfixturevalue("remote_core") if mode == "remote" else None
    gp = build_gatepass("fastapi", make_core(mode, remote, tmp_path))
    try:
        session = st_sync.create_new_session_without_request_response("public", "u-1", {"role": "r"}, gatepass=gp)
        payload = {k: v for k, v in session.get_access_token_payload().items() if k not in ("iat", "exp")}
        # upstream's tests pass a time in milliseconds as the validity: taken, as upstream's core takes it
        signed = jwt_sync.create_jwt(payload, int(time.time() * 1000) + 10_000, False, gatepass=gp).jwt
        for check_database in (False, True):
            verified = st_sync.get_session_without_request_response(signed, check_database=check_database, gatepass=gp)
            assert verified is not None and verified.get_handle() == session.get_handle()
            assert verified.get_user_id() == "u-1" and verified.get_access_token_payload()["role"] == "r"
        typed = jwt_sync.create_jwt({**payload, "stt": 1}, 60, gatepass=gp).jwt
        with pytest.raises(TryRefreshTokenError):
            st_sync.get_session_without_request_response(typed, gatepass=gp)
        st_sync.revoke_session(session.get_handle(), gatepass=gp)
        with pytest.raises(UnauthorisedError):
            st_sync.get_session_without_request_response(signed, check_database=True, gatepass=gp)
    finally:
        gp.close()


def test_a_session_signed_by_the_static_key_refuses_a_jwt_of_a_dynamic_key(tmp_path: Any) -> None:
    gp = build_gatepass("fastapi", make_core("embedded", None, tmp_path), use_dynamic_access_token_signing_key=False)
    try:
        session = st_sync.create_new_session_without_request_response("public", "u-1", gatepass=gp)
        payload = {k: v for k, v in session.get_access_token_payload().items() if k not in ("iat", "exp")}
        dynamic = jwt_sync.create_jwt(payload, 60, use_static_signing_key=False, gatepass=gp).jwt
        with pytest.raises(TryRefreshTokenError):
            st_sync.get_session_without_request_response(dynamic, gatepass=gp)
        static = jwt_sync.create_jwt(payload, 60, use_static_signing_key=True, gatepass=gp).jwt
        verified = st_sync.get_session_without_request_response(static, gatepass=gp)
        assert verified is not None and verified.get_handle() == session.get_handle()
    finally:
        gp.close()


def test_create_jwt_refuses_what_is_no_validity_or_no_json(tmp_path: Any) -> None:
    gp = build_gatepass("fastapi", make_core("embedded", None, tmp_path))
    try:
        for validity in (0, -5, 10**13, 1.5, True):
            with pytest.raises(ConfigurationError, match="validity_seconds"):
                jwt_sync.create_jwt({}, validity, gatepass=gp)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="payload"):
            jwt_sync.create_jwt("not a dict", 60, gatepass=gp)  # type: ignore[arg-type]
        with pytest.raises(CoreError):
            jwt_sync.create_jwt({"bad": float("nan")}, 60, gatepass=gp)  # not JSON: refused, never signed
    finally:
        gp.close()


def test_an_unreachable_core_makes_the_jwks_a_503_and_discovery_still_answers() -> None:
    gp = build_gatepass("fastapi", RemoteCore(f"http://127.0.0.1:{free_port()}", timeout_s=1))
    try:
        with running_app("fastapi", gp) as url:
            jwks = httpx.get(url + "/auth/jwt/jwks.json")
            assert jwks.status_code == 503 and "keys" not in jwks.json()
            assert httpx.get(url + "/auth/.well-known/openid-configuration").json()["issuer"] == ISSUER
    finally:
        gp.close()
