"""What a session may store: checked before any write, never found out after one (issue 8: a create with
``1e309`` in its payload used to insert the row and then fail while signing)."""

from __future__ import annotations

from typing import Any

from gatepass.errors import BadRequest
from gatepass.tokens import access_token
from gatepass.tokens.encoding import compact_json


def check_access_token_payload(payload: dict[str, Any]) -> None:
    """A custom access-token payload: none of the claims minting sets, and storable."""
    clashes = access_token.generated_claims_in(payload)
    if clashes:
        raise BadRequest(f"The access token payload contains protected claims: {', '.join(clashes)}")
    check_storable(payload, "userDataInJWT")


def check_storable(value: dict[str, Any], field: str) -> None:
    """Whatever we store must encode as JSON again (and so be read back by every later operation)."""
    try:
        compact_json(value)
    except (ValueError, TypeError) as exc:  # non-finite numbers, lone surrogates, non-JSON types
        raise BadRequest(f"Field name '{field}' is invalid in JSON input") from exc


def no_session() -> dict[str, Any]:
    """The handle-based APIs' answer for a session that does not exist."""
    return {"status": "UNAUTHORISED", "message": "Session does not exist."}
