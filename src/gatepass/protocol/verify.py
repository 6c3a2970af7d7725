"""The one verify decision, shared by the core service, the embedded core and the SDK (pure: no I/O, no clock).

An access token is answered locally (``Accept``) unless the caller asked to check the database or the token carries
a parent refresh-token hash (its session must be promoted first): then the core or its database has the last word
(``NeedsCore``). Before that, the signature and claims are checked once, then the anti-CSRF token when asked.
A token signed by a key the caller does not know yet is ``UnknownKey``: the caller reloads its keys and decides
again (no signature was checked, so none is checked twice). Every refusal is ``TryRefresh``: the client's answer
is to refresh, and whether it counts against a rate limit depends on ``TryRefresh.kind``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from gatepass.tokens import access_token
from gatepass.tokens.access_token import ParsedToken, Rejected, VerifiedAccessToken
from gatepass.tokens.encoding import secret_equals
from gatepass.tokens.keys import SigningKey, VerificationKey

KeyLookup = Callable[[str], SigningKey | VerificationKey | None]
RefusalKind = Literal["expired", "invalid", "anti_csrf", "key_kind"]


@dataclass(frozen=True)
class VerifyRules:
    """What to check beyond signature and claims.

    ``anti_csrf_token`` is what the request presented (``check_anti_csrf`` says whether to compare it);
    ``expected_dynamic_key`` is the SDK's setting (a dynamic key's kid starts with ``d-``), ``None`` for no check.
    """

    anti_csrf_token: str | None = field(default=None, repr=False)
    check_anti_csrf: bool = False
    check_database: bool = False
    expected_dynamic_key: bool | None = None


@dataclass(frozen=True)
class Accept:
    """The token is valid and nothing else is needed: answer locally."""

    verified: VerifiedAccessToken


@dataclass(frozen=True)
class NeedsCore:
    """The token is valid, but the session must be looked up: ``promote`` when it is the first use after a
    refresh (the token carries a parent hash), else because ``check_database`` was asked."""

    verified: VerifiedAccessToken
    promote: bool


@dataclass(frozen=True)
class TryRefresh:
    """The token cannot be accepted; ``kind`` says why (only ``expired`` is what honest clients meet daily)."""

    reason: str
    kind: RefusalKind

    @property
    def is_expiry(self) -> bool:
        """True when the only fault is the token's age (never counted as a failed attempt)."""
        return self.kind == "expired"


@dataclass(frozen=True)
class UnknownKey:
    """Signed with a key the caller does not hold (maybe just created by another core): reload keys, then decide
    again."""

    kid: str


VerifyDecision = Accept | NeedsCore | TryRefresh | UnknownKey


def decide_verify(
    token: str | ParsedToken, rules: VerifyRules, find_key: KeyLookup, now_s: int, *, allow_expired: bool = False
) -> VerifyDecision:
    """The answer to "is this access token good for this request?" given the keys at hand and the time
    (``allow_expired``: whose session is it, even if its token expired; for regenerating its payload)."""
    parsed = access_token.parse(token) if isinstance(token, str) else token
    if isinstance(parsed, Rejected):
        return TryRefresh(parsed.reason, "invalid")
    verified = access_token.verify(parsed, find_key, now_s, allow_expired=allow_expired)
    if isinstance(verified, Rejected):
        if verified.unknown_kid:
            return UnknownKey(str(parsed.header["kid"]))  # verify checked that the kid is a string
        return TryRefresh(verified.reason, "expired" if verified.expired else "invalid")
    if rules.expected_dynamic_key is not None and verified.kid.startswith("d-") != rules.expected_dynamic_key:
        return TryRefresh("the access token doesn't match the use_dynamic_access_token_signing_key setting", "key_kind")
    if rules.check_anti_csrf and not secret_equals(rules.anti_csrf_token, verified.claims.anti_csrf_token):
        return TryRefresh("anti-csrf check failed", "anti_csrf")
    promote = verified.claims.parent_refresh_token_hash1 is not None
    if rules.check_database or promote:
        return NeedsCore(verified, promote)
    return Accept(verified)
