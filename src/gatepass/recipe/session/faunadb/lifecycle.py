"""The FaunaDB integration's rules, written once for every session SDK it plugs into: gatepass's own
(``integration``) and the official supertokens-python (``supertokens_python``). Each SDK supplies a ``SessionHost``:
how to read a session, store a payload change and revoke, as flow steps; the rules below decide when to mint,
rotate and delete. Below, "Fauna token" is the guide's kind of credential (``credentials.FaunaTokenCredentials``);
with an AccessProvider it is a JWT instead (``access_provider``): minted by one core call instead of a Fauna query,
and never deleted (it lives until ``exp``), so the Fauna steps below cost nothing and the revocations look nothing up.

The Fauna token travels with the session, in the access-token payload: ``faunadbTokenRef`` (its id, not a
credential), and the secret as ``faunadbToken`` (frontend mode) or sealed as ``faunadbTokenSealed`` (backend-only
mode, see ``sealing``). So a create or a refresh costs two core calls (the operation and one regenerate that puts
the token in), and reading the token none.

- create: the first login of a process first checks, in one query, that the key is accepted and the user
  collection exists. Then the session is created, and one Fauna query mints a token for the user's document with
  TTL = the access token's expiry + lag, tagged with the session handle. If Fauna fails (or the core refuses the
  payload with the token in it), the new session is revoked at once, the token deleted, and the login fails with a
  clear error: no session without its token, nor a token without its session.
- refresh: the session is rotated first (a client is never stranded); one Fauna query then mints the replacement
  and deletes the previous token (whose ref the refreshed payload carries). If Fauna fails, the refresh still
  succeeds, the payload says the token is pending, and it is minted again when the token is next asked for.
- revoke (sign-out, revoke one, all of a user's, several, token theft): the sessions' Fauna tokens are found before
  and deleted in one query right after the sessions are revoked; a Fauna failure is logged (never the secret) and
  the sessions stay revoked. The tokens of sessions the core's per-user cap revokes at a create are deleted the
  same way (the create reply lists them with their payloads; gatepass's SDK only, as supertokens-python drops that
  part of the reply). A session that ends any other way loses its token by TTL within the access-token lifetime +
  lag.

Liveness: a token minted at create or refresh lives until its access token's expiry + lag, and every access token
a refresh issues carries a fresh one, so whenever the newest access token is valid its Fauna token is live.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from gatepass.protocol.cdi import RevokedSession
from gatepass.recipe.session.faunadb.credentials import FaunaCredentials, SessionFacts
from gatepass.recipe.session.faunadb.fauna_calls import MintedToken
from gatepass.recipe.session.faunadb.sealing import TokenSeal
from gatepass.recipe.session.steps import Flow

log = logging.getLogger("gatepass.faunadb")

FAUNADB_TOKEN_KEY = "faunadbToken"
FAUNADB_SEALED_TOKEN_KEY = "faunadbTokenSealed"
FAUNADB_TOKEN_REF_KEY = "faunadbTokenRef"
FAUNADB_TOKEN_PENDING_KEY = "faunadbTokenPending"
DEFAULT_LAG_MS = 30_000

S = TypeVar("S")
T = TypeVar("T")
S_contra = TypeVar("S_contra", contravariant=True)


@dataclass
class FaunaSettings:
    """How the integration runs: the kind of Fauna credential (a Fauna token or an AccessProvider JWT), whether
    the secret goes into the access-token payload as is (``faunadbToken``) or sealed (``seal``; ``None`` only in
    frontend mode), and the lag a credential outlives its access token by."""

    credentials: FaunaCredentials
    seal: TokenSeal | None
    lag_ms: int = DEFAULT_LAG_MS

    @property
    def access_faunadb_token_from_frontend(self) -> bool:
        """Frontend mode: the secret travels unsealed, as ``faunadbToken``."""
        return self.seal is None


class SessionHost(Protocol[S_contra]):
    """What the rules need of the SDK a session ``S`` belongs to; each method is a flow, driven by that SDK."""

    def facts(self, session: S_contra) -> SessionFacts:
        """The session's handle, user, payload and access-token expiry."""

    def store(self, session: S_contra, update: dict[str, Any]) -> Flow[bool]:
        """Merge ``update`` into the session's access-token payload (``None`` removes a key) and give the session
        the new access token; ``False`` if the session no longer exists."""

    def revoke(self, session_handle: str) -> Flow[bool]:
        """Revoke one session with the function the integration wraps."""

    def stored_payloads(self, session_handle: str) -> Flow[tuple[dict[str, Any], dict[str, Any]] | None]:
        """The session's stored access-token claims and database data, or ``None`` if it does not exist."""


