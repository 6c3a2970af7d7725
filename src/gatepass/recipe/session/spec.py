"""What ``session.init(...)`` returns: validated options waiting for the app info and the core connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gatepass.recipe.app_info import AppInfo
from gatepass.recipe.session.config import SessionOptions, build_session_config
from gatepass.recipe.session.state import ClaimValidator

if TYPE_CHECKING:
    from gatepass.recipe.session.core_client import CoreConnection
    from gatepass.recipe.session.recipe import SessionRecipe


@dataclass(frozen=True)
class SessionRecipeSpec:
    options: SessionOptions
    claim_validators: list[ClaimValidator] = field(default_factory=list)

    def build(self, app_info: AppInfo, core: CoreConnection) -> SessionRecipe:
        from gatepass.recipe.session.recipe import SessionRecipe

        build_session_config(app_info, self.options)  # fail here, with the setting's name, before any I/O
        return SessionRecipe(app_info, self.options, core, claim_validators=self.claim_validators)
