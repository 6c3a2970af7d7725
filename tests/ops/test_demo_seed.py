"""The demo's Fauna set-up for ``--users external``, against a real fauna-dev in this process: the AccessProvider and
its role are created once, brought up to date when the app's address changes (a new port between runs), and give a
JWT of the app's issuer exactly the rights the demo's users have: read comments, and change only their likes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from gatepass.demo.seed import ACCESS_PROVIDER, JWT_ROLE, seed, seed_jwt_access
from gatepass.faunadev.server import open_server
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, PermissionDenied, Unauthorized, q
from tests.faunadev.test_access_providers import Jwks, Signer
from tests.helpers import serve_in_thread

ADMIN = "secret"


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[FaunaClient]:
    server = open_server(tmp_path / "fauna.json", ADMIN)
    with serve_in_thread(server.app) as url:
        client = FaunaClient(secret=ADMIN, scheme="http", domain="127.0.0.1", port=int(url.rsplit(":", 1)[1]))
        yield client
        client.session.close()


@pytest.fixture
def jwks() -> Iterator[tuple[Jwks, str]]:
    """The app's JWKS, served where the demo serves it (``/auth/jwt/jwks.json``); the issuer it stands for."""
    endpoint = Jwks()
    with serve_in_thread(Starlette(routes=[Route("/auth/jwt/jwks.json", endpoint.endpoint)])) as url:
        yield endpoint, url + "/auth"


def _as(admin: FaunaClient, secret: str) -> FaunaClient:
    return admin.new_session_client(secret=secret)


def _provider(admin: FaunaClient) -> Any:
    return admin.query(q.get(q.access_provider(ACCESS_PROVIDER)))


def test_the_provider_is_created_once_and_follows_the_apps_address(admin: FaunaClient) -> None:
    audience = seed_jwt_access(admin, "http://127.0.0.1:8000/auth", "http://127.0.0.1:8000/auth/jwt/jwks.json")
    assert audience.startswith("https://db.fauna.com/db/") and audience == _provider(admin)["audience"]
    assert seed_jwt_access(admin, "http://127.0.0.1:8000/auth", "http://127.0.0.1:8000/auth/jwt/jwks.json") == audience
    moved = seed_jwt_access(admin, "http://127.0.0.1:9001/auth", "http://127.0.0.1:9001/auth/jwt/jwks.json")
    provider = _provider(admin)
    assert moved == audience and provider["issuer"] == "http://127.0.0.1:9001/auth"
    assert provider["jwks_uri"] == "http://127.0.0.1:9001/auth/jwt/jwks.json"
    assert [r.id() for r in provider["roles"]] == [JWT_ROLE]
    assert len(admin.query(q.paginate(q.access_providers()))["data"]) == 1
    role = admin.query(q.get(q.role(JWT_ROLE)))
    assert "membership" not in role or not role["membership"]  # the provider grants it; no document is a member
    assert admin.query(q.count(q.documents(q.collection("comments")))) == 3  # seeded once, not per run
    seed_jwt_access(admin, "http://127.0.0.1:9001/auth", "http://127.0.0.1:9001/auth/jwt/jwks.json")
    assert admin.query(q.count(q.documents(q.collection("comments")))) == 3


def test_both_modes_can_share_a_data_directory(admin: FaunaClient) -> None:
    seed(admin)
    seed_jwt_access(admin, "http://127.0.0.1:8000/auth", "http://127.0.0.1:8000/auth/jwt/jwks.json")
    seed(admin)
    assert admin.query(q.count(q.documents(q.collection("comments")))) == 3
    assert admin.query(q.exists(q.role("demo_user"))) and admin.query(q.exists(q.role(JWT_ROLE)))


def test_a_jwt_of_the_app_reads_comments_and_changes_only_their_likes(
    admin: FaunaClient, jwks: tuple[Jwks, str]
) -> None:
    endpoint, issuer = jwks
    signer = Signer("demo-key")
    endpoint.keys = [signer.jwk(alg="RS256", use="sig")]
    audience = seed_jwt_access(admin, issuer, issuer + "/jwt/jwks.json")
    now = int(time.time())
    jwt = signer.sign({"iss": issuer, "aud": audience, "sub": "3f2a", "iat": now, "exp": now + 60})
    user = _as(admin, jwt)
    assert user.query(q.current_identity()) == "3f2a"
    page = user.query(q.map_(q.lambda_("r", q.get(q.var("r"))), q.paginate(q.documents(q.collection("comments")))))
    comment = page["data"][0]
    ref = comment["ref"]
    liked = user.query(q.update(ref, {"data": {"likes": comment["data"]["likes"] + 1}}))
    assert liked["data"]["likes"] == comment["data"]["likes"] + 1
    for refused in (
        q.update(ref, {"data": {"text": "rewritten"}}),
        q.update(ref, {"data": {"likes": "many"}}),
        q.update(ref, {"ttl": q.time_add(q.now(), 1, "second")}),
        q.update(ref, {"credentials": {"password": "pw"}}),
        q.create(q.collection("comments"), {"data": {"author": "x", "text": "y", "likes": 0}}),
        q.delete(ref),
        q.paginate(q.access_providers()),
    ):
        with pytest.raises(PermissionDenied):
            user.query(refused)
    stranger = Signer("demo-key")  # the same kid, another key: a forged token
    forged = stranger.sign({"iss": issuer, "aud": audience, "sub": "3f2a", "iat": now, "exp": now + 60})
    with pytest.raises(Unauthorized):
        _as(admin, forged).query(q.current_identity())
