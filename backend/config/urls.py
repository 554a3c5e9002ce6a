"""The URL map, fixed: web app /, control plane /api/v1/, admin /admin/, Agent Server API /agent."""

from django.contrib import admin
from django.urls import path, re_path

from atrium.core.views import web_app
from config.agent_api import api as agent_api
from config.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("agent/", agent_api.urls),
    # Everything else is a client-side route of the web app.
    re_path(r"^(?!api/|agent/|admin/|static/|assets/).*$", web_app, name="web-app"),
]
