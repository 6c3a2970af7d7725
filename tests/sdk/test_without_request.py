"""``create_new_session_without_request_response`` and ``refresh_session_without_request_response`` with upstream's
anti-CSRF options (``disable_anti_csrf``, ``anti_csrf_token``), sync and async, on an embedded core and a remote
``gatepass core``: with ``VIA_TOKEN`` a session made without a request gets an anti-CSRF token (the caller delivers
it), a refresh without it (or with a wrong one) is refused and rotates nothing, ``disable_anti_csrf`` skips the
check or the token; the parameters are upstream's, in upstream's order."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session import asyncio as st_async
from gatepass.recipe.session import syncio as st_sync
from gatepass.recipe.session.errors import UnauthorisedError
from tests.helpers import CoreProcess
from tests.sdk.conftest import build_gatepass, make_core


@pytest.fixture(params=["embedded", "remote"])
def core_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _gatepass(core_mode: str, tmp_path: Path, request: pytest.FixtureRequest, anti_csrf: str) -> Gatepass:
    remote: CoreProcess | None = request.getfixturevalue("remote_core") if core_mode == "remote" else None
    return build_gatepass("flask", make_core(core_mode, remote, tmp_path), anti_csrf=anti_csrf)


@pytest.fixture
def via_token(core_mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Gatepass]:
    gp = _gatepass(core_mode, tmp_path, request, "VIA_TOKEN")
    yield gp
    gp.close()


def test_via_token_sessions_made_without_a_request_carry_an_anti_csrf_token(via_token: Gatepass) -> None:
    created = st_sync.create_new_session_without_request_response("public", "u-1", gatepass=via_token)
    tokens = created.get_all_session_tokens_dangerously()
    assert isinstance(tokens["antiCsrfToken"], str) and len(tokens["antiCsrfToken"]) >= 16
    plain = st_sync.create_new_session_without_request_response("public", "u-1", None, None, True, gatepass=via_token)
    assert plain.get_all_session_tokens_dangerously()["antiCsrfToken"] is None


def test_a_refresh_without_the_anti_csrf_token_is_refused_and_rotates_nothing(via_token: Gatepass) -> None:
    tokens = st_sync.create_new_session_without_request_response(
        "public", "u-2", gatepass=via_token
    ).get_all_session_tokens_dangerously()
    refresh, anti_csrf = tokens["refreshToken"], tokens["antiCsrfToken"]
    for wrong in (None, "not-the-token", anti_csrf + "x"):
        with pytest.raises(UnauthorisedError):
            st_sync.refresh_session_without_request_response(refresh, False, wrong, gatepass=via_token)
    refreshed = st_sync.refresh_session_without_request_response(refresh, False, anti_csrf, gatepass=via_token)
    again = refreshed.get_all_session_tokens_dangerously()
    assert again["refreshToken"] != refresh and isinstance(again["antiCsrfToken"], str)
    with pytest.raises(UnauthorisedError):  # the refused attempts did not consume the session's anti-CSRF check
        st_sync.refresh_session_without_request_response(again["refreshToken"], gatepass=via_token)
    skipped = st_sync.refresh_session_without_request_response(again["refreshToken"], True, gatepass=via_token)
    assert skipped.get_handle() == refreshed.get_handle()


def test_a_session_made_without_anti_csrf_refreshes_without_it(via_token: Gatepass) -> None:
    made = st_sync.create_new_session_without_request_response(
        "public", "u-3", disable_anti_csrf=True, gatepass=via_token
    )
    refresh = made.get_all_session_tokens_dangerously()["refreshToken"]
    refreshed = st_sync.refresh_session_without_request_response(refresh, gatepass=via_token)
    assert refreshed.get_handle() == made.get_handle()


def test_the_async_helpers_take_the_same_options(via_token: Gatepass) -> None:
    async def scenario() -> None:
        made = await st_async.create_new_session_without_request_response("public", "u-4", gatepass=via_token)
        tokens = made.get_all_session_tokens_dangerously()
        with pytest.raises(UnauthorisedError):
            await st_async.refresh_session_without_request_response(tokens["refreshToken"], gatepass=via_token)
        refreshed = await st_async.refresh_session_without_request_response(
            tokens["refreshToken"], anti_csrf_token=tokens["antiCsrfToken"], gatepass=via_token
        )
        assert refreshed.get_handle() == made.get_handle()
        bare = await st_async.create_new_session_without_request_response(
            "public", "u-4", disable_anti_csrf=True, gatepass=via_token
        )
        assert bare.get_all_session_tokens_dangerously()["antiCsrfToken"] is None

    asyncio.run(scenario())


def test_without_via_token_there_is_no_anti_csrf_token(
    core_mode: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    gp = _gatepass(core_mode, tmp_path, request, "NONE")
    try:
        made = st_sync.create_new_session_without_request_response("public", "u-5", gatepass=gp)
        tokens = made.get_all_session_tokens_dangerously()
        assert tokens["antiCsrfToken"] is None
        refreshed = st_sync.refresh_session_without_request_response(tokens["refreshToken"], gatepass=gp)
        assert refreshed.get_handle() == made.get_handle()
    finally:
        gp.close()


@pytest.mark.parametrize("module_name", ["asyncio", "syncio"])
@pytest.mark.parametrize(
    "function", ["create_new_session_without_request_response", "refresh_session_without_request_response"]
)
def test_parameters_are_upstreams_in_upstreams_order(module_name: str, function: str) -> None:
    import importlib

    upstream = importlib.import_module(f"supertokens_python.recipe.session.{module_name}")
    theirs = [p for p in inspect.signature(getattr(upstream, function)).parameters if p != "user_context"]
    theirs = ["user_id" if p == "recipe_user_id" else p for p in theirs]  # gatepass has no account linking
    ours = list(inspect.signature(getattr(st_async if module_name == "asyncio" else st_sync, function)).parameters)
    assert ours[: len(theirs)] == theirs
