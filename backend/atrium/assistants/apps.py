from django.apps import AppConfig


class AssistantsConfig(AppConfig):
    name = "atrium.assistants"
    label = "assistants"
