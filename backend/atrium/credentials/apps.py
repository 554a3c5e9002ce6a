from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "atrium.credentials"
    label = "credentials"
    verbose_name = "Credentials"

    def ready(self) -> None:
        # Fail at start-up, not at the first secret read, when the configured keys are malformed.
        from atrium.credentials.vault import keyring

        keyring()
