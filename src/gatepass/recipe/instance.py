"""``gatepass.init`` (defined here, re-exported by the package): app info, the core connection, the framework
and the recipes, validated in one place.

``init`` returns a ``Gatepass`` object and also makes it the process default that the module-level helpers
(``gatepass.recipe.session.asyncio`` / ``syncio``) and the framework adapters use when none is passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from gatepass.errors import ConfigurationError
from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session.core_client import CoreConnection, EmbeddedCore, RemoteCore
from gatepass.recipe.session.recipe import SessionRecipe
from gatepass.recipe.session.spec import SessionRecipeSpec

Framework = Literal["fastapi", "starlette", "flask", "django", "litestar"]
FRAMEWORKS = ("fastapi", "starlette", "flask", "django", "litestar")


@dataclass
class Gatepass:
    """One configured gatepass (what ``init`` and ``create`` return)."""

    app_info: AppInfo
    core: CoreConnection
    framework: Framework
    session: SessionRecipe

    def close(self) -> None:
        """Close the core connection (the HTTP client, or the embedded core's database)."""
        self.core.close()


_default: Gatepass | None = None


def init(
    *,
    app_info: AppInfo,
    core: CoreConnection,
    framework: Framework,
    recipe_list: Sequence[Any],
) -> Gatepass:
    """Configure gatepass and make it the process default; raises ``ConfigurationError`` naming the first wrong
    setting."""
    global _default
    _default = create(app_info=app_info, core=core, framework=framework, recipe_list=recipe_list)
    return _default


def create(
    *,
    app_info: AppInfo,
    core: CoreConnection,
    framework: Framework,
    recipe_list: Sequence[Any],
) -> Gatepass:
    """Like ``init`` without touching the process default: for several independent instances in one process."""
    if not isinstance(app_info, AppInfo):
        raise ConfigurationError("app_info must be gatepass.AppInfo(app_name=..., api_domain=..., website_domain=...)")
    if not isinstance(core, (RemoteCore, EmbeddedCore)):
        raise ConfigurationError("core must be RemoteCore(connection_uri, api_key) or EmbeddedCore(database_url)")
    if framework not in FRAMEWORKS:
        raise ConfigurationError(f"framework must be one of {', '.join(FRAMEWORKS)}, got {framework!r}")
    specs = [r for r in recipe_list if isinstance(r, SessionRecipeSpec)]
    unknown = [r for r in recipe_list if not isinstance(r, SessionRecipeSpec)]
    if unknown:
        raise ConfigurationError(f"recipe_list holds something that is not a recipe: {unknown[0]!r}")
    if len(specs) != 1:
        raise ConfigurationError("recipe_list must contain exactly one session recipe (session.init(...))")
    return Gatepass(app_info, core, framework, specs[0].build(app_info, core))


def set_default(instance: Gatepass | None) -> None:
    """Make ``instance`` the process default (``None``: no default); the previous one is not closed."""
    global _default
    _default = instance


def get_instance() -> Gatepass:
    """The process default; ``ConfigurationError`` if there is none (``init`` not called)."""
    if _default is None:
        raise ConfigurationError("gatepass is not initialised: call gatepass.init(...) first")
    return _default


def reset() -> None:
    """Forget the default instance (tests, or re-initialisation)."""
    global _default
    if _default is not None:
        _default.close()
    _default = None
