from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "atrium.runtime"
    label = "runtime"
    verbose_name = "Agent runtime"

    def ready(self) -> None:
        from atrium.credentials.consent import consent_listener_add
        from atrium.runtime import metrics  # noqa: F401  (registers the scrape-time collectors)
        from atrium.runtime.services.consent import run_resume_after_consent

        consent_listener_add(run_resume_after_consent)
