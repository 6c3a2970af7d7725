"""``user_context`` as upstream passes it: every public function and session method takes one (``None`` is a fresh
``{}``), and the very dict the caller passed reaches every override and claim the call runs, so an override can
read what the caller put in and leave something for the caller to read. ``verify_session(user_context=...)`` gives
each request its own copy; the SDK's own APIs start each request with an empty one. The public functions take
upstream's parameters in upstream's order (its account-linking flags are accepted and change nothing here)."""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session import asyncio as st_async
from gatepass.recipe.session import syncio as st_sync
from gatepass.recipe.session.claims import BooleanClaim
from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session
from gatepass.recipe.session.recipe import APIInterface, Overrides, RecipeInterface
from tests.helpers import serve_in_thread
from tests.sdk.conftest import build_gatepass, make_core

Seen = list[tuple[str, dict[str, Any]]]


def _recording(seen: Seen) -> Overrides:
    """Every function records the user_context it got (the very object) and marks it as seen."""

    def functions(original: RecipeInterface) -> RecipeInterface:
        for name in ("create_new_session", "get_session", "get_session_without_request", "refresh_session",
                     "revoke_session", "revoke_all_sessions_for_user", "get_all_session_handles_for_user",
                     "get_session_information", "update_session_data_in_database", "merge_into_access_token_payload",
                     "regenerate_access_token", "revoke_multiple_sessions"):  # fmt: skip
            setattr(original, name, _recorder(name, getattr(original, name), seen))
        return original

    def apis(original: APIInterface) -> APIInterface:
        original.refresh_post = _recorder("refresh_post", original.refresh_post, seen)
        return original

    return Overrides(functions=functions, apis=apis)


def _recorder(name: str, inner: Any, seen: Seen) -> Any:
    def wrapped(**kwargs: Any) -> Any:
        context = kwargs["user_context"]
        seen.append((name, context))
        context.setdefault("visited", []).append(name)
        return (yield from inner(**kwargs))

    return wrapped


@pytest.fixture
def gp(tmp_path: Path) -> Iterator[tuple[Gatepass, Seen]]:
    seen: Seen = []
    instance = build_gatepass("fastapi", make_core("embedded", None, tmp_path), override=_recording(seen))
    yield instance, seen
    instance.close()


def _contexts(seen: Seen, name: str) -> list[dict[str, Any]]:
    return [context for called, context in seen if called == name]


def test_the_callers_dict_reaches_every_override_and_comes_back(gp: tuple[Gatepass, Seen]) -> None:
    instance, seen = gp
    ctx: dict[str, Any] = {"tenant-hint": "a"}
    session = st_sync.create_new_session_without_request_response("public", "uc", user_context=ctx, gatepass=instance)
    assert _contexts(seen, "create_new_session")[-1] is ctx and ctx["visited"] == ["create_new_session"]
    handle = session.get_handle()
    calls = [
        lambda c: st_sync.get_session_information(handle, c, gatepass=instance),
        lambda c: st_sync.update_session_data_in_database(handle, {"x": 1}, c, gatepass=instance),
        lambda c: st_sync.merge_into_access_token_payload(handle, {"y": 2}, c, gatepass=instance),
        lambda c: st_sync.get_all_session_handles_for_user("uc", True, None, c, gatepass=instance),
        lambda c: session.merge_into_access_token_payload({"z": 3}, c),
        lambda c: session.get_session_data_from_database(c),
        lambda c: st_sync.get_session_without_request_response(session.get_access_token(), user_context=c,
                                                               gatepass=instance),
        lambda c: st_sync.revoke_multiple_sessions([handle], c, gatepass=instance),
    ]  # fmt: skip
    expected = ["get_session_information", "update_session_data_in_database", "merge_into_access_token_payload",
                "get_all_session_handles_for_user", "regenerate_access_token", "get_session_information",
                "get_session_without_request", "revoke_multiple_sessions"]  # fmt: skip
    for call, name in zip(calls, expected, strict=True):
        mine: dict[str, Any] = {}
        call(mine)
        assert _contexts(seen, name)[-1] is mine and name in mine["visited"], name


