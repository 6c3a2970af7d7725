"""``get_faunadb_token`` for the official SDK's async code (FastAPI, Starlette, async Django)."""

from __future__ import annotations

from typing import Any

from supertokens_python.recipe.session.exceptions import raise_unauthorised_exception
from supertokens_python.recipe.session.interfaces import SessionContainer

from gatepass.recipe.session.faunadb.supertokens_python.host import installed_override


async def get_faunadb_token(session: SessionContainer, user_context: dict[str, Any] | None = None) -> str:
    """The Fauna secret of ``session`` (from ``verify_session``, ``get_session`` or ``create_new_session``).

    It is read from the access-token payload (no Fauna query, no core call), unless a refresh could not renew it
    while Fauna was down: then it is minted now and the session's access token updated (sent with the response).
    Raises the SDK's ``UnauthorisedError`` (a 401) if the session no longer exists, and ``FaunaUnavailableError`` if
    a needed mint fails.
    """
    secret = await installed_override(session).get_faunadb_token(session, {} if user_context is None else user_context)
    if secret is None:
        raise_unauthorised_exception("Session does not exist anymore.")
    return secret
