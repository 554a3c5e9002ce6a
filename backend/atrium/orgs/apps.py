from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "atrium.orgs"
    label = "orgs"
    verbose_name = "Organisations"
