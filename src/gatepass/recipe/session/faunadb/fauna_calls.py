"""The FQL this integration sends, one query per operation, and the translation of driver failures into clear
errors that never carry a secret.

Importing this module switches off the faunadb driver's start-up check against the package index
(``FaunaClient.check_new_version``, a network call with no timeout in every constructor): offline it would make the
app fail or hang. The driver's FQL v4 deprecation warning is silenced on import for the same reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from faunadb import query as q
    from faunadb.client import FaunaClient as FaunaClient
    from faunadb.errors import BadRequest as BadRequest
    from faunadb.errors import FaunaError, PermissionDenied
    from faunadb.errors import NotFound as NotFound
    from faunadb.errors import Unauthorized as Unauthorized

from gatepass.errors import FaunaIntegrationError, FaunaUnavailableError, FaunaUserNotFoundError
from gatepass.untrusted import is_ascii_digits, value_problem

__all__ = [
    "BadRequest",
    "FaunaClient",
    "FaunaIntegrationError",
    "FaunaTokens",
    "FaunaUnavailableError",
    "FaunaUserNotFoundError",
    "MintedToken",
    "NotFound",
    "Unauthorized",
    "UserLookup",
    "q",
    "validate_user_id",
]


def _no_version_check(self: FaunaClient) -> None:
    return None


FaunaClient.check_new_version = _no_version_check


MAX_EXTERNAL_ID_CHARS = 128  # the core's own limit on user ids
USER_NOT_FOUND = "gatepass: no user document has this external id"


@dataclass(frozen=True)
class MintedToken:
    """A Fauna credential just created: its secret, and its ref id (to delete it by later; ``None`` for a JWT,
    which nothing deletes)."""

    secret: str = field(repr=False)  # the Fauna secret: the ref id is enough to tell tokens apart in a log
    ref_id: str | None


@dataclass(frozen=True)
class UserLookup:
    """How a session's user id names the user's Fauna document: as its numeric document id in ``collection``, or,
    with ``external_id_index``, as the term of an index over the documents (an OAuth subject, a row id of your own
    user table); ``create_on_first_login`` creates ``{data: {<external_id_field>: user id}}`` when none matches."""

    collection: str
    external_id_index: str | None = None
    create_on_first_login: bool = False
    external_id_field: str = "externalId"

    def check(self, user_id: str) -> None:
        """Refuse, before any session exists, a user id that can never name a document."""
        if self.external_id_index is None:
            validate_user_id(user_id)
        elif not user_id or len(user_id) > MAX_EXTERNAL_ID_CHARS or "\x00" in user_id or value_problem(user_id):
            raise FaunaIntegrationError(
                f"an external user id must have 1 to {MAX_EXTERNAL_ID_CHARS} characters, no NUL and no lone surrogate"
            )

    def ref(self, user_id: str) -> Any:
        """The FQL that evaluates to the user's document ref (finding, or creating, it by its external id)."""
        if self.external_id_index is None:
            return q.ref(q.collection(self.collection), user_id)
        match = q.match(q.index(self.external_id_index), user_id)
        missing: Any = q.abort(USER_NOT_FOUND)
        if self.create_on_first_login:
            document = {"data": {self.external_id_field: user_id}}
            missing = q.select("ref", q.create(q.collection(self.collection), document))
        return q.let({"match": match}, q.if_(q.exists(q.var("match")), q.select("ref", q.get(q.var("match"))), missing))


def validate_user_id(user_id: str) -> None:
    """FQL v4 document ids are 64-bit numbers; anything else can never name a user document. ASCII digits only:
    ``str.isdigit()`` accepts ``"²"``, which ``int()`` then refuses with a ValueError (the defect-01 pattern)."""
    if not is_ascii_digits(user_id, max_length=19) or int(user_id) > 2**63 - 1:
        raise FaunaIntegrationError(
            f"user id {user_id!r} is not a FaunaDB document id: with the FaunaDB integration, create_new_session "
            "takes the numeric id of the user's document in user_collection_name"
        )


