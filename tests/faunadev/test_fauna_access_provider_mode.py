"""``faunadb.init_with_access_provider``: gatepass JWTs as Fauna credentials, end to end. A real app serves its
JWKS over HTTP; ``gatepass fauna-dev`` has an AccessProvider for the app's issuer and fetches that JWKS; the
official faunadb driver queries with the JWTs. Users live outside Fauna (``auth0|...`` ids, no documents)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from faunadb.errors import PermissionDenied, Unauthorized

from bench.fauna_sessions import QueryCounter
from gatepass.core.app_config import AppConfig
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.errors import ConfigurationError, CoreError, CoreUnavailableError
from gatepass.faunadev.server import open_server
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.session import faunadb, syncio
from gatepass.recipe.session.asyncio import create_new_session
from gatepass.recipe.session.core_client import EmbeddedCore, RemoteCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from gatepass.recipe.session.framework.starlette import GatepassMiddleware
from tests.faunadev.conftest import ADMIN, FaunaDev
from tests.helpers import free_port, serve_in_thread

LAG_MS = 20_000
ALICE, BOB = "auth0|5f7c8ec7c33c6c004bbafe82", "github|4711"
SEAL_KEY = b"s" * 32


@dataclass
class World:
    fauna: FaunaDev
    queries: QueryCounter
    audience: str
    app_url: str
    tmp_path: Path
    core_url: str | None

    def gatepass(self, **options: Any) -> Gatepass:
        """A gatepass for the app at ``app_url`` (its issuer is the AccessProvider's) in JWT mode."""
        options.setdefault(
            "faunadb_token_seal_key", None if options.get("access_faunadb_token_from_frontend") else SEAL_KEY
        )
        info = AppInfo(app_name="jwt-mode", api_domain=self.app_url, website_domain=self.app_url)
        name = f"core-{len(list(self.tmp_path.iterdir()))}.db"
        core = RemoteCore(self.core_url) if self.core_url else EmbeddedCore(f"sqlite:///{self.tmp_path / name}")
        recipe = faunadb.init_with_access_provider(audience=self.audience, faunadb_token_time_lag_ms=LAG_MS, **options)
        return create(app_info=info, core=core, framework="fastapi", recipe_list=[recipe])


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _claims(jwt: str) -> dict[str, Any]:
    body = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _schema(admin: FaunaClient, issuer: str) -> str:
    admin.query(q.create_collection({"name": "notes"}))
    admin.query(q.create(q.collection("notes"), {"data": {"text": "hello"}}))
    admin.query(
        q.create_role(
            {"name": "reader", "privileges": [{"resource": q.collection("notes"), "actions": {"read": True}}]}
        )
    )
    writer = [{"resource": q.collection("notes"), "actions": {"read": True, "create": True}}]
    admin.query(q.create_role({"name": "writer", "privileges": writer}))
    gold = q.query(q.lambda_("claims", q.equals(q.select("tier", q.var("claims"), None), "gold")))
    provider = {
        "name": "gatepass",
        "issuer": issuer,
        "jwks_uri": issuer + "/jwt/jwks.json",
        "roles": [q.role("reader"), {"role": q.role("writer"), "predicate": gold}],
    }
    admin.query(q.create_access_provider(provider))
    return str(admin.query(q.select("audience", q.get(q.access_provider("gatepass")))))


class AppHolder:
    """The app's ASGI entry, pointed at the gatepass of the test running (the JWKS it serves is that core's)."""

    def __init__(self) -> None:
        self.gp: Gatepass | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.gp is not None
        await _app(self.gp)(scope, receive, send)


_apps: dict[int, FastAPI] = {}


def _app(gp: Gatepass) -> FastAPI:
    if id(gp) not in _apps:
        app = FastAPI()
        app.add_middleware(GatepassMiddleware, gatepass=gp)

        @app.post("/login")
        async def login(request: Request) -> dict[str, Any]:
            body = await request.json()
            session = await create_new_session(request, "public", body["userId"], body.get("payload"), gatepass=gp)
            return {"handle": session.get_handle()}

        _apps[id(gp)] = app
    return _apps[id(gp)]


@contextmanager
def _core_url(kind: str, tmp_path: Path) -> Iterator[str | None]:
    if kind == "embedded":
        yield None
        return
    tmp_path.mkdir()
    runtime = CoreRuntime.open(f"sqlite:///{tmp_path / 'remote-core.db'}", AppConfig())
    try:
        with serve_in_thread(CoreHttpApp(runtime)) as url:
            yield url
    finally:
        runtime.close()


@pytest.fixture(params=["embedded", "remote"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[World, AppHolder]]:
    queries = QueryCounter(open_server(None, ADMIN).app)
    fauna_port, app_port = free_port(), free_port()
    holder = AppHolder()
    with _core_url(request.param, tmp_path / "remote") as core_url:
        with serve_in_thread(queries, fauna_port), serve_in_thread(holder, app_port) as app_url:
            fauna = FaunaDev(fauna_port, None)
            audience = _schema(fauna.client(), app_url + "/auth")
            (tmp_path / "cores").mkdir()
            yield World(fauna, queries, audience, app_url, tmp_path / "cores", core_url), holder
            fauna.close()
            if holder.gp is not None:
                holder.gp.close()


def _use(holder: AppHolder, gp: Gatepass) -> Gatepass:
    if holder.gp is not None:
        holder.gp.close()
    holder.gp = gp
    return gp


def _calls(gp: Gatepass) -> list[str]:
    calls: list[str] = []
    original = gp.session.core_sync

    def recording(call: Any) -> dict[str, Any]:
        calls.append(f"{call.method} {call.path}")
        return original(call)

    gp.session.core_sync = recording  # type: ignore[method-assign]
    return calls


@pytest.mark.parametrize("frontend", [False, True], ids=["backend-only", "frontend"])
def test_no_fauna_round_trip_at_login_or_refresh_and_fauna_accepts_the_jwt(
    world: tuple[World, AppHolder], frontend: bool
) -> None:
    w, holder = world
    gp = _use(holder, w.gatepass(access_faunadb_token_from_frontend=frontend))
    calls = _calls(gp)
    before = w.queries.count
    session = syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
    assert calls == ["POST /public/recipe/session", "POST /recipe/jwt", "POST /recipe/session/regenerate"]
    payload = session.get_access_token_payload()
    assert ("faunadbToken" in payload) is frontend and ("faunadbTokenSealed" in payload) is not frontend
    calls.clear()
    jwt = session.get_faunadb_token()
    assert calls == [] and (not frontend or payload["faunadbToken"] == jwt)
    claims = _claims(jwt)
    assert (claims["iss"], claims["aud"], claims["sub"]) == (w.app_url + "/auth", w.audience, ALICE)
    expiry_s = session.get_access_token_expiry() / 1000
    assert expiry_s <= claims["exp"] <= expiry_s + LAG_MS / 1000  # bounded by the access token's expiry + lag
    refresh_token = session.get_all_session_tokens_dangerously()["refreshToken"]
    calls.clear()
    refreshed = syncio.refresh_session_without_request_response(refresh_token, gatepass=gp)
    assert calls == ["POST /recipe/session/refresh", "POST /recipe/jwt", "POST /recipe/session/regenerate"]
    assert w.queries.count == before  # not one Fauna query for a login and a refresh
    new_jwt = refreshed.get_faunadb_token()
    assert new_jwt != jwt and _claims(new_jwt)["sub"] == ALICE
    as_alice = w.fauna.client(new_jwt)
    assert as_alice.query(q.current_identity()) == ALICE
    assert as_alice.query(q.count(q.documents(q.collection("notes")))) == 1
    # a JWT is not revocable: the one the refresh replaced still works until its exp (README says so)
    assert w.fauna.client(jwt).query(q.current_identity()) == ALICE
    calls.clear()
    before = w.queries.count
    refreshed.revoke_session()
    assert calls == ["POST /recipe/session/remove"] and w.queries.count == before  # nothing to look up or delete


def test_role_predicates_see_the_claims_jwt_claims_adds(world: tuple[World, AppHolder]) -> None:
    w, holder = world
    gp = _use(holder, w.gatepass(jwt_claims=lambda user_id: {"tier": "gold" if user_id == ALICE else "free"}))
    alice = syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp).get_faunadb_token()
    bob = syncio.create_new_session_without_request_response("public", BOB, gatepass=gp).get_faunadb_token()
    assert _claims(alice)["tier"] == "gold"
    note = q.create(q.collection("notes"), {"data": {"text": "mine"}})
    assert w.fauna.client(alice).query(note)["data"] == {"text": "mine"}
    with pytest.raises(PermissionDenied):
        w.fauna.client(bob).query(note)
    assert w.fauna.client(bob).query(q.count(q.documents(q.collection("notes")))) == 2  # bob may still read


def test_a_tampered_or_foreign_jwt_is_refused_by_fauna(world: tuple[World, AppHolder]) -> None:
    w, holder = world
    gp = _use(holder, w.gatepass())
    jwt = syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp).get_faunadb_token()
    head, body, signature = jwt.split(".")
    forged_claims = {**_claims(jwt), "sub": BOB}
    forged = base64.urlsafe_b64encode(json.dumps(forged_claims).encode()).decode().rstrip("=")
    for bad in (f"{head}.{forged}.{signature}", f"{head}.{body}.{signature[:-6]}AAAAAA"):
        with pytest.raises(Unauthorized):
            w.fauna.client(bad).query(q.current_identity())
    other = syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
    with pytest.raises(Unauthorized):  # signed by gatepass, but for another audience: not this database's
        from gatepass.recipe.jwt import syncio as jwt_sync

        foreign = jwt_sync.create_jwt({"sub": ALICE, "aud": "https://db.fauna.com/db/yyyyyyyyyyyyn"}, 60, gatepass=gp)
        w.fauna.client(foreign.jwt).query(q.current_identity())
    assert w.fauna.client(other.get_faunadb_token()).query(q.current_identity()) == ALICE


