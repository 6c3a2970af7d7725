"""Error handlers that reach the request and the response, over real HTTP for every adapter (embedded core): each
handler gets the error (its message, a theft's handle and user, invalid claims' failures), the request (path,
headers) and the default answer to change in place: status, body, headers, a redirect. Token clearing and a
theft's revocation still happen. ``on_clear_duplicate_session_cookies`` shapes the answer that clears cookies of
an older domain. A handler cannot smuggle a second header line in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session import syncio
from gatepass.recipe.session.errors import ErrorHandlers, ErrorResponse, SessionError, TokenTheftError
from gatepass.recipe.session.http_types import RequestView, ResponseChanges
from tests.sdk.conftest import FRAMEWORKS, build_gatepass, cookie_headers, make_core, running_app

Seen = list[dict[str, Any]]


def _handlers(seen: Seen) -> ErrorHandlers:
    def record(error: SessionError, request: RequestView | None, response: ErrorResponse) -> dict[str, Any]:
        entry = {"error": type(error).__name__, "path": request.path if request else None, "status": response.status}
        entry["client"] = request.header("x-client") if request else None
        seen.append(entry)
        return entry

    def on_unauthorised(error: SessionError, request: RequestView | None, response: ErrorResponse) -> None:
        record(error, request, response)
        response.redirect("https://example.com/login?from=" + (request.path if request else ""))
        response.set_header("x-reason", error.message[:40])
        response.body = {"message": "please log in", "default": response.body}

    def on_try_refresh_token(error: SessionError, request: RequestView | None, response: ErrorResponse) -> None:
        record(error, request, response)
        response.set_header("x-refresh", "yes")

    def on_token_theft_detected(error: SessionError, request: RequestView | None, response: ErrorResponse) -> None:
        assert isinstance(error, TokenTheftError)
        record(error, request, response)["handle"] = error.session_handle
        response.status, response.body = 403, {"message": "stolen", "user": error.user_id}

    def on_invalid_claim(error: SessionError, request: RequestView | None, response: ErrorResponse) -> None:
        record(error, request, response)
        response.body = {**response.body, "hint": "ask an admin"}

    def on_clear_duplicate_session_cookies(
        error: SessionError, request: RequestView | None, response: ErrorResponse
    ) -> None:
        record(error, request, response)
        response.set_header("x-cleared", "older-domain")

    return ErrorHandlers(
        on_unauthorised,
        on_try_refresh_token,
        on_token_theft_detected,
        on_invalid_claim,
        on_clear_duplicate_session_cookies,
    )


@pytest.fixture(params=FRAMEWORKS)
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Gatepass, httpx.Client, Seen]]:
    seen: Seen = []
    gp = build_gatepass(
        request.param,
        make_core("embedded", None, tmp_path),
        error_handlers=_handlers(seen),
        older_cookie_domain="example.com",
        anti_csrf="NONE",
    )
    try:
        with running_app(request.param, gp) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield gp, client, seen
    finally:
        gp.close()


def _header_login(client: httpx.Client, user: str = "eh-user") -> httpx.Response:
    response = client.post("/login", json={"userId": user}, headers={"st-auth-mode": "header"})
    assert response.status_code == 200, response.text
    return response


def test_unauthorised_handler_redirects_with_the_request_in_hand(served: tuple[Gatepass, httpx.Client, Seen]) -> None:
    _, client, seen = served
    answer = client.get("/protected", headers={"x-client": "app-7"})
    assert answer.status_code == 303 and answer.headers["location"] == "https://example.com/login?from=/protected"
    assert answer.json() == {"message": "please log in", "default": {"message": "unauthorised"}}
    assert answer.headers["x-reason"]
    assert seen[-1] == {"error": "UnauthorisedError", "path": "/protected", "status": 401, "client": "app-7"}


def test_try_refresh_handler_adds_a_header_to_the_default(served: tuple[Gatepass, httpx.Client, Seen]) -> None:
    _, client, seen = served
    access = _header_login(client).headers["st-access-token"]
    tampered = access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB")
    answer = client.get("/protected", headers={"Authorization": f"Bearer {tampered}"})
    assert answer.status_code == 401 and answer.json() == {"message": "try refresh token"}
    assert answer.headers["x-refresh"] == "yes" and seen[-1]["error"] == "TryRefreshTokenError"


def test_theft_handler_answers_after_the_revocation(served: tuple[Gatepass, httpx.Client, Seen]) -> None:
    gp, client, seen = served
    first = _header_login(client, "thief-victim")
    old_refresh = first.headers["st-refresh-token"]
    rotated = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {old_refresh}"})
    assert rotated.status_code == 200
    new_access = rotated.headers["st-access-token"]
    assert client.get("/protected", headers={"Authorization": f"Bearer {new_access}"}).status_code == 200
    theft = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {old_refresh}", "x-client": "t"})
    assert theft.status_code == 403 and theft.json() == {"message": "stolen", "user": "thief-victim"}
    assert theft.headers["st-access-token"] == "" and theft.headers["st-refresh-token"] == ""  # still cleared
    assert seen[-1]["path"] == "/auth/session/refresh" and seen[-1]["client"] == "t"
    assert syncio.get_session_information(seen[-1]["handle"], gatepass=gp) is None  # still revoked


def test_invalid_claim_handler_extends_upstreams_body(served: tuple[Gatepass, httpx.Client, Seen]) -> None:
    _, client, seen = served
    access = _header_login(client).headers["st-access-token"]
    answer = client.get("/claim", headers={"Authorization": f"Bearer {access}"})
    assert answer.status_code == 403
    body = answer.json()
    assert body["message"] == "invalid claim" and body["hint"] == "ask an admin"
    assert body["claimValidationErrors"][0]["id"] == "role" and seen[-1]["error"] == "InvalidClaimsError"


def test_clear_duplicate_cookies_handler(served: tuple[Gatepass, httpx.Client, Seen]) -> None:
    _, client, seen = served
    cookies = "sRefreshToken=gp1.one; sRefreshToken=gp1.two"
    answer = client.post("/auth/session/refresh", headers={"cookie": cookies, "rid": "session"})
    assert answer.status_code == 200 and answer.headers["x-cleared"] == "older-domain"
    assert "Domain=example.com" in cookie_headers(answer)["sRefreshToken"]
    assert seen[-1]["error"] == "ClearDuplicateSessionCookiesError"


def test_a_handler_cannot_split_a_header() -> None:
    response = ErrorResponse(401, {}, ResponseChanges())
    for name, value in [("x-a", "ok\r\nset-cookie: evil=1"), ("x-a\n", "ok"), ("x-b", "line\nbreak")]:
        with pytest.raises(ValueError, match="CR or LF"):
            response.set_header(name, value)
    with pytest.raises(ValueError, match="redirect status"):
        response.redirect("/login", 200)
    assert response.changes.empty and response.status == 401


def test_a_handler_cannot_undo_the_token_clearing(tmp_path: Path) -> None:
    def swap(error: SessionError, request: RequestView | None, response: ErrorResponse) -> None:
        response.changes = ResponseChanges()  # an attempt to drop the cleared cookies
        response.set_header("x-tried", "yes")

    gp = build_gatepass("fastapi", make_core("embedded", None, tmp_path), error_handlers=ErrorHandlers(swap))
    try:
        with running_app("fastapi", gp) as url, httpx.Client(base_url=url) as client:
            made = client.post("/login", json={"userId": "swap"}, headers={"st-auth-mode": "cookie"})
            client.post("/revoke")
            refused = client.get("/checkdb", headers={"cookie": made.headers["set-cookie"].split(";")[0]})
            assert refused.status_code == 401
            assert cookie_headers(refused)["sAccessToken"].startswith("sAccessToken=;")  # still cleared
            assert "x-tried" not in refused.headers  # the swapped-in changes were not used
    finally:
        gp.close()
