"""The refresh-token rotation and theft-detection algorithm of CDI <= 5.4 ("promote on use"), pure.

The session row keeps one hash, ``hash2 = H(H(current refresh token))``. A refresh with the current token mints a
child without writing; the child is promoted (becomes current) the first time it or its access token is used.
Anything that is neither current nor an un-promoted child of current is a reused, superseded token: theft.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from gatepass.tokens.encoding import secret_equals, sha256_hex


class RefreshOutcome(enum.Enum):
    """What a refresh with the presented token does (``decide_refresh``)."""

    CURRENT = "current"  # mint a child, write nothing
    PROMOTE = "promote"  # the token is a child of current: make it current, then mint its child
    THEFT = "theft"


def decide_refresh(stored_hash2: str, token_hash1: str, parent_hash1: str | None) -> RefreshOutcome:
    """``token_hash1`` = H(presented token); ``parent_hash1`` = the parent hash carried inside it."""
    if secret_equals(sha256_hex(token_hash1), stored_hash2):
        return RefreshOutcome.CURRENT
    if parent_hash1 is not None and secret_equals(sha256_hex(parent_hash1), stored_hash2):
        return RefreshOutcome.PROMOTE
    return RefreshOutcome.THEFT


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