def test_the_frontend_cookie_stays_under_4_kib_with_a_realistic_payload(world: tuple[World, AppHolder]) -> None:
    w, holder = world
    _use(holder, w.gatepass(access_faunadb_token_from_frontend=True, jwt_claims=lambda _: {"tier": "gold"}))
    payload = {"email": "ada.lovelace@example.com", "roles": ["admin", "editor", "billing"], "org": "org_" + "x" * 24}
    login = httpx.post(
        w.app_url + "/login", json={"userId": ALICE, "payload": payload}, headers={"st-auth-mode": "cookie"}
    )
    assert login.status_code == 200, login.text
    cookies = {h.split("=", 1)[0]: h for h in login.headers.get_list("set-cookie")}
    access_cookie = cookies["sAccessToken"].split(";", 1)[0]
    assert len(access_cookie) < 4096, f"sAccessToken is {len(access_cookie)} bytes"
    assert len(login.headers["front-token"]) < 4096


def test_a_core_failure_at_the_refresh_mint_never_strands_the_session(world: tuple[World, AppHolder]) -> None:
    w, holder = world
    gp = _use(holder, w.gatepass(access_faunadb_token_from_frontend=True))
    session = syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
    original = gp.session.core_sync
    failures = {"left": 1}

    def flaky(call: Any) -> dict[str, Any]:
        if call.path == "/recipe/jwt" and failures["left"]:
            failures["left"] -= 1
            raise CoreUnavailableError("the core is restarting")
        return original(call)

    gp.session.core_sync = flaky  # type: ignore[method-assign]
    refresh_token = session.get_all_session_tokens_dangerously()["refreshToken"]
    refreshed = syncio.refresh_session_without_request_response(refresh_token, gatepass=gp)
    assert "faunadbToken" not in refreshed.get_access_token_payload()  # pending: nothing stale handed out
    jwt = refreshed.get_faunadb_token()  # minted now that the core answers
    assert w.fauna.client(jwt).query(q.current_identity()) == ALICE
    assert refreshed.get_access_token_payload()["faunadbToken"] == jwt