def _translate(error: Exception, collection: str) -> Exception:
    if isinstance(error, Unauthorized):
        return FaunaIntegrationError("FaunaDB rejected faunadb_client's secret (unauthorized)")
    if isinstance(error, PermissionDenied):
        return FaunaIntegrationError("faunadb_client's key may not create tokens: use a server or admin key")
    if isinstance(error, NotFound):
        return FaunaUserNotFoundError(f"the user's document was not found in the FaunaDB collection {collection!r}")
    if isinstance(error, BadRequest):
        codes = {e.code for e in error.errors}
        if "transaction aborted" in codes and any(e.description == USER_NOT_FOUND for e in error.errors):
            return FaunaUserNotFoundError(f"no document in the FaunaDB collection {collection!r} has this external id")
        if "invalid ref" in codes:
            return FaunaIntegrationError(f"the FaunaDB collection {collection!r} does not exist")
        return FaunaIntegrationError(f"FaunaDB refused the token query ({', '.join(sorted(codes))})")
    if isinstance(error, FaunaError):
        return FaunaUnavailableError(f"FaunaDB failed: {type(error).__name__}")
    return FaunaUnavailableError(f"FaunaDB is unreachable: {type(error).__name__}")


class FaunaTokens:
    """Mints, rotates and deletes the Fauna tokens of sessions, one query each."""

    def __init__(self, client: FaunaClient, users: str | UserLookup) -> None:
        self.client = client
        self.users = users if isinstance(users, UserLookup) else UserLookup(users)
        self.collection = self.users.collection

    def _run(self, expr: Any) -> Any:
        try:
            return self.client.query(expr)
        except Exception as exc:  # the driver raises requests' and its own errors: translate at this boundary
            raise _translate(exc, self.collection) from exc

    def _create(self, user_id: str, session_handle: str, ttl_ms: int) -> Any:
        return q.create(
            q.tokens(),
            {
                "instance": self.users.ref(user_id),
                "ttl": q.epoch(ttl_ms, "milliseconds"),
                "data": {"sessionHandle": session_handle, "issuedBy": "gatepass"},
            },
        )

    @staticmethod
    def _token(result: Any) -> MintedToken:
        return MintedToken(secret=result["secret"], ref_id=str(result["ref"].id()))

    def check_setup(self) -> None:
        """One query proving the key is accepted and the user collection (and the external-id index, if any) exist
        (run before the first login)."""
        index = self.users.external_id_index
        checks = [q.exists(q.collection(self.collection))]
        if index is not None:
            checks.append(q.exists(q.index(index)))
        found = self._run(checks)
        if not found[0]:
            raise FaunaIntegrationError(f"the FaunaDB collection {self.collection!r} does not exist")
        if index is not None and not found[1]:
            raise FaunaIntegrationError(f"the FaunaDB index {index!r} (external user ids) does not exist")

    def mint(self, user_id: str, session_handle: str, ttl_ms: int) -> MintedToken:
        """A new token for the user's document, tagged with the session handle, that Fauna deletes at ``ttl_ms``
        (epoch milliseconds)."""
        return self._token(self._run(self._create(user_id, session_handle, ttl_ms)))

    def rotate(self, user_id: str, session_handle: str, ttl_ms: int, old_ref_id: str | None) -> MintedToken:
        """Mint the replacement and delete the previous token in one transaction."""
        if old_ref_id is None:
            return self.mint(user_id, session_handle, ttl_ms)
        old = q.ref(q.tokens(), old_ref_id)
        expr = q.let(
            {"replacement": self._create(user_id, session_handle, ttl_ms)},
            q.do(q.if_(q.exists(old), q.delete(old), None), q.var("replacement")),
        )
        return self._token(self._run(expr))

    def delete(self, ref_ids: list[str]) -> None:
        """Delete these tokens in one query, skipping those already gone (an empty list sends no query)."""
        if not ref_ids:
            return
        refs = [q.ref(q.tokens(), ref_id) for ref_id in ref_ids]
        self._run(q.foreach(q.lambda_("r", q.if_(q.exists(q.var("r")), q.delete(q.var("r")), None)), refs))
