"""The official supertokens-python 0.31.4 session recipe, unmodified, against a real ``gatepass core`` process
(SQLite and PostgreSQL). This is the core's compatibility contract."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import pytest
from supertokens_python.process_state import PROCESS_STATE, ProcessState
from supertokens_python.recipe.session.asyncio import (
    create_new_session_without_request_response,
    get_all_session_handles_for_user,
    get_session_information,
    get_session_without_request_response,
    merge_into_access_token_payload,
    refresh_session_without_request_response,
    revoke_all_sessions_for_user,
    revoke_session,
    update_session_data_in_database,
)
from supertokens_python.recipe.session.exceptions import (
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from supertokens_python.types import RecipeUserId

from tests.conformance.conftest import init_sdk, new_app
from tests.helpers import CoreProcess

pytestmark = pytest.mark.usefixtures("sdk_reset")


def _payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _history() -> list[Any]:
    return list(ProcessState.get_instance().history)


def _clear_history() -> None:
    ProcessState.get_instance().reset()


async def test_full_session_lifecycle_with_official_sdk(core: CoreProcess) -> None:
    init_sdk(new_app(core))
    user = RecipeUserId("user-1")

    # create
    session = await create_new_session_without_request_response("public", user, {"role": "admin"}, {"db": 1})
    tokens = session.get_all_session_tokens_dangerously()
    assert session.get_user_id() == "user-1"
    created_payload = _payload(tokens["accessToken"])
    assert created_payload["role"] == "admin" and created_payload["parentRefreshTokenHash1"] is None
    assert created_payload["antiCsrfToken"] is None and created_payload["iss"] == "http://api.example.com/auth"

    # verify locally: no call to the core's verify endpoint
    _clear_history()
    verified = await get_session_without_request_response(tokens["accessToken"])
    assert verified is not None and verified.get_handle() == session.get_handle()
    assert PROCESS_STATE.CALLING_SERVICE_IN_VERIFY not in _history()

    # refresh: a child token with a parent hash
    refreshed = await refresh_session_without_request_response(tokens["refreshToken"])
    new_tokens = refreshed.get_all_session_tokens_dangerously()
    assert new_tokens["refreshToken"] != tokens["refreshToken"]
    assert _payload(new_tokens["accessToken"])["parentRefreshTokenHash1"] is not None
    assert refreshed.get_access_token_payload()["role"] == "admin"

    # the first verify after a refresh goes to the core and gets a promoted replacement token
    _clear_history()
    promoted = await get_session_without_request_response(new_tokens["accessToken"])
    assert promoted is not None
    assert PROCESS_STATE.CALLING_SERVICE_IN_VERIFY in _history()
    promoted_tokens = promoted.get_all_session_tokens_dangerously()
    assert promoted_tokens["accessAndFrontTokenUpdated"] is True
    assert _payload(promoted_tokens["accessToken"])["parentRefreshTokenHash1"] is None

    # ... and the replacement verifies locally again
    _clear_history()
    again = await get_session_without_request_response(promoted_tokens["accessToken"])
    assert again is not None and PROCESS_STATE.CALLING_SERVICE_IN_VERIFY not in _history()

    # payload merge (regenerate) keeps identity and updates the token
    await again.merge_into_access_token_payload({"plan": "pro", "role": None})
    merged = again.get_access_token_payload()
    assert merged["plan"] == "pro" and "role" not in merged
    merged_token = again.get_all_session_tokens_dangerously()["accessToken"]
    assert _payload(merged_token)["exp"] == _payload(promoted_tokens["accessToken"])["exp"]
    assert (await get_session_without_request_response(merged_token)) is not None

    # merge by handle changes the database copy
    assert await merge_into_access_token_payload(session.get_handle(), {"team": "blue"})

    # session information and data update
    info = await get_session_information(session.get_handle())
    assert info is not None
    assert info.user_id == "user-1" and info.session_data_in_database == {"db": 1}
    assert info.custom_claims_in_access_token_payload["team"] == "blue"
    assert info.tenant_id == "public"
    assert await update_session_data_in_database(session.get_handle(), {"db": 2})
    info = await get_session_information(session.get_handle())
    assert info is not None and info.session_data_in_database == {"db": 2}

    # handle listing
    other = await create_new_session_without_request_response("public", user, {}, {})
    handles = await get_all_session_handles_for_user("user-1")
    assert sorted(handles) == sorted([session.get_handle(), other.get_handle()])

    # revoke; then check_database sees it at once
    assert await revoke_session(session.get_handle())
    assert not await revoke_session(session.get_handle())
    assert await get_session_information(session.get_handle()) is None
    with pytest.raises(UnauthorisedError):
        await get_session_without_request_response(merged_token, check_database=True)
    assert await get_all_session_handles_for_user("user-1") == [other.get_handle()]
    assert await revoke_all_sessions_for_user("user-1") == [other.get_handle()]


async def test_reusing_an_old_refresh_token_is_token_theft(core: CoreProcess) -> None:
    init_sdk(new_app(core))
    session = await create_new_session_without_request_response("public", RecipeUserId("user-2"), {}, {})
    first_refresh = session.get_all_session_tokens_dangerously()["refreshToken"]
    refreshed = await refresh_session_without_request_response(first_refresh)
    second = refreshed.get_all_session_tokens_dangerously()
    # using the child promotes it; the parent is now superseded
    assert await get_session_without_request_response(second["accessToken"]) is not None
    with pytest.raises(TokenTheftError) as theft:
        await refresh_session_without_request_response(first_refresh)
    assert theft.value.session_handle == session.get_handle()
    assert theft.value.user_id == "user-2"


async def test_refresh_after_revoke_is_unauthorised(core: CoreProcess) -> None:
    init_sdk(new_app(core))
    session = await create_new_session_without_request_response("public", RecipeUserId("user-3"), {}, {})
    refresh = session.get_all_session_tokens_dangerously()["refreshToken"]
    await session.revoke_session()
    with pytest.raises(UnauthorisedError):
        await refresh_session_without_request_response(refresh)


async def test_expired_access_token_asks_for_refresh(core: CoreProcess) -> None:
    init_sdk(new_app(core, {"access_token_validity": "1"}))
    session = await create_new_session_without_request_response("public", RecipeUserId("user-4"), {}, {})
    tokens = session.get_all_session_tokens_dangerously()
    await asyncio.sleep(2.1)
    with pytest.raises(TryRefreshTokenError):
        await get_session_without_request_response(tokens["accessToken"])
    refreshed = await refresh_session_without_request_response(tokens["refreshToken"])
    assert refreshed.get_user_id() == "user-4"


async def test_anti_csrf_via_token(core: CoreProcess) -> None:
    init_sdk(new_app(core), anti_csrf="VIA_TOKEN")
    session = await create_new_session_without_request_response("public", RecipeUserId("user-5"), {}, {})
    tokens = session.get_all_session_tokens_dangerously()
    assert tokens["antiCsrfToken"]
    assert await get_session_without_request_response(tokens["accessToken"], tokens["antiCsrfToken"]) is not None
    with pytest.raises(TryRefreshTokenError):
        await get_session_without_request_response(tokens["accessToken"], "wrong", anti_csrf_check=True)
    with pytest.raises(UnauthorisedError):
        await refresh_session_without_request_response(tokens["refreshToken"], anti_csrf_token="wrong")
    refreshed = await refresh_session_without_request_response(
        tokens["refreshToken"], anti_csrf_token=tokens["antiCsrfToken"]
    )
    new_tokens = refreshed.get_all_session_tokens_dangerously()
    assert new_tokens["antiCsrfToken"] and new_tokens["antiCsrfToken"] != tokens["antiCsrfToken"]


async def test_static_signing_key(core: CoreProcess) -> None:
    init_sdk(new_app(core), use_dynamic_access_token_signing_key=False)
    session = await create_new_session_without_request_response("public", RecipeUserId("user-6"), {}, {})
    token = session.get_all_session_tokens_dangerously()["accessToken"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["kid"].startswith("s-") and header["version"] == "5"
    assert await get_session_without_request_response(token) is not None


async def test_tiny_key_rotation_interval_keeps_sessions_verifiable(core: CoreProcess) -> None:
    init_sdk(new_app(core, {"access_token_dynamic_signing_key_update_interval": "0.0004"}))
    session = await create_new_session_without_request_response("public", RecipeUserId("user-7"), {}, {})
    tokens = session.get_all_session_tokens_dangerously()
    kids = {json.loads(base64.urlsafe_b64decode(tokens["accessToken"].split(".")[0] + "=="))["kid"]}
    for _ in range(3):
        await asyncio.sleep(1.6)
        refreshed = await refresh_session_without_request_response(tokens["refreshToken"])
        tokens = refreshed.get_all_session_tokens_dangerously()
        kids.add(json.loads(base64.urlsafe_b64decode(tokens["accessToken"].split(".")[0] + "=="))["kid"])
        assert await get_session_without_request_response(tokens["accessToken"]) is not None
    assert len(kids) >= 2, "the signing key should have rotated"


async def test_wrong_api_key_is_an_error(core: CoreProcess) -> None:
    init_sdk(new_app(core), api_key="wrong-api-key-0123456789")
    with pytest.raises(Exception, match="Invalid API key"):
        await create_new_session_without_request_response("public", RecipeUserId("user-8"), {}, {})


async def test_tenant_sessions(core: CoreProcess) -> None:
    import httpx

    from tests.helpers import API_KEY

    uri = new_app(core)
    response = httpx.put(
        uri + "/recipe/multitenancy/tenant/v2",
        json={"tenantId": "t1"},
        headers={"api-key": API_KEY, "cdi-version": "5.4"},
    )
    assert response.json()["status"] == "OK"
    init_sdk(uri)
    session = await create_new_session_without_request_response("t1", RecipeUserId("user-9"), {}, {})
    assert session.get_handle().endswith("_t1") and session.get_tenant_id() == "t1"
    info = await get_session_information(session.get_handle())
    assert info is not None and info.tenant_id == "t1"
    assert await get_all_session_handles_for_user("user-9", tenant_id="t1") == [session.get_handle()]
    assert await get_all_session_handles_for_user("user-9", tenant_id="public") == []
    assert await get_all_session_handles_for_user("user-9") == [session.get_handle()]


@pytest.mark.parametrize("static_sessions", [False, True])
async def test_jwts_signed_from_a_sessions_payload_verify_as_that_session(
    core: CoreProcess, static_sessions: bool
) -> None:
    """What upstream's own SDK tests do: sign a session's payload with the JWT recipe (the validity given as a time
    in milliseconds) and verify it as the session; the SDK's type checks still refuse ``stt`` 1 and a JWT whose key
    is not of the kind the sessions use (static or dynamic)."""
    from supertokens_python.recipe.jwt.interfaces import CreateJwtOkResult
    from supertokens_python.recipe.session.asyncio import create_jwt

    init_sdk(new_app(core), use_dynamic_access_token_signing_key=not static_sessions)
    session = await create_new_session_without_request_response("public", RecipeUserId("u-1"), {"role": "r"}, {})
    payload = {k: v for k, v in session.get_access_token_payload().items() if k not in ("iat", "exp")}
    validity = int(time.time() * 1000) + 10_000
    matching = await create_jwt(payload, validity, use_static_signing_key=static_sessions)
    other = await create_jwt(payload, validity, use_static_signing_key=not static_sessions)
    typed = await create_jwt({**payload, "stt": 1}, 60, use_static_signing_key=static_sessions)
    assert isinstance(matching, CreateJwtOkResult) and isinstance(other, CreateJwtOkResult)
    assert isinstance(typed, CreateJwtOkResult)
    for check_database in (False, True):
        verified = await get_session_without_request_response(matching.jwt, check_database=check_database)
        assert verified is not None and verified.get_handle() == session.get_handle()
        assert verified.get_access_token_payload()["role"] == "r"
    with pytest.raises(TryRefreshTokenError, match="use_dynamic_access_token_signing_key"):
        await get_session_without_request_response(other.jwt)
    with pytest.raises(UnauthorisedError, match="Token parsing failed"):
        await get_session_without_request_response(typed.jwt)
