from django.urls import path, register_converter

from training.url_converters import IdConverter, MarketPartConverter
from training.views import health, markets, metrics, registry, robustness, run_groups, runs, sweeps

register_converter(IdConverter, "id")
register_converter(MarketPartConverter, "marketpart")

app_name = "training"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
    path("workers/", health.worker_list, name="worker_list"),
    path("workers.json", health.worker_list_json, name="worker_list_json"),
    path("", runs.home, name="home"),
    path("runs/", runs.run_list, name="run_list"),
    path("runs/new/", runs.run_new, name="run_new"),
    path("runs/compare/", runs.run_compare, name="run_compare"),
    path("runs/<id:run_id>/", runs.run_detail, name="run_detail"),
    path("runs/<id:run_id>/cancel/", runs.run_cancel, name="run_cancel"),
    path("runs/<id:run_id>/rerun/", runs.run_rerun, name="run_rerun"),
    path("runs/<id:run_id>/notes/", runs.run_notes, name="run_notes"),
    path("runs/<id:run_id>/promote/", registry.run_promote, name="run_promote"),
    path("groups/new/", run_groups.run_group_new, name="run_group_new"),
    path("groups/<id:group_id>/", run_groups.run_group_detail, name="run_group_detail"),
    path("groups/<id:group_id>/status.json", run_groups.run_group_status_json, name="run_group_status"),
    path("robustness/", robustness.robustness, name="robustness"),
    path("markets/", markets.market_list, name="market_list"),
    path("models/", registry.model_list, name="model_list"),
    path(
        "models/<marketpart:exchange>/<marketpart:symbol>/<marketpart:interval>/rollback/",
        registry.model_rollback_view,
        name="model_rollback",
    ),
    path("schedules/", registry.schedule_list, name="schedule_list"),
    path("schedules/preview.json", registry.schedule_preview, name="schedule_preview"),
    path("schedules/<id:schedule_id>/edit/", registry.schedule_edit, name="schedule_edit"),
    path("schedules/<id:schedule_id>/enabled/", registry.schedule_enable, name="schedule_enable"),
    path("runs/<id:run_id>/progress.json", runs.run_progress, name="run_progress"),
    path("runs/<id:run_id>/run.json", runs.run_export, name="run_export"),
    path("runs/<id:run_id>/artifacts.zip", runs.run_artifacts_zip, name="run_artifacts_zip"),
    path("runs/<id:run_id>/files/<path:name>", runs.run_file, name="run_file"),
    path("sweeps/", sweeps.sweep_list, name="sweep_list"),
    path("sweeps/new/", sweeps.sweep_new, name="sweep_new"),
    path("sweeps/<id:sweep_id>/", sweeps.sweep_detail, name="sweep_detail"),
    path("sweeps/<id:sweep_id>/cancel/", sweeps.sweep_cancel_view, name="sweep_cancel"),
    path("sweeps/<id:sweep_id>/save-profile/", sweeps.sweep_save_profile, name="sweep_save_profile"),
    path("sweeps/<id:sweep_id>/points/<id:index>/rerun/", sweeps.sweep_point_rerun_view, name="sweep_point_rerun"),
    # The name other pages link a run's JSON by; the DRF endpoint itself (training.api) answers the URL.
]
