"""Django REST framework (sync), on gatepass's Django ``Middleware`` (it serves refresh and sign-out and sets the
session cookies and headers): ``SessionAuthentication`` makes ``request.user`` a ``SessionUser`` and ``request.auth``
the ``SessionContainer``; ``HasSession`` and ``HasClaims`` refuse with ``SessionRefused``, an ``APIException`` with
upstream's status and body, rendered by DRF's exception handling::

    MIDDLEWARE = [..., "gatepass.recipe.session.framework.django.Middleware"]
    REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ["gatepass.recipe.session.framework.drf.SessionAuthentication"]}

    class Admin(APIView):
        permission_classes = [HasClaims(UserRoleClaim.validators.includes("admin"))]
        def get(self, request): return Response({"user": request.user.user_id})
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.http import HttpRequest
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.permissions import BasePermission, OperationHolderMixin

from gatepass.errors import ConfigurationError
from gatepass.recipe.instance import Gatepass
from gatepass.recipe.session.container import SessionContainer
from gatepass.recipe.session.errors import SessionError
from gatepass.recipe.session.flows import NO_SESSION
from gatepass.recipe.session.framework.django import ADAPTER, remember_changes
from gatepass.recipe.session.outcomes import Refusal, Unauthorised
from gatepass.recipe.session.state import AnyValidator, GlobalValidatorsOverride, SessionState, VerifyOptions
from gatepass.recipe.session.steps import run_sync

Override = GlobalValidatorsOverride
_UNVERIFIED = ("OPTIONS", "TRACE")  # as ``verify_session``: preflights and traces pass unverified


def _unwrapped(request: Any) -> tuple[HttpRequest, Gatepass]:
    """The ``HttpRequest`` a DRF ``Request`` wraps, and the gatepass instance the Django ``Middleware`` put on it."""
    http_request = getattr(request, "_request", request)
    gp: Gatepass | None = http_request.__dict__.get("gatepass_instance")
    if gp is None:
        raise ConfigurationError('the DRF adapter needs "gatepass.recipe.session.framework.django.Middleware"')
    return http_request, gp


class SessionRefused(APIException):  # type: ignore[misc]
    """A refused session as DRF's exception: status and body are the recipe's answer to ``refusal`` (custom
    ``ErrorHandlers`` apply), and its cookie and header changes (clearing tokens, say) reach the response."""

    def __init__(self, request: Any, refusal: Refusal) -> None:
        http_request, gp = _unwrapped(request)
        result = run_sync(gp.session.answer(refusal, ADAPTER.view(http_request)), gp.session)
        super().__init__("session refused")
        self.status_code = result.status
        self.detail, self.refusal = result.body, refusal  # as is: APIException would stringify nested values
        remember_changes(http_request, result.changes)


class SessionUser:
    """``request.user`` for a verified session: ``user_id`` (also ``pk``, ``id``), ``tenant_id``, ``session``."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, session: SessionContainer) -> None:
        self.session = session
        self.user_id = self.pk = self.id = session.get_user_id()
        self.tenant_id = session.get_tenant_id()

    def __str__(self) -> str:
        return self.user_id

    def __repr__(self) -> str:
        return f"SessionUser(user_id={self.user_id!r}, tenant_id={self.tenant_id!r})"


class SessionAuthentication(BaseAuthentication):  # type: ignore[misc]
    """Verifies the request's session (none: ``None``, so other authenticators may try; refused:
    ``SessionRefused``). ``configured(...)`` makes a subclass with other verify options."""

    anti_csrf_check: ClassVar[bool | None] = None
    check_database: ClassVar[bool] = False
    override_global_claim_validators: ClassVar[Override | None] = None

    @classmethod
    def configured(
        cls,
        *,
        anti_csrf_check: bool | None = None,
        check_database: bool = False,
        override_global_claim_validators: Override | None = None,
    ) -> type[SessionAuthentication]:
        """A subclass verifying with these options (DRF instantiates authentication classes without arguments)."""
        override = staticmethod(override_global_claim_validators) if override_global_claim_validators else None
        options = {"anti_csrf_check": anti_csrf_check, "check_database": check_database}
        return type(cls.__name__, (cls,), {**options, "override_global_claim_validators": override})

    def authenticate(self, request: Any) -> tuple[SessionUser, SessionContainer] | None:
        """``(SessionUser, SessionContainer)`` for a verified session, ``None`` without one; ``SessionRefused``."""
        http_request, gp = _unwrapped(request)
        if http_request.method in _UNVERIFIED:
            return None
        cls = type(self)
        options = VerifyOptions(False, cls.anti_csrf_check, cls.check_database, cls.override_global_claim_validators)
        flow = gp.session.functions.get_session(request=ADAPTER.view(http_request), options=options, user_context={})
        state = run_sync(flow, gp.session)
        if state is None:
            return None
        if not isinstance(state, SessionState):
            raise SessionRefused(request, state)
        ADAPTER.remember(http_request, state)
        container = SessionContainer(gp.session, state)
        return SessionUser(container), container

    def authenticate_header(self, request: Any) -> str:
        """The ``WWW-Authenticate`` value of DRF's own 401s (without one DRF would answer 403)."""
        return "Session"


class HasSession(OperationHolderMixin, BasePermission):  # type: ignore[misc]
    """Allows a request with a verified session; without one, upstream's 401 ``{"message": "unauthorised"}``."""

    def __call__(self) -> HasSession:
        """DRF instantiates permission classes: an instance stands for itself."""
        return self

    def has_permission(self, request: Any, view: Any) -> bool:
        """``True`` with a session (and for OPTIONS/TRACE); else ``SessionRefused``."""
        if request.method not in _UNVERIFIED and not isinstance(request.auth, SessionContainer):
            raise SessionRefused(request, Unauthorised(NO_SESSION, clear_tokens=False))
        return True


class HasClaims(HasSession):
    """``HasSession``, then the session must pass ``validators`` (a missing or stale claim is fetched first);
    failing, upstream's 403 ``{"message": "invalid claim", "claimValidationErrors": [...]}``."""

    def __init__(self, *validators: AnyValidator) -> None:
        self.validators = list(validators)

    def has_permission(self, request: Any, view: Any) -> bool:
        """``True`` if the session passes the validators; else ``SessionRefused``."""
        super().has_permission(request, view)  # no session: refused
        if request.method not in _UNVERIFIED:
            try:
                request.auth.assert_claims(self.validators)
            except SessionError as error:
                raise SessionRefused(request, error.outcome) from error
        return True
