from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "atrium.core"
    label = "core"
