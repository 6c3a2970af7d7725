"""The FaunaDB override on the official supertokens-python 0.31.4, unmodified, in FastAPI (async) and Flask (sync)
apps, against a real ``gatepass core`` process and a real ``gatepass fauna-dev`` process, over HTTP in header mode:
login, the backend's use of the token, the frontend payload, refresh (rotation, the old token refused), liveness
across an idle gap, every revocation path, token theft, and Fauna down at login and at refresh.

Invariant checked after every step that issues an access token: the Fauna token the session's newest access token
carries is live, tagged with the session, its TTL exactly the access token's expiry + the lag, and it is the
session's only live token.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from gatepass.recipe.session.faunadb.supertokens_python import (
    FAUNADB_SEALED_TOKEN_KEY,
    FAUNADB_TOKEN_KEY,
    FAUNADB_TOKEN_REF_KEY,
)
from tests.conformance.conftest import new_app
from tests.helpers import API_KEY, CoreProcess
from tests.stpython.apps import serve_official_app
from tests.stpython.conftest import FaunaWorld, new_user

pytestmark = pytest.mark.usefixtures("sdk_reset")
LAG_MS = 2_000
EMAILS = itertools.count()


@dataclass
class Tokens:
    """What a header-mode client holds: the newest access token, the refresh token and the front token."""

    access: str
    refresh: str
    front: dict[str, Any]

    def take(self, response: httpx.Response) -> None:
        """Keep the tokens a response sets (a refresh, or an access token updated by ``get_faunadb_token``)."""
        if "st-access-token" in response.headers:
            self.access = response.headers["st-access-token"]
            self.front = json.loads(base64.b64decode(response.headers["front-token"]))
        if "st-refresh-token" in response.headers:
            self.refresh = response.headers["st-refresh-token"]


@dataclass
class Site:
    base: str
    core_app: str
    world: FaunaWorld
    frontend: bool
    http: httpx.Client
    client: CountingClient

    def login(self, user: Any) -> tuple[str, Tokens]:
        response = self.http.post("/login", json={"userId": user.id()}, headers={"st-auth-mode": "header"})
        assert response.status_code == 200, response.text
        front = json.loads(base64.b64decode(response.headers["front-token"]))
        tokens = Tokens(response.headers["st-access-token"], response.headers["st-refresh-token"], front)
        return response.json()["handle"], tokens

    def get(self, path: str, tokens: Tokens) -> httpx.Response:
        response = self.http.get(path, headers={"Authorization": f"Bearer {tokens.access}"})
        tokens.take(response)
        return response

    def secret(self, tokens: Tokens) -> str:
        response = self.get("/secret", tokens)
        assert response.status_code == 200, response.text
        return str(response.json()["secret"])

    def refresh(self, tokens: Tokens, refresh_token: str | None = None) -> httpx.Response:
        bearer = refresh_token or tokens.refresh
        response = self.http.post("/auth/session/refresh", headers={"Authorization": f"Bearer {bearer}"})
        if response.status_code == 200:
            tokens.take(response)
        return response

    def handles_of(self, user: Any) -> list[str]:
        response = httpx.get(
            self.core_app + "/recipe/session/user",
            params={"userId": user.id()},
            headers={"api-key": API_KEY, "cdi-version": "5.4"},
        )
        assert response.status_code == 200, response.text
        return list(response.json()["sessionHandles"])

    def assert_live(self, handle: str, tokens: Tokens) -> str:
        """The invariant of the module docstring; returns the live secret."""
        secret = self.secret(tokens)
        world = self.world
        token = world.admin.query(q.key_from_secret(secret))
        ttl_ms = world.admin.query(q.to_millis(token["ttl"]))
        assert ttl_ms == tokens.front["ate"] + LAG_MS, "the access token's expiry (to the millisecond) + the lag"
        assert token["data"]["sessionHandle"] == handle
        assert [t["ref"] for t in world.tokens_of_session(handle)] == [token["ref"]], "one live token per session"
        payload = tokens.front["up"]
        assert payload[FAUNADB_TOKEN_REF_KEY] == token["ref"].id()
        if self.frontend:
            assert payload[FAUNADB_TOKEN_KEY] == secret
        else:
            assert FAUNADB_TOKEN_KEY not in payload and secret not in json.dumps(payload)
            assert isinstance(payload[FAUNADB_SEALED_TOKEN_KEY], str)
        assert not world.refuses(secret)
        return secret


Launch = Callable[..., Site]


class CountingClient(FaunaClient):
    """The app's Fauna client, counting the queries the override sends (one per login, refresh, revocation)."""

    queries = 0

    def query(self, expression: Any, *args: Any, **kwargs: Any) -> Any:
        self.queries += 1
        return super().query(expression, *args, **kwargs)


