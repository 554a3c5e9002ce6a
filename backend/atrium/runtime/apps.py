from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "atrium.runtime"
    label = "runtime"
    verbose_name = "Agent runtime"
