"""Access providers in fauna-dev, with the official faunadb driver against a real server in a thread and a real JWKS
served over HTTP in another: a third-party identity provider's JWTs are Fauna credentials, and every refusal gets
Fauna's answer (``401 unauthorized``), never a 500."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from faunadb._json import to_json
from faunadb.errors import BadRequest, NotFound, PermissionDenied, Unauthorized, UnexpectedError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.faunadev.jwks import JwksCache, find_key, jwks_uri_allowed, parse_jwks
from gatepass.faunadev.jwt import audience_for, parse_jwt, zbase32_long
from gatepass.faunadev.server import FaunaDevServer
from gatepass.faunadev.store import Store
from gatepass.recipe.session.faunadb.fauna_calls import FaunaClient, q
from tests.faunadev.conftest import ADMIN, FaunaDev
from tests.helpers import free_port, serve_in_thread

ISSUER = "https://idp.example.com/"
UNAUTHORIZED = {"errors": [{"code": "unauthorized", "description": "Unauthorized"}]}
COOLDOWN_S = 0.2


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64_json(value: Any) -> str:
    return _b64(json.dumps(value).encode())


@dataclass
class Signer:
    """An RSA key pair with a kid: signs JWTs, and shows its public half as a JWK."""

    kid: str | None
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def jwk(self, **extra: Any) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        jwk = {"kty": "RSA", "n": _b64(numbers.n.to_bytes(256, "big")), "e": _b64(numbers.e.to_bytes(3, "big"))}
        return {**jwk, **({"kid": self.kid} if self.kid is not None else {}), **extra}

    def sign(self, claims: dict[str, Any], alg: str = "RS256", **header: Any) -> str:
        head = {"alg": alg, "typ": "JWT", **({"kid": self.kid} if self.kid is not None else {}), **header}
        signing_input = f"{_b64_json(head)}.{_b64_json(claims)}"
        hash_type = {"RS256": hashes.SHA256(), "RS384": hashes.SHA384(), "RS512": hashes.SHA512()}[alg]
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hash_type)
        return f"{signing_input}.{_b64(signature)}"


@dataclass
class Jwks:
    """A JWKS endpoint whose keys, status and body the test changes; counts its downloads."""

    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None
    hits: int = 0

    async def endpoint(self, request: Request) -> Response:
        self.hits += 1
        body = self.body if self.body is not None else json.dumps({"keys": self.keys}).encode()
        return Response(body, self.status, media_type="application/json")


@dataclass
class World:
    fauna: FaunaDev
    server: FaunaDevServer
    jwks: Jwks
    jwks_uri: str
    signer: Signer
    audience: str = ""

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": [self.audience, "https://api.example.com"], "sub": "user-42"}
        claims.update({"iat": now, "exp": now + 300, "scope": "read:notes"})
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, **overrides: Any) -> str:
        return self.signer.sign(self.claims(**overrides))

    def raw(self, token: str, expr: Any) -> httpx.Response:
        return httpx.post(self.fauna.url, json=expr, headers={"authorization": f"Bearer {token}"})


@pytest.fixture
def jwks() -> Iterator[tuple[Jwks, str]]:
    endpoint = Jwks()
    app = Starlette(routes=[Route("/.well-known/jwks.json", endpoint.endpoint)])
    with serve_in_thread(app) as url:
        yield endpoint, f"{url}/.well-known/jwks.json"


@pytest.fixture
def world(tmp_path: Path, jwks: tuple[Jwks, str]) -> Iterator[World]:
    endpoint, uri = jwks
    port = free_port()
    server = FaunaDevServer(Store(tmp_path / "fauna.json"), ADMIN, jwks=JwksCache(cooldown_s=COOLDOWN_S))
    fauna = FaunaDev(port, tmp_path / "fauna.json")
    signer = Signer("key-1")
    endpoint.keys = [signer.jwk()]
    with serve_in_thread(server.app, port):
        world = World(fauna, server, endpoint, uri, signer)
        admin = fauna.client()
        admin.query(q.create_collection({"name": "notes"}))
        admin.query(q.create(q.ref(q.collection("notes"), "1"), {"data": {"text": "hello"}}))
        privileges = [{"resource": q.collection("notes"), "actions": {"read": True}}]
        admin.query(q.create_role({"name": "reader", "privileges": privileges}))
        provider = admin.query(
            q.create_access_provider({"name": "idp", "issuer": ISSUER, "jwks_uri": uri, "roles": [q.role("reader")]})
        )
        world.audience = provider["audience"]
        yield world
    fauna.close()
    server.jwks.close()


def _wire(expr: Any) -> Any:
    return json.loads(to_json(expr))


def _note() -> Any:
    return q.select(["data", "text"], q.get(q.ref(q.collection("notes"), "1")))


# the provider document ------------------------------------------------------------------------------------------
def test_a_provider_is_created_read_and_listed_with_its_audience(world: World) -> None:
    admin = world.fauna.client()
    provider = admin.query(q.get(q.access_provider("idp")))
    assert provider["name"] == "idp" and provider["issuer"] == ISSUER and provider["jwks_uri"] == world.jwks_uri
    assert [role.id() for role in provider["roles"]] == ["reader"]
    assert provider["audience"] == audience_for(world.server.store.global_id)
    assert provider["audience"].startswith("https://db.fauna.com/db/") and len(provider["audience"]) == 24 + 13
    assert provider["ref"].id() == "idp" and provider["ref"].collection().id() == "access_providers"
    page = admin.query(q.paginate(q.access_providers()))
    assert [ref.id() for ref in page["data"]] == ["idp"]
    assert admin.query(q.exists(q.access_provider("idp"))) is True
    assert Store(world.fauna.data).global_id == world.server.store.global_id  # stable across restarts


def test_update_renames_and_never_changes_the_audience_replace_keeps_the_required_fields(world: World) -> None:
    admin = world.fauna.client()
    renamed = admin.query(q.update(q.access_provider("idp"), {"name": "idp2", "audience": "https://evil/"}))
    assert renamed["ref"].id() == "idp2" and renamed["audience"] == world.audience
    with pytest.raises(NotFound) as missing:
        admin.query(q.get(q.access_provider("idp")))
    assert missing.value.errors[0].description == "other not found."
    replaced = admin.query(q.replace(q.access_provider("idp2"), {"data": {"team": "a"}}))
    assert replaced["issuer"] == ISSUER and replaced["jwks_uri"] == world.jwks_uri and replaced["data"] == {"team": "a"}
    assert world.raw(world.token(), _wire(_note())).status_code == 200  # the JWT still works after renaming
    admin.query(q.delete(q.access_provider("idp2")))
    assert admin.query(q.paginate(q.access_providers()))["data"] == []


def _failures(exc: BadRequest) -> list[tuple[list[Any], str, str]]:
    body = exc.request_result.response_content["errors"][0]
    assert body["code"] == "validation failed" and body["description"] == "document data is not valid."
    return [(f["field"], f["code"], f["description"]) for f in body["failures"]]


def test_creation_is_validated_as_fauna_validates_it(world: World) -> None:
    admin = world.fauna.client()
    with pytest.raises(BadRequest) as empty:
        admin.query(q.create_access_provider({}))
    assert [f[:2] for f in _failures(empty.value)] == [
        (["name"], "value required"),
        (["issuer"], "value required"),
        (["jwks_uri"], "value required"),
    ]
    cases = [
        ({"jwks_uri": "http://idp.example.com/jwks"}, (["jwks_uri"], "invalid uri")),
        ({"jwks_uri": "db.fauna.com"}, (["jwks_uri"], "invalid uri")),
        ({"issuer": ISSUER}, (["issuer"], "duplicate value")),
        ({"roles": ["admin"]}, (["roles"], "validation failure")),
        ({"roles": ["nobody"]}, (["roles"], "validation failure")),
    ]
    for change, expected in cases:
        params = {"name": "other", "issuer": "https://other/", "jwks_uri": "https://other/jwks", **change}
        with pytest.raises(BadRequest) as refused:
            admin.query(q.create_access_provider(params))
        assert [f[:2] for f in _failures(refused.value)] == [expected], change
    with pytest.raises(BadRequest) as builtin:
        admin.query(q.create_access_provider({"name": "o", "issuer": "i", "jwks_uri": "https://o/", "roles": "admin"}))
    assert _failures(builtin.value)[0][2] == "Builtin role `admin` not allowed."
    with pytest.raises(BadRequest) as taken:
        admin.query(q.create_access_provider({"name": "idp", "issuer": "other", "jwks_uri": "https://o/"}))
    assert taken.value.errors[0].code == "instance already exists"
    assert taken.value.errors[0].description == "other already exists."


def test_only_admin_keys_see_or_make_access_providers(world: World) -> None:
    admin = world.fauna.client()
    server_secret = admin.query(q.create_key({"role": "server"}))["secret"]
    server = world.fauna.client(server_secret)
    for expr in (
        q.create_access_provider({"name": "x", "issuer": "x", "jwks_uri": "https://x/"}),
        q.get(q.access_provider("idp")),
        q.paginate(q.access_providers()),
        q.delete(q.access_provider("idp")),
    ):
        with pytest.raises(PermissionDenied):
            server.query(expr)


# JWT callers ----------------------------------------------------------------------------------------------------
def test_a_valid_jwt_reads_what_its_role_allows_and_nothing_more(world: World) -> None:
    claims = world.claims()
    client = world.fauna.client(world.signer.sign(claims))
    assert client.query(_note()) == "hello"
    assert client.query(q.current_identity()) == "user-42"
    assert client.query(q.has_current_identity()) is True
    assert client.query(q.current_token()) == claims
    assert client.query(q.has_current_token()) is True
    assert client.query(q.logout(False)) is False
    with pytest.raises(PermissionDenied):
        client.query(q.create(q.collection("notes"), {"data": {"text": "mine"}}))
    with pytest.raises(PermissionDenied):
        client.query(q.paginate(q.access_providers()))


def test_a_jwt_without_sub_has_no_identity(world: World) -> None:
    client = world.fauna.client(world.token(sub=None))
    assert client.query(q.has_current_identity()) is False
    with pytest.raises(BadRequest) as missing:
        client.query(q.current_identity())
    assert missing.value.errors[0].code == "missing identity"


def test_a_predicate_role_applies_by_claim(world: World) -> None:
    admin = world.fauna.client()
    writer_privileges = [{"resource": q.collection("notes"), "actions": {"read": True, "create": True}}]
    admin.query(q.create_role({"name": "writer", "privileges": writer_privileges}))
    wants_write = q.query(q.lambda_("claims", q.equals(q.select(["app", "role"], q.var("claims"), None), "writer")))
    is_caller = q.query(q.lambda_("claims", q.equals(q.current_token(), q.var("claims"))))
    roles = [{"role": q.role("writer"), "predicate": wants_write}, {"role": "reader", "predicate": is_caller}]
    admin.query(q.update(q.access_provider("idp"), {"roles": roles}))
    writer = world.fauna.client(world.token(app={"role": "writer"}))
    assert writer.query(q.create(q.collection("notes"), {"data": {"text": "mine"}}))["data"] == {"text": "mine"}
    reader = world.fauna.client(world.token())
    assert reader.query(_note()) == "hello"
    with pytest.raises(PermissionDenied):
        reader.query(q.create(q.collection("notes"), {"data": {"text": "mine"}}))
    admin.query(q.update(q.access_provider("idp"), {"roles": [{"role": "writer", "predicate": wants_write}]}))
    response = world.raw(world.token(), {"add": [1, 2]})  # no role granted: no access (``JWTToken.getJWTAuth``)
    assert response.status_code == 401 and response.json() == UNAUTHORIZED


def _other_signer_same_kid(world: World) -> str:
    return Signer("key-1").sign(world.claims())


def _hs256_with_public_key(world: World) -> str:
    public_pem = world.signer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64_json({'alg': 'HS256', 'kid': 'key-1'})}.{_b64_json(world.claims())}"
    mac = hmac.HMAC(public_pem, hashes.SHA256())
    mac.update(signing_input.encode())
    return f"{signing_input}.{_b64(mac.finalize())}"


REFUSALS = {
    "bad signature": _other_signer_same_kid,
    "unknown kid": lambda w: Signer("key-9").sign(w.claims()),
    "wrong iss": lambda w: w.token(iss="https://someone-else/"),
    "wrong aud": lambda w: w.token(aud="https://db.fauna.com/db/yyyyyyyyyyyyn"),
    "two fauna audiences": lambda w: w.token(aud=[w.audience, "https://db.fauna.com/db/yyyyyyyyyyyyn"]),
    "no aud": lambda w: w.token(aud=None),
    "expired": lambda w: w.token(exp=int(time.time()) - 1),
    "nbf in the future": lambda w: w.token(nbf=int(time.time()) + 60),
    "exp not a number": lambda w: w.token(exp="tomorrow"),
    "alg none": lambda w: f"{_b64_json({'alg': 'none'})}.{_b64_json(w.claims())}.",
    "HS256 keyed with the public key": _hs256_with_public_key,
    "RS384 where the key says RS256": lambda w: w.signer.sign(w.claims(), alg="RS384"),
    "garbage": lambda w: "eyJhbGciOiJSUzI1NiJ9.not-base64!.sig",
    "not json": lambda w: f"{_b64(b'{not json')}.{_b64(b'[]')}.{_b64(b'x')}",
    "crit header": lambda w: w.signer.sign(w.claims(), crit=["exp"]),
    "two dots too many": lambda w: w.token() + ".extra",
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_every_refusal_is_faunas_401(world: World, case: str) -> None:
    world.jwks.keys = [world.signer.jwk(alg="RS256")]
    token = REFUSALS[case](world)
    response = world.raw(token, {"add": [1, 2]})
    assert response.status_code == 401, response.text
    assert response.json() == UNAUTHORIZED
    assert response.headers["www-authenticate"] == 'Basic realm="Unauthorized"'
    with pytest.raises(Unauthorized):
        world.fauna.client(token).query(q.add(1, 2))


def test_an_oversized_token_gets_faunas_bad_request_never_a_500(world: World) -> None:
    token = world.token(pad="x" * 10_000)
    response = world.raw(token, {"add": [1, 2]})
    assert response.status_code == 400 and response.json() == {"error": "bad request"}  # Fauna past 8 KiB of headers
    with pytest.raises(UnexpectedError) as refused:
        world.fauna.client(token).query(q.add(1, 2))
    assert refused.value.request_result.status_code == 400
    try:  # past 16 KiB the HTTP server refuses the headers before the app sees them, and closes, as Fauna's does
        huge = world.raw(world.token(pad="x" * 100_000), {"add": [1, 2]})
    except httpx.TransportError:
        pass
    else:
        assert huge.status_code == 400


def test_a_deleted_providers_jwts_are_refused(world: World) -> None:
    token = world.token()
    assert world.raw(token, _wire(_note())).status_code == 200
    world.fauna.client().query(q.delete(q.access_provider("idp")))
    response = world.raw(token, _wire(_note()))
    assert response.status_code == 401 and response.json() == UNAUTHORIZED


@pytest.mark.parametrize("failure", ["status 500", "not json", "too large", "no keys"])
def test_a_jwks_that_is_down_or_hostile_refuses_the_token(world: World, failure: str) -> None:
    if failure == "status 500":
        world.jwks.status = 500
    elif failure == "not json":
        world.jwks.body = b"<html>hello"
    elif failure == "too large":
        world.jwks.body = json.dumps({"keys": [world.signer.jwk()], "pad": "x" * 100_000}).encode()
    else:
        world.jwks.body = b'{"keys": 1}'
    response = world.raw(world.token(), {"add": [1, 2]})
    assert response.status_code == 401 and response.json() == UNAUTHORIZED
    hits = world.jwks.hits
    world.raw(world.token(), {"add": [1, 2]})
    assert world.jwks.hits == hits  # within the cooldown: no new download


def test_an_unreachable_jwks_refuses_the_token(world: World) -> None:
    admin = world.fauna.client()
    admin.query(q.update(q.access_provider("idp"), {"jwks_uri": f"http://127.0.0.1:{free_port()}/jwks"}))
    response = world.raw(world.token(), {"add": [1, 2]})
    assert response.status_code == 401 and response.json() == UNAUTHORIZED


def test_the_jwks_is_cached_and_a_rotated_key_is_picked_up(world: World) -> None:
    client = world.fauna.client(world.token())
    for _ in range(5):
        assert client.query(_note()) == "hello"
    assert world.jwks.hits == 1  # fetched once, never per request
    new = Signer("key-2")
    world.jwks.keys = [world.signer.jwk(), new.jwk()]
    time.sleep(COOLDOWN_S + 0.05)
    rotated = world.fauna.client(new.sign(world.claims()))
    assert rotated.query(_note()) == "hello"
    assert world.jwks.hits == 2
    stranger = Signer("key-3").sign(world.claims())
    time.sleep(COOLDOWN_S + 0.05)
    for _ in range(3):
        assert world.raw(stranger, {"add": [1, 2]}).status_code == 401
    assert world.jwks.hits == 3  # an unknown kid refetches at most once per cooldown


def test_a_jwt_expires_at_the_stores_clock(world: World) -> None:
    token = world.token(exp=int(time.time()) + 30)
    assert world.raw(token, _wire(_note())).status_code == 200
    world.fauna.advance_clock(60)
    assert world.raw(token, _wire(_note())).status_code == 401


# the pure parts -------------------------------------------------------------------------------------------------
def test_zbase32_is_faunas() -> None:
    assert zbase32_long(0) == "yyyyyyyyyyyyy"
    assert zbase32_long(1) == "yyyyyyyyyyyyn"
    assert zbase32_long(2**63 - 1) == "x999999999996"  # the top chunk holds the sign bit, 0


def test_jwks_uris_are_https_or_loopback_http() -> None:
    assert jwks_uri_allowed("https://idp.example.com/.well-known/jwks.json")
    for ok in ("http://127.0.0.1:9/j", "http://localhost/j", "http://[::1]:8/j"):
        assert jwks_uri_allowed(ok), ok
    for bad in ("http://idp.example.com/j", "ftp://x/j", "https://", "https://u:p@x/j", "https://x:99999/j", "x"):
        assert not jwks_uri_allowed(bad), bad


def test_jwks_documents_are_read_strictly() -> None:
    signer = Signer("a")
    weak = rsa.generate_private_key(65537, 1024).public_key().public_numbers()
    weak_jwk = {"kty": "RSA", "kid": "w", "n": _b64(weak.n.to_bytes(128, "big")), "e": "AQAB"}
    keys = parse_jwks(json.dumps({"keys": [signer.jwk(), weak_jwk, {"kty": "EC"}, signer.jwk(use="enc")]}).encode())
    assert [k.kid for k in keys] == ["a"]
    assert find_key(keys, None) is keys[0] and find_key(keys, "b") is None
    for hostile in (b"", b"[]", b'{"keys": {}}', json.dumps({"keys": [{}] * 65}).encode(), b'{"keys": [], "keys": []}'):
        with pytest.raises(Exception, match="JWKS"):
            parse_jwks(hostile)


def test_parse_jwt_refuses_malformed_tokens() -> None:
    good = Signer("k").sign({"sub": "x"})
    assert parse_jwt(good) is not None
    head, body, sig = good.split(".")
    for bad in (good + "=", f"{head}.{body}", f"{head}=.{body}.{sig}", good.replace(".", ". "), "é" + good):
        assert parse_jwt(bad) is None
    assert parse_jwt(f"{head}.{_b64_json({'n': 2**64})}.{sig}") is None  # claims must fit FQL's 64-bit integers


def test_the_jwks_cache_refetches_an_unknown_kid_once_per_cooldown() -> None:
    now = [0.0]
    documents: list[bytes] = []
    signer = Signer("a")

    def fetch(uri: str) -> bytes:
        documents.append(b"")
        return json.dumps({"keys": [signer.jwk()]}).encode()

    cache = JwksCache(fetch, clock=lambda: now[0], cooldown_s=1.0, max_age_s=10.0)
    assert cache.key_for("https://x/", "a") is not None and len(documents) == 1
    assert cache.key_for("https://x/", "b") is None and len(documents) == 1  # within the cooldown
    now[0] = 1.5
    assert cache.key_for("https://x/", "b") is None and len(documents) == 2
    assert cache.key_for("https://x/", "a") is not None and len(documents) == 2
    now[0] = 20.0
    assert cache.key_for("https://x/", "a") is not None and len(documents) == 3  # refreshed after max_age


def test_a_client_for_a_jwt_is_an_ordinary_driver_client(world: World) -> None:
    client = FaunaClient(secret=world.token(), scheme="http", domain="127.0.0.1", port=world.fauna.port)
    try:
        assert client.query(_note()) == "hello"
    finally:
        client.session.close()
