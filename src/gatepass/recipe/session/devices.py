"""gatepass's "your devices" operations as flows (see ``steps``), and their original implementations for the
recipe's overridable functions: a user's live sessions with when and where they were created and last used, and
revoking all of a user's sessions but one (the core's extension, ``protocol.cdi_devices``). Each is one core call.
"""

from __future__ import annotations

from typing import Any

from gatepass.protocol.cdi import ListUserSessions, NoSession, RemoveOtherSessions, RevokedSession, UserSession
from gatepass.recipe.session.flows import RecipeContext
from gatepass.recipe.session.steps import Flow, ask


def get_user_sessions(ctx: RecipeContext, user_id: str, tenant_id: str | None) -> Flow[list[UserSession]]:
    """A user's live sessions in one tenant (``None``: in all), oldest first."""
    listed = yield from ask(ListUserSessions(user_id=user_id, tenant_id=tenant_id))
    return list(listed.sessions)


def revoke_other_sessions(
    ctx: RecipeContext, session_handle: str, tenant_id: str | None
) -> Flow[list[RevokedSession] | None]:
    """Revoke the sessions of ``session_handle``'s user but that one, in one tenant (``None``: in all); ``None``
    (and nothing revoked) if that session does not exist."""
    reply = yield from ask(RemoveOtherSessions(session_handle=session_handle, tenant_id=tenant_id))
    return None if isinstance(reply, NoSession) else list(reply.revoked)


class DeviceOriginals:
    """The original ``get_user_sessions`` and ``revoke_other_sessions``, bound to one recipe (a part of
    ``recipe._Originals``)."""

    recipe: RecipeContext

    def get_user_sessions(
        self, *, user_id: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> Flow[list[UserSession]]:
        """See ``signatures.GetUserSessions``."""
        return get_user_sessions(self.recipe, user_id, tenant_id)

    def revoke_other_sessions(
        self, *, session_handle: str, tenant_id: str | None, user_context: dict[str, Any]
    ) -> Flow[list[RevokedSession] | None]:
        """See ``signatures.RevokeOtherSessions``."""
        return revoke_other_sessions(self.recipe, session_handle, tenant_id)
