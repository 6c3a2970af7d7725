"""Compact JWS signing (RFC 7515 section 7.1): ``b64url(header) . b64url(payload) . b64url(signature)``.

The one place gatepass signs a JWT, for session access tokens and for the JWT recipe alike. The header's ``alg``
and ``kid`` come from the key record, never from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping

from gatepass.tokens.encoding import b64url_encode, compact_json
from gatepass.tokens.keys import SigningKey


def sign_compact(payload: Mapping[str, object], key: SigningKey, **header_fields: str) -> str:
    """Sign ``payload`` with ``key``; ``header_fields`` add to ``{"alg", "typ": "JWT", "kid"}`` (e.g. version)."""
    header = {"alg": key.algorithm, "typ": "JWT", "kid": key.kid, **header_fields}
    signing_input = b64url_encode(compact_json(header)) + "." + b64url_encode(compact_json(dict(payload)))
    return signing_input + "." + b64url_encode(key.sign(signing_input.encode("ascii")))
