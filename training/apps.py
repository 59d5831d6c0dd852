from django.apps import AppConfig


class TrainingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "training"
    verbose_name = "Training"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from training.models import TrainingRun
        from training.services.optuna_studies import run_deleted

        post_delete.connect(run_deleted, sender=TrainingRun, dispatch_uid="training-run-optuna-studies")
