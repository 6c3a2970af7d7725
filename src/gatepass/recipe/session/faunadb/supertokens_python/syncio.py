"""``get_faunadb_token`` for the official SDK's sync code (Flask, sync Django).

The official SDK's API is async only: its sync functions run them on its own event loop
(``supertokens_python.async_to_sync_wrapper.sync``), and so does this one, so it behaves exactly like the SDK's
``syncio`` functions beside it (and, like them, cannot be called from inside a running event loop).
"""

from __future__ import annotations

from typing import Any

from supertokens_python.async_to_sync_wrapper import sync
from supertokens_python.recipe.session.interfaces import SessionContainer

from gatepass.recipe.session.faunadb.supertokens_python import asyncio as async_api


def get_faunadb_token(session: SessionContainer, user_context: dict[str, Any] | None = None) -> str:
    """The Fauna secret of ``session``; see ``asyncio.get_faunadb_token``."""
    return sync(async_api.get_faunadb_token(session, user_context))
