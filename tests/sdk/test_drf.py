"""The Django REST framework adapter over real HTTP (embedded and remote core): ``SessionAuthentication`` makes
``request.user`` a ``SessionUser`` and ``request.auth`` the session; refusals are ``SessionRefused`` and go through
DRF's own exception handling with upstream's status and body (and the token clearing the answer needs);
``HasSession`` and ``HasClaims`` (alone and composed with DRF's ``IsAuthenticated``) guard the views; custom
``ErrorHandlers`` apply; a core outage is a 503. The test app's views are built here, on ``tests.sdk.drf_app``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.recipe.instance import Gatepass, set_default
from gatepass.recipe.session import syncio
from gatepass.recipe.session.claims import BooleanClaim, PrimitiveArrayClaim
from gatepass.recipe.session.core_client import CoreConnection, RemoteCore
from gatepass.recipe.session.errors import ErrorHandlers, ErrorResponse, SessionError
from gatepass.recipe.session.http_types import RequestView
from tests.conformance.conftest import new_app
from tests.core.conftest import FakeClock
from tests.helpers import API_KEY, CoreProcess, running_core
from tests.sdk.apps import serve_wsgi
from tests.sdk.conftest import build_gatepass, cookie_headers, make_core

# isort: off
from tests.sdk.drf_app import Login, drf_application, session_view  # configures Django first

from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView, exception_handler

from gatepass.recipe.session.framework.drf import HasClaims, HasSession, SessionAuthentication, SessionUser
# isort: on

MAX_AGE_S = 60
UNAUTHORISED = {"message": "unauthorised"}
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}


@dataclass
class World:
    """The app's user data (what the claims' ``fetch_value`` reads), the claims' clock, what a handler saw."""

    roles: dict[str, list[str]] = field(default_factory=lambda: {"ada": ["reader"]})
    verified: dict[str, bool] = field(default_factory=dict)
    clock: FakeClock = field(default_factory=FakeClock)
    handled: list[str] = field(default_factory=list)


def _whoami(request: Any) -> Any:
    user = request.user
    return {
        "user": type(user).__name__,
        "auth": type(request.auth).__name__,
        "userId": user.user_id,
        "pk": user.pk,
        "str": str(user),
        "repr": repr(user),
        "isAuthenticated": user.is_authenticated,
        "isAnonymous": user.is_anonymous,
        "tenantId": user.tenant_id,
        "sameSession": user.session is request.auth,
    }


def _urls(world: World, roles: PrimitiveArrayClaim, verified: BooleanClaim) -> Any:
    admin = roles.validators.includes("admin", MAX_AGE_S)

    def answer_roles(request: Any) -> Any:
        return {"roles": request.auth.get_claim_value(roles)}

    class Handled(APIView):
        permission_classes = [HasSession]

        def get_exception_handler(self) -> Any:
            def handler(error: Exception, context: Any) -> Any:
                world.handled.append(type(error).__name__)
                response = exception_handler(error, context)
                response.data = {"handled": response.data}
                return response

            return handler

        def get(self, request: Any) -> Any:
            raise AssertionError("not reached without a session")

    class Urls:
        urlpatterns = [
            path("login", Login.as_view()),
            path("whoami", session_view(_whoami)),
            path("authenticated", session_view(_whoami, permissions=[IsAuthenticated])),
            path("checkdb", session_view(_whoami, SessionAuthentication.configured(check_database=True))),
            path("admin", session_view(answer_roles, permissions=[HasClaims(admin)])),
            path("verified", session_view(answer_roles, permissions=[HasClaims(verified.validators.is_true())])),
            path("composed", session_view(answer_roles, permissions=[IsAuthenticated & HasClaims(admin)])),
            path("handled", Handled.as_view()),
        ]

    return Urls


@dataclass
class Site:
    http: httpx.Client
    gp: Gatepass
    world: World
    roles: PrimitiveArrayClaim
    verified: BooleanClaim

    def login(self, user: str = "ada", mode: str = "header") -> httpx.Response:
        response = self.http.post("/login", json={"userId": user}, headers={"st-auth-mode": mode})
        assert response.status_code == 200, response.text
        return response

    def bearer(self, user: str = "ada") -> tuple[str, dict[str, str], str]:
        """A new session's handle, Authorization header and refresh token."""
        response = self.login(user)
        access = response.headers["st-access-token"]
        return response.json()["handle"], {"Authorization": f"Bearer {access}"}, response.headers["st-refresh-token"]

    def refreshed(self, refresh_token: str) -> dict[str, str]:
        response = self.http.post("/auth/session/refresh", headers={"Authorization": f"Bearer {refresh_token}"})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.headers['st-access-token']}"}


