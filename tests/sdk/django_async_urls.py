"""The async views' URLconf (see ``django_app.AsyncUrlconf``)."""

from tests.sdk.django_app import _routes

urlpatterns = _routes(True)
