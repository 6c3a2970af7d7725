"""An example FastAPI application using gatepass sessions with the official browser SDK (supertokens-website).

Run it with ``python examples/fastapi_session_app.py`` (after ``scripts/setup test``), then open
http://127.0.0.1:8000. The browser tests drive it (tests/browser).

It serves:
- ``/``: a page that loads supertokens-website (``/supertokens.js``, bundled with esbuild from npm) and offers
  ``window.demo`` helpers;
- ``POST /login``: creates a session for the posted ``userId`` (cookie or header mode, as the browser asks);
  ``"remember": false`` makes it a browser session (cookies gone when the browser closes, 12 hours of inactivity);
- ``GET /protected``: the verified session's user id and payload;
- ``POST /update-payload``: merges the posted JSON into the access-token payload;
- ``GET /refresh-count``: how many times the refresh endpoint ran (counted by an API override).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, Response

import gatepass
from gatepass.recipe import session
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.session import SessionLifetime
from gatepass.recipe.session.asyncio import create_new_session
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.cors import cors_middleware_options
from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session
from gatepass.recipe.session.recipe import APIInterface, Overrides

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>gatepass session example</title>
<script src="{bundle_url}"></script></head>
<body><h1>gatepass session example</h1><pre id="log"></pre>
<script>
supertokens.init({{apiDomain: "{api_domain}", apiBasePath: "/auth", tokenTransferMethod: "{transfer}"}});
const api = "{api_domain}";
window.demo = {{
  login: async (userId, remember = true) => (await fetch(api + "/login", {{method: "POST",
      headers: {{"content-type": "application/json"}}, body: JSON.stringify({{userId, remember}})}})).status,
  protected: async () => {{
    const r = await fetch(api + "/protected");
    return {{status: r.status, body: await r.text()}};
  }},
  updatePayload: async (update) => (await fetch(api + "/update-payload", {{method: "POST",
      headers: {{"content-type": "application/json"}}, body: JSON.stringify(update)}})).status,
  refreshCount: async () => (await (await fetch(api + "/refresh-count")).json()).count,
}};
</script></body></html>
"""


class RefreshCounter:
    def __init__(self) -> None:
        self.count = 0

    def override(self, original: APIInterface) -> APIInterface:
        refresh_post = original.refresh_post

        def counted(**kwargs: Any) -> Any:
            self.count += 1
            return (yield from refresh_post(**kwargs))

        original.refresh_post = counted
        return original


def build_gatepass(api_domain: str, website_domain: str, core: Any, counter: RefreshCounter) -> Gatepass:
    return create(
        app_info=gatepass.AppInfo(app_name="gatepass example", api_domain=api_domain, website_domain=website_domain),
        core=core,
        framework="fastapi",
        recipe_list=[session.init(anti_csrf="VIA_TOKEN", override=Overrides(apis=counter.override))],
    )


def build_app(
    gp: Gatepass, counter: RefreshCounter, bundle: Path, *, transfer: str = "cookie", serve_page: bool = True
) -> FastAPI:
    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)
    app.add_middleware(CORSMiddleware, **cors_middleware_options(gp))

    def page(bundle_url: str) -> str:
        return PAGE.format(bundle_url=bundle_url, api_domain=gp.app_info.api_domain, transfer=transfer)

    if serve_page:

        @app.get("/", response_class=HTMLResponse)
        async def index() -> str:
            return page("/supertokens.js")

    @app.get("/supertokens.js")
    async def bundle_js() -> Response:
        return Response(bundle.read_bytes(), media_type="text/javascript")

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()
        lifetime = None if body.get("remember", True) else SessionLifetime.not_remembered(timedelta(hours=12))
        created = await create_new_session(
            request, "public", str(body["userId"]), {"role": "reader"}, lifetime=lifetime, gatepass=gp
        )
        return {"userId": created.get_user_id()}

    @app.get("/protected")
    async def protected(current: AsyncSessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"userId": current.get_user_id(), "payload": current.get_access_token_payload()}

    @app.post("/update-payload")
    async def update_payload(
        request: Request, current: AsyncSessionContainer = Depends(verify_session())
    ) -> dict[str, Any]:
        await current.merge_into_access_token_payload(await request.json())
        return {"payload": current.get_access_token_payload()}

    @app.get("/refresh-count")
    async def refresh_count() -> dict[str, int]:
        return {"count": counter.count}

    app.state.page = page
    return app


if __name__ == "__main__":
    import uvicorn

    here = Path(__file__).resolve().parent
    counter = RefreshCounter()
    core = gatepass.EmbeddedCore(os.environ.get("GATEPASS_DATABASE_URL", "sqlite:///./example.db"))
    gp = build_gatepass("http://127.0.0.1:8000", "http://127.0.0.1:8000", core, counter)
    bundle = Path(os.environ.get("GATEPASS_ST_BUNDLE", here.parent / "tests" / "browser" / "build" / "supertokens.js"))
    uvicorn.run(build_app(gp, counter, bundle), host="127.0.0.1", port=8000)
