from django.apps import AppConfig


class IamConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "iam"
    verbose_name = "Identity and access"

    def ready(self) -> None:
        from iam import signals  # noqa: F401  (connects the access receivers)
