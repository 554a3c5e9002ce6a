from django.apps import AppConfig


class SkillsConfig(AppConfig):
    name = "atrium.skills"
    label = "skills"
    verbose_name = "Skills"
