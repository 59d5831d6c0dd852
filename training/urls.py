from django.urls import path

from training.api.views.runs import RunViewSet
from training.views import health, registry, runs, sweeps

app_name = "training"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("", runs.home, name="home"),
    path("runs/", runs.run_list, name="run_list"),
    path("runs/new/", runs.run_new, name="run_new"),
    path("runs/compare/", runs.run_compare, name="run_compare"),
    path("runs/<int:run_id>/", runs.run_detail, name="run_detail"),
    path("runs/<int:run_id>/cancel/", runs.run_cancel, name="run_cancel"),
    path("runs/<int:run_id>/rerun/", runs.run_rerun, name="run_rerun"),
    path("runs/<int:run_id>/promote/", registry.run_promote, name="run_promote"),
    path("models/", registry.model_list, name="model_list"),
    path("schedules/", registry.schedule_list, name="schedule_list"),
    path("runs/<int:run_id>/run.json", runs.run_export, name="run_export"),
    path("runs/<int:run_id>/artifacts.zip", runs.run_artifacts_zip, name="run_artifacts_zip"),
    path("runs/<int:run_id>/files/<path:name>", runs.run_file, name="run_file"),
    path("sweeps/", sweeps.sweep_list, name="sweep_list"),
    path("sweeps/new/", sweeps.sweep_new, name="sweep_new"),
    path("sweeps/<int:sweep_id>/", sweeps.sweep_detail, name="sweep_detail"),
    path("sweeps/<int:sweep_id>/cancel/", sweeps.sweep_cancel_view, name="sweep_cancel"),
    path("sweeps/<int:sweep_id>/save-profile/", sweeps.sweep_save_profile, name="sweep_save_profile"),
    # The run page polls this name; the DRF endpoint itself (training.api) answers the URL.
    path("api/runs/<int:pk>/", RunViewSet.as_view({"get": "retrieve"}), name="run_api"),
]
