"""The SDK reads core replies as untrusted input: a reply that is not strict JSON (``NaN``, ``1e309``, a 5,000-digit
number, a lone surrogate, HTML from a proxy) or not of the shape CDI promises is the core being unavailable, answered
with the SDK's JSON failure answer and no tokens touched, never an exception escaping into the framework."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session.core_client import RemoteCore
from gatepass.recipe.session.errors import CoreError, CoreUnavailableError
from gatepass.recipe.session.remote_core import read_answer
from gatepass.recipe.session.steps import CoreCall
from tests.fuzz_settings import fuzz_settings
from tests.helpers import serve_in_thread
from tests.sdk.conftest import build_gatepass, running_app

UNREADABLE = [
    b'{"status": NaN}',
    b'{"status": "OK", "expiry": 1e309}',
    b'{"status": "OK", "n": ' + b"9" * 5000 + b"}",
    b'{"status": "\\ud800"}',
    b'{"status": "OK", "status": "UNAUTHORISED"}',
    b"[1, 2]",
    b"<html>502 Bad Gateway</html>",
    b"\xff\xfe",
    b"",
    b"[" * 10000,
]


@pytest.mark.parametrize("body", UNREADABLE, ids=range(len(UNREADABLE)))
def test_unreadable_core_replies_are_the_core_unavailable(body: bytes) -> None:
    call = CoreCall("POST", "/recipe/session/refresh", {"refreshToken": "secret-token"})
    with pytest.raises(CoreUnavailableError) as caught:
        read_answer(call, httpx.Response(200, content=body))
    assert "secret-token" not in str(caught.value)


@dataclass
class FakeCore:
    """A core that speaks CDI's version and JWKS, and answers every session call with ``reply``."""

    reply: bytes = b"{}"
    jwks: bytes = b'{"keys": []}'
    calls: list[str] = field(default_factory=list)
    by_path: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # (status, body) for some paths

    def app(self) -> Starlette:
        async def answer(request: Request) -> Response:
            self.calls.append(request.url.path)
            if request.url.path == "/apiversion":
                return Response(b'{"versions": ["5.4"]}', media_type="application/json")
            if request.url.path == "/.well-known/jwks.json":
                return Response(self.jwks, media_type="application/json")
            if request.url.path in self.by_path:
                status, body = self.by_path[request.url.path]
                return Response(body, status_code=status, media_type="application/json")
            return Response(self.reply, media_type="application/json")

        return Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST", "PUT"])])


@dataclass
class Served:
    fake: FakeCore
    gp: Gatepass
    http: httpx.Client


@pytest.fixture(scope="module", params=["fastapi", "flask", "django-sync", "django-async"])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    from gatepass.recipe.instance import set_default

    fake = FakeCore()
    with serve_in_thread(fake.app()) as core_url:
        gp = build_gatepass(request.param, RemoteCore(core_url), anti_csrf="VIA_TOKEN")
        try:
            with running_app(request.param, gp) as url, httpx.Client(base_url=url, timeout=30) as http:
                yield Served(fake, gp, http)
        finally:
            gp.close()
            set_default(None)


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=10))
    return st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
    )


STATUSES = ["OK", "UNAUTHORISED", "TRY_REFRESH_TOKEN", "TOKEN_THEFT_DETECTED"]


def _replies() -> st.SearchStrategy[bytes]:
    """CDI-shaped replies with any member missing or of any type, plus the unreadable ones."""
    members = st.fixed_dictionaries(
        {},
        optional={
            "status": st.sampled_from(["OK", "UNAUTHORISED", "TRY_REFRESH_TOKEN", "TOKEN_THEFT_DETECTED"])
            | _json_values(),
            "session": st.fixed_dictionaries({}, optional={"handle": _json_values(), "userId": _json_values()})
            | _json_values(),
            "accessToken": st.fixed_dictionaries(
                {}, optional={"token": st.just("a.b.c") | _json_values(), "expiry": _json_values()}
            )
            | _json_values(),
            "refreshToken": st.fixed_dictionaries({}, optional={"token": _json_values(), "expiry": _json_values()}),
            "antiCsrfToken": _json_values(),
            "sessionHandlesRevoked": _json_values(),
        },
    )
    return st.one_of(members.map(lambda d: json.dumps(d).encode()), st.sampled_from(UNREADABLE))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


FAILURE = {"message": "the session service is unavailable"}


def _check(response: httpx.Response) -> None:
    """Either the protocol's answer (401 for the refresh) or the SDK's own failure answer: never a crash page."""
    if response.status_code >= 500:
        assert response.json() == FAILURE, response.text[:300]
        assert not response.headers.get_list("set-cookie"), "a failure answer touched the tokens"
    else:
        assert response.status_code in (200, 401), response.text[:300]


def test_any_core_reply_gets_a_clean_answer(served: Served) -> None:
    @fuzz_settings()
    @given(reply=_replies(), path=st.sampled_from(["/login", "/auth/session/refresh"]))
    def attack(reply: bytes, path: str) -> None:
        served.fake.reply = reply
        headers = {"rid": "session", "authorization": "Bearer gp1.AAAA"}
        if path == "/login":
            response = served.http.post(path, json={"userId": "u"}, headers={"st-auth-mode": "header"})
            if response.status_code == 200:  # only a reply that is a real session could be one
                pytest.fail(f"a fake core's reply {reply[:200]!r} became a session")
        else:
            response = served.http.post(path, headers=headers)
        _check(response)

    attack()