@pytest.fixture(params=["fastapi", "flask"])
def launch(request: pytest.FixtureRequest, core: CoreProcess, world: FaunaWorld) -> Iterator[Launch]:
    """Start the official SDK's app for this framework (once per test: the SDK is a singleton)."""
    with ExitStack() as stack:

        def start(frontend: bool = False, access_token_validity: int | None = None, wrap: Any = None) -> Site:
            config = {} if access_token_validity is None else {"access_token_validity": access_token_validity}
            core_app = new_app(core, config)
            client = CountingClient(
                secret=world.server_key, scheme="http", domain="127.0.0.1", port=world.fauna.port, timeout=5
            )
            stack.callback(client.session.close)
            base = stack.enter_context(
                serve_official_app(
                    request.param,
                    core_app,
                    client,
                    world.fauna.url,
                    wrap,
                    api_key=API_KEY,
                    access_faunadb_token_from_frontend=frontend,
                    faunadb_token_time_lag_ms=LAG_MS,
                )
            )
            http = stack.enter_context(httpx.Client(base_url=base, timeout=15))
            return Site(base, core_app, world, frontend, http, client)

        yield start


def _user(world: FaunaWorld) -> Any:
    return new_user(world, f"user-{next(EMAILS)}-{uuid.uuid4().hex[:6]}@example.com")


@pytest.mark.parametrize("frontend", [False, True], ids=["backend-only", "frontend"])
def test_login_mints_a_token_the_backend_uses_and_the_frontend_sees_only_when_enabled(
    launch: Launch, frontend: bool
) -> None:
    site = launch(frontend=frontend)
    alice = _user(site.world)
    handle, tokens = site.login(alice)
    site.assert_live(handle, tokens)
    notes = site.get("/notes", tokens)
    assert notes.status_code == 200, notes.text
    assert notes.json() == {"identity": alice.id(), "notes": 0}


@pytest.mark.parametrize("frontend", [False, True], ids=["backend-only", "frontend"])
def test_refresh_rotates_the_token_and_the_old_one_is_refused(launch: Launch, frontend: bool) -> None:
    site = launch(frontend=frontend)
    handle, tokens = site.login(_user(site.world))
    first = site.assert_live(handle, tokens)
    for _ in range(2):
        refreshed = site.refresh(tokens)
        assert refreshed.status_code == 200, refreshed.text
        current = site.assert_live(handle, tokens)
        assert current != first and site.world.refuses(first), "the refresh deleted the previous token"
        first = current


def test_one_fauna_query_per_login_refresh_and_revocation_and_none_to_read_the_token(launch: Launch) -> None:
    site = launch()
    user = _user(site.world)
    site.login(user)
    assert site.client.queries == 2, "the first login of the process also checks the set-up"
    before = site.client.queries
    handle, tokens = site.login(user)
    assert site.client.queries - before == 1
    for path in ("/secret", "/notes"):
        assert site.get(path, tokens).status_code == 200
    assert site.client.queries - before == 1, "the token is read from the access token"
    assert site.refresh(tokens).status_code == 200
    assert site.client.queries - before == 2, "mint the replacement and delete the old token: one query"
    assert site.http.post("/revoke-all", json={"userId": user.id()}).status_code == 200
    assert site.client.queries - before == 3, "every token of the user deleted in one query"


