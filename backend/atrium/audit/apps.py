from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "atrium.audit"
    label = "audit"
    verbose_name = "Audit log"
