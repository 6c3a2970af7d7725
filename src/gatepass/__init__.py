"""gatepass: a SuperTokens-compatible session system in Python.

``gatepass.init(app_info=AppInfo(...), core=RemoteCore(...) | EmbeddedCore(...), framework=..., recipe_list=[...])``
configures the backend SDK; ``gatepass core`` (the CLI) runs the session core service.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["AppInfo", "EmbeddedCore", "RemoteCore", "get_instance", "init", "reset"]


def __getattr__(name: str) -> Any:
    # Imported lazily so that ``import gatepass`` (the core, the CLI) does not load the SDK.
    if name in ("init", "get_instance", "reset"):
        from gatepass.recipe import instance

        return getattr(instance, name)
    if name == "AppInfo":
        from gatepass.recipe.app_info import AppInfo

        return AppInfo
    if name in ("RemoteCore", "EmbeddedCore"):
        from gatepass.recipe.session import core_client

        return getattr(core_client, name)
    raise AttributeError(name)
