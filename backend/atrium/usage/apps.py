from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "atrium.usage"
    label = "usage"
    verbose_name = "Usage and budgets"
