"""Property-based attacks on every framework adapter over real HTTP (issue items 1 and 9).

Each served app (FastAPI, Starlette, Flask, Django sync, Django async, Django REST framework, Litestar on an
embedded core; FastAPI on a remote ``gatepass core`` process) is reused across examples. The properties, for crafted
access tokens (cookie and Bearer), refresh tokens, ``front-token``/``anti-csrf``/``rid``/``st-auth-mode`` headers and
whole cookie headers:

- never a 5xx: 401 (or 200 for an optional session that is absent) as the protocol says;
- never an accepted forgery: a token that differs from the real one is never a session, even re-signed with the
  real key when its header or payload breaks the rules;
- nothing written on a rejected request: no new token in a cookie or header, no new session in the core.

``GATEPASS_FUZZ_EXAMPLES`` sets the number of examples (see ``tests/fuzz_settings``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gatepass.ratelimit import BucketSpec
from gatepass.recipe.instance import Gatepass, set_default
from gatepass.recipe.session import syncio
from gatepass.recipe.session.core_client import EmbeddedCore
from gatepass.recipe.session.http_types import parse_cookie_header
from tests.fuzz_settings import fuzz_settings
from tests.helpers import CoreProcess
from tests.sdk.conftest import build_gatepass, make_core, running_app

USER = "fuzz-user"
APPS = [
    *[pytest.param((f, "embedded"), id=f"{f}-embedded") for f in ["fastapi", "starlette", "flask"]],
    *[pytest.param((f, "embedded"), id=f"{f}-embedded") for f in ["django-sync", "django-async", "drf", "litestar"]],
    pytest.param(("fastapi", "remote"), id="fastapi-remote"),
]
PROTECTED, OPTIONAL, REFRESH = "/protected", "/optional", "/auth/session/refresh"
CHECK_DATABASE, SIGNOUT = "/checkdb", "/auth/signout"
GET_ONLY = (OPTIONAL, CHECK_DATABASE)
DUPLICATE_REFRESH_MESSAGE = "several refresh-token cookies"


@dataclass
class Target:
    """A served app with one real session in cookie mode and one in header mode."""

    gp: Gatepass
    http: httpx.Client
    cookie_access: str
    cookie_refresh: str
    anti_csrf: str
    header_access: str
    header_refresh: str
    sign: Callable[[bytes], bytes] | None  # the core's real signing key (embedded core only)

    @property
    def real_tokens(self) -> set[str]:
        return {self.cookie_access, self.cookie_refresh, self.header_access, self.header_refresh}

    def handles(self) -> list[str]:
        return syncio.get_all_session_handles_for_user(USER, tenant_id=None, gatepass=self.gp)


def _login(http: httpx.Client, mode: str) -> httpx.Response:
    response = http.post("/login", json={"userId": USER}, headers={"st-auth-mode": mode})
    assert response.status_code == 200, response.text
    return response


def _signer(gp: Gatepass, token: str) -> Callable[[bytes], bytes] | None:
    core = gp.core
    if not isinstance(core, EmbeddedCore):
        return None
    ctx = core.runtime.apps.get("public")
    key = ctx.keyring.verification_key(_decode(token.split(".")[0])["kid"], ctx.config.key_times)
    assert key is not None
    return key.sign


@pytest.fixture(scope="module", params=APPS)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    framework, mode = request.param
    remote: CoreProcess | None = request.getfixturevalue("remote_core") if mode == "remote" else None
    core = make_core(mode, remote, tmp_path_factory.mktemp("fuzz"))
    # refresh_rate_limit off: the fuzzers send thousands of failing refreshes (test_refresh_rate_limit tests the limit)
    gp = build_gatepass(framework, core, anti_csrf="VIA_TOKEN", refresh_rate_limit=BucketSpec(0, 0))
    try:
        with running_app(framework, gp) as url, httpx.Client(base_url=url, timeout=30) as http:
            cookie = _login(http, "cookie")
            header = _login(http, "header")
            http.cookies.clear()  # every request below sends exactly the cookies it crafts
            yield Target(
                gp,
                http,
                cookie.cookies["sAccessToken"],
                cookie.cookies["sRefreshToken"],
                cookie.headers["anti-csrf"],
                header.headers["st-access-token"],
                header.headers["st-refresh-token"],
                _signer(gp, header.headers["st-access-token"]),
            )
    finally:
        gp.close()
        set_default(None)


# tokens ------------------------------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _decode(segment: str) -> dict[str, Any]:
    return dict(json.loads(_unb64(segment)))


def _with_header(token: str, header_json: str, sign: Callable[[bytes], bytes] | None) -> str:
    """The token with its header replaced by raw JSON text; re-signed with ``sign`` when given."""
    _, payload, signature = token.split(".")
    signing_input = _b64(header_json.encode("utf-8", "surrogatepass")) + "." + payload
    return signing_input + "." + (_b64(sign(signing_input.encode())) if sign else signature)


def _with_payload(token: str, payload_json: str, sign: Callable[[bytes], bytes] | None) -> str:
    header, _, signature = token.split(".")
    signing_input = header + "." + _b64(payload_json.encode("utf-8", "surrogatepass"))
    return signing_input + "." + (_b64(sign(signing_input.encode())) if sign else signature)


def _header_text(token: str, **changes: str) -> str:
    """The real header as JSON text with members replaced by raw JSON values (so that ``1e309`` or a lone
    surrogate escape reach the parser as an attacker would send them)."""
    header = _decode(token.split(".")[0])
    members = {key: json.dumps(value) for key, value in header.items()} | changes
    return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in members.items()) + "}"


BIG = "9" * 5000
BAD_VERSIONS = ['"²"', '"٥"', '"3.0"', '"1e309"', "1e309", f'"{BIG}"', BIG, "5", "5.0", '"\\ud800"', '"5\\u0000"']
BAD_VERSIONS += ['"2"', '""', '"-5"', '" 5"', "null", "true", "[5]", '{"v":5}', "NaN", "Infinity", '"٣"']
BAD_ALGS = ['"none"', '"HS256"', '"RS512"', '"ES256"', '"rs256"', '""', "null", '"RS256\\u0000"', '"\\ud800"']
BAD_TYPS = ['"jwt"', '"JWS"', "null", '""', '"JWT\\u0000"', "1"]
BAD_KIDS = ['"d-1"', "1", "null", '"\\ud800"', f'"{"d" * 5000}"', '"../../etc/passwd"']
BAD_PAYLOAD_VALUES = ["1e309", BIG, "-" + BIG, "NaN", '"\\ud800"', '"\\udfff"', '"a\\u0000b"', "1.5", '"1"', "null"]


@st.composite
def _header_attack(draw: st.DrawFn, token: str, sign: Callable[[bytes], bytes] | None) -> str:
    """A header that breaks a rule; re-signed with the real key half the time, as every one must be refused on its
    own (``jku`` is ignored by design, so a jku header is only sent with the original signature)."""
    member = draw(st.sampled_from(["version", "alg", "typ", "kid", "crit", "jku"]))
    values = {"version": BAD_VERSIONS, "alg": BAD_ALGS, "typ": BAD_TYPS, "kid": BAD_KIDS}
    value = draw(st.sampled_from(values.get(member, ['["exp"]', '"https://evil.example/jwks"'])))
    text = _header_text(token, **{member: value})
    if member == "kid" and draw(st.booleans()):  # a duplicate member too
        text = text[:-1] + f',"kid":{value}}}'
    resign = sign if member != "jku" and draw(st.booleans()) else None
    return _with_header(token, text, resign)


STRING_CLAIMS = ("sub", "sessionHandle", "tId")
UNREADABLE = ("1e309", BIG, "-" + BIG, "NaN", '"\\ud800"', '"\\udfff"')  # the strict reader refuses these


@st.composite
def _payload_attack(draw: st.DrawFn, token: str, sign: Callable[[bytes], bytes] | None) -> str:
    """A payload claim replaced by a raw JSON value; re-signed with the real key only when the value must be
    refused on its own (unreadable JSON, or the wrong type for the claim): a well-typed value under our own
    signature is a genuine token, not a forgery."""
    payload = _decode(token.split(".")[1])
    claim = draw(st.sampled_from(["exp", "iat", "sub", "sessionHandle", "antiCsrfToken", "stt", "nbf", "tId"]))
    value = draw(st.sampled_from(BAD_PAYLOAD_VALUES))
    members = {key: json.dumps(v) for key, v in payload.items()} | {claim: value}
    text = "{" + ",".join(f"{json.dumps(key)}:{v}" for key, v in members.items()) + "}"
    a_string = value.startswith('"') and value not in UNREADABLE
    well_typed = (claim in STRING_CLAIMS and a_string) or (claim == "antiCsrfToken" and (a_string or value == "null"))
    resign = sign if not well_typed and draw(st.booleans()) else None
    return _with_payload(token, text, resign)


@st.composite
def _bit_flip(draw: st.DrawFn, token: str, *, after_prefix: bool = False) -> str:
    """One bit flipped in the decoded bytes of one base64url segment (``after_prefix``: of a refresh token's body,
    after ``gp1.``)."""
    segments = token.split(".", 1) if after_prefix else token.split(".")
    index = draw(st.integers(1 if after_prefix else 0, len(segments) - 1))
    raw = bytearray(_unb64(segments[index]))
    position = draw(st.integers(0, len(raw) * 8 - 1))
    raw[position // 8] ^= 1 << (position % 8)
    segments[index] = _b64(bytes(raw))
    return ".".join(segments)


TOKEN_CHARS = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")


@st.composite
def _char_edit(draw: st.DrawFn, token: str) -> str:
    position = draw(st.integers(0, len(token)))
    kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
    char = draw(st.sampled_from('=+/ .-_A0\t%"\\;,') | TOKEN_CHARS)
    if kind == "replace":
        return token[:position] + char + token[position + 1 :]
    if kind == "insert":
        return token[:position] + char + token[position:]
    if kind == "delete":
        return token[:position] + token[position + 1 :]
    return token[:position]


def crafted_access_tokens(token: str, sign: Callable[[bytes], bytes] | None) -> st.SearchStrategy[str]:
    return st.one_of(
        _bit_flip(token),
        _char_edit(token),
        _header_attack(token, sign),
        _payload_attack(token, sign),
        st.text(TOKEN_CHARS, max_size=64),
        st.lists(st.text("ABCDEFabcdef0123456789-_", max_size=40), min_size=1, max_size=5).map(".".join),
    )


def crafted_refresh_tokens(token: str) -> st.SearchStrategy[str]:
    body = token.split(".", 1)[1]
    return st.one_of(
        _bit_flip(token, after_prefix=True),
        _char_edit(token),
        st.text(TOKEN_CHARS, max_size=64),
        st.just("gp1.").map(lambda p: p + "A" * 5000),
        st.sampled_from(["gp1.", "gp1", "gp2." + body, token + token, token.upper()]),
    )


# requests ----------------------------------------------------------------------------------------------------------
def _sendable(value: str) -> bytes:
    """Header values travel as bytes without control characters or outer whitespace (HTTP/1.1): latin-1, or the
    UTF-8 bytes of text beyond it (which the server then reads as latin-1, as HTTP says)."""
    text = value.strip(" \t")
    return text.encode("latin-1") if all(ord(c) < 256 for c in text) else text.encode("utf-8")


def _as_received(token: str, transport: str, cookie_name: str) -> str:
    """The token the SDK reads from the crafted header: a quoted or percent-encoded spelling of a real token is
    that token (not a forgery), so the forgery check compares what arrives."""
    if transport == "bearer":
        return token.strip()
    header = cookie_name + "=" + token.strip(" \t")
    values = [unquote(v) for k, v in parse_cookie_header(header) if k == cookie_name]
    return values[0] if values else ""


def _send(target: Target, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    return target.http.request(method, path, headers={k: _sendable(v) for k, v in headers.items()})


def _wrote_nothing(response: httpx.Response) -> None:
    for name in ("st-access-token", "st-refresh-token"):
        assert response.headers.get(name, "") == "", f"a rejected request got a new {name}"
    assert response.headers.get("front-token", "remove") == "remove", "a rejected request got a front token"
    for cookie in response.headers.get_list("set-cookie"):
        name, _, rest = cookie.partition("=")
        if name in ("sAccessToken", "sRefreshToken"):
            assert rest.split(";")[0] == "", f"a rejected request got a new {name} cookie"


def _check_rejected(response: httpx.Response, path: str) -> None:
    assert response.status_code < 500, f"{path} answered {response.status_code}: {response.text[:300]}"
    if path == OPTIONAL and response.status_code == 200:
        assert response.json()["userId"] is None, "a crafted token was accepted as a session"
    else:
        assert response.status_code == 401, f"{path} answered {response.status_code}: {response.text[:300]}"
    _wrote_nothing(response)


@pytest.fixture
def unchanged_sessions(target: Target) -> Iterator[None]:
    before = sorted(target.handles())
    yield
    assert sorted(target.handles()) == before, "a rejected request created or ended a session"


# the properties ------------------------------------------------------------------------------------------------------
def test_fuzz_sanity_real_tokens_are_accepted(target: Target) -> None:
    """The fuzzers below mean something only if the real tokens work through the same requests."""
    cookie = {"cookie": f"sAccessToken={target.cookie_access}"}
    bearer = {"authorization": f"Bearer {target.header_access}"}
    for headers in (cookie, bearer):
        for path in (PROTECTED, OPTIONAL):
            response = _send(target, "GET", path, headers)
            assert response.status_code == 200 and response.json()["userId"] == USER, response.text


@pytest.mark.usefixtures("unchanged_sessions")
def test_fuzz_crafted_access_tokens_are_401_never_a_session(target: Target) -> None:
    strategy = st.one_of(
        crafted_access_tokens(target.header_access, target.sign),
        crafted_access_tokens(target.cookie_access, target.sign),
    )

    @fuzz_settings()
    @given(
        token=strategy,
        transport=st.sampled_from(["cookie", "bearer"]),
        path=st.sampled_from([PROTECTED, OPTIONAL, CHECK_DATABASE, SIGNOUT]),
        method=st.sampled_from(["GET", "POST"]),
    )
    def attack(token: str, transport: str, path: str, method: str) -> None:
        assume(_as_received(token, transport, "sAccessToken") not in target.real_tokens)
        if path in GET_ONLY or path == SIGNOUT:
            method = "POST" if path == SIGNOUT else "GET"
        if transport == "cookie":
            headers = {"cookie": f"sAccessToken={token}", "anti-csrf": target.anti_csrf}
        else:
            headers = {"authorization": f"Bearer {token}"}
        _check_rejected(_send(target, method, path, headers), path)

    attack()


@pytest.mark.usefixtures("unchanged_sessions")
def test_fuzz_crafted_refresh_tokens_are_401_and_rotate_nothing(target: Target) -> None:
    strategy = st.one_of(crafted_refresh_tokens(target.cookie_refresh), crafted_refresh_tokens(target.header_refresh))

    @fuzz_settings()
    @given(token=strategy, transport=st.sampled_from(["cookie", "bearer"]), anti_csrf=st.booleans())
    def attack(token: str, transport: str, anti_csrf: bool) -> None:
        assume(_as_received(token, transport, "sRefreshToken") not in target.real_tokens)
        assume(";" not in token)  # a second cookie is the cookie-header fuzzer's business
        headers = {"rid": "session"}
        if anti_csrf:
            headers["anti-csrf"] = target.anti_csrf
        if transport == "cookie":
            headers["cookie"] = f"sRefreshToken={token}"
        else:
            headers["authorization"] = f"Bearer {token}"
        _check_rejected(_send(target, "POST", REFRESH, headers), REFRESH)

    attack()


HEADER_VALUES = st.one_of(
    st.text(TOKEN_CHARS, max_size=80),
    st.sampled_from(["remove", "session", "cookie", "header", "COOKIE ", "²", "٥", "null", "{}", "e30=", "%00", "ey"]),
    st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode()),
    st.dictionaries(st.sampled_from(["uid", "ate", "up"]), st.sampled_from([1e308, 10**30, "x", None])).map(
        lambda d: base64.b64encode(json.dumps(d).encode()).decode()
    ),
)
SESSION_HEADERS = ["front-token", "anti-csrf", "rid", "st-auth-mode", "fdi-version", "st-access-token"]


@pytest.mark.usefixtures("unchanged_sessions")
def test_fuzz_crafted_session_headers_never_5xx(target: Target) -> None:
    """The real access cookie with crafted side headers: 200 only with the real anti-CSRF token on a POST."""

    @fuzz_settings()
    @given(
        extra=st.dictionaries(st.sampled_from(SESSION_HEADERS), HEADER_VALUES, max_size=4),
        method=st.sampled_from(["GET", "POST"]),
        refresh=st.booleans(),
    )
    def attack(extra: dict[str, str], method: str, refresh: bool) -> None:
        if refresh:  # the real refresh cookie with a crafted anti-CSRF header: never a rotation
            assume(extra.get("anti-csrf", "").strip(" \t") != target.anti_csrf)
            headers = {**extra, "cookie": f"sRefreshToken={target.cookie_refresh}"}
            _check_rejected(_send(target, "POST", REFRESH, headers), REFRESH)
            return
        headers = {**extra, "cookie": f"sAccessToken={target.cookie_access}"}
        response = _send(target, method, PROTECTED, headers)
        assert response.status_code < 500, response.text[:300]
        if method == "POST" and extra.get("anti-csrf", "").strip(" \t") != target.anti_csrf:
            assert response.status_code == 401, "a POST without the real anti-CSRF token was accepted"
        else:
            assert response.status_code == 200 and response.json()["userId"] == USER, response.text[:300]

    attack()


COOKIE_NAMES = st.sampled_from(["sAccessToken", "sRefreshToken", "sIdRefreshToken", "sFrontToken", "", " ", "a"])
COOKIE_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f;"), max_size=40),
    st.sampled_from(['""', '"', "%", "%zz", "%00", "%ED%A0%80", "%FF", "=", "==", "a=b", "²"]),
)


@pytest.mark.usefixtures("unchanged_sessions")
def test_fuzz_crafted_cookie_headers_never_5xx(target: Target) -> None:
    real = st.sampled_from(
        [f"sAccessToken={target.cookie_access}", f"sRefreshToken={target.cookie_refresh}", "sIdRefreshToken=x"]
    )
    pair = st.one_of(st.tuples(COOKIE_NAMES, COOKIE_VALUES).map("=".join), COOKIE_VALUES, real)

    @fuzz_settings()
    @given(
        pairs=st.lists(pair, min_size=1, max_size=5),
        separator=st.sampled_from(["; ", ";", " ; ", ";;", ", "]),
        path=st.sampled_from([PROTECTED, OPTIONAL, REFRESH]),
    )
    def attack(pairs: list[str], separator: str, path: str) -> None:
        header = separator.join(pairs)
        method = "POST" if path == REFRESH else "GET"
        response = _send(target, method, path, {"cookie": header, "rid": "session"})
        refresh_cookies = sum(1 for p in header.split(";") if p.strip().startswith("sRefreshToken="))
        if path == REFRESH and _duplicate_refresh_cookies(response, refresh_cookies):
            return
        assert response.status_code < 500, f"{path} {header!r}: {response.status_code} {response.text[:300]}"
        if path == REFRESH:  # no anti-CSRF header: even the real refresh cookie must not rotate
            _check_rejected(response, path)

    attack()


def _duplicate_refresh_cookies(response: httpx.Response, refresh_cookies: int) -> bool:
    """Several refresh cookies and no ``older_cookie_domain`` to clear them with: a 400 naming the setting (upstream
    answers 500), and it touches no session."""
    if refresh_cookies < 2 or response.status_code != 400:
        return False
    assert DUPLICATE_REFRESH_MESSAGE in response.json()["message"]
    _wrote_nothing(response)
    return True


@pytest.mark.usefixtures("unchanged_sessions")
def test_fuzz_repeated_and_mixed_headers_never_5xx(target: Target) -> None:
    """Raw header lists with repeats (two Cookie headers, two Authorization headers, ...), mixing the real access
    tokens with crafted ones: the answer is the protocol's, never a crash."""
    tokens = st.one_of(
        st.sampled_from([target.cookie_access, target.header_access]),
        crafted_access_tokens(target.header_access, None),
        st.text(TOKEN_CHARS, max_size=20),
    )
    header = st.one_of(
        st.tuples(st.just("cookie"), st.tuples(COOKIE_NAMES, tokens).map("=".join)),
        st.tuples(st.just("authorization"), tokens.map(lambda t: "Bearer " + t) | st.sampled_from(["Bearer", ""])),
        st.tuples(st.sampled_from(SESSION_HEADERS), HEADER_VALUES),
    )

    @fuzz_settings()
    @given(headers=st.lists(header, max_size=6), path=st.sampled_from([PROTECTED, OPTIONAL, REFRESH]))
    def attack(headers: list[tuple[str, str]], path: str) -> None:
        method = "POST" if path == REFRESH else "GET"
        response = target.http.request(method, path, headers=[(k, _sendable(v)) for k, v in headers])
        cookies = "; ".join(v for k, v in headers if k == "cookie")
        refresh_cookies = sum(1 for part in cookies.split(";") if part.strip().startswith("sRefreshToken="))
        if _duplicate_refresh_cookies(response, refresh_cookies):
            return
        assert response.status_code in (200, 401), f"{path} {headers!r}: {response.status_code} {response.text[:300]}"
        if path == REFRESH:
            _check_rejected(response, path)

    attack()


