"""The Agent Server API, mounted at /agent."""

from django.urls import path

from atrium.runtime.views import ok

urlpatterns = [
    path("ok", ok, name="agent-ok"),
]
