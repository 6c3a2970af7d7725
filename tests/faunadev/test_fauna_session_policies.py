"""Session policies with FaunaDB (issue 13 items 4 and 6): a login beyond ``max_sessions_per_user`` ends the oldest
session at the core, and gatepass's FaunaDB integration deletes that session's Fauna token at once (checklist 37);
with ``refuse`` the login fails with 403 and no token is minted; "sign out everywhere else" deletes the other
sessions' tokens. Backend-only and frontend mode; a real app (FastAPI, embedded core), ``gatepass fauna-dev`` and
the official faunadb driver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.session import faunadb, syncio
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.faunadev.conftest import FaunaDev, make_schema
from tests.faunadev.test_integration import _login, _refused, _server_key, build_app
from tests.helpers import serve_in_thread


def _gatepass(tmp_path: Path, fauna_client: FaunaClient, policy: str, frontend: bool) -> Gatepass:
    info = AppInfo(app_name="fauna-cap", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")
    core = EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}", max_sessions_per_user=2, session_cap_policy=policy)
    spec = faunadb.init(
        faunadb_client=fauna_client,
        user_collection_name="users",
        faunadb_token_time_lag_ms=1000,
        access_faunadb_token_from_frontend=frontend,
    )
    return create(app_info=info, core=core, framework="fastapi", recipe_list=[spec])


@pytest.fixture(params=[False, True], ids=["backend-only", "frontend"])
def frontend(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def users(admin: FaunaClient) -> dict[str, Any]:
    return make_schema(admin)


@contextmanager
def _app(tmp_path: Path, fauna: FaunaDev, policy: str, frontend: bool) -> Iterator[tuple[Gatepass, httpx.Client]]:
    gp = _gatepass(tmp_path, fauna.client(_server_key(fauna)), policy, frontend)
    try:
        with serve_in_thread(build_app(gp)) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield gp, client
    finally:
        gp.close()


def _live_tokens(fauna: FaunaDev, user: Any) -> int:
    return len(fauna.client().query(q.paginate(q.match(q.index("tokens_by_instance"), user)))["data"])


def test_the_capped_out_sessions_fauna_token_is_deleted(
    tmp_path: Path, fauna: FaunaDev, users: dict[str, Any], frontend: bool
) -> None:
    alice = users["alice"]
    with _app(tmp_path, fauna, "revoke_oldest", frontend) as (_, client):
        first, second, third = (_login(client, alice)[1] for _ in range(3))
    assert _refused(fauna.client(first)), "the oldest session ended, and its Fauna token with it"
    for secret in (second, third):
        assert fauna.client(secret).query(q.current_identity()) == alice
    assert _live_tokens(fauna, alice) == 2


def test_a_refused_login_mints_no_fauna_token(
    tmp_path: Path, fauna: FaunaDev, users: dict[str, Any], frontend: bool
) -> None:
    bob = users["bob"]
    with _app(tmp_path, fauna, "refuse", frontend) as (_, client):
        _login(client, bob)
        _login(client, bob)
        refused = client.post("/login", json={"userId": bob.id()})
    assert refused.status_code == 403
    assert refused.json() == {"message": "session limit reached"}
    assert _live_tokens(fauna, bob) == 2


def test_signing_out_everywhere_else_deletes_the_other_fauna_tokens(
    tmp_path: Path, fauna: FaunaDev, users: dict[str, Any], frontend: bool
) -> None:
    alice = users["alice"]
    with _app(tmp_path, fauna, "revoke_oldest", frontend) as (gp, client):
        (_, phone), (here, secret) = _login(client, alice), _login(client, alice)
        assert syncio.revoke_other_sessions(here.json()["handle"], gatepass=gp) is not None
    assert _refused(fauna.client(phone))
    assert fauna.client(secret).query(q.current_identity()) == alice
    assert _live_tokens(fauna, alice) == 1
