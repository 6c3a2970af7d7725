"""What ``session.init(...)`` returns: validated options waiting for the app info and the core connection."""

from __future__ import annotations

from dataclasses import dataclass, field

from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session.config import SessionOptions, build_session_config
from gatepass.recipe.session.core_client import CoreConnection
from gatepass.recipe.session.errors import ErrorHandlers
from gatepass.recipe.session.recipe import Overrides, SessionRecipe
from gatepass.recipe.session.state import AnyValidator


@dataclass(frozen=True)
class SessionRecipeSpec:
    """The session recipe's settings, overrides and error handlers, built into a recipe by ``gatepass.init``."""

    options: SessionOptions
    claim_validators: list[AnyValidator] = field(default_factory=list)
    overrides: Overrides | None = None
    error_handlers: ErrorHandlers | None = None

    def build(self, app_info: AppInfo, core: CoreConnection) -> SessionRecipe:
        """The recipe for this app and core (settings are checked first, naming the wrong one, before any I/O)."""
        build_session_config(app_info, self.options)
        return SessionRecipe(
            app_info,
            self.options,
            core,
            claim_validators=self.claim_validators,
            overrides=self.overrides,
            error_handlers=self.error_handlers,
        )
