"""The Django REST framework test app: the endpoints of ``tests.sdk.apps`` as DRF ``APIView``s with gatepass's
``SessionAuthentication`` and ``HasSession``, on the Django project of ``tests.sdk.django_app`` (whose settings hold
the DRF settings). ``drf_application`` serves this module's ``urlpatterns``, or another URLconf."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# isort: off
from tests.sdk import django_app  # configures Django (and DRF's settings) first

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gatepass.recipe.session import syncio as session_sync
from gatepass.recipe.session.framework.drf import HasSession, SessionAuthentication
from tests.sdk.apps import _admin_only, _user
# isort: on


class Login(APIView):
    """POST /login {userId, payload?, data?}: a new session (no authentication: any token it carries is replaced)."""

    authentication_classes: list[Any] = []

    def post(self, request: Request) -> Response:
        body = request.data
        session = session_sync.create_new_session(
            request, "public", body["userId"], body.get("payload"), body.get("data")
        )
        return Response({"handle": session.get_handle()})


def session_view(
    answer: Callable[[Request], Any],
    authentication: type[SessionAuthentication] = SessionAuthentication,
    permissions: Sequence[Any] = (HasSession,),
) -> Any:
    """A GET/POST view answering ``answer(request)`` as JSON, behind ``authentication`` and ``permissions``."""

    class View(APIView):
        authentication_classes = [authentication]
        permission_classes = list(permissions)

        def get(self, request: Request) -> Response:
            return Response(answer(request))

        def post(self, request: Request) -> Response:
            return Response(answer(request))

    return View.as_view()


def _merge(request: Request) -> Any:
    request.auth.merge_into_access_token_payload(request.data["update"])
    return _user(request.auth)


def _revoke(request: Request) -> Any:
    request.auth.revoke_session()
    return {}


def _session(request: Request) -> Any:
    return _user(request.auth)


ADMIN_ONLY = SessionAuthentication.configured(override_global_claim_validators=_admin_only)
urlpatterns = [
    path("login", Login.as_view()),
    path("protected", session_view(_session)),
    path("optional", session_view(_session, permissions=())),
    path("checkdb", session_view(_session, SessionAuthentication.configured(check_database=True))),
    path("merge", session_view(_merge)),
    path("data", session_view(lambda request: {"data": request.auth.get_session_data_from_database()})),
    path("revoke", session_view(_revoke)),
    path("claim", session_view(_session, ADMIN_ONLY)),
]


def drf_application(urlconf: Any = __name__) -> Any:
    """The Django WSGI application, serving ``urlconf`` (a module name or an object with ``urlpatterns``)."""
    wsgi = django_app.wsgi_application()

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        environ[django_app.URLCONF_MARKER] = urlconf
        return wsgi(environ, start_response)

    return application
