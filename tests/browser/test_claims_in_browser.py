"""Session claims with the official browser SDK (supertokens-website 20.1.6) in headless Chromium, against a FastAPI
app served by gatepass's own SDK (cookie mode, same origin). A ``st-role`` ``PrimitiveArrayClaim`` is built into
every new session; ``GET /admin`` requires ``includes("admin")``. The page sees the claim in its payload, gets the
403 invalid-claim answer (read with ``getInvalidClaimsFromResponse``, announced as ``API_INVALID_CLAIM``) without a
refresh attempt and with its session intact, and recovers once the claim is set: through the session object (the
re-signed access token comes with the response) or by session handle (the page then refreshes). The SDK's own
``PrimitiveArrayClaim`` and ``validateClaims`` judge the payload the same way, before and after."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

import gatepass
from gatepass.recipe import session
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.session.asyncio import create_new_session, get_claim_value, set_claim_value
from gatepass.recipe.session.claims import GetClaimValueOkResult, PrimitiveArrayClaim
from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session
from tests.helpers import free_port, serve_in_thread

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="/supertokens.js"></script></head><body><script>
const events = [];
supertokens.init({apiDomain: "__API__", apiBasePath: "/auth", tokenTransferMethod: "cookie",
  onHandleEvent: (event) => events.push(event.action)});
const roleClaim = new supertokens.PrimitiveArrayClaim({id: "st-role",
  refresh: async () => events.push("CLAIM_REFRESH")});
const post = (path, body) => fetch(path, {method: "POST", headers: {"content-type": "application/json"},
  body: JSON.stringify(body || {})});
window.t = {
  events: () => events,
  login: async (userId) => (await post("/login", {userId})).status,
  grant: async (path) => { const r = await post(path); return {status: r.status, body: await r.json()}; },
  admin: async () => {
    const response = await fetch("/admin");
    const invalid = response.status === 403 ? await supertokens.getInvalidClaimsFromResponse({response}) : null;
    return {status: response.status, body: await response.json(), invalid};
  },
  roles: () => supertokens.getClaimValue({claim: roleClaim}),
  validateAdmin: () => supertokens.validateClaims(() => [roleClaim.validators.includes("admin")]),
};
</script></body></html>
"""

WRONG_VALUE = {"message": "wrong value", "expectedToInclude": "admin", "actualValue": ["reader"]}


@dataclass
class Site:
    url: str
    roles: dict[str, list[str]]  # what fetch_value reads: the app's own user data
    refreshes: list[int] = field(default_factory=list)  # the status of each POST /auth/session/refresh


