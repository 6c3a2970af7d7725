"""What every framework adapter provides, and how the helpers find the configured one."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.state import SessionState


class Adapter(Protocol):
    def view(self, request: Any) -> RequestView:
        """The framework-neutral view of ``request`` (method, path, headers, cookies)."""

    def remember(self, request: Any, state: SessionState) -> None:
        """Keep ``state`` with the request so that its response changes reach the response."""


_MODULES = {"fastapi": "starlette", "starlette": "starlette", "flask": "flask", "django": "django"}


def adapter_for(framework: str) -> Adapter:
    module = importlib.import_module(f"gatepass.recipe.session.framework.{_MODULES[framework]}")
    adapter: Adapter = module.ADAPTER
    return adapter