@pytest.mark.parametrize("jwks", [b'{"keys": NaN}', b"[]", b'{"keys": {"a": 1}}', b"<html>", b'{"keys": 1e309}'])
def test_an_unusable_jwks_is_the_core_unavailable(served: Served, jwks: bytes) -> None:
    served.fake.jwks = jwks
    served.gp.session.jwks._fetched_at = None  # forget any keys fetched earlier (one cache per module)
    served.gp.session.jwks._keys = {}
    claims = {"sub": "u", "rsub": "u", "sessionHandle": "h", "refreshTokenHash1": "r", "tId": "public"}
    claims |= {"parentRefreshTokenHash1": None, "antiCsrfToken": None, "iat": 1, "exp": 4_000_000_000}
    header = {"alg": "RS256", "typ": "JWT", "kid": "d-1", "version": "5"}
    token = ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), "AAAA"])
    response = served.http.get("/protected", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.json() == FAILURE, response.text[:300]


def test_core_errors_never_carry_the_request(served: Served) -> None:
    served.fake.reply = b'{"status": NaN}'
    with pytest.raises(CoreError) as caught:
        served.gp.core.send_sync(CoreCall("POST", "/recipe/session/refresh", {"refreshToken": "gp1.secret-value"}))
    assert "secret-value" not in str(caught.value)


@pytest.mark.parametrize("failure", [(500, b"{}"), (200, b'{"status": "OK", "sessionHandlesRevoked": 7}')])
def test_theft_answer_when_the_revocation_fails_is_the_failure_answer(served: Served, failure: Any) -> None:
    theft = {"status": "TOKEN_THEFT_DETECTED", "session": {"handle": "h-1", "userId": "u-1"}}
    served.fake.reply = json.dumps(theft).encode()
    served.fake.by_path = {"/recipe/session/remove": failure}
    try:
        response = served.http.post("/auth/session/refresh", headers={"authorization": "Bearer gp1.AAAA"})
    finally:
        served.fake.by_path = {}
    assert response.status_code == 500 and response.json() == FAILURE, response.text[:300]
    assert served.fake.calls[-1] == "/recipe/session/remove"


def _signed_access_token(served: Served) -> str:
    """A token the SDK verifies locally (the fake core publishes its key), so that the calls after verification
    (check-database verify, session information, payload regeneration) reach the fake core's replies."""
    import time

    from gatepass.tokens import access_token
    from gatepass.tokens.keys import generate_rsa_key, make_signing_key

    now_ms = int(time.time() * 1000)
    key = make_signing_key(f"d-{now_ms}", "dynamic", now_ms, generate_rsa_key())
    served.fake.jwks = json.dumps({"keys": [key.public_jwk()]}).encode()
    served.gp.session.jwks._fetched_at = None
    claims = access_token.SessionClaims(
        "u-1", "h-1", "public", "rth1", None, None, now_ms // 1000, now_ms // 1000 + 600
    )
    return access_token.mint(claims, {}, key)


SESSION_INFO = st.fixed_dictionaries(
    {"status": st.sampled_from(STATUSES) | _json_values()},
    optional={
        name: _json_values()
        for name in ["sessionHandle", "userId", "tenantId", "userDataInDatabase", "userDataInJWT", "expiry"]
    }
    | {"timeCreated": _json_values(), "session": st.fixed_dictionaries({}, optional={"userDataInJWT": _json_values()})},
)


def test_any_core_reply_after_local_verification_gets_a_clean_answer(served: Served) -> None:
    bearer = {"authorization": f"Bearer {_signed_access_token(served)}"}

    @fuzz_settings()
    @given(
        reply=st.one_of(_replies(), SESSION_INFO.map(lambda d: json.dumps(d).encode())),
        route=st.sampled_from([("GET", "/checkdb"), ("GET", "/data"), ("POST", "/merge")]),
    )
    def attack(reply: bytes, route: tuple[str, str]) -> None:
        served.fake.reply = reply
        method, path = route
        body = {"update": {"role": "x"}} if method == "POST" else None
        response = served.http.request(method, path, headers=bearer, json=body)
        _check(response)

    served.fake.calls.clear()
    attack()
    reached = {"/recipe/session/verify", "/recipe/session", "/recipe/session/regenerate"}
    assert reached <= set(served.fake.calls), "the token was not verified locally: the replies were never read"


@pytest.mark.parametrize("status", ["TRY_REFRESH_TOKEN", "GENERAL_ERROR", "ok", "UNAUTHORISED "])
def test_a_refresh_reply_with_a_status_refresh_cannot_answer_is_no_session(served: Served, status: str) -> None:
    """A reply that carries token-shaped fields under a status the refresh API does not answer with used to be read
    as success (anything but UNAUTHORISED or theft was a new session): it is a core failure, no cookie is set."""
    access = {"token": _signed_access_token(served), "expiry": 4_000_000_000_000, "createdTime": 1}
    refresh = {"token": "gp1.AAAA", "expiry": 4_000_000_000_000, "createdTime": 1}
    session = {"handle": "h-1", "userId": "u-1", "recipeUserId": "u-1", "userDataInJWT": {}, "tenantId": "public"}
    body = {"status": status, "session": session, "accessToken": access, "refreshToken": refresh}
    served.fake.reply = json.dumps(body).encode()
    response = served.http.post("/auth/session/refresh", headers={"authorization": "Bearer gp1.AAAA"})
    assert response.status_code == 500 and response.json() == FAILURE, response.text[:300]
    assert not response.headers.get_list("set-cookie") and "st-access-token" not in response.headers
