"""Property-based tests of the parsers every outside byte meets first: the strict JSON reader, the access-token
parser and verifier, and the refresh-token opener. What must hold: no exception but the documented one, no
forgery accepted, and whatever is accepted can be written back as JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from gatepass.tokens import access_token, refresh_token
from gatepass.tokens.access_token import Rejected, SessionClaims, VerifiedAccessToken
from gatepass.tokens.encoding import compact_json
from gatepass.tokens.keys import generate_rsa_key, make_signing_key
from gatepass.tokens.refresh_token import RefreshTokenContent
from gatepass.untrusted import MalformedInput, parse_json, value_problem
from tests.fuzz_settings import fuzz_settings

KEY = make_signing_key("d-1", "dynamic", 0, generate_rsa_key())
NOW = 1_800_000_000
CLAIMS = SessionClaims("user-1", "handle-1", "public", "rth1", None, None, NOW - 10, NOW + 3600)
GOOD = access_token.mint(CLAIMS, {"role": "reader"}, KEY)
RT_KEY = refresh_token.new_encryption_key()
GOOD_RT = refresh_token.seal(RefreshTokenContent("handle-1", "user-1", "public", None, None), RT_KEY, "public")

HOSTILE_LITERALS = [
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "1" * 5000,
    "0." + "1" * 400,
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"\\u0000"',
    '"²"',
    "[" * 200 + "]" * 200,
    '{"a":1,"a":2}',
    "true",
    "null",
    '"x"',
    "-0",
    "1E400",
]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _find_key(kid: str) -> Any:
    return KEY if kid == KEY.kid else None


json_leaf = st.one_of(st.sampled_from(HOSTILE_LITERALS), st.integers().map(str), st.text(max_size=8).map(json.dumps))
raw_json = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(st.text(max_size=5).map(json.dumps), inner), max_size=4).map(
            lambda pairs: "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"
        ),
    ),
    max_leaves=12,
)


@fuzz_settings()
@given(st.one_of(raw_json, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
@example("[" * 100_000)
@example('{"a":' * 5000 + "1" + "}" * 5000)
def test_strict_json_accepts_only_what_it_can_write_back(text: str) -> None:
    try:
        value = parse_json(text.encode("utf-8", "surrogatepass"))
    except MalformedInput:
        return
    assert value_problem(value) is None
    assert parse_json(compact_json(value)) == value


@fuzz_settings()
@given(st.text(max_size=300))
@example("a.b.c")
@example("." * 5000)
def test_access_token_parse_never_raises_on_any_text(token: str) -> None:
    assert isinstance(access_token.parse(token), (access_token.ParsedToken, Rejected))
    assert isinstance(access_token.verify(token, _find_key, NOW), Rejected)


header_value = st.one_of(st.sampled_from(HOSTILE_LITERALS), st.text(max_size=6).map(json.dumps))


@fuzz_settings()
@given(
    st.dictionaries(st.sampled_from(["alg", "typ", "kid", "version", "crit", "jku", "x"]), header_value, max_size=6),
    st.sampled_from(["header", "payload"]),
)
@example({"version": '"²"'}, "header")
@example({"version": '"٥"'}, "header")
@example({"exp": "1" * 5000}, "payload")
def test_crafted_header_or_payload_members_are_rejected_not_raised(members: dict[str, str], where: str) -> None:
    head, body, sig = GOOD.split(".")
    base = json.loads(base64.urlsafe_b64decode(head + "==")) if where == "header" else {}
    raw = (
        "{"
        + ",".join(
            f"{json.dumps(k)}:{v}" for k, v in {**{k: json.dumps(v) for k, v in base.items()}, **members}.items()
        )
        + "}"
    )
    segment = _b64(raw.encode("utf-8", "surrogatepass"))
    token = f"{segment}.{body}.{sig}" if where == "header" else f"{head}.{segment}.{sig}"
    result = access_token.verify(token, _find_key, NOW)
    assert isinstance(result, Rejected) or token == GOOD


@fuzz_settings()
@given(
    st.integers(0, len(GOOD) - 1),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \x00²"),
)
def test_no_single_character_change_of_a_valid_token_verifies(position: int, replacement: str) -> None:
    mutated = GOOD[:position] + replacement + GOOD[position + 1 :]
    result = access_token.verify(mutated, _find_key, NOW)
    if mutated != GOOD:
        assert isinstance(result, Rejected)
    else:
        assert isinstance(result, VerifiedAccessToken)


@fuzz_settings()
@given(st.text(max_size=300))
def test_refresh_token_opener_returns_none_for_any_text(token: str) -> None:
    assert refresh_token.open_token(token, RT_KEY, "public") is None or token == GOOD_RT


@fuzz_settings()
@given(st.integers(0, len(GOOD_RT) - 1), st.sampled_from("AZaz09-_.=\x00²"))
def test_no_single_character_change_of_a_refresh_token_opens(position: int, replacement: str) -> None:
    mutated = GOOD_RT[:position] + replacement + GOOD_RT[position + 1 :]
    opened = refresh_token.open_token(mutated, RT_KEY, "public")
    assert (opened is not None) == (mutated == GOOD_RT)
