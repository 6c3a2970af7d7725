"""The multi-tab refresh race (issue 13 item 5; supertokens-core#1300/#1301) with the official browser SDK
(supertokens-website 20.1.6) in two tabs of one headless Chromium, against the example FastAPI app.

The race, made deterministic: tab B's refresh reaches the core (which mints child X of the refresh token P), but its
answer is held back, and its cross-tab refresh lock lapses (browser-tabs-lock frees a lock its tab has not renewed
for 5 s, as when a mobile browser freezes a background tab mid-request; here the test removes it). Tab A then takes
it, refreshes P (child C) and uses C's access token, which promotes C. Only then does B's answer land: the shared
cookie jar now holds X, a displaced sibling of the current token. Without a grace window the next refresh, with X,
is theft and signs the user out of both tabs; with one, it converges on C's lineage and both tabs stay signed in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

import gatepass
from examples.fastapi_session_app import RefreshCounter, build_app, build_gatepass
from tests.helpers import free_port, serve_in_thread

ACCESS_TOKEN_SECONDS = 2
LOCK_KEY = "browser-tabs-lock-key-REFRESH_TOKEN_USE"  # supertokens-website's cross-tab refresh lock


@dataclass
class Site:
    url: str
    counter: RefreshCounter
    held: list[tuple[Any, Any]] = field(default_factory=list)  # (route, response) of tab B's first refresh


@pytest.fixture(params=[pytest.param(30, id="grace-30s"), pytest.param(None, id="no-grace")])
def site(request: pytest.FixtureRequest, supertokens_bundle: Path, tmp_path: Path) -> Iterator[Site]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    counter = RefreshCounter()
    core = gatepass.EmbeddedCore(
        f"sqlite:///{tmp_path / 'tabs.db'}",
        access_token_validity=ACCESS_TOKEN_SECONDS,
        refresh_token_grace_period=request.param,
    )
    gp = build_gatepass(url, url, core, counter)
    try:
        with serve_in_thread(build_app(gp, counter, supertokens_bundle), port):
            yield Site(url + "/", counter)
    finally:
        gp.close()


def _hold_first_refresh(site: Site) -> Any:
    """Send tab B's first refresh to the server ourselves (Playwright's own ``route.fetch`` would already store the
    answer's cookies in the shared jar) and keep the answer for later."""

    def handle(route: Any) -> None:
        if site.held:
            route.continue_()
            return
        sent = route.request
        answer = httpx.request(sent.method, sent.url, headers=sent.all_headers(), content=sent.post_data_buffer)
        site.held.append((route, answer))

    return handle


def _deliver(route: Any, answer: httpx.Response) -> None:
    headers = {name: value for name, value in answer.headers.items() if name not in ("set-cookie", "content-length")}
    headers["set-cookie"] = "\n".join(answer.headers.get_list("set-cookie"))  # Playwright's form for several
    route.fulfill(status=answer.status_code, headers=headers, body=answer.content)


def _wait_for(page: Any, condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)


def test_two_tabs_racing_a_refresh(browser: Any, site: Site, request: pytest.FixtureRequest) -> None:
    graceful = request.node.callspec.id == "grace-30s"
    context = browser.new_context()
    tab_a, tab_b = context.new_page(), context.new_page()
    errors: list[str] = []
    for tab in (tab_a, tab_b):
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(site.url)
    assert tab_a.evaluate("demo.login('two-tabs')") == 200
    assert tab_b.evaluate("demo.protected()")["status"] == 200  # the tabs share the session
    tab_b.route("**/auth/session/refresh", _hold_first_refresh(site))
    before = site.counter.count  # (each page's load may have tried a refresh already)
    time.sleep(ACCESS_TOKEN_SECONDS + 1)  # the access token has expired

    tab_b.evaluate("() => { window.pending = demo.protected(); }")  # 401, lock, refresh with P: held
    _wait_for(tab_b, lambda: bool(site.held), 10)
    tab_a.evaluate(f"localStorage.removeItem('{LOCK_KEY}')")  # B's lock lapses, as lockCorrector frees a frozen tab's
    tab_a.evaluate("() => { window.pending = demo.protected(); }")  # 401: A takes the lock, refreshes P
    assert tab_a.evaluate("window.pending")["status"] == 200  # A takes the lock, refreshes P, promotes C
    assert site.counter.count == before + 2  # B's refresh (held) and A's

    route, answer = site.held[0]
    _deliver(route, answer)  # the jar now holds X, the displaced sibling
    late = tab_b.evaluate("window.pending")  # B's request goes on with X's access token, still valid
    assert late["status"] == 200 and "two-tabs" in late["body"]
    time.sleep(ACCESS_TOKEN_SECONDS + 1)  # now X's access token has expired: the next request refreshes with X
    final = [tab.evaluate("demo.protected()")["status"] for tab in (tab_a, tab_b)]
    signed_in = [tab.evaluate("supertokens.doesSessionExist()") for tab in (tab_a, tab_b)]
    if graceful:
        assert final == [200, 200] and signed_in == [True, True]
        time.sleep(ACCESS_TOKEN_SECONDS + 1)  # and the converged lineage refreshes on, outside the window's use
        assert tab_b.evaluate("demo.protected()")["status"] == 200
    else:  # the test can fail: without the window, the same race is theft and signs both tabs out
        assert final == [401, 401] and signed_in == [False, False]
    assert errors == []
    context.close()
