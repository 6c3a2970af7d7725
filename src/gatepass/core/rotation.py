"""The refresh-token rotation and theft-detection algorithm of CDI <= 5.4 ("promote on use"), pure.

The session row keeps one hash, ``hash2 = H(H(current refresh token))``. A refresh with the current token mints a
child without writing; the child is promoted (becomes current) the first time it or its access token is used.
Anything that is neither current nor an un-promoted child of current is a reused, superseded token: theft.

**The grace window** (``refresh_token_grace_period``, off by default; supertokens-core#1300/#1301). Two requests in
flight with one refresh token P each mint a child (C and X); the first child used is promoted, and its sibling,
which may be what a browser's cookie jar or a mobile app kept, was theft. With a window of ``g`` ms, each promotion
records the hash2 it superseded and when. Within ``g`` of that promotion, and **once**, a refresh with the
superseded token itself (P) or a sibling of the new current (a child of P) answers with a fresh refresh token R
that becomes current at once, with no grace behind it: the client that used the grace carries on, nothing is
revoked, and the lineage it displaced (which, with one cookie jar or one app, nobody holds any more) is theft from
then on, so two holders cannot pass a session back and forth. Outside the window, a second time, or for any older
token, it is theft as before. Only H(H(token)) is ever stored (checklist 16): the current token's H would let a
database dump, with the sealing key beside it, mint children of every session. The invariant: at every moment one
lineage is current, and a token superseded more than ``g`` ago, or reused twice, is always theft.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gatepass.storage.contract import SessionRow
from gatepass.tokens.encoding import secret_equals, sha256_hex


class RefreshOutcome(enum.Enum):
    """What a refresh with the presented token does (``decide_refresh``)."""

    CURRENT = "current"  # mint a child, write nothing
    PROMOTE = "promote"  # the token is a child of current: make it current, then mint its child
    THEFT = "theft"
    GRACE = "grace"  # a just-superseded token within the grace window, once: answer with a new current token


def decide_refresh(stored_hash2: str, token_hash1: str, parent_hash1: str | None) -> RefreshOutcome:
    """``token_hash1`` = H(presented token); ``parent_hash1`` = the parent hash carried inside it."""
    if secret_equals(sha256_hex(token_hash1), stored_hash2):
        return RefreshOutcome.CURRENT
    if parent_hash1 is not None and secret_equals(sha256_hex(parent_hash1), stored_hash2):
        return RefreshOutcome.PROMOTE
    return RefreshOutcome.THEFT


def decide_refresh_with_grace(
    row: SessionRow, token_hash1: str, parent_hash1: str | None, now_ms: int, grace_ms: int
) -> RefreshOutcome:
    """``decide_refresh`` against the stored session, where a theft within the grace window is ``GRACE``."""
    outcome = decide_refresh(row.refresh_token_hash2, token_hash1, parent_hash1)
    if outcome is not RefreshOutcome.THEFT or not _grace_open(row, now_ms, grace_ms):
        return outcome
    previous = row.previous_refresh_token_hash2 or ""
    superseded = secret_equals(sha256_hex(token_hash1), previous)
    sibling = parent_hash1 is not None and secret_equals(sha256_hex(parent_hash1), previous)
    return RefreshOutcome.GRACE if superseded or sibling else RefreshOutcome.THEFT


def _grace_open(row: SessionRow, now_ms: int, grace_ms: int) -> bool:
    """A window is open from a promotion for ``grace_ms``, until its first use (which clears the previous hash)."""
    if grace_ms <= 0 or row.previous_refresh_token_hash2 is None:
        return False
    return row.superseded_at_ms is not None and now_ms < row.superseded_at_ms + grace_ms


@dataclass(frozen=True)
class PromotionDecision:
    """What a verify that reached the database does (``decide_promotion``)."""

    promote: bool  # write hash2 = H(rth1) and extend the session
    mint: bool  # answer with a replacement access token


def decide_promotion(stored_hash2: str, rth1: str, prth1: str | None) -> PromotionDecision:
    """What a verify that reached the database does for an access token with ``rth1``/``prth1``.

    A token on the current lineage (its refresh token is current, or is the child about to be promoted) gets a
    replacement carrying the database payload. A token from an older branch gets none: it stays valid until its
    own ``exp`` and is never extended.
    """
    promote = prth1 is not None and secret_equals(sha256_hex(prth1), stored_hash2)
    already_current = secret_equals(sha256_hex(rth1), stored_hash2)
    return PromotionDecision(promote=promote, mint=promote or already_current)
