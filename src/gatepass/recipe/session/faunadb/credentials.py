"""What a session's Fauna credential is, behind one seam: a Fauna token minted per session (``FaunaTokenCredentials``,
the guide's way: one Fauna query to mint, rotate or delete) or a JWT the core signs for a Fauna AccessProvider
(``access_provider.AccessProviderJwts``: no Fauna query at all, and nothing to revoke).

The integration asks for a credential valid until the access token's expiry + lag, hands the previous one's ref
when it replaces it, and deletes the refs of revoked sessions; a credential kind that cannot be revoked says so
(``revocable``), and the integration then skips the look-ups that find refs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session.faunadb.fauna_calls import FaunaTokens, MintedToken
from gatepass.recipe.session.steps import Blocking, Flow
from gatepass.untrusted import is_ascii_digits


class SessionFacts(Protocol):
    """What minting a credential needs to know of a session, in any SDK (gatepass's ``SessionState`` is one)."""

    @property
    def session_handle(self) -> str:
        """The session's handle (Fauna tokens are tagged with it)."""

    @property
    def user_id(self) -> str:
        """The user the credential is for."""

    @property
    def access_token_payload(self) -> dict[str, Any]:
        """The payload of the session's newest access token."""

    @property
    def access_token_expiry_ms(self) -> int:
        """When that access token expires, in epoch milliseconds."""


class FaunaCredentials(Protocol):
    """A kind of Fauna credential (see the module docstring)."""

    revocable: bool

    def bind(self, app_info: AppInfo, clock: Callable[[], int]) -> None:
        """Learn the app this recipe serves and its clock (epoch milliseconds), when the recipe is built."""

    def check_user(self, user_id: str) -> None:
        """Refuse, before any session exists, a user id this kind can never serve."""

    def check_setup(self) -> Flow[None]:
        """Check once, before the first session of the process, that Fauna is set up for this kind."""

    def mint(self, state: SessionFacts, old_ref: str | None, expires_at_ms: int) -> Flow[MintedToken]:
        """A credential for ``state``'s user that Fauna refuses after ``expires_at_ms``; ``old_ref`` is deleted
        in the same step when given (revocable kinds)."""

    def delete(self, refs: list[str]) -> Flow[None]:
        """Delete these credentials (revocable kinds; a failure raises)."""


class FaunaTokenCredentials:
    """Fauna tokens, one per session, through ``FaunaTokens`` (each step one Fauna query)."""

    revocable = True

    def __init__(self, tokens: FaunaTokens) -> None:
        self.tokens = tokens

    def __repr__(self) -> str:
        return f"FaunaTokenCredentials(collection={self.tokens.collection!r})"

    def bind(self, app_info: AppInfo, clock: Callable[[], int]) -> None:
        """Nothing to learn: Fauna tokens need neither."""

    def check_user(self, user_id: str) -> None:
        """The user lookup's own check (a document id, or an external id Fauna can store)."""
        self.tokens.users.check(user_id)

    def check_setup(self) -> Flow[None]:
        """The key, the collection and the external-id index, in one query."""
        yield Blocking(self.tokens.check_setup)

    def mint(self, state: SessionFacts, old_ref: str | None, expires_at_ms: int) -> Flow[MintedToken]:
        """Mint the replacement and delete ``old_ref``, in one query (a ref that is no token id is skipped)."""
        user, handle = state.user_id, state.session_handle
        old_ref = old_ref if old_ref is not None and _token_id(old_ref) else None
        token: MintedToken = yield Blocking(lambda: self.tokens.rotate(user, handle, expires_at_ms, old_ref))
        return token

    def delete(self, refs: list[str]) -> Flow[None]:
        """Delete the tokens in one query (refs that are no token ids are skipped)."""
        ids = [ref for ref in refs if _token_id(ref)]
        yield Blocking(lambda: self.tokens.delete(ids))


def _token_id(ref: str) -> bool:
    """A Fauna token's id is a 64-bit number: anything else in ``faunadbTokenRef`` (an app wrote the payload key
    itself) names no token, and is skipped rather than sent to Fauna to fail there."""
    return is_ascii_digits(ref, max_length=19) and int(ref) < 2**63
