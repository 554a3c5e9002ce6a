"""The ASGI entry point: one server for the web app, the control plane, the admin and /agent."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

application = get_asgi_application()
