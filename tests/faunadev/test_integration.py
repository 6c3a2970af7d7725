"""The FaunaDB integration end to end: a real gatepass app (FastAPI, embedded core), ``gatepass fauna-dev`` and the
official faunadb driver. Every path of the README's guarantee: minting at login, renewal at refresh, revocation at
sign-out, revoke, revoke-all and token theft, TTL expiry, frontend mode, and each failure path."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from faunadb.errors import PermissionDenied, Unauthorized

from gatepass.faunadev.server import open_server
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.session import faunadb, syncio
from gatepass.recipe.session.asyncio import create_new_session
from gatepass.recipe.session.container import AsyncSessionContainer
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, FaunaIntegrationError, q
from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session
from tests.faunadev.conftest import ADMIN, FaunaDev, make_schema
from tests.helpers import free_port, serve_in_thread

SECRET_PATTERN = re.compile(r"fn[AE][\w-]{20,}")
gp_clients: list[FaunaClient] = []


@pytest.fixture(autouse=True)
def _close_driver_clients() -> Iterator[None]:
    yield
    while gp_clients:
        gp_clients.pop().session.close()


@dataclass
class App:
    url: str
    gp: Gatepass
    fauna: FaunaDev
    users: dict[str, Any]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def fauna_as(self, secret: str) -> FaunaClient:
        return self.fauna.client(secret)


def build_app(gp: Gatepass) -> FastAPI:
    app = FastAPI()
    app.add_middleware(GatepassMiddleware, gatepass=gp)

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()
        session = await create_new_session(request, "public", body["userId"], gatepass=gp)
        return {"handle": session.get_handle()}

    @app.get("/fauna-token")
    async def fauna_token(session: AsyncSessionContainer = Depends(verify_session())) -> dict[str, Any]:
        return {"secret": await session.get_faunadb_token(), "handle": session.get_handle()}

    return app


def _server_key(fauna: FaunaDev) -> str:
    return str(fauna.client().query(q.create_key({"role": "server"}))["secret"])


@pytest.fixture
def setup(fauna: FaunaDev, admin: FaunaClient) -> dict[str, Any]:
    users = make_schema(admin)
    return {"users": users, "server_key": _server_key(fauna)}


def _gatepass(tmp_path: Path, fauna_client: FaunaClient, **options: Any) -> Gatepass:
    info = AppInfo(app_name="fauna-test", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")
    core = EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}", access_token_validity=options.pop("access", 60))
    spec = faunadb.init(
        faunadb_client=fauna_client,
        user_collection_name=options.pop("collection", "users"),
        faunadb_token_time_lag_ms=options.pop("lag", 1000),
        **options,
    )
    return create(app_info=info, core=core, framework="fastapi", recipe_list=[spec])


@pytest.fixture(params=[False, True], ids=["backend-only", "frontend"])
def app(request: pytest.FixtureRequest, tmp_path: Path, fauna: FaunaDev, setup: dict[str, Any]) -> Iterator[App]:
    gp = _gatepass(tmp_path, fauna.client(setup["server_key"]), access_faunadb_token_from_frontend=request.param)
    with serve_in_thread(build_app(gp)) as url:
        yield App(url, gp, fauna, setup["users"])
    gp.close()


def _login(client: httpx.Client, user_ref: Any) -> tuple[httpx.Response, str]:
    login = client.post("/login", json={"userId": user_ref.id()})
    assert login.status_code == 200, login.text
    access = login.headers["st-access-token"]
    secret = client.get("/fauna-token", headers={"Authorization": f"Bearer {access}"}).json()["secret"]
    return login, secret


def _front(response: httpx.Response) -> dict[str, Any]:
    return dict(json.loads(base64.b64decode(response.headers["front-token"])))


def _refused(fauna_client: FaunaClient) -> bool:
    try:
        fauna_client.query(q.current_identity())
    except Unauthorized:
        return True
    return False


def test_login_mints_a_token_that_works_as_the_user(app: App) -> None:
    alice, bob = app.users["alice"], app.users["bob"]
    with app.client() as client:
        login, secret = _login(client, alice)
    as_alice = app.fauna_as(secret)
    assert as_alice.query(q.current_identity()) == alice
    assert as_alice.query(q.get(alice))["data"]["email"] == "alice@example.com"
    note = as_alice.query(q.create(q.collection("notes"), {"data": {"owner": alice, "text": "mine"}}))
    assert as_alice.query(q.update(note["ref"], {"data": {"text": "edited"}}))["data"]["text"] == "edited"
    with pytest.raises(PermissionDenied):
        as_alice.query(q.get(bob))
    with pytest.raises(PermissionDenied):
        as_alice.query(q.create(q.collection("notes"), {"data": {"owner": bob}}))
    token_doc = app.fauna.client().query(q.key_from_secret(secret))
    assert token_doc["data"]["sessionHandle"] == login.json()["handle"]


def test_sec_38_ttl_is_access_expiry_plus_lag_and_one_live_token_per_session(app: App) -> None:
    alice = app.users["alice"]
    with app.client() as client:
        login, secret = _login(client, alice)
        expiry_ms = _front(login)["ate"]
        token_doc = app.fauna.client().query(q.key_from_secret(secret))
        ttl_ms = app.fauna.client().query(q.to_millis(token_doc["ttl"]))
        assert ttl_ms == expiry_ms + 1000  # the lag configured for these tests
        refreshed = client.post(
            "/auth/session/refresh", headers={"Authorization": f"Bearer {login.headers['st-refresh-token']}"}
        )
        assert refreshed.status_code == 200
        new_secret = client.get(
            "/fauna-token", headers={"Authorization": f"Bearer {refreshed.headers['st-access-token']}"}
        ).json()["secret"]
    assert new_secret != secret
    assert _refused(app.fauna_as(secret)), "the previous token is deleted by the refresh"
    assert app.fauna_as(new_secret).query(q.current_identity()) == alice
    live = app.fauna.client().query(q.paginate(q.match(q.index("tokens_by_instance"), alice)))["data"]
    assert len(live) == 1


def test_sec_37_sign_out_deletes_the_fauna_token(app: App) -> None:
    with app.client() as client:
        login, secret = _login(client, app.users["alice"])
        signout = client.post("/auth/signout", headers={"Authorization": f"Bearer {login.headers['st-access-token']}"})
        assert signout.status_code == 200
    assert _refused(app.fauna_as(secret))


def test_sec_37_revoke_session_deletes_the_fauna_token(app: App) -> None:
    with app.client() as client:
        login, secret = _login(client, app.users["alice"])
    assert syncio.revoke_session(login.json()["handle"], gatepass=app.gp)
    assert _refused(app.fauna_as(secret))


def test_sec_37_revoke_all_deletes_every_fauna_token_of_the_user(app: App) -> None:
    with app.client() as client:
        secrets = [_login(client, app.users["alice"])[1] for _ in range(3)]
        bobs = _login(client, app.users["bob"])[1]
    revoked = syncio.revoke_all_sessions_for_user(app.users["alice"].id(), gatepass=app.gp)
    assert len(revoked) == 3
    assert all(_refused(app.fauna_as(s)) for s in secrets)
    assert not _refused(app.fauna_as(bobs))
    with app.client() as client:
        two = [_login(client, app.users["bob"]) for _ in range(2)]
    assert syncio.revoke_multiple_sessions([login.json()["handle"] for login, _ in two], gatepass=app.gp)
    assert all(_refused(app.fauna_as(secret)) for _, secret in two)


def test_sec_37_token_theft_deletes_the_fauna_token(app: App) -> None:
    with app.client() as client:
        login, secret = _login(client, app.users["alice"])
        rt0 = login.headers["st-refresh-token"]
        first = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {rt0}"})
        renewed = client.get(
            "/fauna-token", headers={"Authorization": f"Bearer {first.headers['st-access-token']}"}
        ).json()["secret"]
        theft = client.post("/auth/session/refresh", headers={"Authorization": f"Bearer {rt0}"})
        assert theft.status_code == 401 and theft.json() == {"message": "token theft detected"}
    assert _refused(app.fauna_as(secret)) and _refused(app.fauna_as(renewed))


def test_ttl_expiry_refuses_the_token(app: App) -> None:
    with app.client() as client:
        _, secret = _login(client, app.users["alice"])
    assert not _refused(app.fauna_as(secret))
    app.fauna.advance_clock(60 + 2)  # access-token lifetime (60 s) + lag (1 s), and a second more
    assert _refused(app.fauna_as(secret))


def test_sec_39_secret_reaches_the_frontend_only_when_enabled(app: App) -> None:
    integration = faunadb.installed_integration(app.gp.session)
    assert integration is not None
    frontend = integration.settings.access_faunadb_token_from_frontend
    with app.client() as client:
        login, secret = _login(client, app.users["alice"])
    payload = _front(login)["up"]
    if frontend:
        assert payload[faunadb.FAUNADB_TOKEN_KEY] == secret
        assert app.fauna_as(payload[faunadb.FAUNADB_TOKEN_KEY]).query(q.current_identity()) == app.users["alice"]
    else:
        assert faunadb.FAUNADB_TOKEN_KEY not in payload and secret not in json.dumps(payload)
        assert isinstance(payload[faunadb.FAUNADB_SEALED_TOKEN_KEY], str)  # sealed: only the backend opens it
    info = syncio.get_session_information(login.json()["handle"], gatepass=app.gp)
    assert info is not None and info.session_data_in_database == {}  # the app's own data stays the app's
    assert info.custom_claims_in_access_token_payload[faunadb.FAUNADB_TOKEN_REF_KEY] == payload["faunadbTokenRef"]


# failure paths ---------------------------------------------------------------------------------------------------
def _sessions(gp: Gatepass, user_id: str) -> list[str]:
    return syncio.get_all_session_handles_for_user(user_id, gatepass=gp)


@pytest.mark.parametrize(
    "case,message",
    [
        ("invalid-user-id", "not a FaunaDB document id"),
        ("unknown-collection", "does not exist"),
        ("rejected-key", "rejected"),
        ("missing-user", "not found"),
    ],
)
def test_login_configuration_errors_leave_no_session(
    tmp_path: Path, fauna: FaunaDev, setup: dict[str, Any], case: str, message: str
) -> None:
    key = "fnA" + "B" * 37 if case == "rejected-key" else setup["server_key"]
    collection = "people" if case == "unknown-collection" else "users"
    user_id = {"invalid-user-id": "st-user-uuid", "missing-user": "123456"}.get(case, setup["users"]["alice"].id())
    gp = _gatepass(tmp_path, fauna.client(key), collection=collection)
    created: list[str] = []
    original_create = gp.session.core.send_sync

    def recording(call: Any) -> Any:
        if call.path.endswith("/recipe/session") and call.method == "POST":
            created.append(call.path)
        return original_create(call)

    gp.session.core.send_sync = recording  # type: ignore[method-assign]
    try:
        with pytest.raises(FaunaIntegrationError, match=message) as error:
            syncio.create_new_session_without_request_response("public", user_id, gatepass=gp)
        if case != "missing-user":  # detected before any session is created
            assert created == []
        assert not SECRET_PATTERN.search(str(error.value))
        assert _sessions(gp, user_id) == []
    finally:
        gp.close()


def test_fauna_down_at_login_fails_cleanly_and_leaves_no_session(tmp_path: Path, setup: dict[str, Any]) -> None:
    dead = FaunaClient(secret=setup["server_key"], scheme="http", domain="127.0.0.1", port=free_port(), timeout=2)
    gp = _gatepass(tmp_path, dead)
    gp_clients.append(dead)
    try:
        with serve_in_thread(build_app(gp)) as url:
            response = httpx.post(url + "/login", json={"userId": setup["users"]["alice"].id()})
            assert response.status_code == 503 and response.json() == {"message": "the session service is unavailable"}
        assert _sessions(gp, setup["users"]["alice"].id()) == []
    finally:
        gp.close()


def test_fauna_outage_at_refresh_and_revocation(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    data = tmp_path / "fauna.json"
    fauna = FaunaDev(port, data)
    server = open_server(data, ADMIN)
    with serve_in_thread(server.app, port):
        users = make_schema(fauna.client())
        key = _server_key(fauna)
    # Fauna is down now; the data file keeps everything for the restart
    integration_client = FaunaClient(secret=key, scheme="http", domain="127.0.0.1", port=port, timeout=2)
    gp_clients.append(integration_client)
    gp = _gatepass(tmp_path, integration_client)
    alice = users["alice"]
    try:
        with serve_in_thread(build_app(gp)) as url, httpx.Client(base_url=url) as client:
            with serve_in_thread(open_server(data, ADMIN).app, port):
                login, first_secret = _login(client, alice)
            refreshed = client.post(
                "/auth/session/refresh", headers={"Authorization": f"Bearer {login.headers['st-refresh-token']}"}
            )
            assert refreshed.status_code == 200, "a refresh completes while Fauna is down"
            bearer = {"Authorization": f"Bearer {refreshed.headers['st-access-token']}"}
            down = client.get("/fauna-token", headers=bearer)
            assert down.status_code == 503
            with serve_in_thread(open_server(data, ADMIN).app, port):
                renewed = client.get("/fauna-token", headers=bearer)
                assert renewed.status_code == 200
                new_secret = renewed.json()["secret"]
                assert new_secret != first_secret
                assert fauna.client(new_secret).query(q.current_identity()) == alice
                assert _refused(fauna.client(first_secret)), "the old token was deleted when the new one was minted"
            signout = client.post("/auth/signout", headers=bearer)
            assert signout.status_code == 200, "revocation succeeds while Fauna is down"
            assert _sessions(gp, alice.id()) == []
            with serve_in_thread(open_server(data, ADMIN).app, port):
                fauna.advance_clock(62)
                assert _refused(fauna.client(new_secret)), "an undeleted token still dies by TTL"
    finally:
        gp.close()
        fauna.close()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("gatepass")]
    assert any("could not delete" in m for m in messages)
    assert not [m for m in messages if SECRET_PATTERN.search(m)]


def test_sec_40_dev_server_stores_only_hashes(
    fauna: FaunaDev, setup: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = fauna.client().query(q.create(q.tokens(), {"instance": setup["users"]["alice"]}))
    assert fauna.data is not None
    stored = fauna.data.read_text()
    for secret in (token["secret"], setup["server_key"], "alice-pw", "bob-pw"):
        assert secret not in stored
    assert "pbkdf2-sha256$" in stored and "secret_hash" in stored
    assert not [r for r in caplog.records if SECRET_PATTERN.search(r.getMessage())]


def test_constructing_a_client_makes_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the driver called the network on construction")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(requests.Session, "get", no_network)
    FaunaClient(secret="secret", scheme="http", domain="127.0.0.1", port=1)


def test_init_validation(fauna: FaunaDev) -> None:
    from gatepass.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="faunadb_client"):
        faunadb.init(faunadb_client="secret", user_collection_name="users")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="user_collection_name"):
        faunadb.init(faunadb_client=fauna.client(), user_collection_name="")
    with pytest.raises(ConfigurationError, match="lag"):
        faunadb.init(faunadb_client=fauna.client(), user_collection_name="users", faunadb_token_time_lag_ms=-1)
    spec = faunadb.init(faunadb_client=fauna.client(), user_collection_name="users", anti_csrf="VIA_TOKEN")
    assert spec.options.anti_csrf == "VIA_TOKEN"


def test_one_fauna_round_trip_per_create_and_refresh(tmp_path: Path) -> None:
    from bench.fauna_sessions import QueryCounter

    counter = QueryCounter(open_server(None, ADMIN).app)
    port = free_port()
    fauna = FaunaDev(port, None)
    with serve_in_thread(counter, port):
        users = make_schema(fauna.client())
        gp = _gatepass(tmp_path, fauna.client(_server_key(fauna)))
        try:
            syncio.create_new_session_without_request_response("public", users["bob"].id(), gatepass=gp)  # set-up check
            before = counter.count
            created = syncio.create_new_session_without_request_response("public", users["alice"].id(), gatepass=gp)
            assert counter.count - before == 1
            before = counter.count
            refresh_token = created.get_all_session_tokens_dangerously()["refreshToken"]
            syncio.refresh_session_without_request_response(refresh_token, gatepass=gp)
            assert counter.count - before == 1
        finally:
            gp.close()
            fauna.close()


@pytest.mark.parametrize("frontend", [False, True], ids=["backend-only", "frontend"])
def test_two_core_calls_per_create_and_refresh_and_none_to_read_the_token(
    tmp_path: Path, fauna: FaunaDev, setup: dict[str, Any], frontend: bool
) -> None:
    """The Fauna token travels in the session's payload (sealed in backend-only mode): a create or a refresh is the
    operation plus one regenerate, and get_faunadb_token() asks the core nothing."""
    gp = _gatepass(tmp_path, fauna.client(setup["server_key"]), access_faunadb_token_from_frontend=frontend)
    calls: list[str] = []
    original = gp.session.core_sync

    def recording(call: Any) -> dict[str, Any]:
        calls.append(f"{call.method} {call.path}")
        return original(call)

    gp.session.core_sync = recording  # type: ignore[method-assign]
    try:
        syncio.create_new_session_without_request_response("public", setup["users"]["bob"].id(), gatepass=gp)
        calls.clear()
        created = syncio.create_new_session_without_request_response(
            "public", setup["users"]["alice"].id(), gatepass=gp
        )
        assert calls == ["POST /public/recipe/session", "POST /recipe/session/regenerate"]
        calls.clear()
        first = created.get_faunadb_token()
        assert calls == []
        refresh_token = created.get_all_session_tokens_dangerously()["refreshToken"]
        refreshed = syncio.refresh_session_without_request_response(refresh_token, gatepass=gp)
        assert calls == ["POST /recipe/session/refresh", "POST /recipe/session/regenerate"]
        calls.clear()
        second = refreshed.get_faunadb_token()
        assert calls == [] and second != first
        assert _refused(fauna.client(first)) and not _refused(fauna.client(second))
    finally:
        del gp.session.core_sync
        gp.close()


@pytest.mark.parametrize("bad_ref", ["not-a-ref", "", "9" * 30, "١٢٣"])
def test_an_app_written_token_ref_that_names_no_token_is_skipped_not_a_500(
    tmp_path: Path, fauna: FaunaDev, setup: dict[str, Any], bad_ref: str
) -> None:
    gp = _gatepass(tmp_path, fauna.client(setup["server_key"]), access_faunadb_token_from_frontend=True)
    try:
        session = syncio.create_new_session_without_request_response(
            "public", setup["users"]["alice"].id(), gatepass=gp
        )
        first = session.get_faunadb_token()
        # the app overwrites the integration's keys itself: a ref that is no token id, and no secret
        session.merge_into_access_token_payload(
            {faunadb.FAUNADB_TOKEN_REF_KEY: bad_ref, faunadb.FAUNADB_TOKEN_KEY: None}
        )
        again = session.get_faunadb_token()  # minted again; the bad ref is not sent to Fauna
        assert again != first and fauna.client(again).query(q.current_identity()) == setup["users"]["alice"]
        session.revoke_session()  # the revocation skips it too, and deletes the token the session now carries
        with pytest.raises(Unauthorized):
            fauna.client(again).query(q.current_identity())
    finally:
        gp.close()