def test_none_is_a_fresh_dict_each_time(gp: tuple[Gatepass, Seen]) -> None:
    instance, seen = gp
    st_sync.get_all_session_handles_for_user("nobody", gatepass=instance)
    st_sync.get_all_session_handles_for_user("nobody", gatepass=instance)
    first, second = _contexts(seen, "get_all_session_handles_for_user")
    assert first == second == {"visited": ["get_all_session_handles_for_user"]} and first is not second


def test_a_claims_fetch_sees_the_callers_context(tmp_path: Path) -> None:
    got: list[dict[str, Any]] = []

    def fetch(user_id: str, recipe_user_id: str, tenant_id: str, payload: dict[str, Any], ctx: dict[str, Any]) -> bool:
        got.append(ctx)
        return ctx.get("verified", False)

    claim = BooleanClaim("st-ev", fetch)
    instance = build_gatepass("fastapi", make_core("embedded", None, tmp_path))
    try:
        made = st_sync.create_new_session_without_request_response("public", "uc", gatepass=instance)
        ctx = {"verified": True}
        assert st_sync.fetch_and_set_claim(made.get_handle(), claim, ctx, gatepass=instance)
        made.fetch_and_set_claim(claim, ctx)
        assert got == [ctx, ctx] and all(c is ctx for c in got)
        assert made.get_claim_value(claim) is True
    finally:
        instance.close()


def test_verify_session_copies_its_context_per_request_and_apis_start_empty(gp: tuple[Gatepass, Seen]) -> None:
    instance, seen = gp
    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=instance)

    @app.get("/me")
    async def me(session: Any = Depends(verify_session(user_context={"route": "me"}))) -> dict[str, Any]:
        return {"user": session.get_user_id()}

    async def login() -> dict[str, str]:
        made = await st_async.create_new_session_without_request_response("public", "uc", gatepass=instance)
        return made.get_all_session_tokens_dangerously()

    tokens = asyncio.run(login())
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as client:
        bearer = {"Authorization": f"Bearer {tokens['accessToken']}"}
        assert client.get("/me", headers=bearer).json() == {"user": "uc"}
        assert client.get("/me", headers=bearer).status_code == 200
        refreshed = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {tokens['refreshToken']}"})
        assert refreshed.status_code == 200
    one, two = _contexts(seen, "get_session")
    assert one == two == {"route": "me", "visited": ["get_session"]} and one is not two  # never shared
    assert _contexts(seen, "refresh_post")[-1] == {"visited": ["refresh_post", "refresh_session"]}
    assert _contexts(seen, "refresh_session")[-1] is _contexts(seen, "refresh_post")[-1]  # passed through


UPSTREAM_NAMES = {"recipe_user_id": "user_id"}  # gatepass has no account linking: the user id is the recipe user id
GATEPASS_EXTRAS = {"create_new_session": ["lifetime"], "create_new_session_without_request_response": ["lifetime"]}


@pytest.mark.parametrize("module", ["asyncio", "syncio"])
def test_every_public_function_takes_upstreams_parameters_in_upstreams_order(module: str) -> None:
    upstream = importlib.import_module(f"supertokens_python.recipe.session.{module}")
    ours = st_async if module == "asyncio" else st_sync
    compared = 0
    for name, theirs_function in inspect.getmembers(upstream, inspect.isfunction):
        if theirs_function.__module__ != upstream.__name__ or not hasattr(ours, name):
            continue
        theirs = [UPSTREAM_NAMES.get(p, p) for p in inspect.signature(theirs_function).parameters]
        mine = list(inspect.signature(getattr(ours, name)).parameters)
        assert mine[: len(theirs)] == theirs, name
        # ours adds only gatepass's own options and the instance, keyword-only
        assert mine[len(theirs) :] == [*GATEPASS_EXTRAS.get(name, []), "gatepass"], name
        extras = [
            p for p in inspect.signature(getattr(ours, name)).parameters.values() if p.name in mine[len(theirs) :]
        ]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in extras), name
        compared += 1
    assert compared >= 18  # all of upstream's session functions gatepass has (it lacks create_jwt, get_jwks, ...)
