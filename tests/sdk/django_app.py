"""A Django project in one module for the adapter tests: sync views served over WSGI, and the same views written
async, served over ASGI. The gatepass instance is the process default (``gatepass.init``)."""

from __future__ import annotations

import json
from typing import Any

import django
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="gatepass-tests-only",
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["*"],
        MIDDLEWARE=["tests.sdk.django_app.AsyncUrlconf", "gatepass.recipe.session.framework.django.Middleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
        REST_FRAMEWORK={  # the DRF app (tests/sdk/drf_app.py): no django.contrib.auth, JSON only
            "UNAUTHENTICATED_USER": None,
            "DEFAULT_AUTHENTICATION_CLASSES": ["gatepass.recipe.session.framework.drf.SessionAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": [],
            "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
            "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        },
    )
    django.setup()

from inspect import iscoroutinefunction  # noqa: E402

from asgiref.sync import markcoroutinefunction  # noqa: E402
from django.core.handlers.asgi import ASGIRequest  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from gatepass.recipe.session import asyncio as session_async  # noqa: E402
from gatepass.recipe.session import syncio as session_sync  # noqa: E402
from gatepass.recipe.session.framework.django import verify_session  # noqa: E402
from tests.sdk.apps import _admin_only, _user  # noqa: E402


@csrf_exempt
def login(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    session = session_sync.create_new_session(request, "public", body["userId"], body.get("payload"), body.get("data"))
    return JsonResponse({"handle": session.get_handle()})


@csrf_exempt
async def alogin(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    session = await session_async.create_new_session(
        request, "public", body["userId"], body.get("payload"), body.get("data")
    )
    return JsonResponse({"handle": session.get_handle()})


def _sync_view(**options: Any) -> Any:
    @csrf_exempt
    @verify_session(**options)
    def view(request: HttpRequest) -> JsonResponse:
        session = request.gatepass_session  # type: ignore[attr-defined]
        if request.path == "/merge":
            session.merge_into_access_token_payload(json.loads(request.body)["update"])
        elif request.path == "/data":
            return JsonResponse({"data": session.get_session_data_from_database()})
        elif request.path == "/revoke":
            session.revoke_session()
            return JsonResponse({})
        return JsonResponse(_user(session))

    return view


def _async_view(**options: Any) -> Any:
    @csrf_exempt
    @verify_session(**options)
    async def view(request: HttpRequest) -> JsonResponse:
        session = request.gatepass_session  # type: ignore[attr-defined]
        if request.path == "/merge":
            await session.merge_into_access_token_payload(json.loads(request.body)["update"])
        elif request.path == "/data":
            return JsonResponse({"data": await session.get_session_data_from_database()})
        elif request.path == "/revoke":
            await session.revoke_session()
            return JsonResponse({})
        return JsonResponse(_user(session))

    return view


def _routes(is_async: bool) -> list[Any]:
    make = _async_view if is_async else _sync_view
    return [
        path("login", alogin if is_async else login),
        path("protected", make()),
        path("optional", make(session_required=False)),
        path("checkdb", make(check_database=True)),
        path("merge", make()),
        path("data", make()),
        path("revoke", make()),
        path("claim", make(override_global_claim_validators=_admin_only)),
    ]


urlpatterns = _routes(False)


URLCONF_MARKER = "gatepass.test_urlconf"


class AsyncUrlconf:
    """Requests that arrive over ASGI use the async views (``django_async_urls``); a WSGI environ can name another
    URLconf (a module name or an object with ``urlpatterns``) under ``URLCONF_MARKER`` (the DRF app's)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if isinstance(request, ASGIRequest):
            request.urlconf = "tests.sdk.django_async_urls"
        elif URLCONF_MARKER in request.META:
            request.urlconf = request.META[URLCONF_MARKER]
        return self.get_response(request)


def wsgi_application() -> Any:
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()


def asgi_application() -> Any:
    from django.core.asgi import get_asgi_application

    return get_asgi_application()
