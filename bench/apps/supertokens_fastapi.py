"""FastAPI with supertokens-python 0.31.4 on the same core (``GATEPASS_BENCH_CORE``): ``/open``, ``/noop``,
``/protected``."""

from __future__ import annotations

import os

os.environ.setdefault("SUPERTOKENS_ENV", "testing")

from fastapi import Depends, FastAPI, Request  # noqa: E402
from supertokens_python import InputAppInfo, SupertokensConfig, init  # noqa: E402
from supertokens_python.framework.fastapi import get_middleware  # noqa: E402
from supertokens_python.recipe import session  # noqa: E402
from supertokens_python.recipe.session import SessionContainer  # noqa: E402
from supertokens_python.recipe.session.framework.fastapi import verify_session  # noqa: E402

init(
    app_info=InputAppInfo(app_name="bench", api_domain="http://localhost:8000", website_domain="http://localhost:3000"),
    supertokens_config=SupertokensConfig(connection_uri=os.environ["GATEPASS_BENCH_CORE"]),
    framework="fastapi",
    recipe_list=[session.init()],
    mode="asgi",
    telemetry=False,
)
app = FastAPI()
app.add_middleware(get_middleware())


@app.get("/open")
async def open_route() -> dict[str, str]:
    return {"user": "anyone"}


async def no_session(request: Request) -> None:
    """A dependency that does nothing: what FastAPI itself costs a route for one ``Depends``."""


@app.get("/noop")
async def noop_route(nothing: None = Depends(no_session)) -> dict[str, str]:
    return {"user": "anyone"}


@app.get("/protected")
async def protected(current: SessionContainer = Depends(verify_session())) -> dict[str, str]:
    return {"user": current.get_user_id()}
