"""Property tests of fauna-dev: random well-formed and malformed FQL, sent over one keep-alive connection with the
admin secret and with a user's token, always get a Fauna answer (a ``resource`` or Fauna's ``errors``), never a
5xx, and the connection keeps working. ``GATEPASS_FUZZ_EXAMPLES`` sets how many examples each test runs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import assume, given

from gatepass.faunadev.access import ROOT, Auth
from gatepass.faunadev.errors import FaunaError
from gatepass.faunadev.evaluator import Evaluator
from gatepass.faunadev.limits import wire_problem
from gatepass.faunadev.store import Store
from gatepass.faunadev.values import Ref, collection_ref, encode
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.faunadev.conftest import ADMIN, FaunaDev, make_schema
from tests.faunadev.fql_strategies import body_of, expressions, nested, raw_bodies
from tests.fuzz_settings import fuzz_settings


def assert_fauna_answer(response: httpx.Response) -> Any:
    assert response.status_code < 500, response.text[:500]
    body = response.json()
    if response.status_code == 200:
        assert set(body) == {"resource"}
        return body["resource"]
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    for error in errors:
        assert isinstance(error["code"], str) and isinstance(error["description"], str), error
        assert isinstance(error.get("position", []), list)
    return None


class Caller:
    """One keep-alive HTTP connection to fauna-dev for one secret, and how to get a new secret when an example
    revoked it (a random ``Logout(true)`` or ``Delete`` of the user is fair game)."""

    def __init__(self, url: str, secret: str, renew: Callable[[], str] | None = None) -> None:
        self.client = httpx.Client(base_url=url, headers={"authorization": f"Bearer {secret}"}, timeout=30)
        self.renew = renew

    def send(self, body: bytes) -> httpx.Response:
        return self.client.post("/", content=body, headers={"content-type": "application/json"})

    def still_works(self) -> None:
        response = self.send(b'{"add":[1,1]}')
        if response.status_code == 401 and self.renew is not None:
            self.client.headers["authorization"] = f"Bearer {self.renew()}"
            response = self.send(b'{"add":[1,1]}')
        assert response.status_code == 200 and response.json() == {"resource": 2}


@pytest.fixture
def callers(fauna: FaunaDev, admin: FaunaClient) -> Iterator[dict[str, Caller]]:
    make_schema(admin)

    def new_user_token() -> str:
        user = admin.query(q.create(q.collection("users"), {"data": {"email": f"{uuid.uuid4()}@example.com"}}))
        secret: str = admin.query(q.create(q.tokens(), {"instance": user["ref"]}))["secret"]
        return secret

    made = {"admin": Caller(fauna.url, ADMIN), "user": Caller(fauna.url, new_user_token(), new_user_token)}
    yield made
    for caller in made.values():
        caller.client.close()


@pytest.mark.parametrize("who", ["admin", "user"])
@fuzz_settings()
@given(expr=expressions)
def test_fuzz_random_fql_gets_a_fauna_answer(callers: dict[str, Caller], who: str, expr: Any) -> None:
    caller = callers[who]
    assert_fauna_answer(caller.send(body_of(expr)))
    caller.still_works()


@pytest.mark.parametrize("who", ["admin", "user"])
@fuzz_settings()
@given(expr=nested)
def test_fuzz_deep_nesting_gets_a_fauna_answer(callers: dict[str, Caller], who: str, expr: Any) -> None:
    caller = callers[who]
    assert_fauna_answer(caller.send(body_of(expr)))
    caller.still_works()


@fuzz_settings()
@given(body=raw_bodies)
def test_fuzz_malformed_bodies_get_invalid_expression(callers: dict[str, Caller], body: bytes) -> None:
    caller = callers["user"]
    response = caller.send(body)
    assert_fauna_answer(response)
    if response.status_code != 200:
        assert response.json()["errors"][0]["code"] in ("invalid expression", "invalid argument")
    caller.still_works()


class _Rollback(Exception):
    pass


def _seeded_store() -> tuple[Store, Auth]:
    """A store holding ``make_schema``'s users, notes, indexes and role, and the first user's identity."""
    store = Store()
    with store.transaction() as tx:
        evaluator = Evaluator(tx, ROOT)
        for expr in SCHEMA:
            evaluator.run(expr)
    alice = Ref("310000000000000001", collection_ref("users"))
    return store, Auth("token", token_id="1", identity=alice)


SCHEMA = [
    {"create_collection": {"object": {"name": "users"}}},
    {"create_collection": {"object": {"name": "notes"}}},
    {"create_index": {"object": {"name": "users_by_email", "source": {"collection": "users"}, "unique": True,
                                 "terms": [{"object": {"field": ["data", "email"]}}]}}},
    {"create_index": {"object": {"name": "notes_by_owner", "source": {"collection": "notes"},
                                 "terms": [{"object": {"field": ["data", "owner"]}}]}}},
    {"create": {"collection": "users"}, "params": {"object": {"data": {"object": {"email": "alice@example.com"}}}}},
    {"create": {"collection": "notes"}, "params": {"object": {"data": {"object": {
        "owner": {"ref": {"collection": "users"}, "id": "310000000000000001"}}}}}},
    {"create_role": {"object": {
        "name": "user",
        "membership": [{"object": {"resource": {"collection": "users"}}}],
        "privileges": [{"object": {"resource": {"collection": "notes"}, "actions": {"object": {
            "read": True,
            "write": {"query": {"lambda": ["old", "new"], "expr": {"equals": [
                {"current_identity": None}, {"select": ["data", "owner"], "from": {"var": "old"}}]}}},
        }}}}],
    }}},
]  # fmt: skip
STORE, USER = _seeded_store()


@fuzz_settings()
@given(expr=expressions)
def test_fuzz_evaluator_returns_a_value_or_a_fauna_error(expr: Any) -> None:
    """The pure evaluator, without HTTP (fast enough for long local runs), as admin and as a user, on a store with
    data in it: a value that encodes as JSON, or a FaunaError; never a Python error. Nothing is kept."""
    wire = json.loads(json.dumps(expr))
    assume(wire_problem(wire) is None)  # the server refuses such bodies before evaluating them
    try:
        with STORE.transaction() as tx:
            for auth in (ROOT, USER):
                try:
                    result = Evaluator(tx, auth).run(wire)
                    json.dumps(encode(result), allow_nan=False)
                except FaunaError as error:
                    assert error.code and isinstance(error.description, str)
            raise _Rollback
    except _Rollback:
        pass
