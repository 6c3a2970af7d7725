"""Session claims over real HTTP, in an async app (FastAPI, ``asyncio``, an ``async`` ``fetch_value``) and a sync one
(Flask, ``syncio``, a plain ``fetch_value``), each with an embedded core and a remote ``gatepass core`` process:
claims built into new sessions, validators on ``verify_session`` answering upstream's 403 body, refetching a claim
past its ``max_age`` (the new access token goes out with the response), the claim functions of a session handle
and of the session object, and ``validate_claims_in_jwt_payload``. The claims run on an injected clock."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session import asyncio as st_async
from gatepass.recipe.session import syncio as st_sync
from gatepass.recipe.session.claims import BooleanClaim, PrimitiveArrayClaim, SessionDoesNotExistError
from gatepass.recipe.session.state import AnyValidator
from tests.core.conftest import FakeClock
from tests.helpers import CoreProcess, serve_in_thread
from tests.sdk.apps import serve_wsgi
from tests.sdk.conftest import build_gatepass, make_core

MAX_AGE_S = 60


@dataclass
class World:
    """The app's user data (what ``fetch_value`` reads), the claims' clock, and how many fetches happened."""

    roles: dict[str, list[str]]
    clock: FakeClock
    fetches: list[str]


def _claims(world: World, kind: str) -> tuple[PrimitiveArrayClaim, BooleanClaim]:
    def fetch_roles(user_id: str, *_: Any) -> list[str]:
        world.fetches.append(user_id)
        return list(world.roles.get(user_id, []))

    async def fetch_roles_async(user_id: str, *rest: Any) -> list[str]:
        return fetch_roles(user_id, *rest)

    roles = PrimitiveArrayClaim("st-role", fetch_roles_async if kind == "fastapi" else fetch_roles, clock=world.clock)
    verified = BooleanClaim("st-ev", lambda *_: True, clock=world.clock)
    return roles, verified


def _admin(roles: PrimitiveArrayClaim) -> Callable[[list[AnyValidator], Any, dict[str, Any]], list[AnyValidator]]:
    """Upstream's shape: (global validators, the session, user_context); the session reads as upstream's does."""

    def admin(validators: list[AnyValidator], session: Any, user_context: dict[str, Any]) -> list[AnyValidator]:
        assert session.get_user_id() and isinstance(session.get_access_token_payload(), dict)
        assert isinstance(user_context, dict)
        return _with_admin(roles, validators)

    return admin


def _with_admin(roles: PrimitiveArrayClaim, validators: list[AnyValidator]) -> list[AnyValidator]:
    return [*validators, roles.validators.includes("admin", MAX_AGE_S)]


def _fastapi(gp: Gatepass, roles: PrimitiveArrayClaim) -> Any:
    from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session

    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)
    admin_only = verify_session(override_global_claim_validators=_admin(roles))

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        session = await st_async.create_new_session(request, "public", (await request.json())["userId"], gatepass=gp)
        return {"handle": session.get_handle()}

    @app.get("/admin")
    async def admin(session: Any = Depends(admin_only)) -> Any:
        return {"roles": await session.get_claim_value(roles)}

    @app.post("/refetch")
    async def refetch(session: Any = Depends(verify_session())) -> Any:
        await session.fetch_and_set_claim(roles)
        return {"roles": await session.get_claim_value(roles)}

    @app.post("/drop")
    async def drop(session: Any = Depends(verify_session())) -> Any:
        await session.remove_claim(roles)
        return {"roles": await session.get_claim_value(roles)}

    return app


def _flask(gp: Gatepass, roles: PrimitiveArrayClaim) -> Any:
    from flask import Flask, request

    from gatepass.recipe.session.framework.flask import Middleware, get_verified_session, verify_session

    app = Flask("claims")
    Middleware(app, gatepass=gp)

    @app.post("/login")
    def login() -> Any:
        session = st_sync.create_new_session(request, "public", request.get_json()["userId"], gatepass=gp)
        return {"handle": session.get_handle()}

    @app.get("/admin")
    @verify_session(override_global_claim_validators=_admin(roles))
    def admin() -> Any:
        return {"roles": get_verified_session().get_claim_value(roles)}  # type: ignore[union-attr]

    @app.post("/refetch")
    @verify_session()
    def refetch() -> Any:
        session = get_verified_session()
        assert session is not None
        session.fetch_and_set_claim(roles)
        return {"roles": session.get_claim_value(roles)}

    @app.post("/drop")
    @verify_session()
    def drop() -> Any:
        session = get_verified_session()
        assert session is not None
        session.remove_claim(roles)
        return {"roles": session.get_claim_value(roles)}

    return app


@dataclass
class Site:
    http: httpx.Client
    gp: Gatepass
    world: World
    roles: PrimitiveArrayClaim
    verified: BooleanClaim
    kind: str

    def login(self, user: str) -> tuple[str, str, str]:
        """The new session's handle, access token and refresh token (header mode)."""
        response = self.http.post("/login", json={"userId": user})
        assert response.status_code == 200, response.text
        return response.json()["handle"], response.headers["st-access-token"], response.headers["st-refresh-token"]

    def refresh(self, refresh_token: str) -> tuple[str, str]:
        response = self.http.post("/auth/session/refresh", headers={"Authorization": f"Bearer {refresh_token}"})
        assert response.status_code == 200, response.text
        return response.headers["st-access-token"], response.headers["st-refresh-token"]

    def call(self, method: str, path: str, access: str) -> tuple[httpx.Response, str]:
        """The response, and the access token to use next (a new one if the response carries it)."""
        response = self.http.request(method, path, headers={"Authorization": f"Bearer {access}"})
        return response, response.headers.get("st-access-token", access)

    async def run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A claim function of ``asyncio`` (async app) or ``syncio`` (sync app)."""
        if self.kind == "fastapi":
            return await getattr(st_async, name)(*args, gatepass=self.gp, **kwargs)
        return getattr(st_sync, name)(*args, gatepass=self.gp, **kwargs)


@pytest.fixture(
    params=[(k, c) for k in ("fastapi", "flask") for c in ("embedded", "remote")], ids=lambda p: "-".join(p)
)
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    kind, mode = request.param
    remote: CoreProcess | None = request.getfixturevalue("remote_core") if mode == "remote" else None
    world = World({"ada": ["reader"]}, FakeClock(), [])
    roles, verified = _claims(world, kind)
    gp = build_gatepass(kind, make_core(mode, remote, tmp_path), claim_validators=[verified.validators.is_true()])
    gp.session.add_claim_from_other_recipe(roles)
    gp.session.add_claim_from_other_recipe(verified)
    app = _fastapi(gp, roles) if kind == "fastapi" else _flask(gp, roles)
    serving = serve_in_thread(app) if kind == "fastapi" else serve_wsgi(app)
    try:
        with serving as url, httpx.Client(base_url=url, timeout=30) as http:
            yield Site(http, gp, world, roles, verified, kind)
    finally:
        gp.close()


def _payload(access: str) -> dict[str, Any]:
    body = access.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


async def test_claims_are_built_into_new_sessions_in_the_frontends_shape(site: Site) -> None:
    _, access, _ = site.login("ada")
    payload = _payload(access)
    assert payload["st-role"] == {"v": ["reader"], "t": site.world.clock.now}
    assert payload["st-ev"] == {"v": True, "t": site.world.clock.now}
    assert site.world.fetches == ["ada"]


async def test_a_failing_validator_answers_upstreams_403_and_passes_once_the_claim_is_set(site: Site) -> None:
    handle, access, refresh = site.login("ada")
    refused, access = site.call("GET", "/admin", access)
    assert refused.status_code == 403
    assert refused.json() == {
        "message": "invalid claim",
        "claimValidationErrors": [
            {
                "id": "st-role",
                "reason": {"message": "wrong value", "expectedToInclude": "admin", "actualValue": ["reader"]},
            }
        ],
    }
    assert await site.run("set_claim_value", handle, site.roles, ["reader", "admin"]) is True
    assert (await site.run("get_claim_value", handle, site.roles)).value == ["reader", "admin"]
    access, _ = site.refresh(refresh)  # the stored payload reaches the next access token
    ok, _ = site.call("GET", "/admin", access)
    assert ok.status_code == 200 and ok.json() == {"roles": ["reader", "admin"]}
    assert await site.run("remove_claim", handle, site.roles) is True
    assert (await site.run("get_claim_value", handle, site.roles)).value is None
    assert isinstance(await site.run("get_claim_value", "no-such-handle", site.roles), SessionDoesNotExistError)
    assert await site.run("set_claim_value", "no-such-handle", site.roles, ["admin"]) is False


async def test_a_stale_claim_is_refetched_and_the_new_token_goes_out_with_the_response(site: Site) -> None:
    _, access, _ = site.login("ada")
    site.world.roles["ada"] = ["reader", "admin"]  # granted in the app's own data
    still, access = site.call("GET", "/admin", access)
    assert still.status_code == 403, "within max_age the stored value stands (no fetch)"
    assert site.world.fetches == ["ada"]
    site.world.clock.advance(MAX_AGE_S * 1000 + 1)
    ok, fresh = site.call("GET", "/admin", access)
    assert ok.status_code == 200 and site.world.fetches == ["ada", "ada"]
    assert fresh != access and _payload(fresh)["st-role"] == {"v": ["reader", "admin"], "t": site.world.clock.now}
    site.world.roles["ada"] = ["reader"]  # revoked: seen within max_age
    site.world.clock.advance(MAX_AGE_S * 1000 + 1)
    refused, _ = site.call("GET", "/admin", fresh)
    assert (
        refused.status_code == 403 and refused.json()["claimValidationErrors"][0]["reason"]["message"] == "wrong value"
    )


async def test_the_global_validator_guards_every_route_and_the_session_methods_update_the_token(site: Site) -> None:
    handle, access, refresh = site.login("ada")
    assert await site.run("set_claim_value", handle, site.verified, False)
    access, refresh = site.refresh(refresh)
    refused, _ = site.call("POST", "/refetch", access)
    assert refused.status_code == 403 and refused.json()["claimValidationErrors"][0]["id"] == "st-ev"
    assert await site.run("fetch_and_set_claim", handle, site.verified) is True  # fetch_value says True again
    access, _ = site.refresh(refresh)
    site.world.roles["ada"] = ["writer"]
    refetched, access = site.call("POST", "/refetch", access)
    assert refetched.status_code == 200 and refetched.json() == {"roles": ["writer"]}
    assert _payload(access)["st-role"]["v"] == ["writer"], "the session's new access token is in the response"
    dropped, access = site.call("POST", "/drop", access)
    assert dropped.json() == {"roles": None} and "st-role" not in _payload(access)


async def test_validate_claims_for_a_handle_and_for_a_payload(site: Site) -> None:
    handle, access, _ = site.login("ada")
    site.world.clock.advance(MAX_AGE_S * 1000 + 1)
    site.world.roles["ada"] = ["admin"]
    result = await site.run(
        "validate_claims_for_session_handle", handle, lambda v, info, ctx: _with_admin(site.roles, v)
    )
    assert result.invalid_claims == [], "the stale claim was refetched first"
    assert (await site.run("get_claim_value", handle, site.roles)).value == ["admin"], "and stored"
    payload = _payload(access)  # still the old token: reader, fetched long ago
    checked = await site.run(
        "validate_claims_in_jwt_payload", "public", "ada", payload, lambda v, user, ctx: _with_admin(site.roles, v)
    )
    assert [f.id for f in checked.invalid_claims] == ["st-role"]
    assert checked.invalid_claims[0].reason["message"] == "expired", "no refetch for a bare payload"
    gone = await site.run("validate_claims_for_session_handle", "no-such-handle")
    assert isinstance(gone, SessionDoesNotExistError)


def test_an_async_fetch_value_is_refused_by_the_sync_api(tmp_path: Path) -> None:
    async def fetch(*_: Any) -> list[str]:
        return ["admin"]

    gp = build_gatepass("flask", make_core("embedded", None, tmp_path))
    try:
        session = st_sync.create_new_session_without_request_response("public", "ada", gatepass=gp)
        with pytest.raises(TypeError, match="needs the async API"):
            session.fetch_and_set_claim(PrimitiveArrayClaim("st-role", fetch))
    finally:
        gp.close()


async def test_get_session_without_request_response_checks_the_claims_and_takes_an_override(
    site: Site,
) -> None:
    from gatepass.recipe.session.errors import InvalidClaimsError
    from gatepass.recipe.session.framework.fastapi import verify_session as fastapi_verify_session
    from gatepass.recipe.session.framework.starlette import verify_session as starlette_verify_session

    assert fastapi_verify_session is starlette_verify_session  # where supertokens-python users look for it
    handle, access, _ = site.login("ada")
    assert (await site.run("get_session_without_request_response", access)).get_handle() == handle
    admin = _admin(site.roles)
    with pytest.raises(InvalidClaimsError) as refused:
        await site.run("get_session_without_request_response", access, override_global_claim_validators=admin)
    assert [failure.id for failure in refused.value.errors] == ["st-role"]
    site.world.roles["ada"] = ["admin"]
    site.world.clock.advance(MAX_AGE_S * 1000 + 1)
    session = await site.run("get_session_without_request_response", access, override_global_claim_validators=admin)
    tokens = session.get_all_session_tokens_dangerously()
    assert tokens["accessAndFrontTokenUpdated"] is True and _payload(tokens["accessToken"])["st-role"]["v"] == ["admin"]