def test_setup_is_checked_before_any_session_exists(world: tuple[World, AppHolder], tmp_path: Path) -> None:
    w, holder = world
    for bad in (
        {"audience": "db"},
        {"audience": w.audience, "issuer": "ftp://x"},
        {"audience": w.audience, "jwt_claims": 5},
    ):
        with pytest.raises(ConfigurationError):
            faunadb.init_with_access_provider(access_faunadb_token_from_frontend=True, **bad)  # type: ignore[arg-type]
    huge = "x" * 1_000_000
    for bad in ({"audience": "https://" + huge}, {"audience": w.audience, "issuer": "https://" + huge}):
        with pytest.raises(ConfigurationError):
            faunadb.init_with_access_provider(access_faunadb_token_from_frontend=True, **bad)  # type: ignore[arg-type]
    for claims in ({"n": float("inf")}, {"s": "lone \ud800"}, {"deep": _nested(5000)}, {"x": huge}):
        gp = _use(holder, w.gatepass(jwt_claims=lambda _, c=claims: c))  # type: ignore[misc]
        with pytest.raises((CoreError, ConfigurationError)):  # refused before anything is signed
            syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
        assert syncio.get_all_session_handles_for_user(ALICE, gatepass=gp) == []  # and no session is left
    with pytest.raises(ConfigurationError, match="faunadb_token_seal_key"):
        faunadb.init_with_access_provider(audience=w.audience)
    gp = _use(holder, w.gatepass(jwt_claims=lambda _: {"sub": "someone else"}))
    with pytest.raises(ConfigurationError, match="sub"):
        syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
    assert syncio.get_all_session_handles_for_user(ALICE, gatepass=gp) == []  # the half-made session was revoked
    for user_id in ("", "a\x00b", "x" * 129, "lone \ud800", "9" * 5000):
        with pytest.raises(ConfigurationError, match="user id"):
            syncio.create_new_session_without_request_response("public", user_id, gatepass=gp)
