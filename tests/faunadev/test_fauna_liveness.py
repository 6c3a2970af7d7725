"""The FaunaDB integration's liveness guarantee over the whole timeline of a session, with an injected clock.

Invariant, checked after every step (login, requests, refreshes, idle gaps of any length): whenever the client's
newest access token is valid, the Fauna credential it carries (frontend mode) and the one ``get_faunadb_token()``
returns are live at least as long as that access token, and no longer than its expiry + the lag:
``exp <= ttl <= exp + lag``. For a Fauna token, Fauna's stored ``ttl`` is read directly (fauna-dev runs on real
time; the session runs on the injected clock, which starts at real time and only moves forward, so no TTL is ever
in fauna-dev's past). For an AccessProvider JWT, its ``exp``, from a signature checked with the core's published
keys. The core is embedded, or remote over real HTTP (a core app on the same injected clock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faunadb.errors import BadRequest, NotFound
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from gatepass.core.app_config import AppConfig
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session import faunadb
from gatepass.recipe.session.config import SessionOptions
from gatepass.recipe.session.core_client import CoreConnection, EmbeddedCore, RemoteCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.recipe import SessionRecipe
from gatepass.recipe.session.state import SessionState, VerifyOptions
from gatepass.recipe.session.steps import run_sync
from tests.core.conftest import FakeClock
from tests.faunadev.conftest import FaunaDev, make_schema
from tests.helpers import serve_in_thread

VALIDITY_S = 40
LAG_MS = 5_000
AUDIENCE = "https://db.fauna.com/db/yxxliveness"
INFO = AppInfo(app_name="liveness", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")

Step = tuple[str, int]  # ("wait", ms) | ("request", 0) | ("refresh", 0)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("wait"), st.integers(0, 3 * VALIDITY_S * 1000)),
        st.tuples(st.sampled_from(["request", "refresh"]), st.just(0)),
    ),
    min_size=1,
    max_size=12,
)


@dataclass
class Client:
    """What a browser or app holds: the newest access token and the refresh token."""

    access: str
    refresh: str
    expiry_ms: int


@contextmanager
def _core(kind: str, tmp_path: Path, clock: FakeClock) -> Iterator[CoreConnection]:
    url = f"sqlite:///{tmp_path / f'core-{clock.now}.db'}"
    if kind == "embedded":
        core = EmbeddedCore(url, access_token_validity=VALIDITY_S, clock=clock)
        yield core
        core.close()
        return
    runtime = CoreRuntime.open(url, AppConfig(access_token_validity=VALIDITY_S), clock)
    with serve_in_thread(CoreHttpApp(runtime)) as base:
        remote = RemoteCore(base)
        yield remote
        remote.close()
    runtime.close()


def _recipe(core: CoreConnection, fauna: FaunaClient | None, frontend: bool, clock: FakeClock) -> SessionRecipe:
    """The recipe with Fauna tokens, or (``fauna`` is None) with AccessProvider JWTs."""
    if fauna is None:
        spec = faunadb.init_with_access_provider(
            audience=AUDIENCE,
            access_faunadb_token_from_frontend=frontend,
            faunadb_token_time_lag_ms=LAG_MS,
            faunadb_token_seal_key=None if frontend else b"k" * 32,
        )
    else:
        spec = faunadb.init(
            faunadb_client=fauna,
            user_collection_name="users",
            access_faunadb_token_from_frontend=frontend,
            faunadb_token_time_lag_ms=LAG_MS,
        )
    return SessionRecipe(INFO, SessionOptions(), core, overrides=spec.overrides, clock=clock)


def _held(state: SessionState, client: Client | None) -> Client:
    refresh = state.refresh_token or (client.refresh if client else None)
    assert refresh is not None
    return Client(state.access_token, refresh, state.access_token_expiry_ms)


def _login(recipe: SessionRecipe, user_id: str) -> Client:
    request = RequestView.build("POST", "/login", [("st-auth-mode", "header")])
    flow = recipe.functions.create_new_session(
        request=request,
        tenant_id="public",
        user_id=user_id,
        access_token_payload={},
        session_data_in_database={},
        user_context={},
    )
    return _held(run_sync(flow, recipe), None)


def _request(recipe: SessionRecipe, client: Client) -> tuple[Client, SessionState | None]:
    """One API call; a refused token makes the client refresh (as supertokens-website does), then retry."""
    view = RequestView.build("GET", "/api", [("authorization", f"Bearer {client.access}")])
    state = run_sync(recipe.functions.get_session(request=view, options=VerifyOptions(), user_context={}), recipe)
    if isinstance(state, SessionState):
        return _held(state, client), state
    return _refresh(recipe, client), None


def _refresh(recipe: SessionRecipe, client: Client) -> Client:
    headers = [("authorization", f"Bearer {client.refresh}"), ("rid", "session")]
    view = RequestView.build("POST", recipe.config.refresh_path, headers)
    state = run_sync(recipe.functions.refresh_session(request=view, user_context={}), recipe)
    assert isinstance(state, SessionState), f"an honest client's refresh was refused: {state!r}"
    return _held(state, client)


def _ttl_ms(admin: FaunaClient | None, secret: str, recipe: SessionRecipe) -> int | None:
    """The token's TTL in epoch milliseconds, or ``None`` if Fauna no longer knows the secret (deleted); for a
    JWT (``admin`` is None), its ``exp``, once its signature, audience and subject are checked."""
    if admin is None:
        return _jwt_exp_ms(secret, recipe)
    try:
        token = admin.query(q.key_from_secret(secret))
    except (NotFound, BadRequest):
        return None
    return int(admin.query(q.to_millis(q.select("ttl", token))))


def _jwt_exp_ms(jwt: str, recipe: SessionRecipe) -> int:
    keys, _ = recipe.jwks.published(0)
    claims = jose_jwt.decode(jwt, KeySet.import_key_set({"keys": keys}), algorithms=["RS256"]).claims
    assert claims["aud"] == AUDIENCE and claims["iss"] == INFO.issuer and claims["sub"] == "alice-external"
    return int(claims["exp"]) * 1000


def _check(recipe: SessionRecipe, admin: FaunaClient | None, client: Client, clock: FakeClock, frontend: bool) -> None:
    if clock() >= client.expiry_ms:
        return  # the newest access token is expired: nothing is promised until the client refreshes
    view = RequestView.build("GET", "/api", [("authorization", f"Bearer {client.access}")])
    state = run_sync(recipe.functions.get_session(request=view, options=VerifyOptions(), user_context={}), recipe)
    assert isinstance(state, SessionState), f"a valid newest access token was refused: {state!r}"
    secrets = [run_sync(recipe.functions.get_faunadb_token(state=state, user_context={}), recipe)]
    if frontend:
        secrets.append(state.access_token_payload["faunadbToken"])
    for secret in secrets:
        assert isinstance(secret, str)
        ttl = _ttl_ms(admin, secret, recipe)
        assert ttl is not None, "the Fauna token of a valid access token was deleted"
        assert client.expiry_ms <= ttl, f"the Fauna token dies {client.expiry_ms - ttl} ms before its access token"
        assert ttl <= client.expiry_ms + LAG_MS, (
            f"the Fauna token outlives its access token by {ttl - client.expiry_ms}"
        )


def _run(
    recipe: SessionRecipe,
    admin: FaunaClient | None,
    user_id: str,
    steps: list[Step],
    clock: FakeClock,
    frontend: bool,
) -> None:
    client = _login(recipe, user_id)
    _check(recipe, admin, client, clock, frontend)
    for action, amount in steps:
        if action == "wait":
            clock.advance(amount)
        elif action == "request":
            client, _ = _request(recipe, client)
        else:
            client = _refresh(recipe, client)
        _check(recipe, admin, client, clock, frontend)


@pytest.fixture
def fauna_setup(fauna: FaunaDev, admin: FaunaClient) -> dict[str, Any]:
    users = make_schema(admin)
    key = str(admin.query(q.create_key({"role": "server"}))["secret"])
    return {"user_id": users["alice"].id(), "server": fauna.client(key)}


@pytest.mark.parametrize("frontend", [False, True], ids=["backend-only", "frontend"])
@pytest.mark.parametrize("kind", ["embedded", "remote"])
def test_the_fauna_token_is_live_whenever_the_newest_access_token_is(
    kind: str, frontend: bool, tmp_path: Path, admin: FaunaClient, fauna_setup: dict[str, Any]
) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=STEPS)
    def timeline(steps: list[Step]) -> None:
        clock = FakeClock()
        clock.now += 20_000  # FakeClock starts 10 s in the past; TTLs must never be in fauna-dev's past
        with _core(kind, tmp_path, clock) as core:
            recipe = _recipe(core, fauna_setup["server"], frontend, clock)
            _run(recipe, admin, fauna_setup["user_id"], steps, clock, frontend)

    timeline()


@pytest.mark.parametrize("frontend", [False, True], ids=["backend-only", "frontend"])
@pytest.mark.parametrize("kind", ["embedded", "remote"])
def test_the_access_provider_jwt_is_live_whenever_the_newest_access_token_is(
    kind: str, frontend: bool, tmp_path: Path
) -> None:
    @settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(steps=STEPS)
    def timeline(steps: list[Step]) -> None:
        clock = FakeClock()
        with _core(kind, tmp_path, clock) as core:
            recipe = _recipe(core, None, frontend, clock)
            _run(recipe, None, "alice-external", steps, clock, frontend)

    timeline()


def test_the_idle_tab_of_the_defect(tmp_path: Path, admin: FaunaClient, fauna_setup: dict[str, Any]) -> None:
    """The issue's reproduction: validity 40 s, lag 5 s; refresh, first request 35 s later, then at +60 s the
    newest access token must not be valid with a dead Fauna token (before the fix it had 14 s left)."""
    clock = FakeClock()
    clock.now += 20_000
    with _core("embedded", tmp_path, clock) as core:
        recipe = _recipe(core, fauna_setup["server"], True, clock)
        client = _refresh(recipe, _login(recipe, fauna_setup["user_id"]))
        refreshed_at = clock()
        clock.advance(35_000)
        client, state = _request(recipe, client)
        assert state is not None and state.access_token_updated  # the promotion's replacement token
        assert client.expiry_ms == refreshed_at + VALIDITY_S * 1000  # it keeps the refresh's expiry
        clock.advance(25_000)
        _check(recipe, admin, client, clock, frontend=True)
        client, state = _request(recipe, client)  # expired: the client refreshes and gets a new Fauna token
        _check(recipe, admin, client, clock, frontend=True)