def _app(gp: Gatepass, roles: PrimitiveArrayClaim, bundle: Path, site: Site) -> FastAPI:
    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)
    admin_only = verify_session(
        override_global_claim_validators=lambda v, _s, _ctx: [*v, roles.validators.includes("admin")]
    )

    @app.middleware("http")
    async def count_refreshes(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if request.method == "POST" and request.url.path == "/auth/session/refresh":
            site.refreshes.append(response.status_code)
        return response

    @app.get("/", response_class=HTMLResponse)
    async def index() -> str:
        return PAGE.replace("__API__", gp.app_info.api_domain)

    @app.get("/supertokens.js")
    async def bundle_js() -> Response:
        return Response(bundle.read_bytes(), media_type="text/javascript")

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        created = await create_new_session(request, "public", (await request.json())["userId"], gatepass=gp)
        return {"handle": created.get_handle()}

    @app.get("/admin")
    async def admin(current: Any = Depends(admin_only)) -> dict[str, Any]:
        return {"roles": await current.get_claim_value(roles)}

    @app.post("/grant")
    async def grant(current: Any = Depends(verify_session())) -> dict[str, Any]:
        """The session object's way: the new access token goes out with this response."""
        await current.set_claim_value(roles, [*await current.get_claim_value(roles), "admin"])
        return {"roles": await current.get_claim_value(roles)}

    @app.post("/grant-by-handle")
    async def grant_by_handle(current: Any = Depends(verify_session())) -> dict[str, Any]:
        """The handle's way: only the stored payload changes; the next refresh brings it to the browser."""
        handle = current.get_handle()
        stored = await get_claim_value(handle, roles, gatepass=gp)
        assert isinstance(stored, GetClaimValueOkResult)
        assert await set_claim_value(handle, roles, [*(stored.value or []), "admin"], gatepass=gp)
        updated = await get_claim_value(handle, roles, gatepass=gp)
        assert isinstance(updated, GetClaimValueOkResult)
        return {"roles": updated.value}

    return app


@pytest.fixture
def site(supertokens_bundle: Path, tmp_path: Path) -> Iterator[Site]:
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    site = Site(api + "/", {"ada": ["reader"], "bob": ["reader"]})
    roles = PrimitiveArrayClaim("st-role", lambda user_id, *_: list(site.roles[user_id]))
    core = gatepass.EmbeddedCore(f"sqlite:///{tmp_path / 'claims.db'}", access_token_validity=3600)
    gp = create(
        app_info=gatepass.AppInfo(app_name="claims", api_domain=api, website_domain=api),
        core=core,
        framework="fastapi",
        recipe_list=[session.init(anti_csrf="VIA_TOKEN")],
    )
    gp.session.add_claim_from_other_recipe(roles)
    try:
        with serve_in_thread(_app(gp, roles, supertokens_bundle, site), port):
            yield site
    finally:
        gp.close()


def _refused_without_refresh(page: Any, site: Site) -> None:
    """Logged in as a reader: the payload's claim, the 403 and its errors, no refresh, the session intact."""
    role = page.evaluate("supertokens.getAccessTokenPayloadSecurely()")["st-role"]
    assert role["v"] == ["reader"] and isinstance(role["t"], int) and role["t"] > 0
    assert page.evaluate("t.roles()") == ["reader"]
    refused = page.evaluate("t.admin()")
    assert refused["status"] == 403
    assert refused["body"] == {
        "message": "invalid claim",
        "claimValidationErrors": [{"id": "st-role", "reason": WRONG_VALUE}],
    }
    assert refused["invalid"] == [{"id": "st-role", "reason": WRONG_VALUE}]
    assert page.evaluate("t.validateAdmin()") == [{"id": "st-role", "reason": WRONG_VALUE}]
    assert site.refreshes == [], "a 403 is not a reason to refresh"
    assert "API_INVALID_CLAIM" in page.evaluate("t.events()")
    assert "REFRESH_SESSION" not in page.evaluate("t.events()")
    assert page.evaluate("supertokens.doesSessionExist()") is True


def _admitted(page: Any) -> None:
    """The page's payload says admin, the SDK's validator agrees, and the server lets it in."""
    assert page.evaluate("supertokens.getAccessTokenPayloadSecurely()")["st-role"]["v"] == ["reader", "admin"]
    assert page.evaluate("t.validateAdmin()") == []
    ok = page.evaluate("t.admin()")
    assert ok["status"] == 200 and ok["body"] == {"roles": ["reader", "admin"]}
    assert "CLAIM_REFRESH" not in page.evaluate("t.events()"), "the claim was in the payload: nothing to refresh"


def _open(browser: Any, site: Site, user: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site.url)
    assert page.evaluate("(user) => t.login(user)", user) == 200
    # a first visit is "a session may exist": the SDK probes with a refresh (no cookie yet: 401) before /login
    assert site.refreshes == [401]
    site.refreshes.clear()
    return context, page, errors


def test_an_invalid_claim_is_a_403_and_the_session_objects_grant_lets_the_page_in(browser: Any, site: Site) -> None:
    context, page, errors = _open(browser, site, "ada")
    _refused_without_refresh(page, site)

    granted = page.evaluate("t.grant('/grant')")
    assert granted == {"status": 200, "body": {"roles": ["reader", "admin"]}}
    assert "ACCESS_TOKEN_PAYLOAD_UPDATED" in page.evaluate("t.events()"), "the re-signed token reached the page"
    _admitted(page)
    assert site.refreshes == [], "no refresh was needed"
    assert "REFRESH_SESSION" not in page.evaluate("t.events()")
    assert errors == []
    context.close()


def test_a_grant_by_handle_reaches_the_page_with_the_next_refresh(browser: Any, site: Site) -> None:
    context, page, errors = _open(browser, site, "bob")
    _refused_without_refresh(page, site)

    granted = page.evaluate("t.grant('/grant-by-handle')")
    assert granted == {"status": 200, "body": {"roles": ["reader", "admin"]}}
    assert page.evaluate("supertokens.getAccessTokenPayloadSecurely()")["st-role"]["v"] == ["reader"]
    assert page.evaluate("t.admin()")["status"] == 403, "the access token still carries the old value"
    assert page.evaluate("supertokens.attemptRefreshingSession()") is True
    assert site.refreshes == [200]
    _admitted(page)
    assert site.refreshes == [200], "exactly one refresh: the one the page asked for"
    assert errors == []
    context.close()
