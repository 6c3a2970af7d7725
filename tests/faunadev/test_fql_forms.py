"""Conformance of ``gatepass fauna-dev`` with FQL v4 as the official Python driver (faunadb 4.5.x) uses it: every
form the README claims, with the error codes, HTTP statuses and driver exceptions Fauna documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from faunadb.errors import BadRequest, NotFound, PermissionDenied, Unauthorized
from faunadb.objects import FaunaTime, Ref

from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.faunadev.conftest import FaunaDev, make_schema


def _code(error: Any) -> str:
    return str(error.value.errors[0].code)


def test_ping_and_envelope(fauna: FaunaDev, admin: FaunaClient) -> None:
    assert admin.ping("node") == "Scope node is OK"
    raw = httpx.post(fauna.url + "/", json={"add": [1, 2]}, headers={"Authorization": "Bearer secret"})
    assert raw.json() == {"resource": 3}
    assert int(raw.headers["x-txn-time"]) > 0 and raw.headers["content-type"].startswith("application/json")
    bad = httpx.post(fauna.url + "/", content=b"{nope", headers={"Authorization": "Bearer secret"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "invalid expression"
    assert httpx.post(fauna.url + "/query/1", json={}).json()["error"]["code"] == "invalid_request"
    assert httpx.get(fauna.url + "/nothing").status_code == 404
    unknown = httpx.post(fauna.url + "/", json={"no_such_function": 1}, headers={"Authorization": "Bearer secret"})
    assert unknown.status_code == 400
    assert (
        unknown.json()["errors"][0]["description"]
        == "No form/function found, or invalid argument keys: { no_such_function }."
    )


def test_authentication(fauna: FaunaDev) -> None:
    for secret in ("wrong", "fnAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "fnE" + "A" * 48):
        with pytest.raises(Unauthorized):
            fauna.client(secret).query(q.now())
    no_auth = httpx.post(fauna.url + "/", json={"now": None})
    assert no_auth.status_code == 401 and no_auth.headers["www-authenticate"] == 'Basic realm="Unauthorized"'
    basic = httpx.post(fauna.url + "/", json={"add": [1, 1]}, auth=("secret", ""))
    assert basic.json() == {"resource": 2}


def test_logic_arithmetic_strings(admin: FaunaClient) -> None:
    assert admin.query(q.let({"x": 2, "y": q.add(q.var("x"), 1)}, q.multiply(q.var("x"), q.var("y")))) == 6
    assert admin.query(q.if_(q.and_(True, q.not_(False)), "yes", "no")) == "yes"
    assert admin.query(q.or_(False, q.equals(1, 1))) is True
    assert admin.query([q.lt(1, 2, 3), q.lte(2, 2), q.gt(3, 1), q.gte(1, 2)]) == [True, True, True, False]
    assert admin.query([q.subtract(10, 4), q.divide(9, 2), q.modulo(9, 4)]) == [6, 4, 1]
    assert admin.query(q.concat(["a", "b", "c"], "-")) == "a-b-c"
    assert admin.query([q.lowercase("AB"), q.uppercase("ab"), q.to_string(5), q.to_number("7")]) == ["ab", "AB", "5", 7]
    assert admin.query(q.do(1, 2, 3)) == 3
    with pytest.raises(BadRequest) as aborted:
        admin.query(q.abort("stop here"))
    assert _code(aborted) == "transaction aborted" and aborted.value.errors[0].description == "stop here"
    with pytest.raises(BadRequest) as not_bool:
        admin.query(q.if_(1, "a", "b"))
    assert _code(not_bool) == "invalid argument"
    with pytest.raises(BadRequest) as unbound:
        admin.query(q.var("nope"))
    assert _code(unbound) == "invalid expression"


def test_collections_of_values(admin: FaunaClient) -> None:
    data = {"a": {"b": [10, 20]}}
    assert admin.query(q.select(["a", "b", 1], data)) == 20
    assert admin.query(q.select(["a", "x"], data, default="d")) == "d"
    with pytest.raises(NotFound) as missing:
        admin.query(q.select(["a", "x"], data))
    assert _code(missing) == "value not found"
    assert admin.query(q.contains_path(["a", "b"], data)) is True
    assert admin.query(q.map_(q.lambda_("x", q.multiply(q.var("x"), 2)), [1, 2])) == [2, 4]
    assert admin.query(q.filter_(q.lambda_("x", q.gt(q.var("x"), 1)), [1, 2, 3])) == [2, 3]
    assert admin.query(q.foreach(q.lambda_("x", q.var("x")), [1])) == [1]
    assert admin.query([q.count([1, 2]), q.is_empty([]), q.is_nonempty([1])]) == [2, True, True]
    assert admin.query(q.map_(q.lambda_(["a", "b"], q.add(q.var("a"), q.var("b"))), [[1, 2], [3, 4]])) == [3, 7]
    assert admin.query(q.merge({"a": 1, "b": 2}, {"b": None, "c": 3})) == {"a": 1, "c": 3}
    assert admin.query(q.append([3], [1, 2])) == [1, 2, 3]
    assert admin.query(q.let({"k": 5}, q.map_(q.lambda_("x", q.add(q.var("x"), q.var("k"))), [1]))) == [6]


def test_time_functions(admin: FaunaClient) -> None:
    now = admin.query(q.now())
    assert isinstance(now, FaunaTime)
    assert admin.query(q.equals(q.now(), q.now())) is True  # one transaction, one time
    assert admin.query(q.time_diff(q.now(), q.time_add(q.now(), 2, "hours"), "minutes")) == 120
    assert admin.query(q.time_diff(q.time_subtract(q.now(), 1, "day"), q.now(), "seconds")) == 86_400
    epoch = admin.query(q.epoch(1_700_000_000_000, "milliseconds"))
    assert epoch.value == "2023-11-14T22:13:20Z"
    assert admin.query(q.to_millis(q.epoch(1_700_000_000_123, "milliseconds"))) == 1_700_000_000_123
    assert admin.query(q.to_seconds(q.time("2024-01-01T00:00:00Z"))) == 1_704_067_200
    assert admin.query(q.to_micros(q.epoch(5, "microseconds"))) == 5
    assert admin.query(q.time_add(q.epoch(0, "seconds"), 1500, "milliseconds")).value == "1970-01-01T00:00:01.500Z"
    with pytest.raises(BadRequest):
        admin.query(q.time_add(q.now(), 1, "fortnights"))
    assert admin.query(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)).value == "2024-01-01T00:00:00Z"


def test_documents_crud_and_errors(admin: FaunaClient) -> None:
    make_schema(admin)
    created = admin.query(q.create(q.collection("notes"), {"data": {"title": "one", "tags": {"a": 1, "b": 2}}}))
    ref = created["ref"]
    assert isinstance(ref, Ref) and ref.id().isdigit() and ref.collection().id() == "notes"
    assert admin.query(q.get(ref))["data"]["title"] == "one"
    updated = admin.query(q.update(ref, {"data": {"tags": {"a": None, "c": 3}}}))
    assert updated["data"] == {"title": "one", "tags": {"b": 2, "c": 3}}  # deep merge, null removes
    assert admin.query(q.replace(ref, {"data": {"title": "two"}}))["data"] == {"title": "two"}
    assert admin.query(q.exists(ref)) is True
    explicit = admin.query(q.create(q.ref(q.collection("notes"), "42"), {"data": {}}))
    assert explicit["ref"].id() == "42"
    with pytest.raises(BadRequest) as exists:
        admin.query(q.create(q.ref(q.collection("notes"), "42"), {"data": {}}))
    assert _code(exists) == "instance already exists"
    assert admin.query(q.delete(ref))["ref"] == ref
    assert admin.query(q.exists(ref)) is False
    with pytest.raises(NotFound) as gone:
        admin.query(q.get(ref))
    assert _code(gone) == "instance not found"
    with pytest.raises(BadRequest) as bad_id:
        admin.query(q.get(q.ref(q.collection("notes"), "not-a-number")))
    assert _code(bad_id) == "invalid argument" and "non-numeric" in bad_id.value.errors[0].description
    with pytest.raises(BadRequest) as bad_collection:
        admin.query(q.get(q.ref(q.collection("nope"), "1")))
    assert _code(bad_collection) == "invalid ref"
    with pytest.raises(BadRequest) as unique:
        admin.query(q.create(q.collection("users"), {"data": {"email": "alice@example.com"}}))
    assert _code(unique) == "instance not unique"


def test_document_ttl_means_gone(fauna: FaunaDev, admin: FaunaClient) -> None:
    make_schema(admin)
    ref = admin.query(
        q.create(q.collection("notes"), {"data": {"owner": None}, "ttl": q.time_add(q.now(), 60, "seconds")})
    )["ref"]
    assert admin.query(q.exists(ref)) is True
    fauna.advance_clock(61)
    assert admin.query(q.exists(ref)) is False
    assert admin.query(q.count(q.documents(q.collection("notes")))) == 0


def test_transactions_are_all_or_nothing(admin: FaunaClient) -> None:
    make_schema(admin)
    before = admin.query(q.count(q.documents(q.collection("notes"))))
    with pytest.raises(BadRequest):
        admin.query(q.do(q.create(q.collection("notes"), {"data": {}}), q.abort("roll back")))
    with pytest.raises(BadRequest):
        admin.query(
            q.do(
                q.create_collection({"name": "temp"}),
                q.create(q.collection("users"), {"data": {"email": "alice@example.com"}}),
            )
        )
    assert admin.query(q.count(q.documents(q.collection("notes")))) == before
    assert admin.query(q.exists(q.collection("temp"))) is False


def test_indexes_match_paginate(admin: FaunaClient) -> None:
    refs = make_schema(admin)
    alice = refs["alice"]
    assert admin.query(q.get(q.match(q.index("users_by_email"), "alice@example.com")))["ref"] == alice
    with pytest.raises(NotFound):
        admin.query(q.get(q.match(q.index("users_by_email"), "nobody@example.com")))
    for i in range(5):
        admin.query(q.create(q.collection("notes"), {"data": {"owner": alice, "n": i}}))
    page = admin.query(q.paginate(q.match(q.index("notes_by_owner"), alice), size=2))
    assert len(page["data"]) == 2 and "after" in page
    seen = list(page["data"])
    while "after" in page:
        page = admin.query(q.paginate(q.match(q.index("notes_by_owner"), alice), size=2, after=page["after"]))
        seen += page["data"]
    assert len(seen) == 5 and len(set(r.id() for r in seen)) == 5
    numbers = admin.query(
        q.map_(
            q.lambda_("r", q.select(["data", "n"], q.get(q.var("r")))),
            q.paginate(q.match(q.index("notes_by_owner"), alice)),
        )
    )
    assert sorted(numbers["data"]) == [0, 1, 2, 3, 4]
    admin.query(
        q.create_index(
            {
                "name": "notes_n",
                "source": q.collection("notes"),
                "values": [{"field": ["data", "n"], "reverse": True}, {"field": ["ref"]}],
            }
        )
    )
    values = admin.query(q.paginate(q.match(q.index("notes_n"))))["data"]
    assert [v[0] for v in values] == [4, 3, 2, 1, 0]
    assert admin.query(q.count(q.match(q.index("notes_by_owner"), alice))) == 5
    collections = admin.query(q.paginate(q.collections()))["data"]
    assert {c.id() for c in collections} == {"users", "notes"}
    assert admin.query(q.get(q.collection("users")))["name"] == "users"
    assert admin.query(q.get(q.index("users_by_email")))["unique"] is True


def test_keys_roles_and_permissions(fauna: FaunaDev, admin: FaunaClient) -> None:
    make_schema(admin)
    server = admin.query(q.create_key({"role": "server"}))
    assert server["secret"].startswith("fnA") and "hashed_secret" in server
    server_client = fauna.client(server["secret"])
    assert server_client.query(q.count(q.documents(q.collection("users")))) == 2
    with pytest.raises(PermissionDenied):
        server_client.query(q.create_key({"role": "admin"}))
    readonly = fauna.client(admin.query(q.create_key({"role": "server-readonly"}))["secret"])
    assert readonly.query(q.count(q.documents(q.collection("users")))) == 2
    with pytest.raises(PermissionDenied):
        readonly.query(q.create(q.collection("notes"), {"data": {}}))
    client_key = fauna.client(admin.query(q.create_key({"role": "client"}))["secret"])
    with pytest.raises(PermissionDenied):
        client_key.query(q.paginate(q.documents(q.collection("users"))))
    assert client_key.query(q.add(1, 2)) == 3
    custom = fauna.client(admin.query(q.create_key({"role": q.role("user")}))["secret"])
    with pytest.raises(BadRequest) as no_identity:
        custom.query(q.current_identity())
    assert _code(no_identity) == "missing identity"
    with pytest.raises(BadRequest) as root_token:
        admin.query(q.current_token())
    assert _code(root_token) == "invalid token"
    assert admin.query(q.has_current_identity()) is False
    deleted = admin.query(q.delete(server["ref"]))
    assert deleted["ref"] == server["ref"]
    with pytest.raises(Unauthorized):
        server_client.query(q.now())


def test_tokens_login_identity_and_roles(fauna: FaunaDev, admin: FaunaClient) -> None:
    refs = make_schema(admin)
    alice, bob = refs["alice"], refs["bob"]
    token = admin.query(
        q.create(q.tokens(), {"instance": alice, "ttl": q.time_add(q.now(), 1, "hour"), "data": {"k": "v"}})
    )
    assert token["secret"].startswith("fnE") and token["instance"] == alice and token["data"] == {"k": "v"}
    as_alice = fauna.client(token["secret"])
    assert as_alice.query(q.current_identity()) == alice
    assert as_alice.query(q.has_current_identity()) is True
    assert as_alice.query(q.current_token()) == token["ref"]
    assert as_alice.query(q.get(q.current_identity()))["data"]["email"] == "alice@example.com"
    with pytest.raises(PermissionDenied):
        as_alice.query(q.get(bob))
    mine = as_alice.query(q.create(q.collection("notes"), {"data": {"owner": alice, "text": "hi"}}))
    with pytest.raises(PermissionDenied):
        as_alice.query(q.create(q.collection("notes"), {"data": {"owner": bob}}))
    bobs = admin.query(q.create(q.collection("notes"), {"data": {"owner": bob}}))
    with pytest.raises(PermissionDenied):
        as_alice.query(q.get(bobs["ref"]))
    with pytest.raises(PermissionDenied):
        as_alice.query(q.update(mine["ref"], {"data": {"owner": bob}}))
    assert as_alice.query(q.update(mine["ref"], {"data": {"text": "edited"}}))["data"]["text"] == "edited"
    assert len(as_alice.query(q.paginate(q.match(q.index("notes_by_owner"), alice)))["data"]) == 1
    with pytest.raises(PermissionDenied):
        as_alice.query(q.create(q.tokens(), {"instance": alice}))
    assert as_alice.query(q.get(token["ref"]))["instance"] == alice  # baseline: its own tokens
    # key_from_secret and Get never show the secret, only its hash
    looked_up = admin.query(q.key_from_secret(token["secret"]))
    assert looked_up["ref"] == token["ref"] and "secret" not in looked_up and "hashed_secret" in looked_up
    with pytest.raises(NotFound):
        admin.query(q.key_from_secret("fnE" + "A" * 48))
    # login / identify / logout
    login = admin.query(q.login(q.match(q.index("users_by_email"), "bob@example.com"), {"password": "bob-pw"}))
    as_bob = fauna.client(login["secret"])
    assert as_bob.query(q.current_identity()) == bob
    for wrong in ({"password": "nope"}, {}):
        with pytest.raises(BadRequest) as failed:
            admin.query(q.login(bob, wrong))
        assert _code(failed) == "authentication failed"
    assert admin.query([q.identify(bob, "bob-pw"), q.identify(bob, "x")]) == [True, False]
    assert as_bob.query(q.logout(False)) is True
    with pytest.raises(Unauthorized):
        as_bob.query(q.now())
    assert admin.query(q.logout(True)) is False
    second = fauna.client(admin.query(q.create(q.tokens(), {"instance": alice}))["secret"])
    assert second.query(q.logout(True)) is True  # all of alice's tokens
    with pytest.raises(Unauthorized):
        as_alice.query(q.now())
    with pytest.raises(BadRequest) as invalid:
        admin.query(q.create(q.tokens(), {"ttl": q.now()}))
    assert _code(invalid) == "validation failed"


def test_token_lifecycle(fauna: FaunaDev, admin: FaunaClient) -> None:
    refs = make_schema(admin)
    token = admin.query(q.create(q.tokens(), {"instance": refs["alice"], "ttl": q.time_add(q.now(), 60, "seconds")}))
    as_alice = fauna.client(token["secret"])
    assert as_alice.query(q.current_identity()) == refs["alice"]
    admin.query(q.update(token["ref"], {"ttl": q.time_add(q.now(), 600, "seconds")}))  # refresh extends
    fauna.advance_clock(120)
    assert as_alice.query(q.current_identity()) == refs["alice"]
    fauna.advance_clock(600)
    with pytest.raises(Unauthorized):
        as_alice.query(q.current_identity())
    with pytest.raises(NotFound):
        admin.query(q.get(token["ref"]))
    fresh = admin.query(q.create(q.tokens(), {"instance": refs["bob"]}))
    admin.query(q.delete(refs["bob"]))  # deleting the identity invalidates its tokens at once
    with pytest.raises(Unauthorized):
        fauna.client(fresh["secret"]).query(q.now())
    third = admin.query(q.create(q.tokens(), {"instance": refs["alice"]}))
    admin.query(q.delete(q.select("ref", q.key_from_secret(third["secret"]))))
    with pytest.raises(Unauthorized):
        fauna.client(third["secret"]).query(q.now())


def test_tokens_by_instance_and_bulk_delete(fauna: FaunaDev, admin: FaunaClient) -> None:
    refs = make_schema(admin)
    secrets = [admin.query(q.create(q.tokens(), {"instance": refs["alice"]}))["secret"] for _ in range(3)]
    listed = admin.query(q.paginate(q.match(q.index("tokens_by_instance"), refs["alice"])))["data"]
    assert len(listed) == 3
    admin.query(
        q.map_(q.lambda_("r", q.delete(q.var("r"))), q.paginate(q.match(q.index("tokens_by_instance"), refs["alice"])))
    )
    for secret in secrets:
        with pytest.raises(Unauthorized):
            fauna.client(secret).query(q.now())


def test_cors_for_browser_drivers(fauna: FaunaDev) -> None:
    preflight = httpx.options(
        fauna.url + "/",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-faunadb-api-version",
        },
    )
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "*"
    assert "x-faunadb-api-version" in preflight.headers["access-control-allow-headers"]
    refused = httpx.post(fauna.url + "/", json={"now": None}, headers={"Origin": "http://localhost:3000"})
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == "*"


def test_demo_seed_is_idempotent(fauna: FaunaDev, admin: FaunaClient) -> None:
    from gatepass.demo.seed import COMMENTS, seed

    seed(admin)
    seed(admin)
    assert admin.query(q.count(q.documents(q.collection("comments")))) == len(COMMENTS)
    assert admin.query([q.exists(q.role("demo_user")), q.exists(q.index("users_by_email"))]) == [True, True]
    user = admin.query(q.create(q.collection("users"), {"data": {"email": "u@example.com"}}))
    token = admin.query(q.create(q.tokens(), {"instance": user["ref"]}))["secret"]
    as_user = fauna.client(token)
    comment = admin.query(q.paginate(q.documents(q.collection("comments"))))["data"][0]
    liked = as_user.query(q.update(comment, {"data": {"likes": 1}}))
    assert liked["data"]["likes"] == 1
    with pytest.raises(PermissionDenied):  # the role lets only likes change
        as_user.query(q.update(comment, {"data": {"text": "rewritten"}}))


def _demo_user_and_comment(fauna: FaunaDev, admin: FaunaClient) -> tuple[FaunaClient, Any]:
    from gatepass.demo.seed import seed

    seed(admin)
    user = admin.query(q.create(q.collection("users"), {"data": {"email": "u@example.com"}}))
    token = admin.query(q.create(q.tokens(), {"instance": user["ref"]}))["secret"]
    comment = admin.query(q.paginate(q.documents(q.collection("comments"))))["data"][0]
    return fauna.client(token), comment


@pytest.mark.parametrize(
    ("write", "params"),
    [
        ("update", {"ttl": q.time_subtract(q.now(), 1, "minute")}),  # deleting it without delete rights
        ("update", {"ttl": q.time_add(q.now(), 1, "day")}),
        ("update", {"credentials": {"password": "let-me-in-as-a-comment"}}),
        ("update", {"data": {"likes": 1, "extra": True}}),
        ("update", {"data": {"author": "Mallory"}}),
        ("update", {"data": {"text": None}}),
        ("update", {"data": {"likes": "all of them"}}),
        ("replace", {"data": {"likes": 2}}),  # drops the text and the author
    ],
)
def test_defect_15_demo_role_refuses_everything_but_likes(
    fauna: FaunaDev, admin: FaunaClient, write: str, params: dict[str, Any]
) -> None:
    as_user, comment = _demo_user_and_comment(fauna, admin)
    before = admin.query(q.get(comment))
    with pytest.raises(PermissionDenied):
        as_user.query(getattr(q, write)(comment, params))
    after = admin.query(q.get(comment))
    assert after == before
    assert admin.query(q.exists(q.select("ref", after))) is True


def test_defect_15_demo_role_allows_liking(fauna: FaunaDev, admin: FaunaClient) -> None:
    as_user, comment = _demo_user_and_comment(fauna, admin)
    assert as_user.query(q.update(comment, {"data": {"likes": 5}}))["data"]["likes"] == 5
    data = admin.query(q.select("data", q.get(comment)))
    replaced = as_user.query(q.replace(comment, {"data": {**data, "likes": 6}}))
    assert replaced["data"] == {**data, "likes": 6}


def test_defect_15_seed_tightens_a_role_seeded_by_an_older_demo(fauna: FaunaDev, admin: FaunaClient) -> None:
    admin.query(q.create_collection({"name": "users"}))
    admin.query(q.create_collection({"name": "comments"}))
    admin.query(
        q.create_role(
            {
                "name": "demo_user",
                "membership": [{"resource": q.collection("users")}],
                "privileges": [{"resource": q.collection("comments"), "actions": {"read": True, "write": True}}],
            }
        )
    )
    as_user, comment = _demo_user_and_comment(fauna, admin)
    with pytest.raises(PermissionDenied):
        as_user.query(q.update(comment, {"ttl": q.time_subtract(q.now(), 1, "minute")}))


def test_documents_without_the_unique_field_do_not_collide(admin: FaunaClient) -> None:
    make_schema(admin)  # users_by_email is unique
    for _ in range(2):
        admin.query(q.create(q.collection("users"), {"data": {"name": "no email"}}))
    with pytest.raises(BadRequest):
        admin.query(q.create(q.collection("users"), {"data": {"email": "alice@example.com"}}))
