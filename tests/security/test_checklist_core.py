"""Core-side items of shared/reference/security-checklist.md (1-20, 33-34), one or more tests per item, named
after the item. Tokens are forged by hand and submitted to the real CDI endpoints."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import json
import logging
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from gatepass.core.app_config import AppConfig
from gatepass.core.http_app import CoreHttpApp
from gatepass.core.runtime import CoreRuntime
from gatepass.core.settings import RateLimits
from gatepass.protocol.cdi import VerifyRefused, VerifySession
from gatepass.tokens import access_token
from gatepass.tokens.keys import SigningKey
from tests.core.conftest import FakeClock, b64, create_session, forge, refresh, segments, verify
from tests.helpers import API_KEY, serve_in_thread

SRC = Path(__file__).resolve().parents[2] / "src" / "gatepass"


def _public_key(runtime: CoreRuntime, token: str) -> SigningKey:
    header, _ = segments(token)
    ctx = runtime.apps.get("public")
    key = ctx.keyring.verification_key(header["kid"], ctx.config.key_times)
    assert key is not None
    return key


def _rs256(key: rsa.RSAPrivateKey) -> Any:
    return lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _resign_with_server_key(runtime: CoreRuntime, token: str, header: dict[str, Any], payload: dict[str, Any]) -> str:
    return forge(header, payload, _public_key(runtime, token).sign)


def _assert_rejected(client: httpx.Client, token: str) -> None:
    result = verify(client, token)
    assert result["status"] == "TRY_REFRESH_TOKEN", result


# 1 ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("signature", ["", "c2lnbmF0dXJl"])
def test_sec_01_alg_none_rejected(client: httpx.Client, alg: str, signature: str) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    header["alg"] = alg
    parts = [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), signature]
    _assert_rejected(client, ".".join(parts))


# 2 ---------------------------------------------------------------------------------------------------------------
def test_sec_02_hs256_with_public_key_as_secret_rejected(client: httpx.Client, runtime: CoreRuntime) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    public = _public_key(runtime, token).public_key
    numbers = public.public_numbers()
    secrets = [
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        json.dumps(_public_key(runtime, token).public_jwk()).encode(),
        b64(numbers.n.to_bytes(256, "big")).encode(),
    ]
    header["alg"] = "HS256"
    for secret in secrets:
        forged = forge(header, payload, lambda data, s=secret: hmac.new(s, data, hashlib.sha256).digest())
        _assert_rejected(client, forged)


# 3 ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kid", ["../../etc/passwd", "d-1' OR '1'='1", 'd-"1"', "d-1\x00", "unknown", "s-../x"])
def test_sec_03_kid_is_only_a_dictionary_key(
    client: httpx.Client, runtime: CoreRuntime, kid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    header["kid"] = kid
    forged = _resign_with_server_key(runtime, token, header, payload)
    reads: list[str] = []
    original = runtime.storage.read

    def counting_read() -> Any:
        reads.append("read")
        return original()

    monkeypatch.setattr(runtime.storage, "read", counting_read)
    _assert_rejected(client, forged)
    assert reads == [], "a kid that cannot be ours must not reach the database"


def test_sec_03_unknown_plausible_kid_reloads_at_most_once_per_cooldown(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    reads: list[str] = []
    original = runtime.storage.read

    def counting_read() -> Any:
        reads.append("read")
        return original()

    monkeypatch.setattr(runtime.storage, "read", counting_read)
    clock.advance(600)  # past the cooldown of the load made when the first key was created
    for n in range(20):
        header["kid"] = f"d-{clock() + 1000 + n}"
        _assert_rejected(client, _resign_with_server_key(runtime, token, header, payload))
    assert len(reads) == 1
    clock.advance(600)
    header["kid"] = f"d-{clock() + 99}"
    _assert_rejected(client, _resign_with_server_key(runtime, token, header, payload))
    assert len(reads) == 2


def test_sec_03_kid_of_key_with_other_algorithm_rejected(client: httpx.Client, runtime: CoreRuntime) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    header["alg"] = "RS512"
    key = _public_key(runtime, token).private_key
    forged = forge(header, payload, lambda data: key.sign(data, padding.PKCS1v15(), hashes.SHA512()))
    _assert_rejected(client, forged)


# 4 ---------------------------------------------------------------------------------------------------------------
def test_sec_04_embedded_key_headers_are_never_used(
    client: httpx.Client, runtime: CoreRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attacker_jwk = SigningKey("attacker", "static", 0, attacker, attacker.public_key()).public_jwk()
    header.update(
        {"jwk": attacker_jwk, "jku": "http://203.0.113.1/jwks.json", "x5u": "http://203.0.113.1/x", "x5c": ["AAAA"]}
    )
    forged = forge(header, payload, _rs256(attacker))

    def no_network(*_: Any, **__: Any) -> None:
        raise AssertionError("token content drove an outbound connection")

    ctx = runtime.apps.get("public")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    result = runtime.verifier.verify(ctx, VerifySession(access_token=forged, do_anti_csrf_check=False))
    assert isinstance(result, VerifyRefused) and result.status == "TRY_REFRESH_TOKEN"
    # the same headers on a token signed by our key change nothing either: they are ignored
    monkeypatch.undo()
    assert verify(client, _resign_with_server_key(runtime, token, header, payload))["status"] == "OK"


# 5 ---------------------------------------------------------------------------------------------------------------
def test_sec_05_unknown_crit_rejected(client: httpx.Client, runtime: CoreRuntime) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    header.update({"crit": ["exp-ext"], "exp-ext": True})
    _assert_rejected(client, _resign_with_server_key(runtime, token, header, payload))


# 6 ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"typ": "at+jwt"},
        {"typ": None},
        {"version": "2"},
        {"version": 5},
        {"version": "x"},
    ],
)
def test_sec_06_only_session_access_tokens_accepted_header(
    client: httpx.Client, runtime: CoreRuntime, change: dict[str, Any]
) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    header.update(change)
    header = {k: v for k, v in header.items() if v is not None}
    _assert_rejected(client, _resign_with_server_key(runtime, token, header, payload))


@pytest.mark.parametrize("stt", [1, True, "0", 2])
def test_sec_06_stt_must_be_absent_or_zero(client: httpx.Client, runtime: CoreRuntime, stt: Any) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    payload["stt"] = stt
    _assert_rejected(client, _resign_with_server_key(runtime, token, header, payload))


def _signed_by_the_jwt_recipe(client: httpx.Client, payload: dict[str, Any], static: bool) -> str:
    body = {"payload": payload, "validity": 60, "useStaticSigningKey": static, "algorithm": "RS256", "jwksDomain": "d"}
    created = client.post("/recipe/jwt", json=body).json()
    assert created["status"] == "OK", created
    return str(created["jwt"])


@pytest.mark.parametrize("static", [False, True])
def test_sec_06_a_jwt_recipe_token_passes_only_as_the_session_whose_payload_it_carries(
    client: httpx.Client, static: bool
) -> None:
    """Upstream's core signs session-shaped payloads and its SDKs verify the result as that session (their tests
    rely on it; the README says so). Only such a token passes: the JWT recipe's other tokens, a partial session
    shape, a session that does not exist (with checkDatabase) and ``stt`` 1 all fail."""
    created = create_session(client, useDynamicSigningKey=not static)
    _, session_payload = segments(created["accessToken"]["token"])
    shaped = {k: v for k, v in session_payload.items() if k not in ("iat", "exp")}
    token = _signed_by_the_jwt_recipe(client, shaped, static)
    header, _ = segments(token)
    assert "version" not in header  # as upstream's JWT recipe: read as the latest version
    result = verify(client, token, checkDatabase=True)
    assert result["status"] == "OK" and result["session"]["handle"] == created["session"]["handle"], result
    for refused in (
        {"sub": "u"},
        {"sub": "u", "sessionHandle": "h", "refreshTokenHash1": "x"},
        {**shaped, "stt": 1},
        {k: v for k, v in shaped.items() if k != "rsub"},
    ):
        _assert_rejected(client, _signed_by_the_jwt_recipe(client, refused, static))
    unknown = verify(
        client, _signed_by_the_jwt_recipe(client, {**shaped, "sessionHandle": "nope"}, static), checkDatabase=True
    )
    assert unknown["status"] == "UNAUTHORISED", unknown


# 7 ---------------------------------------------------------------------------------------------------------------
def test_sec_07_iss_compared_exactly_no_aud_added(client: httpx.Client, runtime: CoreRuntime) -> None:
    """The core treats ``iss`` as an ordinary custom claim: compared by exact equality (a prefix such as "http" of
    "https://x/auth" is drift, not a match), and the core never adds ``aud``."""
    created = create_session(client, userDataInJWT={"iss": "https://x/auth"})
    token = created["accessToken"]["token"]
    header, payload = segments(token)
    assert "aud" not in payload
    payload["iss"] = "http"
    forged = _resign_with_server_key(runtime, token, header, payload)
    checked = verify(client, forged, checkDatabase=True)
    assert checked["status"] == "OK"
    assert segments(checked["accessToken"]["token"])[1]["iss"] == "https://x/auth"


# 8 ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "claim,value",
    [
        ("exp", None),
        ("exp", "9999999999"),
        ("exp", True),
        ("exp", 1.5e10),
        ("exp", -1),
        ("exp", 10**20),
        ("iat", None),
        ("iat", False),
        ("iat", "0"),
        ("nbf", "0"),
        ("nbf", 10**20),
    ],
)
def test_sec_08_time_claims_validated(client: httpx.Client, runtime: CoreRuntime, claim: str, value: Any) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    if value is None:
        del payload[claim]
    else:
        payload[claim] = value
    _assert_rejected(client, _resign_with_server_key(runtime, token, header, payload))


def test_sec_08_iat_in_the_future_rejected(client: httpx.Client, runtime: CoreRuntime) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    payload["iat"] += 120
    _assert_rejected(client, _resign_with_server_key(runtime, token, header, payload))


def test_sec_08_nan_and_infinity_rejected(client: httpx.Client, runtime: CoreRuntime) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    key = _public_key(runtime, token)
    for constant in ("NaN", "Infinity", "-Infinity"):
        body = json.dumps(payload).replace(str(payload["exp"]), constant)
        signing_input = b64(json.dumps(header).encode()) + "." + b64(body.encode())
        _assert_rejected(client, signing_input + "." + b64(key.sign(signing_input.encode())))


def test_sec_08_expired_token_rejected(client: httpx.Client, clock: FakeClock) -> None:
    token = create_session(client)["accessToken"]["token"]
    clock.advance(60_000)
    _assert_rejected(client, token)


# 9 ---------------------------------------------------------------------------------------------------------------
def test_sec_09_non_canonical_base64_rejected(client: httpx.Client) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload, signature = token.split(".")
    assert verify(client, token)["status"] == "OK"
    variants = [
        f"{header}=.{payload}.{signature}",
        f"{header}.{payload}.{signature}==",
        f"{header}.{payload}.{signature.replace('-', '+').replace('_', '/')}"
        if ("-" in signature or "_" in signature)
        else f"{header}.{payload}.{signature}+",
        f"{header}.{payload} .{signature}",
        f"{header}.{payload}.{signature}\n",
    ]
    # flip the unused trailing bits of the signature's last character: same bytes, different spelling
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    variants.append(f"{header}.{payload}.{signature[:-1]}{alphabet[last | 0b11]}")
    for variant in variants:
        assert variant != token
        _assert_rejected(client, variant)


# 10 --------------------------------------------------------------------------------------------------------------
def test_sec_10_duplicate_members_and_non_objects_rejected(client: httpx.Client, runtime: CoreRuntime) -> None:
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    key = _public_key(runtime, token)
    raw_header = json.dumps(header)
    bodies = [
        (raw_header, json.dumps(payload)[:-1] + ', "sub": "admin"}'),
        (raw_header[:-1] + ', "alg": "none"}', json.dumps(payload)),
        (raw_header, json.dumps([payload])),
        ('"just a string"', json.dumps(payload)),
    ]
    for head, body in bodies:
        signing_input = b64(head.encode()) + "." + b64(body.encode())
        _assert_rejected(client, signing_input + "." + b64(key.sign(signing_input.encode())))
    invalid_utf8 = b64(json.dumps(header).encode()) + "." + b64(b'{"sub":"\xff"}')
    _assert_rejected(client, invalid_utf8 + "." + b64(key.sign(invalid_utf8.encode())))


def test_sec_10_oversized_token_rejected_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(access_token, "b64url_decode", lambda text: calls.append(text) or b"")
    result = access_token.parse("a" * (access_token.MAX_TOKEN_BYTES + 1))
    assert isinstance(result, access_token.Rejected) and calls == []


# 11 --------------------------------------------------------------------------------------------------------------
def test_sec_11_es256_tokens_rejected(client: httpx.Client, runtime: CoreRuntime) -> None:
    """ES256 is not enabled: any ES256 token (DER, zero or oversized r/s) fails, whatever its kid."""
    token = create_session(client)["accessToken"]["token"]
    header, payload = segments(token)
    header["alg"] = "ES256"
    ec_key = ec.generate_private_key(ec.SECP256R1())
    der = forge(header, payload, lambda data: ec_key.sign(data, ec.ECDSA(hashes.SHA256())))
    psychic = forge(header, payload, lambda _: b"\x00" * 64)
    too_big = forge(header, payload, lambda _: b"\xff" * 64)
    for candidate in (der, psychic, too_big):
        _assert_rejected(client, candidate)


# 12 --------------------------------------------------------------------------------------------------------------
_SECRET_NAME = re.compile(r"anti_?csrf|api_?key|hash_?2|hash1|secret|signature|\bmac\b|refresh_token\b", re.I)


def test_sec_12_secrets_never_compared_with_equality_operators() -> None:
    offenders: list[str] = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                text = ast.unparse(node)
                sides = [node.left, *node.comparators]
                if any(isinstance(o, ast.Constant) for o in sides):
                    continue  # a mode or a literal (``config.anti_csrf == "VIA_TOKEN"``), not a secret against a secret
                operands = [ast.unparse(o) for o in sides]
                if any(_SECRET_NAME.search(o) for o in operands):
                    offenders.append(f"{path.name}:{node.lineno}: {text}")
    assert offenders == []


def test_sec_12_api_key_check_is_constant_time_over_all_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from gatepass.core import http_app

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest
    monkeypatch.setattr(http_app.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))

    class FakeRequest:
        headers = {"api-key": "first-key-0123456789abc"}

    assert http_app.api_key_accepted(["first-key-0123456789abc", "second-key-0123456789abc"], FakeRequest())  # type: ignore[arg-type]
    assert len(compared) == 2, "every configured key is compared, even after a match"


# 13 --------------------------------------------------------------------------------------------------------------
def test_sec_13_jwks_has_only_public_members(client: httpx.Client) -> None:
    create_session(client)
    create_session(client, useDynamicSigningKey=False)
    for path in ("/.well-known/jwks.json", "/recipe/jwt/jwks"):
        response = httpx.get(str(client.base_url) + path)  # no api-key, no cdi-version: the JWKS is public
        assert response.status_code == 200
        keys = response.json()["keys"]
        assert {k["kid"][:2] for k in keys} == {"d-", "s-"}
        for key in keys:
            assert set(key) == {"kty", "kid", "n", "e", "alg", "use"}
            assert key["use"] == "sig" and key["alg"] == "RS256" and key["kty"] == "RSA"
        assert re.fullmatch(r"max-age=\d+, must-revalidate", response.headers["cache-control"])


# 14 --------------------------------------------------------------------------------------------------------------
def test_sec_14_publish_then_sign_and_retire_after_window(runtime: CoreRuntime, clock: FakeClock) -> None:
    config = AppConfig(
        access_token_validity=60, refresh_token_validity=60, access_token_dynamic_signing_key_update_interval=1
    )
    runtime.apps.create_or_update_app(
        "rot", {"access_token_validity": 60, "access_token_dynamic_signing_key_update_interval": 1}
    )
    ctx = runtime.apps.get("rot")
    assert ctx.config == config
    times = ctx.config.key_times
    first = ctx.keyring.signing_key(times, static=False)
    # 59:01 into the hour: the next key must exist (published) but must not sign yet
    clock.advance(3_600_000 - 59_000)
    still = ctx.keyring.signing_key(times, static=False)
    published = {k["kid"] for k in ctx.keyring.jwks(times)[0]}
    assert still.kid == first.kid and len(published - {first.kid}) == 2  # the new dynamic key and the static key
    new_kid = next(k for k in published if k.startswith("d-") and k != first.kid)
    clock.advance(59_000)  # a full overlap later the new key signs
    assert ctx.keyring.signing_key(times, static=False).kid == new_kid
    # the old key verifies until created + U + 2V, then disappears from verification and the JWKS
    clock.advance(2 * 60_000 - 1)
    assert ctx.keyring.verification_key(first.kid, times) is not None
    clock.advance(2)
    assert ctx.keyring.verification_key(first.kid, times) is None
    assert first.kid not in {k["kid"] for k in ctx.keyring.jwks(times)[0]}


# 15 --------------------------------------------------------------------------------------------------------------
def test_sec_15_concurrent_rotation_creates_one_key(database_url: str, clock: FakeClock) -> None:
    """Several independent runtimes (own connections, as separate processes have) rotate at once: one key."""
    runtimes = [CoreRuntime.open(database_url, AppConfig(), clock) for _ in range(4)]
    try:
        ctxs = [rt.apps.get("public") for rt in runtimes]
        with ThreadPoolExecutor(max_workers=4) as pool:
            kids = list(pool.map(lambda c: c.keyring.signing_key(c.config.key_times, static=False).kid, ctxs))
        assert len(set(kids)) == 1
        with runtimes[0].storage.read() as tx:
            assert len(tx.dynamic_keys("public")) == 1
    finally:
        for rt in runtimes:
            rt.close()


# 16 --------------------------------------------------------------------------------------------------------------
def test_sec_16_refresh_tokens_opaque_random_and_stored_hashed(
    client: httpx.Client, runtime: CoreRuntime, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    user = "user-sixteen-opaque"  # long enough that random base64 never spells it (u16 did, 1 run in 300)
    tokens = [create_session(client, user)["refreshToken"]["token"] for _ in range(20)]
    assert len(set(tokens)) == 20
    for token in tokens:
        assert token.startswith("gp1.") and user not in token
        raw = base64.urlsafe_b64decode(token[4:] + "==")
        assert len(raw) >= 12 + 16 + 16  # iv, tag and at least 128 bits of ciphertext
    handles = client.get("/recipe/session/user", params={"userId": user}).json()["sessionHandles"]
    with runtime.storage.read() as tx:
        rows = [tx.get_session("public", h, clock()) for h in handles]
    stored = json.dumps([r.__dict__ for r in rows if r])
    for token in tokens:
        assert token not in stored and hashlib.sha256(token.encode()).hexdigest() not in stored
    assert not any(token in record.getMessage() for record in caplog.records for token in tokens)


def test_sec_16_tampered_refresh_tokens_unauthorised(client: httpx.Client) -> None:
    token = create_session(client)["refreshToken"]["token"]
    raw = bytearray(base64.urlsafe_b64decode(token[4:] + "=="))
    raw[20] ^= 1
    tampered = "gp1." + b64(bytes(raw))
    for candidate in (tampered, token + "x", token[:-2], "gp1.", "", "V2." + token, "a" * 5000):
        assert refresh(client, candidate)["status"] == "UNAUTHORISED"


# 17-19: rotation, theft and lost responses are covered branch by branch in tests/core/test_rotation_flows.py;
# these name the checklist items explicitly.
def test_sec_17_every_refresh_rotates_and_reuse_is_theft(client: httpx.Client) -> None:
    created = create_session(client)
    rt0 = created["refreshToken"]["token"]
    rt1 = refresh(client, rt0)["refreshToken"]["token"]
    rt2 = refresh(client, rt1)["refreshToken"]["token"]
    assert len({rt0, rt1, rt2}) == 3
    theft = refresh(client, rt0)
    assert theft["status"] == "TOKEN_THEFT_DETECTED"
    client.post("/recipe/session/remove", json={"sessionHandles": [theft["session"]["handle"]]})
    assert refresh(client, rt2)["status"] == "UNAUTHORISED"


def test_sec_18_parallel_refreshes_no_false_theft(client: httpx.Client) -> None:
    rt0 = create_session(client)["refreshToken"]["token"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: refresh(client, rt0)["status"], range(8)))
    assert statuses == ["OK"] * 8


def test_sec_19_lost_response_retry_succeeds(client: httpx.Client) -> None:
    rt0 = create_session(client)["refreshToken"]["token"]
    rt1 = refresh(client, rt0)["refreshToken"]["token"]
    refresh(client, rt1)  # promotion committed, response lost
    assert refresh(client, rt1)["status"] == "OK"


# 20 --------------------------------------------------------------------------------------------------------------
def test_sec_20_revocation_stateless_and_checked(client: httpx.Client) -> None:
    created = create_session(client)
    token = created["accessToken"]["token"]
    client.post("/recipe/session/remove", json={"sessionHandles": [created["session"]["handle"]]})
    assert refresh(client, created["refreshToken"]["token"])["status"] == "UNAUTHORISED"
    assert verify(client, token)["status"] == "OK"  # stateless: valid until exp
    assert verify(client, token, checkDatabase=True)["status"] == "UNAUTHORISED"


# 33 --------------------------------------------------------------------------------------------------------------
PROTECTED_APIS = [
    ("GET", "/apiversion"),
    ("GET", "/user/id?userId=u"),
    ("POST", "/public/recipe/session"),
    ("GET", "/recipe/session?sessionHandle=h"),
    ("POST", "/recipe/session/verify"),
    ("POST", "/recipe/session/refresh"),
    ("POST", "/recipe/session/regenerate"),
    ("PUT", "/recipe/session/data"),
    ("PUT", "/recipe/jwt/data"),
    ("POST", "/recipe/session/remove"),
    ("GET", "/recipe/session/user?userId=u"),
    ("POST", "/recipe/jwt"),
    ("PUT", "/recipe/multitenancy/app/v2"),
    ("POST", "/recipe/multitenancy/app/remove"),
    ("PUT", "/recipe/multitenancy/tenant/v2"),
]


def test_sec_33_api_key_required(runtime: CoreRuntime) -> None:
    # Rate limits off: this checks every API with every wrong key, far more failures than one address may send.
    with serve_in_thread(CoreHttpApp(runtime, [API_KEY], RateLimits.off())) as base_url:
        for method, path in PROTECTED_APIS:
            for key in (None, "", "wrong-key-0123456789abcdef", API_KEY + "x", API_KEY[:-1]):
                headers = {"cdi-version": "5.4"} if key is None else {"cdi-version": "5.4", "api-key": key}
                response = httpx.request(method, base_url + path, headers=headers, json={})
                assert (response.status_code, response.text) == (401, "Invalid API key"), (method, path, key)


def test_sec_33_public_endpoints_and_bearer_form(client: httpx.Client) -> None:
    base = str(client.base_url)
    assert httpx.get(base + "/hello").text == "Hello"
    assert httpx.get(base + "/.well-known/jwks.json").status_code == 200
    bearer = httpx.get(base + "/apiversion", headers={"Authorization": f"Bearer {API_KEY}"})
    assert bearer.status_code == 200


# 34 --------------------------------------------------------------------------------------------------------------
def test_sec_34_lifecycle_logged_without_tokens(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gatepass.core")
    created = create_session(client, "logged-user", enableAntiCsrf=True)
    handle = created["session"]["handle"]
    refreshed = refresh(client, created["refreshToken"]["token"])
    verify(client, refreshed["accessToken"]["token"])
    refresh(client, created["refreshToken"]["token"])  # theft
    client.post("/recipe/session/remove", json={"sessionHandles": [handle]})
    messages = [r.getMessage() for r in caplog.records if r.name == "gatepass.core"]
    for event in ("session created", "session refreshed", "session promoted", "token theft", "session revoked"):
        assert any(event in m and handle in m for m in messages), event
    assert any("logged-user" in m for m in messages)
    secrets = [
        created["accessToken"]["token"],
        created["refreshToken"]["token"],
        created["antiCsrfToken"],
        refreshed["refreshToken"]["token"],
        refreshed["accessToken"]["token"],
    ]
    token_pattern = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+|gp1\.[\w-]{20,}")
    for message in messages:
        assert not token_pattern.search(message)
        assert not any(secret in message for secret in secrets)
