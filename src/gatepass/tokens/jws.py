"""Compact JWS signing (RFC 7515 section 7.1): ``b64url(header) . b64url(payload) . b64url(signature)``.

The one place gatepass signs a JWT, for session access tokens and for the JWT recipe alike. The header's ``alg``
and ``kid`` come from the key record, never from the caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gatepass.tokens.encoding import b64url_encode, compact_json
from gatepass.tokens.keys import SigningKey


@dataclass(frozen=True)
class Unsigned:
    """A compact JWS but for its signature. ``sign`` finishes it: the RSA work, which releases the GIL, so a server
    may do it on a worker thread while its event loop goes on."""

    signing_input: str = field(repr=False)  # the claims (an anti-CSRF token among them): never in a repr
    key: SigningKey = field(repr=False)

    def sign(self) -> str:
        """The signed compact JWS."""
        return self.signing_input + "." + b64url_encode(self.key.sign(self.signing_input.encode("ascii")))


def prepare_compact(payload: Mapping[str, object], key: SigningKey, **header_fields: str) -> Unsigned:
    """``payload`` ready to be signed with ``key``; ``header_fields`` add to ``{"alg", "typ": "JWT", "kid"}``
    (e.g. version)."""
    header = {"alg": key.algorithm, "typ": "JWT", "kid": key.kid, **header_fields}
    return Unsigned(b64url_encode(compact_json(header)) + "." + b64url_encode(compact_json(dict(payload))), key)


def sign_compact(payload: Mapping[str, object], key: SigningKey, **header_fields: str) -> str:
    """Sign ``payload`` with ``key`` (``prepare_compact``, then ``Unsigned.sign``)."""
    return prepare_compact(payload, key, **header_fields).sign()