@pytest.mark.slow
def test_after_an_idle_gap_the_refresh_brings_a_live_token(launch: Launch) -> None:
    site = launch(frontend=True, access_token_validity=2)
    handle, tokens = site.login(_user(site.world))
    old = site.assert_live(handle, tokens)
    time.sleep(2 + LAG_MS / 1000 + 0.5)  # idle: the access token and (after the lag) its Fauna token are dead
    assert site.get("/notes", tokens).status_code == 401  # try refresh, as supertokens-website would
    assert site.world.refuses(old)
    assert site.refresh(tokens).status_code == 200
    site.assert_live(handle, tokens)
    assert site.get("/notes", tokens).status_code == 200


def test_sign_out_deletes_the_token(launch: Launch) -> None:
    site = launch()
    handle, tokens = site.login(_user(site.world))
    secret = site.assert_live(handle, tokens)
    response = site.http.post("/auth/signout", headers={"Authorization": f"Bearer {tokens.access}"})
    assert response.status_code == 200, response.text
    assert site.world.refuses(secret) and site.world.tokens_of_session(handle) == []


def test_revoke_session_all_and_multiple_delete_the_tokens(launch: Launch) -> None:
    site = launch()
    alice, bob = _user(site.world), _user(site.world)
    handle, tokens = site.login(alice)
    one = site.assert_live(handle, tokens)
    assert site.http.post("/revoke", json={"handle": handle}).json() == {"revoked": True}
    assert site.world.refuses(one)

    alices = [site.login(alice) for _ in range(3)]
    bobs = [site.login(bob) for _ in range(3)]
    alice_secrets = [site.secret(t) for _, t in alices]
    bob_secrets = [site.secret(t) for _, t in bobs]
    assert len(site.http.post("/revoke-all", json={"userId": alice.id()}).json()["revoked"]) == 3
    assert all(site.world.refuses(s) for s in alice_secrets) and site.handles_of(alice) == []
    assert not any(site.world.refuses(s) for s in bob_secrets)

    two = [h for h, _ in bobs[:2]]
    assert sorted(site.http.post("/revoke-multiple", json={"handles": two}).json()["revoked"]) == sorted(two)
    assert all(site.world.refuses(s) for s in bob_secrets[:2])
    assert site.assert_live(*bobs[2]) == bob_secrets[2], "the third session keeps its token"


def test_token_theft_revokes_the_session_and_deletes_its_token(launch: Launch) -> None:
    site = launch()
    handle, tokens = site.login(_user(site.world))
    stolen = tokens.refresh
    assert site.refresh(tokens).status_code == 200
    current = site.assert_live(handle, tokens)
    assert site.refresh(tokens).status_code == 200  # the child is promoted: the stolen token is now superseded
    current = site.assert_live(handle, tokens)
    theft = site.refresh(Tokens("", "", {}), refresh_token=stolen)
    assert theft.status_code == 401, theft.text
    assert theft.json() == {"message": "token theft detected"}
    assert site.world.refuses(current) and site.world.tokens_of_session(handle) == []
    assert site.refresh(tokens).status_code == 401, "the session is gone"


def _login_refused_while_fauna_is_down(site: Site, user: Any) -> None:
    site.world.fauna.stop()
    response = site.http.post("/login", json={"userId": user.id()}, headers={"st-auth-mode": "header"})
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "faunadb_unavailable"
    assert "st-access-token" not in response.headers and "front-token" not in response.headers
    site.world.fauna.start()


def test_fauna_down_at_login_leaves_no_session(launch: Launch) -> None:
    site = launch()
    alice = _user(site.world)
    _login_refused_while_fauna_is_down(site, alice)  # the first login's set-up check fails: nothing was created
    assert site.handles_of(alice) == []
    handle, tokens = site.login(alice)
    _login_refused_while_fauna_is_down(site, alice)  # now the mint fails after the session was created
    assert site.handles_of(alice) == [handle], "the session whose token could not be minted was revoked"
    site.assert_live(handle, tokens)