@contextmanager
def _site(core: CoreConnection, **options: Any) -> Iterator[Site]:
    world = World()
    roles = PrimitiveArrayClaim("st-role", lambda user, *_: list(world.roles.get(user, [])), clock=world.clock)
    verified = BooleanClaim("st-ev", lambda user, *_: world.verified.get(user, False), clock=world.clock)
    gp = build_gatepass("drf", core, **{"anti_csrf": "VIA_TOKEN", **options})
    gp.session.add_claim_from_other_recipe(roles)
    gp.session.add_claim_from_other_recipe(verified)
    set_default(gp)
    try:
        with serve_wsgi(drf_application(_urls(world, roles, verified))) as url, httpx.Client(base_url=url) as http:
            yield Site(http, gp, world, roles, verified)
    finally:
        gp.close()
        set_default(None)


@pytest.fixture(params=["embedded", "remote"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    remote: CoreProcess | None = request.getfixturevalue("remote_core") if request.param == "remote" else None
    with _site(make_core(request.param, remote, tmp_path)) as served:
        yield served


def test_request_user_is_a_session_user_and_request_auth_the_session(site: Site) -> None:
    _, bearer, _ = site.bearer()
    response = site.http.get("/whoami", headers=bearer)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "user": SessionUser.__name__,
        "auth": "SessionContainer",
        "userId": "ada",
        "pk": "ada",
        "str": "ada",
        "repr": "SessionUser(user_id='ada', tenant_id='public')",
        "isAuthenticated": True,
        "isAnonymous": False,
        "tenantId": "public",
        "sameSession": True,
    }


def test_no_session_is_drfs_401_with_is_authenticated_and_upstreams_with_has_session(site: Site) -> None:
    drf = site.http.get("/authenticated")
    assert drf.status_code == 401 and drf.json() == NOT_AUTHENTICATED
    assert drf.headers["www-authenticate"] == "Session"
    ours = site.http.get("/whoami")
    assert ours.status_code == 401 and ours.json() == UNAUTHORISED
    assert "set-cookie" not in ours.headers, "a request without tokens has none to clear"


def test_an_unusable_access_token_asks_for_a_refresh(site: Site) -> None:
    _, bearer, _ = site.bearer()
    head, payload, signature = bearer["Authorization"].removeprefix("Bearer ").split(".")
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]
    tampered = {"Authorization": f"Bearer {head}.{payload}.{forged}"}
    for route in ("/whoami", "/authenticated"):
        response = site.http.get(route, headers=tampered)
        assert response.status_code == 401 and response.json() == {"message": "try refresh token"}, route
    preflight = site.http.options("/whoami", headers=tampered)
    assert preflight.status_code == 200, "OPTIONS passes unverified, as verify_session lets it"
    site.http.cookies.clear()
    site.login(mode="cookie")
    no_anti_csrf = site.http.post("/whoami")
    assert no_anti_csrf.status_code == 401 and no_anti_csrf.json() == {"message": "try refresh token"}


def test_a_revoked_session_with_check_database_is_unauthorised_and_its_cookies_are_cleared(site: Site) -> None:
    login = site.login(mode="cookie")
    assert site.http.get("/checkdb").status_code == 200
    assert syncio.revoke_session(login.json()["handle"], gatepass=site.gp) is True
    revoked = site.http.get("/checkdb")
    assert revoked.status_code == 401 and revoked.json() == UNAUTHORISED
    cleared = cookie_headers(revoked)
    assert cleared["sAccessToken"].startswith("sAccessToken=;") and "1970" in cleared["sAccessToken"]
    assert cleared["sRefreshToken"].startswith("sRefreshToken=;") and "1970" in cleared["sRefreshToken"]
    assert revoked.headers["front-token"] == "remove"


