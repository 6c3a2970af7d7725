"""The Litestar test app: the endpoints of ``tests.sdk.apps`` through ``GatepassPlugin``, the ``verify_session``
dependency (most routes) and ``session_guard`` (``/checkdb``)."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, Request, get, post, route
from litestar.di import NamedDependency, Provide

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session.asyncio import create_new_session
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.framework.litestar import (
    GatepassPlugin,
    get_verified_session,
    session_guard,
    verify_session,
)
from tests.sdk.apps import _admin_only, _user

Session = NamedDependency[AsyncSessionContainer]
OptionalSession = NamedDependency[AsyncSessionContainer | None]


def litestar_app(gp: Gatepass) -> Litestar:
    required = {"session": Provide(verify_session())}

    @post("/login", status_code=200)
    async def login(request: Request[Any, Any, Any]) -> dict[str, Any]:
        body = await request.json()
        session = await create_new_session(
            request, "public", body["userId"], body.get("payload"), body.get("data"), gatepass=gp
        )
        return {"handle": session.get_handle()}

    @route("/protected", http_method=["GET", "POST"], status_code=200, dependencies=required)
    async def protected(session: Session) -> dict[str, Any]:
        return _user(session)

    @get("/optional", dependencies={"session": Provide(verify_session(session_required=False))})
    async def optional(session: OptionalSession) -> dict[str, Any]:
        return _user(session)

    @get("/checkdb", guards=[session_guard(check_database=True)])
    async def checkdb(request: Request[Any, Any, Any]) -> dict[str, Any]:
        return _user(get_verified_session(request))

    @post("/merge", status_code=200, dependencies=required)
    async def merge(request: Request[Any, Any, Any], session: Session) -> dict[str, Any]:
        await session.merge_into_access_token_payload((await request.json())["update"])
        return _user(session)

    @get("/data", dependencies=required)
    async def data(session: Session) -> dict[str, Any]:
        return {"data": await session.get_session_data_from_database()}

    @post("/revoke", status_code=200, dependencies=required)
    async def revoke(session: Session) -> dict[str, Any]:
        await session.revoke_session()
        return {}

    claim_check = verify_session(override_global_claim_validators=_admin_only)

    @get("/claim", dependencies={"session": Provide(claim_check)})
    async def claim(session: Session) -> dict[str, Any]:
        return _user(session)

    handlers = [login, protected, optional, checkdb, merge, data, revoke, claim]
    return Litestar(handlers, plugins=[GatepassPlugin(gp)])
