"""FastAPI with the gatepass SDK and a remote core (``GATEPASS_BENCH_CORE``): ``/open``, ``/noop``,
``/protected``."""

from __future__ import annotations

import os

from fastapi import Depends, FastAPI, Request

from gatepass.recipe import session
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import create
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.core_client import RemoteCore
from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session

gp = create(
    app_info=AppInfo("bench", "http://localhost:8000", "http://localhost:3000"),
    core=RemoteCore(os.environ["GATEPASS_BENCH_CORE"]),
    framework="fastapi",
    recipe_list=[session.init()],
)
app = FastAPI()
app.add_middleware(GatepassMiddleware, gatepass=gp)


@app.get("/open")
async def open_route() -> dict[str, str]:
    return {"user": "anyone"}


async def no_session(request: Request) -> None:
    """A dependency that does nothing: what FastAPI itself costs a route for one ``Depends``."""


@app.get("/noop")
async def noop_route(nothing: None = Depends(no_session)) -> dict[str, str]:
    return {"user": "anyone"}


@app.get("/protected")
async def protected(current: AsyncSessionContainer = Depends(verify_session())) -> dict[str, str]:
    return {"user": current.get_user_id()}