def test_has_claims_answers_upstreams_403_and_passes_once_the_claim_is_set(site: Site) -> None:
    handle, bearer, refresh = site.bearer()
    refused = site.http.get("/admin", headers=bearer)
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
    unverified = site.http.get("/verified", headers=bearer)
    assert unverified.status_code == 403
    assert unverified.json()["claimValidationErrors"] == [
        {"id": "st-ev", "reason": {"message": "wrong value", "expectedValue": True, "actualValue": False}}
    ]
    assert syncio.set_claim_value(handle, site.roles, ["reader", "admin"], gatepass=site.gp) is True
    assert syncio.set_claim_value(handle, site.verified, True, gatepass=site.gp) is True
    bearer = site.refreshed(refresh)
    for route in ("/admin", "/verified"):
        ok = site.http.get(route, headers=bearer)
        assert ok.status_code == 200 and ok.json() == {"roles": ["reader", "admin"]}, route
    assert site.http.get("/admin").json() == UNAUTHORISED


def test_a_stale_claim_is_refetched_and_the_new_token_goes_out(site: Site) -> None:
    _, bearer, _ = site.bearer()
    site.world.roles["ada"] = ["admin"]
    site.world.clock.advance(MAX_AGE_S * 1000 + 1)
    ok = site.http.get("/admin", headers=bearer)
    assert ok.status_code == 200 and ok.json() == {"roles": ["admin"]}
    fresh = ok.headers["st-access-token"]
    assert fresh and fresh not in bearer["Authorization"]
    again = site.http.get("/admin", headers={"Authorization": f"Bearer {fresh}"})
    assert again.status_code == 200 and "st-access-token" not in again.headers


def test_is_authenticated_and_has_claims_compose(site: Site) -> None:
    anonymous = site.http.get("/composed")
    assert anonymous.status_code == 401 and anonymous.json() == NOT_AUTHENTICATED
    _, reader, _ = site.bearer()
    refused = site.http.get("/composed", headers=reader)
    assert refused.status_code == 403 and refused.json()["message"] == "invalid claim"
    site.world.roles["grace"] = ["admin"]
    _, admin, _ = site.bearer("grace")
    ok = site.http.get("/composed", headers=admin)
    assert ok.status_code == 200 and ok.json() == {"roles": ["admin"]}


def test_a_views_exception_handler_sees_the_refusal(site: Site) -> None:
    response = site.http.get("/handled")
    assert response.status_code == 401 and response.json() == {"handled": UNAUTHORISED}
    assert site.world.handled == ["SessionRefused"]


def test_custom_error_handlers_answer(tmp_path: Path) -> None:
    def on_unauthorised(error: SessionError, request: RequestView | None, response: ErrorResponse) -> None:
        response.status = 419
        response.body = {"custom": type(error).__name__, "path": request.path if request else None}
        response.set_header("x-custom", "yes")

    with _site(make_core("embedded", None, tmp_path), error_handlers=ErrorHandlers(on_unauthorised)) as site:
        response = site.http.get("/whoami")
        assert response.status_code == 419 and response.json() == {"custom": "UnauthorisedError", "path": "/whoami"}
        assert response.headers["x-custom"] == "yes"
        assert site.http.get("/authenticated").json() == NOT_AUTHENTICATED  # DRF's own refusal is DRF's


def test_a_core_outage_is_a_503(tmp_path: Path) -> None:
    with running_core(f"sqlite:///{tmp_path / 'core.db'}", tmp_path / "core.log", ["--api-key", API_KEY]) as core:
        with _site(RemoteCore(new_app(core), API_KEY)) as site:
            _, bearer, _ = site.bearer()
            assert site.http.get("/checkdb", headers=bearer).status_code == 200
            core.stop()
            response = site.http.get("/checkdb", headers=bearer)
            assert response.status_code == 503 and response.json() == {"message": "the session service is unavailable"}
            assert "set-cookie" not in response.headers and "st-access-token" not in response.headers


def test_without_gatepass_middleware_the_error_names_it() -> None:
    from django.test import RequestFactory
    from rest_framework.request import Request

    from gatepass.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"gatepass\.recipe\.session\.framework\.django\.Middleware"):
        SessionAuthentication().authenticate(Request(RequestFactory().get("/whoami")))
