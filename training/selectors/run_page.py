"""The run page's context: each value computed on first use, from the run's typed result parsed once per request.

A finished run's result, report and Optuna studies never change (a run that runs again changes its status,
attempt and finish time), so the sections drawn from them are rendered once and kept in the ``run_pages`` cache
by the template's ``{% run_fragment %}`` blocks, keyed by ``run_page_cache_key``; the few facts the live parts of
the page read from the result (its problem, the data trained, the plot names, the result's promotion checks) are
kept under the same key. A page whose fragments are cached never loads the run's ``result`` column
(``training_run_get_for_page`` defers it). The live parts — status, attempts, the log, the profile's current
settings, the active model, permissions, the dataset's size, a sweep's PBO, plot files on disk — are read on
every request.
"""

from __future__ import annotations

import json
import zlib
from functools import cached_property

from django.conf import settings
from django.core.cache import caches

from training.artifact_store import RunFiles, run_local_dir, store_label
from training.models import TrainingRun
from training.selectors import runs as selectors
from training.selectors.optuna_studies import run_optuna_studies
from training.selectors.promotion_checks import promotion_checks_evaluate, result_check_outcomes
from training.selectors.run_advice import run_advice
from training.selectors.run_answers import (
    baselines_answer,
    label_rule_short,
    latest_sweeps,
    problems_answer,
    regularization_answer,
)
from training.selectors.run_summary import BEST_RULE, data_trained, run_page, run_result

PAGE_CACHE = "run_pages"
DEFERRED_FIELDS = ("result", "report", *(f"rerun_of__{name}" for name in ("result", "report", "log", "snapshot")))


def training_run_get_for_page(*, run_id: int) -> TrainingRun:
    """The run with its relations, its result and report left unloaded until something reads them."""
    return selectors.training_run_get_queryset().defer(*DEFERRED_FIELDS).get(pk=run_id)


def run_page_cache_key(run: TrainingRun) -> str | None:
    """What the cached parts of a run's page are keyed on: the run (its id and unique artifacts key) and its last
    change (status, attempt, finish time); None — nothing cached — while the run is not finished or caching is
    off (``RUN_PAGE_CACHE_SECONDS = 0``)."""
    if not run.is_terminal or run.finished_at is None or not getattr(settings, "RUN_PAGE_CACHE_SECONDS", 0):
        return None
    dashboard = getattr(settings, "OPTUNA_DASHBOARD_URL", "") or ""  # the studies' links in a cached fragment
    changed = f"{run.status}:{run.attempts}:{run.finished_at.timestamp():.6f}"
    return f"{run.pk}:{run.artifacts_key.hex}:{changed}:{zlib.crc32(dashboard.encode()):x}"


class RunPage:
    """The run page of one run; ``context()`` gives the template zero-argument callables, so a value a cached
    fragment does not need is never computed."""

    def __init__(self, run: TrainingRun):
        self.run = run
        self.cache_key = run_page_cache_key(run)

    @cached_property
    def parsed(self):
        return run_result(self.run)

    @cached_property
    def summary(self) -> dict:
        return run_page(self.run, parsed=self.parsed)

    @cached_property
    def facts(self) -> dict:
        """What the live parts read from the result, cached with the fragments (keyed by the thresholds too)."""

        def compute() -> dict:
            result, problem = self.parsed
            return {
                "problem": problem,
                "data": result.data if result is not None else None,
                "plots": list((self.run.result or {}).get("plots") or []),
                "checks": result_check_outcomes(run=self.run, parsed=self.parsed)
                if self.run.status == TrainingRun.Status.SUCCEEDED
                else None,
            }

        if self.cache_key is None:
            return compute()
        thresholds = ",".join(f"{key}={value}" for key, value in promotion_thresholds())
        return caches[PAGE_CACHE].get_or_set(
            f"run-page:{self.cache_key}:facts:{thresholds}", compute, settings.RUN_PAGE_CACHE_SECONDS
        )

    def data_trained(self) -> dict | None:
        data = self.facts["data"]
        return data_trained(self.run, data) if data is not None else None

    @cached_property
    def files(self) -> RunFiles:
        return run_local_dir(self.run)

    def plots(self) -> list[str]:
        root = self.files.directory
        return [name for name in self.facts["plots"] if root and (root / name).is_file()]

    def unreadable_files(self) -> list[dict]:
        if not self.run.artifacts_path:
            return []
        return [{"name": name, "worker": self.files.writer_of(name)} for name in self.files.unreadable]

    def promotion_checks(self) -> list:
        outcomes = self.facts["checks"]
        return [] if outcomes is None else promotion_checks_evaluate(run=self.run, outcomes=outcomes)

    def advice(self) -> list[dict]:
        if "advice" not in self.__dict__:
            self.__dict__["advice"] = run_advice(run=self.run, parsed=self.parsed)
        return self.__dict__["advice"]

    def answers(self) -> dict:
        """The three answers at the top of the page (``run_answers``), from the result: cached with the fragments."""
        result = self.parsed[0]
        if result is None:
            return {}
        summary = self.summary
        regimes = summary["regimes"]
        return {
            "baselines": baselines_answer(regimes, summary.get("trading")),
            "regularization": regularization_answer(result, self.advice()),
            "problems": problems_answer(result, regimes),
            "labels": result.labels,
            "label_rule_short": label_rule_short(result.labels or {}),
            "regime_rule": (result.regimes or {}).get("rule"),
        }

    def sweeps(self) -> list[dict]:
        """The latest sweep of this profile per section the run's settings have (live: sweeps come later)."""
        from training.ml.backends import sections

        used = set((self.run.snapshot or {}).get("config") or {})
        return latest_sweeps(profile_id=self.run.profile_id, sections=[k for k in sections() if k in used])

    def context(self) -> dict:
        """The template's names: what the page always shows read now, what only the cached fragments show
        (``{% run_fragment %}``) as callables the template calls on first read, so a cached page never computes
        them."""
        page = self
        memo: dict = {}

        def lazy(name, compute):
            def value():
                if name not in memo:
                    memo[name] = compute()
                return memo[name]

            return value

        run = self.run
        return {
            "page_cache_key": self.cache_key,
            "best_rule": BEST_RULE,
            "result_problem": self.facts["problem"],
            "data_trained": self.data_trained(),
            "plots": self.plots(),
            "unreadable_files": self.unreadable_files(),
            "artifact_store": store_label(),
            "promotion_checks": self.promotion_checks(),
            "snapshot_json": json.dumps({k: v for k, v in run.snapshot.items() if k != "config"}, indent=2),
            "settings_rows": selectors.settings_by_backend(
                used=run.snapshot.get("config") or {}, current=run.profile.resolved_config()
            ),
            "regimes": lazy("regimes", lambda: page.summary["regimes"]),
            "definitions": lazy("definitions", lambda: page.summary.get("definitions")),
            "charts": lazy("charts", lambda: page.summary["charts"]),
            "trading": lazy("trading", lambda: page.summary.get("trading")),
            "advice": lazy("advice", page.advice),
            "answers": lazy("answers", page.answers),
            "answer_sweeps": self.sweeps() if run.status == TrainingRun.Status.SUCCEEDED else [],
            "optuna_studies": lazy("optuna_studies", lambda: run_optuna_studies(run=page.run)),
        }


def promotion_thresholds() -> list[tuple[str, float | None]]:
    from training.selectors.promotion_checks import CHECKS

    return [(check.key, check.threshold()) for check in CHECKS if check.setting]
