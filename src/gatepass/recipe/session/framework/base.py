"""What every framework adapter provides, and how the helpers find the configured one."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.state import SessionState


class Adapter(Protocol):
    """What each framework module provides as ``ADAPTER``: ``view`` and ``remember``."""

    def view(self, request: Any) -> RequestView:
        """The framework-neutral view of ``request`` (method, path, headers, cookies)."""

    def remember(self, request: Any, state: SessionState) -> None:
        """Keep ``state`` with the request so that its response changes reach the response."""


_MODULES = {
    "fastapi": "starlette",
    "starlette": "starlette",
    "flask": "flask",
    "django": "django",  # and Django REST framework, which is Django
    "litestar": "litestar",
}


def adapter_for(framework: str) -> Adapter:
    """The adapter of a configured framework (FastAPI uses Starlette's), imported on first use."""
    module = importlib.import_module(f"gatepass.recipe.session.framework.{_MODULES[framework]}")
    adapter: Adapter = module.ADAPTER
    return adapter
