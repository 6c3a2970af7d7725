"""Session claims with supertokens-python 0.31's names, signatures and payload shape (see ``base``)::

from gatepass.recipe.session.claims import PrimitiveArrayClaim

RolesClaim = PrimitiveArrayClaim("st-role", lambda user_id, *_: roles_of(user_id))
validator = RolesClaim.validators.includes("admin")
"""

from __future__ import annotations

from gatepass.recipe.session.claims.array import PrimitiveArrayClaim, PrimitiveArrayClaimValidators
from gatepass.recipe.session.claims.base import (
    ClaimValidationResult,
    GetClaimValueOkResult,
    SessionClaim,
    SessionClaimValidator,
    SessionDoesNotExistError,
)
from gatepass.recipe.session.claims.primitive import (
    BooleanClaim,
    BooleanClaimValidators,
    PrimitiveClaim,
    PrimitiveClaimValidators,
)

__all__ = [
    "BooleanClaim",
    "BooleanClaimValidators",
    "ClaimValidationResult",
    "GetClaimValueOkResult",
    "PrimitiveArrayClaim",
    "PrimitiveArrayClaimValidators",
    "PrimitiveClaim",
    "PrimitiveClaimValidators",
    "SessionClaim",
    "SessionClaimValidator",
    "SessionDoesNotExistError",
]
