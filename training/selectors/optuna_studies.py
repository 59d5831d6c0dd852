"""The Optuna studies a run's LightGBM tunings wrote to the project database (one per regime and fold), read
straight from Optuna's tables by the study's ``run_id`` user attribute."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connection

STUDY_TABLES = ("studies", "study_user_attributes", "trials")
RUN_ID_ATTR = "run_id"

_STUDIES_SQL = """
SELECT s.study_id, s.study_name, (SELECT COUNT(*) FROM trials t WHERE t.study_id = s.study_id)
FROM studies s JOIN study_user_attributes a ON a.study_id = s.study_id
WHERE a.key = %s AND a.value_json = %s
ORDER BY s.study_name
"""
_ids_sql = "SELECT study_id, value_json FROM study_user_attributes WHERE key = %s"


def optuna_tables_exist() -> bool:
    """Whether Optuna made its tables in this database (the first LightGBM tuning with a storage does)."""
    return set(STUDY_TABLES) <= set(connection.introspection.table_names())


def study_link(study_id: int) -> str:
    """optuna-dashboard's page of a study, when ``OPTUNA_DASHBOARD_URL`` names a running dashboard."""
    base = (getattr(settings, "OPTUNA_DASHBOARD_URL", "") or "").rstrip("/")
    return f"{base}/dashboard/studies/{study_id}" if base else ""


def tuned_by_optuna(result: dict | None) -> bool:
    """Whether the result holds a model of a backend that Optuna tunes (only those runs have studies)."""
    from training.ml.backends.registry import backend_classes

    tuned = {cls.key for cls in backend_classes() if cls.tuned_by_optuna}
    ensembles = (result or {}).get("ensembles") or {}
    return any(tuned & set((section or {}).get("models") or {}) for section in ensembles.values())


def run_optuna_studies(*, run) -> list[dict]:
    """``[{id, name, trials, link}]`` of the studies stored with this run's id, by name (regime, fold); no query
    for a run without an Optuna-tuned model."""
    if not tuned_by_optuna(run.result) or not optuna_tables_exist():
        return []
    with connection.cursor() as cursor:
        cursor.execute(_STUDIES_SQL, [RUN_ID_ATTR, json.dumps(int(run.pk))])
        rows = cursor.fetchall()
    return [{"id": sid, "name": name, "trials": trials, "link": study_link(sid)} for sid, name, trials in rows]


def optuna_study_ids_by_run() -> dict[int, list[int]]:
    """Every stored study that carries a run id: ``{run id: [study ids]}`` (sweep studies carry none)."""
    if not optuna_tables_exist():
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_ids_sql, [RUN_ID_ATTR])
        rows = cursor.fetchall()
    found: dict[int, list[int]] = {}
    for study_id, value in rows:
        run_id = json.loads(value)
        if isinstance(run_id, int):
            found.setdefault(run_id, []).append(study_id)
    return found