class FaunaLifecycle:
    """The rules of the module docstring for one app (``setup_checked``: the first login of the process has
    checked Fauna's set-up)."""

    def __init__(self, settings: FaunaSettings) -> None:
        self.settings = settings
        self.setup_checked = False

    def __repr__(self) -> str:
        return f"FaunaLifecycle({self.settings.credentials!r})"

    def before_create(self, user_id: str) -> Flow[None]:
        """Refuse a user id the credential can never serve, and check the set-up once: before any session exists."""
        self.settings.credentials.check_user(user_id)
        if not self.setup_checked:
            yield from self.settings.credentials.check_setup()
            self.setup_checked = True

    def after_create(self, host: SessionHost[S], session: S) -> Flow[None]:
        """Mint the new session's token and store it, or revoke the session (and delete the token) and raise."""
        facts = host.facts(session)
        token: MintedToken | None = None
        try:
            token = yield from self._mint(facts, None)
            stored = yield from self._store(host, session, facts, token)  # the core may refuse the payload
        except Exception:
            yield from host.revoke(facts.session_handle)
            if token is not None and token.ref_id is not None:
                yield from self.delete([token.ref_id])
            raise
        if not stored and token.ref_id is not None:  # the session ended meanwhile: nor a token without it
            yield from self.delete([token.ref_id])

    def after_refresh(self, host: SessionHost[S], session: S) -> Flow[None]:
        """Rotate the refreshed session's token; on a Fauna failure, mark it pending (the refresh stands)."""
        facts = host.facts(session)
        old_ref = yield from self.current_ref(host, facts)
        try:
            token = yield from self._mint(facts, old_ref)
        except Exception as exc:
            log.warning(
                "FaunaDB token not renewed at refresh (session %s): %s; it is minted again when next asked for",
                facts.session_handle,
                type(exc).__name__,
            )
            yield from host.store(session, dict(PENDING))
            return
        yield from self._store(host, session, facts, token)

    def revoking(self, host: SessionHost[Any], handles: list[str], revocation: Flow[T]) -> Flow[T]:
        """Run ``revocation`` (which revokes ``handles``), then delete those sessions' tokens."""
        refs = yield from self.refs(host, handles)
        result = yield from revocation
        yield from self.delete(refs)
        return result

    def secret(self, host: SessionHost[S], session: S) -> Flow[str | None]:
        """The Fauna secret the session's access token carries, minted again if a refresh could not renew it;
        ``None`` if the session no longer exists. A superseded access token may carry a deleted one: the newest
        carries the live one."""
        facts = host.facts(session)
        payload = facts.access_token_payload
        if not payload.get(FAUNADB_TOKEN_PENDING_KEY):
            seal = self.settings.seal
            secret = (
                payload.get(FAUNADB_TOKEN_KEY)
                if seal is None
                else seal.open(payload.get(FAUNADB_SEALED_TOKEN_KEY), facts.session_handle)
            )
            if isinstance(secret, str):
                return str(secret)
        old_ref = yield from self.current_ref(host, facts)
        token = yield from self._mint(facts, old_ref)
        if not (yield from self._store(host, session, facts, token)):
            yield from self.delete([token.ref_id] if token.ref_id is not None else [])
            return None
        return token.secret

    # steps -----------------------------------------------------------------------------------------------------------
    def _mint(self, facts: SessionFacts, old_ref: str | None) -> Flow[MintedToken]:
        expires_at_ms = facts.access_token_expiry_ms + self.settings.lag_ms
        return self.settings.credentials.mint(facts, old_ref, expires_at_ms)

    def _store(self, host: SessionHost[S], session: S, facts: SessionFacts, token: MintedToken) -> Flow[bool]:
        """Put the token in the session's payload (one regenerate: the stored payload and the access token)."""
        update: dict[str, Any] = {FAUNADB_TOKEN_REF_KEY: token.ref_id, FAUNADB_TOKEN_PENDING_KEY: None}
        if self.settings.seal is None:
            update[FAUNADB_TOKEN_KEY] = token.secret
        else:
            update[FAUNADB_SEALED_TOKEN_KEY] = self.settings.seal.seal(token.secret, facts.session_handle)
        stored: bool = yield from host.store(session, update)
        return stored

    def current_ref(self, host: SessionHost[Any], facts: SessionFacts) -> Flow[str | None]:
        """The session's Fauna token ref: in the payload, or, for a session stored before the payload held it,
        in its database data (one core call)."""
        ref = facts.access_token_payload.get(FAUNADB_TOKEN_REF_KEY)
        if isinstance(ref, str) or not self.settings.credentials.revocable:
            return ref if isinstance(ref, str) else None
        stored = yield from host.stored_payloads(facts.session_handle)
        ref = stored[1].get(FAUNADB_TOKEN_REF_KEY) if stored else None
        return ref if isinstance(ref, str) else None

    def refs(self, host: SessionHost[Any], handles: list[str]) -> Flow[list[str]]:
        """The Fauna token refs of these sessions (none to look up for a credential that cannot be revoked)."""
        stored: list[dict[str, Any]] = []
        if not self.settings.credentials.revocable:
            return []
        for handle in handles:
            payloads = yield from host.stored_payloads(handle)
            stored.extend(payloads or ())
        return refs_in(stored)

    def release(self, ended: Iterable[RevokedSession]) -> Flow[None]:
        """Delete the tokens of sessions the core has already ended and described (with their stored access-token
        claims and database data): the per-user cap's at a create, and "sign out everywhere else"."""
        if self.settings.credentials.revocable:
            places = (place for gone in ended for place in (gone.user_data_in_jwt, gone.user_data_in_database))
            yield from self.delete(refs_in(places))

    def delete(self, refs: list[str]) -> Flow[None]:
        """Delete these tokens; a failure is logged (the count and the error's type, never a secret)."""
        if not refs:
            return
        try:
            yield from self.settings.credentials.delete(refs)
        except Exception as exc:
            log.warning("could not delete %d FaunaDB token(s) of revoked sessions: %s", len(refs), type(exc).__name__)


def refs_in(places: Iterable[dict[str, Any]]) -> list[str]:
    """The distinct Fauna token refs these stored payloads name, in order."""
    refs: list[str] = []
    for place in places:
        ref = place.get(FAUNADB_TOKEN_REF_KEY)
        if isinstance(ref, str) and ref not in refs:
            refs.append(ref)
    return refs


PENDING: dict[str, Any] = {FAUNADB_TOKEN_KEY: None, FAUNADB_SEALED_TOKEN_KEY: None, FAUNADB_TOKEN_PENDING_KEY: True}
"""The payload change when a refresh could not renew the token: no secret until it is minted again."""
