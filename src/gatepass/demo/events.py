"""One log line per session event the demo's user causes: login and sign-up (logged by the routes in ``app``),
refresh and sign-out (served by the SDK, so logged here by wrapping its functions and APIs, the SDK's own way of
customising). A line names the event and the user id, never a token or a Fauna secret."""

from __future__ import annotations

import logging
from typing import Any

from gatepass.recipe.session.http_types import RequestView
from gatepass.recipe.session.outcomes import Refusal
from gatepass.recipe.session.recipe import APIInterface, Overrides, RecipeInterface
from gatepass.recipe.session.signatures import ApiResult
from gatepass.recipe.session.state import SessionState, VerifyOptions
from gatepass.recipe.session.steps import Flow

log = logging.getLogger("gatepass.demo")

# the options the SDK's own sign-out verifies with: any session, whatever its claims
_SIGN_OUT_OPTIONS = VerifyOptions(session_required=True, override_global_claim_validators=lambda *_: [])


def _log_refreshes(original: RecipeInterface) -> RecipeInterface:
    refresh = original.refresh_session

    def refresh_session(
        *, request: RequestView, disable_anti_csrf: bool | None = None, user_context: dict[str, Any]
    ) -> Flow[SessionState | Refusal]:
        state = yield from refresh(request=request, disable_anti_csrf=disable_anti_csrf, user_context=user_context)
        if isinstance(state, SessionState):
            log.info("refresh: user=%s", state.user_id)
        return state

    original.refresh_session = refresh_session
    return original


def _log_sign_outs(original: APIInterface) -> APIInterface:
    sign_out = original.signout_post
    recipe = original.recipe

    def signout_post(*, request: RequestView, user_context: dict[str, Any]) -> Flow[ApiResult]:
        # whose session it is: the answer does not say, so ask the same question the sign-out asks (a local verify)
        verify = recipe.functions.get_session
        state = yield from verify(request=request, options=_SIGN_OUT_OPTIONS, user_context=user_context)
        result = yield from sign_out(request=request, user_context=user_context)
        if result.status == 200 and isinstance(state, SessionState):
            log.info("sign-out: user=%s", state.user_id)
        return result

    original.signout_post = signout_post
    return original


def logging_overrides() -> Overrides:
    """The recipe overrides that log each refresh and sign-out (for ``faunadb.init(override=...)``)."""
    return Overrides(functions=_log_refreshes, apis=_log_sign_outs)
