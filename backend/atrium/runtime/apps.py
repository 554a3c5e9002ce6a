from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "atrium.runtime"
    label = "runtime"
    verbose_name = "Agent runtime"

    def ready(self) -> None:
        from celery.signals import worker_init
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_delete

        from atrium.credentials.consent import consent_listener_add
        from atrium.orgs.models import Organization
        from atrium.orgs.services import member_removal_step_register
        from atrium.runtime import metrics  # noqa: F401  (registers the scrape-time collectors)
        from atrium.runtime.services import lifecycle
        from atrium.runtime.services.consent import run_resume_after_consent
        from atrium.runtime.signals import org_pre_delete, user_pre_delete

        worker_init.connect(_check_store_index, weak=False)
        consent_listener_add(run_resume_after_consent)
        member_removal_step_register(lifecycle.cancel_for_member)
        # What an org or a user leaves in LangGraph's tables goes with them (no foreign keys reach there).
        pre_delete.connect(org_pre_delete, sender=Organization, dispatch_uid="runtime-org-purge")
        pre_delete.connect(user_pre_delete, sender=get_user_model(), dispatch_uid="runtime-user-purge")


def _check_store_index(**kwargs: object) -> None:
    from atrium.runtime.store_index import check_at_start

    check_at_start()
