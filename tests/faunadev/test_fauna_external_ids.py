"""Users stored outside Fauna: a session's user id from anywhere (an OAuth subject, a row of your own user table)
mapped to the user's Fauna document by an index, with the official driver against ``gatepass fauna-dev``.

Finding the document (or creating it on first login) and minting its token are one Fauna query; an id no
document has, without creation, fails the login and leaves no session; numeric document ids keep working.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.fauna_sessions import QueryCounter
from gatepass.errors import ConfigurationError, FaunaIntegrationError, FaunaUserNotFoundError
from gatepass.faunadev.server import open_server
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.instance import Gatepass, create
from gatepass.recipe.session import faunadb, syncio
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.faunadev.conftest import ADMIN, FaunaDev, make_schema
from tests.helpers import free_port, serve_in_thread

INDEX = "users_by_external_id"
ALICE = "auth0|5f7c8ec7c33c6c004bbafe82"


def _external_ids(admin: FaunaClient) -> dict[str, Any]:
    users = make_schema(admin)
    admin.query(
        q.create_index(
            {
                "name": INDEX,
                "source": q.collection("users"),
                "terms": [{"field": ["data", "externalId"]}],
                "unique": True,
            }
        )
    )
    admin.query(q.update(users["alice"], {"data": {"externalId": ALICE}}))
    return users


def _gatepass(tmp_path: Path, fauna: FaunaDev, **options: Any) -> Gatepass:
    key = str(fauna.client().query(q.create_key({"role": "server"}))["secret"])
    info = AppInfo(app_name="external-ids", api_domain="http://127.0.0.1:8000", website_domain="http://127.0.0.1:3000")
    spec = faunadb.init(faunadb_client=fauna.client(key), user_collection_name="users", **options)
    core = EmbeddedCore(f"sqlite:///{tmp_path / 'core.db'}")
    return create(app_info=info, core=core, framework="flask", recipe_list=[spec])


def _identity(fauna: FaunaDev, secret: str) -> Any:
    return fauna.client(secret).query(q.current_identity())


def test_an_external_id_names_the_users_document(tmp_path: Path, fauna: FaunaDev, admin: FaunaClient) -> None:
    users = _external_ids(admin)
    gp = _gatepass(tmp_path, fauna, user_external_id_index=INDEX)
    try:
        session = syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
        assert session.get_user_id() == ALICE
        secret = session.get_faunadb_token()
        assert _identity(fauna, secret) == users["alice"]
        own = fauna.client(secret).query(q.get(users["alice"]))  # the role lets a user read their own document
        assert own["data"]["externalId"] == ALICE
        refreshed = syncio.refresh_session_without_request_response(
            session.get_all_session_tokens_dangerously()["refreshToken"], gatepass=gp
        )
        assert _identity(fauna, refreshed.get_faunadb_token()) == users["alice"]
    finally:
        gp.close()


def test_an_unknown_external_id_fails_the_login_and_leaves_no_session(
    tmp_path: Path, fauna: FaunaDev, admin: FaunaClient
) -> None:
    _external_ids(admin)
    gp = _gatepass(tmp_path, fauna, user_external_id_index=INDEX)
    try:
        with pytest.raises(FaunaUserNotFoundError, match="external id"):
            syncio.create_new_session_without_request_response("public", "github|nobody", gatepass=gp)
        assert syncio.get_all_session_handles_for_user("github|nobody", gatepass=gp) == []
        assert admin.query(q.count(q.documents(q.collection("users")))) == 2  # nothing was created
    finally:
        gp.close()


def test_first_login_creates_the_document_once(tmp_path: Path, fauna: FaunaDev, admin: FaunaClient) -> None:
    _external_ids(admin)
    gp = _gatepass(tmp_path, fauna, user_external_id_index=INDEX, create_user_on_first_login=True)
    try:
        first = syncio.create_new_session_without_request_response("public", "google|carol", gatepass=gp)
        carol = _identity(fauna, first.get_faunadb_token())
        assert admin.query(q.get(carol))["data"] == {"externalId": "google|carol"}
        again = syncio.create_new_session_without_request_response("public", "google|carol", gatepass=gp)
        assert _identity(fauna, again.get_faunadb_token()) == carol
        assert admin.query(q.count(q.match(q.index(INDEX), "google|carol"))) == 1
    finally:
        gp.close()


def test_lookup_creation_and_mint_are_one_query(tmp_path: Path) -> None:
    counter = QueryCounter(open_server(None, ADMIN).app)
    port = free_port()
    fauna = FaunaDev(port, None)
    with serve_in_thread(counter, port):
        _external_ids(fauna.client())
        gp = _gatepass(tmp_path, fauna, user_external_id_index=INDEX, create_user_on_first_login=True)
        try:
            syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)  # the set-up check
            for user_id in (ALICE, "apple|dave"):  # an existing document, then one created on first login
                before = counter.count
                syncio.create_new_session_without_request_response("public", user_id, gatepass=gp)
                assert counter.count - before == 1
        finally:
            gp.close()
            fauna.close()


def test_a_missing_index_is_found_before_the_first_session(tmp_path: Path, fauna: FaunaDev, admin: FaunaClient) -> None:
    make_schema(admin)
    gp = _gatepass(tmp_path, fauna, user_external_id_index="no_such_index")
    try:
        with pytest.raises(FaunaIntegrationError, match="no_such_index"):
            syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
        assert syncio.get_all_session_handles_for_user(ALICE, gatepass=gp) == []
    finally:
        gp.close()


def test_numeric_document_ids_still_work_and_are_still_checked(
    tmp_path: Path, fauna: FaunaDev, admin: FaunaClient
) -> None:
    users = _external_ids(admin)
    gp = _gatepass(tmp_path, fauna)
    try:
        session = syncio.create_new_session_without_request_response("public", users["bob"].id(), gatepass=gp)
        assert _identity(fauna, session.get_faunadb_token()) == users["bob"]
        with pytest.raises(FaunaIntegrationError, match="not a FaunaDB document id"):
            syncio.create_new_session_without_request_response("public", ALICE, gatepass=gp)
    finally:
        gp.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"create_user_on_first_login": True}, "needs user_external_id_index"),
        ({"user_external_id_index": ""}, "user_external_id_index"),
        ({"user_external_id_index": "a/b"}, "user_external_id_index"),
        ({"user_external_id_index": INDEX, "user_external_id_field": ""}, "user_external_id_field"),
        ({"user_external_id_index": INDEX, "create_user_on_first_login": "yes"}, "True or False"),
    ],
)
def test_bad_settings_are_refused_at_init(fauna: FaunaDev, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        faunadb.init(faunadb_client=fauna.client(), user_collection_name="users", **options)


@pytest.mark.parametrize(
    "user_id", ["", "x" * 129, "9" * 5000, "a\x00b", "a\ud800b", "\udfff", "x" * 1_000_000], ids=range(7)
)
def test_impossible_external_ids_are_refused_before_any_session(tmp_path: Path, fauna: FaunaDev, user_id: str) -> None:
    """Refused before any Fauna query or core call: nothing is written anywhere."""
    gp = _gatepass(tmp_path, fauna, user_external_id_index=INDEX)
    calls: list[object] = []
    original = gp.session.core_sync
    gp.session.core_sync = lambda call: calls.append(call) or original(call)  # type: ignore[method-assign]
    try:
        with pytest.raises(FaunaIntegrationError, match="external user id"):
            syncio.create_new_session_without_request_response("public", user_id, gatepass=gp)
        assert calls == []
    finally:
        gp.close()
