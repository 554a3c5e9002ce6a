"""The URL map, fixed: web app /, control plane /api/v1/, admin /admin/, Agent Server API /agent."""

from django.contrib import admin
from django.urls import path, re_path

from atrium.core.health import healthz, metrics, readyz
from atrium.core.views import web_app
from config.agent_api import api as agent_api
from config.api import api
from config.custom_routes import project_routes

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("agent/", agent_api.urls),
    # The project's own routes (langgraph.json `http.app`), for whatever under /agent the API has not.
    re_path(r"^agent/(?P<rest>.*)$", project_routes, name="agent-project-routes"),
    # Operator endpoints (atrium/core/health.py): liveness, readiness, Prometheus.
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    # Everything else is a client-side route of the web app.
    re_path(r"^(?!api/|agent/|admin/|static/|assets/|healthz$|readyz$|metrics$).*$", web_app, name="web-app"),
]
