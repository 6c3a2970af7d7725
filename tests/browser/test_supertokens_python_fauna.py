"""The official browser SDK (supertokens-website 20.1.6) in headless Chromium against a FastAPI app on the official
supertokens-python 0.31.4 SDK with gatepass's FaunaDB override in frontend mode
(``access_faunadb_token_from_frontend=True``), a real ``gatepass core`` process and a real ``gatepass fauna-dev``
process. Same origin, cookie mode (supertokens-website's default).

In the browser: login; the access token's payload carries the session's Fauna token, which the faunadb JS driver
in the page uses as the user (``CurrentIdentity()`` is the user's document) and the backend uses too (GET /notes);
past the access token's expiry, one automatic refresh, after which the payload carries a new Fauna token and Fauna
refuses the old one; sign-out, after which Fauna refuses the last token and GET /notes answers 401. Fauna's
refusals are seen from the page (the driver's query rejects with a 401) and from Python.

The lag is longer than the test: every refusal seen here is a deletion by the plugin, not a token's TTL running out.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.conformance.conftest import new_app
from tests.helpers import API_KEY, CoreProcess, free_port, serve_in_thread
from tests.stpython.apps import fastapi_app, init_official_sdk
from tests.stpython.conftest import FaunaWorld, core, fauna_world, new_user, sdk_reset, world  # noqa: F401

ACCESS_TOKEN_SECONDS = 2
LAG_MS = 20_000  # a Fauna token outlives its access token by this much: longer than the whole test

PAGE = """<!doctype html>
<html><head><meta charset="utf-8">
<script src="/faunadb.js"></script>
<script src="/supertokens.js"></script>
<script>
const FAUNA = __FAUNA__;
const rawFetch = window.fetch.bind(window);  // before supertokens.init: Fauna requests carry no session headers
const q = faunadb.query;
let refreshes = 0;
supertokens.init({
  apiDomain: window.location.origin,
  apiBasePath: "/auth",
  onHandleEvent: (event) => { if (event.action === "REFRESH_SESSION") refreshes += 1; },
});
window.t = {
  login: async (userId) => {
    const r = await fetch("/login", {method: "POST", headers: {"content-type": "application/json"},
                                     body: JSON.stringify({userId})});
    return {status: r.status, body: await r.json()};
  },
  notes: async () => {
    const r = await fetch("/notes");
    return {status: r.status, body: r.status === 200 ? await r.json() : null};
  },
  faunaSecret: async () => (await supertokens.getAccessTokenPayloadSecurely()).faunadbToken,
  // Fauna's answer to a secret, asked from the page with the faunadb JS driver.
  whoAmI: async (secret) => {
    const client = new faunadb.Client({secret, ...FAUNA, fetch: rawFetch});
    try {
      const me = await client.query(q.CurrentIdentity());
      return {status: 200, id: me.id, collection: me.collection.id};
    } catch (error) {
      return {status: error.requestResult ? error.requestResult.statusCode : 0, error: error.name};
    }
  },
  refreshes: () => refreshes,
};
</script>
</head><body>gatepass: supertokens-python + FaunaDB</body></html>
"""


@dataclass
class Site:
    url: str
    world: FaunaWorld
    refresh_calls: list[int] = field(default_factory=list)  # the status of each POST /auth/session/refresh


def _page_routes(assets: Path, fauna_port: int, refresh_calls: list[int]) -> Callable[[FastAPI], None]:
    """GET / (the page), the two bundles, and a middleware counting the refreshes the browser asks for."""
    html = PAGE.replace("__FAUNA__", json.dumps({"domain": "127.0.0.1", "port": fauna_port, "scheme": "http"}))

    def add(app: FastAPI) -> None:
        @app.get("/", response_class=HTMLResponse)
        async def index() -> str:
            return html

        @app.get("/supertokens.js")
        async def supertokens_js() -> FileResponse:
            return FileResponse(assets / "supertokens.js", media_type="text/javascript")

        @app.get("/faunadb.js")
        async def faunadb_js() -> FileResponse:
            return FileResponse(assets / "faunadb.js", media_type="text/javascript")

        @app.middleware("http")
        async def count_refreshes(request: Request, call_next: Any) -> Response:
            response: Response = await call_next(request)
            if request.url.path == "/auth/session/refresh" and request.method == "POST":
                refresh_calls.append(response.status_code)
            return response

    return add


@pytest.fixture
def site(
    core: CoreProcess,  # noqa: F811
    world: FaunaWorld,  # noqa: F811
    sdk_reset: None,  # noqa: F811
    browser_assets: Path,
) -> Iterator[Site]:
    """The official SDK initialised with the FaunaDB override (frontend mode) for a fresh core app whose access
    tokens live 2 s, serving the page and the API on one origin."""
    core_app = new_app(core, {"access_token_validity": ACCESS_TOKEN_SECONDS})
    client = FaunaClient(secret=world.server_key, scheme="http", domain="127.0.0.1", port=world.fauna.port, timeout=5)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    init_official_sdk(
        "fastapi",
        core_app,
        base,
        client,
        api_key=API_KEY,
        access_faunadb_token_from_frontend=True,
        faunadb_token_time_lag_ms=LAG_MS,
    )
    refreshes: list[int] = []
    app = fastapi_app(world.fauna.url, extra_routes=_page_routes(browser_assets, world.fauna.port, refreshes))
    try:
        with serve_in_thread(app, port):
            yield Site(base + "/", world, refreshes)
    finally:
        client.session.close()


def _fauna_secret(page: Any) -> str:
    secret = page.evaluate("t.faunaSecret()")
    assert isinstance(secret, str) and secret, "the access token's payload carries the Fauna token"
    return secret


def _who_am_i(page: Any, secret: str) -> dict[str, Any]:
    return dict(page.evaluate("(secret) => t.whoAmI(secret)", secret))


def _cookies(page: Any) -> dict[str, dict[str, Any]]:
    return {cookie["name"]: cookie for cookie in page.context.cookies()}


def _front_token(page: Any) -> dict[str, Any]:
    """The front token cookie (base64 JSON) that supertokens-website reads the payload from: ``ate`` (the access
    token's expiry, ms), ``uid``, ``up`` (the payload)."""
    return dict(json.loads(base64.b64decode(unquote(_cookies(page)["sFrontToken"]["value"]))))


def _assert_live(site: Site, page: Any, user: Any, handle: str) -> str:
    """The payload's Fauna token is the user in the browser and in the backend, the session's only live token, and
    its TTL is the access token's expiry + the lag; returns it."""
    secret = _fauna_secret(page)
    front = _front_token(page)
    assert front["uid"] == user.id() and front["up"]["faunadbToken"] == secret
    assert _who_am_i(page, secret) == {"status": 200, "id": user.id(), "collection": "users"}
    notes = page.evaluate("t.notes()")
    assert notes == {"status": 200, "body": {"identity": user.id(), "notes": 0}}
    token = site.world.admin.query(q.key_from_secret(secret))
    assert [t["ref"] for t in site.world.tokens_of_session(handle)] == [token["ref"]], "one live token per session"
    ttl_ms = site.world.admin.query(q.to_millis(token["ttl"]))
    assert ttl_ms == front["ate"] + LAG_MS, "the access token's expiry (to the millisecond) + the lag"
    assert not site.world.refuses(secret)
    return secret


def _assert_refused(site: Site, page: Any, secret: str) -> None:
    """Fauna refuses the secret, asked from the page and from Python."""
    answer = _who_am_i(page, secret)
    assert answer["status"] == 401, answer
    assert site.world.refuses(secret)


@pytest.mark.slow
def test_fauna_token_in_the_browser_through_login_refresh_and_sign_out(browser: Any, site: Site) -> None:
    user = new_user(site.world, f"browser-{time.monotonic_ns()}@example.com")
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site.url)

    # a first visit (no front token, no st-last-access-token-update cookie) is "may exist": the SDK probes with a
    # refresh that carries no cookie and gets a 401
    assert page.evaluate("supertokens.doesSessionExist()") is False
    assert site.refresh_calls == [401] and page.evaluate("t.refreshes()") == 0
    login = page.evaluate("(userId) => t.login(userId)", user.id())
    assert login["status"] == 200, login
    handle = login["body"]["handle"]
    assert page.evaluate("supertokens.doesSessionExist()") is True
    assert page.evaluate("supertokens.getUserId()") == user.id()
    cookies = _cookies(page)
    assert cookies["sAccessToken"]["httpOnly"] and cookies["sRefreshToken"]["httpOnly"]
    assert "sAccessToken" not in page.evaluate("document.cookie"), "the page cannot read the access token"
    first = _assert_live(site, page, user, handle)

    time.sleep(ACCESS_TOKEN_SECONDS + 1.2)  # the access token has expired now; its Fauna token has not (the lag)
    after_expiry = page.evaluate("t.notes()")
    assert after_expiry == {"status": 200, "body": {"identity": user.id(), "notes": 0}}
    assert site.refresh_calls == [401, 200] and page.evaluate("t.refreshes()") == 1, "one automatic refresh"
    second = _assert_live(site, page, user, handle)
    assert second != first
    _assert_refused(site, page, first)

    page.evaluate("supertokens.signOut()")
    assert page.evaluate("supertokens.doesSessionExist()") is False
    _assert_refused(site, page, second)
    assert site.world.tokens_of_session(handle) == []
    assert page.evaluate("t.notes()") == {"status": 401, "body": None}
    assert site.refresh_calls == [401, 200], "no refresh attempt once signed out"
    assert {"sAccessToken", "sRefreshToken", "sFrontToken"}.isdisjoint(_cookies(page))
    assert errors == []
    context.close()
