from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "atrium.runtime"
    label = "runtime"
    verbose_name = "Agent runtime"

    def ready(self) -> None:
        from celery.signals import worker_init

        from atrium.credentials.consent import consent_listener_add
        from atrium.orgs.services import member_removal_step_register
        from atrium.runtime import metrics  # noqa: F401  (registers the scrape-time collectors)
        from atrium.runtime.services import lifecycle
        from atrium.runtime.services.consent import run_resume_after_consent

        worker_init.connect(_check_store_index, weak=False)
        consent_listener_add(run_resume_after_consent)
        member_removal_step_register(lifecycle.cancel_for_member)


def _check_store_index(**kwargs: object) -> None:
    from atrium.runtime.store_index import check_at_start

    check_at_start()
