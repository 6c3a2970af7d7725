"""The FastAPI adapter, where supertokens-python users look for it (``recipe.session.framework.fastapi``): FastAPI
is Starlette, so this is the Starlette adapter (``GatepassMiddleware``, the ``verify_session()`` dependency)::

    from gatepass.recipe.session.framework.fastapi import GatepassMiddleware, verify_session
"""

from __future__ import annotations

from gatepass.recipe.session.framework.starlette import GatepassMiddleware, verify_session

__all__ = ["GatepassMiddleware", "verify_session"]