# regressions ---------------------------------------------------------------------------------------------------------
DEFECT_01_HEADER = {"alg": "RS256", "typ": "JWT", "kid": "d-1", "version": "²"}


def _defect_01_tokens(target: Target) -> list[str]:
    real = target.header_access
    payload = real.split(".")[1]
    unsigned = _b64(json.dumps(DEFECT_01_HEADER).encode()) + "." + payload + "." + real.split(".")[2]
    tokens = [unsigned]
    if target.sign is not None:  # the same header under the real key's kid, validly signed
        header = {**DEFECT_01_HEADER, "kid": _decode(real.split(".")[0])["kid"]}
        tokens.append(_with_header(real, json.dumps(header, ensure_ascii=False), target.sign))
        tokens.append(_with_header(real, json.dumps(header), target.sign))  # "\u00b2" escaped
    return tokens


@pytest.mark.parametrize("path", [PROTECTED, OPTIONAL])
def test_defect_01_superscript_version_in_cookie_is_401_not_500(target: Target, path: str) -> None:
    for token in _defect_01_tokens(target):
        _check_rejected(_send(target, "GET", path, {"cookie": f"sAccessToken={token}"}), path)


@pytest.mark.parametrize("path", [PROTECTED, OPTIONAL])
def test_defect_01_superscript_version_as_bearer_is_401_not_500(target: Target, path: str) -> None:
    for token in _defect_01_tokens(target):
        _check_rejected(_send(target, "GET", path, {"authorization": f"Bearer {token}"}), path)


def test_defect_01_superscript_version_without_a_request_is_refused(target: Target) -> None:
    from gatepass.recipe.session.errors import TryRefreshTokenError

    for token in _defect_01_tokens(target):
        with pytest.raises(TryRefreshTokenError):
            syncio.get_session_without_request_response(token, gatepass=target.gp)
        assert syncio.get_session_without_request_response(token, session_required=False, gatepass=target.gp) is None
