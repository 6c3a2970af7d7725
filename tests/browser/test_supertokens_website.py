"""The official browser SDK (supertokens-website 20.1.6) in headless Chromium against the example FastAPI app:
login, session checks, one automatic refresh after the access token expires, payload updates, sign-out. In cookie
mode and header mode, with VIA_TOKEN anti-CSRF, and once cross-origin (page and API on different ports)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

import gatepass
from examples.fastapi_session_app import RefreshCounter, build_app, build_gatepass
from tests.helpers import free_port, serve_in_thread

ACCESS_TOKEN_SECONDS = 2


@dataclass
class Site:
    page_url: str
    counter: RefreshCounter


def _site(bundle: Path, tmp_path: Path, transfer: str, cross_origin: bool) -> Iterator[Site]:
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    page_port = free_port() if cross_origin else api_port
    website = f"http://127.0.0.1:{page_port}"
    counter = RefreshCounter()
    core = gatepass.EmbeddedCore(f"sqlite:///{tmp_path / 'browser.db'}", access_token_validity=ACCESS_TOKEN_SECONDS)
    gp = build_gatepass(api, website, core, counter)
    app = build_app(gp, counter, bundle, transfer=transfer, serve_page=not cross_origin)
    try:
        with serve_in_thread(app, api_port):
            if not cross_origin:
                yield Site(api + "/", counter)
                return
            html = app.state.page(api + "/supertokens.js")
            page_app = Starlette(routes=[Route("/", lambda _: HTMLResponse(html))])
            with serve_in_thread(page_app, page_port):
                yield Site(website + "/", counter)
    finally:
        gp.close()


@pytest.fixture(
    params=[
        pytest.param(("cookie", False), id="cookie"),
        pytest.param(("header", False), id="header"),
        pytest.param(("cookie", True), id="cookie-cross-origin"),
    ]
)
def site(request: pytest.FixtureRequest, supertokens_bundle: Path, tmp_path: Path) -> Iterator[Site]:
    transfer, cross_origin = request.param
    yield from _site(supertokens_bundle, tmp_path, transfer, cross_origin)


def test_session_lifecycle_in_the_browser(browser: Any, site: Site) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(site.page_url)

    assert page.evaluate("supertokens.doesSessionExist()") is False
    assert page.evaluate("demo.login('browser-user')") == 200
    assert page.evaluate("supertokens.doesSessionExist()") is True
    assert page.evaluate("supertokens.getUserId()") == "browser-user"
    payload = page.evaluate("supertokens.getAccessTokenPayloadSecurely()")
    assert payload["sub"] == "browser-user" and payload["role"] == "reader"

    first = page.evaluate("demo.protected()")
    assert first["status"] == 200

    refreshes_before = site.counter.count
    time.sleep(ACCESS_TOKEN_SECONDS + 1.2)  # the access token has expired now
    after_expiry = page.evaluate("demo.protected()")
    assert after_expiry["status"] == 200 and "browser-user" in after_expiry["body"]
    assert site.counter.count - refreshes_before == 1, "exactly one automatic refresh"

    assert page.evaluate("demo.updatePayload({theme: 'dark'})") == 200
    updated = page.evaluate("supertokens.getAccessTokenPayloadSecurely()")
    assert updated["theme"] == "dark" and updated["role"] == "reader"

    page.evaluate("supertokens.signOut()")
    assert page.evaluate("supertokens.doesSessionExist()") is False
    assert page.evaluate("demo.protected()")["status"] == 401
    assert errors == []
    context.close()


@pytest.fixture
def cookie_site(supertokens_bundle: Path, tmp_path: Path) -> Iterator[Site]:
    yield from _site(supertokens_bundle, tmp_path, "cookie", False)


def test_a_not_remembered_login_keeps_browser_session_cookies(browser: Any, cookie_site: Site) -> None:
    """Issue 13 item 3: Chromium holds the token cookies as session cookies (``expires == -1``), across a refresh."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(cookie_site.page_url)

    def token_cookies() -> dict[str, float]:
        return {c["name"]: c["expires"] for c in context.cookies() if c["name"] in ("sAccessToken", "sRefreshToken")}

    assert page.evaluate("demo.login('forgetful', false)") == 200
    assert token_cookies() == {"sAccessToken": -1, "sRefreshToken": -1}
    refreshes_before = cookie_site.counter.count
    time.sleep(ACCESS_TOKEN_SECONDS + 1.2)
    assert page.evaluate("demo.protected()")["status"] == 200
    assert cookie_site.counter.count == refreshes_before + 1  # the refresh happened, and kept them session cookies
    assert token_cookies() == {"sAccessToken": -1, "sRefreshToken": -1}
    assert page.evaluate("demo.login('remembered')") == 200  # a remembered login gets expiring cookies again
    assert all(expires > time.time() for expires in token_cookies().values())
    context.close()