def test_fauna_down_at_refresh_never_strands_the_session(launch: Launch) -> None:
    site = launch(frontend=True)
    handle, tokens = site.login(_user(site.world))
    old = site.assert_live(handle, tokens)
    site.world.fauna.stop()
    refreshed = site.refresh(tokens)
    assert refreshed.status_code == 200, "the session is rotated even though Fauna is down"
    assert FAUNADB_TOKEN_KEY not in tokens.front["up"], "no stale secret in the payload"
    assert site.get("/notes", tokens).status_code == 503  # the app's own call needs Fauna
    site.world.fauna.start()
    site.assert_live(handle, tokens)  # minted again on the next get_faunadb_token, the access token updated
    assert site.world.refuses(old), "the token the failed refresh could not delete is deleted with the new mint"
    assert site.get("/notes", tokens).status_code == 200


def test_a_user_id_that_names_no_document_is_refused_before_any_session_exists(launch: Launch) -> None:
    site = launch()
    response = site.http.post("/login", json={"userId": "not-a-number"}, headers={"st-auth-mode": "header"})
    assert response.status_code == 500 and response.json()["code"] == "faunadb_refused"
    assert "not a FaunaDB document id" in response.json()["message"]
    assert site.client.queries == 0, "refused before the set-up check, let alone a mint"
    core = httpx.get(
        site.core_app + "/recipe/session/user",
        params={"userId": "not-a-number"},
        headers={"api-key": API_KEY, "cdi-version": "5.4"},
    )
    assert core.json()["sessionHandles"] == []


class FailingStore:
    """An app's own override around ours whose ``regenerate_access_token`` fails while ``failing`` is set."""

    failing = False

    def __call__(self, functions: Any) -> Any:
        original = functions.regenerate_access_token

        async def regenerate_access_token(*args: Any, **kwargs: Any) -> Any:
            if self.failing:
                raise RuntimeError("the payload could not be stored")
            return await original(*args, **kwargs)

        functions.regenerate_access_token = regenerate_access_token
        return functions


def test_a_token_that_cannot_be_stored_at_login_is_deleted_with_its_session(launch: Launch) -> None:
    store = FailingStore()
    site = launch(wrap=store)
    alice = _user(site.world)
    site.login(alice)  # the set-up check has run
    store.failing = True
    response = site.http.post("/login", json={"userId": alice.id()}, headers={"st-auth-mode": "header"})
    assert response.status_code == 500
    store.failing = False
    assert len(site.handles_of(alice)) == 1, "the session whose token could not be stored was revoked"
    live = site.world.admin.query(q.paginate(q.match(q.index("tokens_by_instance"), alice)))["data"]
    assert len(live) == 1, "and the token minted for it was deleted"


async def test_user_context_reaches_the_sdk_calls_and_the_sessions_without_a_request_work(launch: Launch) -> None:
    from supertokens_python.recipe.session import asyncio as st_async
    from supertokens_python.types import RecipeUserId

    seen: list[Any] = []

    def record(functions: Any) -> Any:
        for name in ("regenerate_access_token", "get_session_information"):
            original = getattr(functions, name)

            async def recorded(*args: Any, __original: Any = original, **kwargs: Any) -> Any:
                seen.append(kwargs.get("user_context", args[-1] if args else None))
                return await __original(*args, **kwargs)

            setattr(functions, name, recorded)
        return functions

    site = launch(wrap=record)
    alice = _user(site.world)
    context = {"trace": "t-1"}
    session = await st_async.create_new_session_without_request_response(
        "public", RecipeUserId(alice.id()), user_context=context
    )
    first = session.get_access_token_payload()[FAUNADB_SEALED_TOKEN_KEY]
    assert seen and all(ctx is context for ctx in seen), "every SDK call of the override got the caller's context"
    refresh = session.get_all_session_tokens_dangerously()["refreshToken"]
    assert isinstance(refresh, str)
    refreshed = await st_async.refresh_session_without_request_response(refresh, user_context=context)
    assert refreshed.get_access_token_payload()[FAUNADB_SEALED_TOKEN_KEY] != first
    tokens = site.world.tokens_of_session(session.get_handle())
    assert len(tokens) == 1 and tokens[0]["ref"].id() == refreshed.get_access_token_payload()[FAUNADB_TOKEN_REF_KEY]
