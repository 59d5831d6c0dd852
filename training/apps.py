from django.apps import AppConfig


class TrainingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        # Admin autodiscovery ran in django.contrib.admin's ready() (listed first): every area's admin exists.
        from training.admin.runs import attach_profile_action

        attach_profile_action()
