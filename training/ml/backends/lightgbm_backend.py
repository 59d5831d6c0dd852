from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..advisor import GAP_LARGE, MECHANISM, NO_EFFECT, STRONGER, WEAKER, AdviceRule, When
from ..parameters import NON_NEGATIVE, PENALTY_CEILING, FromBase, RegParam, Section
from .base import N_CLASSES, Backend, Framework
from .evidence import BEST_ITERATION, ZERO_SHARE, Evidence, MeasuredWarning
from .registry import register


@dataclass
class LightGBMEvidence(Evidence):
    """The booster's penalties and early stopping, and what the L1/L2 leaf penalties did to its trees."""

    reg_alpha: float | None = None
    reg_lambda: float | None = None
    best_params: dict[str, Any] | None = None
    n_trials: dict[str, Any] | None = None
    best_iteration: int | None = None
    early_stopping: int | None = None
    sampler: dict[str, Any] | None = None
    trees: int | None = None
    leaves: int | None = None
    splits: int | None = None
    zero_leaf_share: float | None = None
    mean_abs_leaf: float | None = None


SECTION = Section(
    "lightgbm",
    "LightGBM",
    (
        RegParam(
            "reg_alpha",
            NON_NEGATIVE,
            FromBase("l1_alpha"),
            "L1 on leaf weights.",
            library_arg="reg_alpha",
            warn_above=100.0,
            ceiling=PENALTY_CEILING,
        ),
        RegParam(
            "reg_lambda",
            NON_NEGATIVE,
            FromBase("l2_alpha"),
            "L2 on leaf weights.",
            library_arg="reg_lambda",
            warn_above=100.0,
            ceiling=PENALTY_CEILING,
        ),
    ),
    "Passed as LGBMClassifier(reg_alpha=…, reg_lambda=…); held fixed while Optuna tunes the other params.",
)
LIGHTGBM = Framework("lightgbm", ("lightgbm", "optuna"), modules=("lightgbm", "optuna"))
SEARCH_SPACE = {
    "n_estimators": (50, 500),
    "learning_rate": (1e-3, 0.2),  # log scale
    "num_leaves": (20, 300),
}
MODEL_FILE = "lightgbm_model.txt"


NO_EFFECT_SHARE = 0.01  # fewer zero leaves than this: the L1 penalty changed nothing measurable
MSG_NO_EFFECT = (
    "{where}: reg_alpha = {reg_alpha:g} set {zero_share:.1%} of the leaves to zero; the L1 penalty has no measurable "
    "effect."
)
WARNINGS = (MeasuredWarning(MSG_NO_EFFECT, (When("reg_alpha", ">", 0), When(ZERO_SHARE, "<", NO_EFFECT_SHARE))),)
FEW_TREES = 30  # early stopping at this many trees or fewer regularizes more than the leaf penalties
ADVICE = (
    AdviceRule(
        "stronger",
        STRONGER,
        (When("gap", ">", GAP_LARGE), When("collapsed", "==", 0), When("zero_leaf_share", "<", 0.01)),
        "The validation log loss is {gap:.3f} above the fit rows' and the leaf penalties zero almost no leaf: a "
        "larger reg_lambda may generalize better.",
        param="reg_lambda",
    ),
    AdviceRule(
        "weaker",
        WEAKER,
        (When("collapsed", "==", 1),),
        "The model collapsed to the class prior: the leaf penalties (or the regime's lack of signal) leave no "
        "split worth making; try a smaller reg_alpha.",
        param="reg_alpha",
    ),
    AdviceRule(
        "l1_no_effect",
        NO_EFFECT,
        (When("reg.reg_alpha", ">", 0), When("zero_leaf_share", "==", 0)),
        "reg_alpha is {reg_reg_alpha:g} but no leaf is zero: L1 has no effect at this scale.",
        param="reg_alpha",
    ),
    AdviceRule(
        "early_stopping",
        MECHANISM,
        (When("early_stopping", "==", 1, default=1), When("best_iteration", "<=", FEW_TREES)),
        "Early stopping kept {best_iteration:g} boosting rounds: it does most of the regularizing here, so L1/L2 "
        "change little; sweep them with early stopping held off to see their own effect.",
        param="reg_lambda",
        hold="early_stopping=off",
    ),
)


@register
class LightGBMBackend(Backend):
    """Gradient boosting tuned by Optuna; ``reg_alpha``/``reg_lambda`` are fixed from the profile.

    Uses LightGBM's native ``lightgbm.train`` with ``objective="multiclass", num_class=3`` so the booster
    always has the three columns, even when a class is absent from the training part (the scikit-learn
    wrapper would shrink to the classes it saw and reject unseen validation labels).

    Each Optuna trial trains on the training part and is scored by the best ``multi_logloss`` on the
    (time-ordered, later) validation part; a per-iteration callback reports that loss to the pruner.
    The best parameters are then refit with early stopping on the validation part.

    params keys read (default):
      n_trials (20)                 Optuna trials
      n_jobs (1)                    LightGBM ``num_threads``; 1 by default: with the CPUs shared, OpenMP
                                    threads spin and 2 threads ran up to 7x slower than 1 (bench/)
      early_stopping_rounds (20)    patience in boosting rounds, in trials and in the refit
      early_stopping (True)         False (a sweep's ``lightgbm.early_stopping=off``): no early stopping anywhere;
                                    every trial and the refit boost the search space's largest ``n_estimators``
                                    (the preset's max, fixed) and Optuna tunes learning_rate and num_leaves only,
                                    so the leaf penalties are the regularizer a sweep of them sees
      optuna_storage (None)         SQLAlchemy URL of Optuna's RDB storage. The tuning always runs on an in-memory
                                    study; when the tuning ends (finished, stopped or failed) its trials are written
                                    there once, so optuna-dashboard shows them. None: nothing is written
      study_name (None)             the stored study's name (an existing study gets the trials appended, so give
                                    each fit its own name); None: Optuna names it
      study_user_attrs ({})         user attributes of the stored study (the ensemble gives run_id, regime, fold)
      optuna_timeout (None)         seconds for the whole study, None for no limit
      startup_trials (n_trials // 3) TPE's random start-up trials, capped at a third of the trials (at least 1) so
                                    most trials are guided by the model of the earlier ones; the sampler is seeded
                                    with the backend's seed (the ensemble derives one per regime and fold)
      pruner_warmup_steps (10)      boosting rounds before MedianPruner may prune a trial
      pruner_startup_trials (2)     completed trials before pruning starts
      report_every (10)             report the validation loss to the pruner every this many rounds
      search_space (SEARCH_SPACE)   optional narrower bounds, e.g. {"n_estimators": [50, 150]} for a smoke run;
                                    keys n_estimators / learning_rate / num_leaves, merged over the defaults
    """

    key = "lightgbm"
    effect_evidence = ("zero_leaf_share", "mean_abs_leaf")
    mechanism_evidence = ("best_iteration", "trees", "early_stopping")
    history_unit = "boosting round"
    evidence_fields = {ZERO_SHARE: "zero_leaf_share", BEST_ITERATION: "best_iteration"}
    evidence_type = LightGBMEvidence
    measured_warnings = WARNINGS
    test_params = {"n_trials": 3, "early_stopping_rounds": 10}
    default_reason = (
        "LightGBM keeps the base values (from reg_alpha 0.5 up the bear-trend model collapsed to the class prior, "
        "which finds no signal there and is flagged as collapsed in the quick run even at the base values)"
    )
    saved_state = {"best_params": "best_params", "trials": "trial_summary", "best_iteration": "best_iteration"}
    advice = ADVICE
    holds = {"early_stopping": {"off": {"early_stopping": False}}}
    section = SECTION
    framework = LIGHTGBM
    tuned_by_optuna = True
    preset_params = {
        "smoke": {"n_trials": 3, "early_stopping_rounds": 10},
        "quick": {"n_trials": 10, "early_stopping_rounds": 20},
        "full": {"n_trials": 40, "early_stopping_rounds": 50},
    }

    def base_params(self) -> dict:
        return {
            "objective": "multiclass",
            "num_class": N_CLASSES,
            "metric": "multi_logloss",
            **self.library_kwargs(),
            "seed": int(self.seed),
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": int(self.param("n_jobs", 1)),
            "verbosity": -1,
        }

    def search_space(self) -> dict:
        given = self.params.get("search_space") or {}
        unknown = set(given) - set(SEARCH_SPACE)
        if unknown:
            raise ValueError(f"lightgbm: unknown search_space keys {sorted(unknown)}; known: {sorted(SEARCH_SPACE)}")
        return {**SEARCH_SPACE, **{k: tuple(v) for k, v in given.items()}}

    def train_params(self, hyper: dict) -> dict:
        return {**self.base_params(), "learning_rate": hyper["learning_rate"], "num_leaves": hyper["num_leaves"]}

    def early_stopping(self) -> bool:
        return bool(self.param("early_stopping", True))

    def _train(self, lgb, hyper: dict, train_set, val_set, extra_callbacks=(), with_train_curve=False):
        params = self.train_params(hyper)
        stopper = (
            [lgb.early_stopping(int(self.param("early_stopping_rounds", 20)), first_metric_only=True, verbose=False)]
            if self.early_stopping()
            else []
        )
        valid_sets, valid_names = ([train_set, val_set], ["train", "val"]) if with_train_curve else ([val_set], ["val"])
        with self.timing():
            booster = lgb.train(
                params,
                train_set,
                num_boost_round=int(hyper["n_estimators"]),
                valid_sets=valid_sets,
                valid_names=valid_names,
                callbacks=[*stopper, *extra_callbacks],
            )
        return booster, params

    def fit(self, X_train, y_train, X_val, y_val, sample_weight=None) -> LightGBMBackend:
        import lightgbm as lgb
        import optuna

        self.start_fit("before tuning")
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        train_set = lgb.Dataset(
            np.asarray(X_train, dtype=np.float32), label=np.asarray(y_train), weight=weight, free_raw_data=False
        )
        val_set = lgb.Dataset(
            np.asarray(X_val, dtype=np.float32), label=np.asarray(y_val), reference=train_set, free_raw_data=False
        )
        space = self.search_space()
        report_every = max(1, int(self.param("report_every", 10)))
        fixed_rounds = None if self.early_stopping() else int(space["n_estimators"][1])

        def objective(trial):
            hyper = {
                "n_estimators": fixed_rounds or trial.suggest_int("n_estimators", *space["n_estimators"]),
                "learning_rate": trial.suggest_float("learning_rate", *space["learning_rate"], log=True),
                "num_leaves": trial.suggest_int("num_leaves", *space["num_leaves"]),
            }

            def report(env):
                if (env.iteration + 1) % report_every:
                    return
                trial.report(env.evaluation_result_list[0][2], env.iteration)
                if trial.should_prune():
                    raise optuna.TrialPruned(f"pruned at round {env.iteration}")

            passed = self.train_params(hyper)
            trial.set_user_attr("reg_alpha", passed["reg_alpha"])
            trial.set_user_attr("reg_lambda", passed["reg_lambda"])
            booster, _ = self._train(lgb, hyper, train_set, val_set, [report])
            trial.set_user_attr("best_iteration", booster.best_iteration or booster.current_iteration())
            return booster.best_score["val"]["multi_logloss"]

        def stop_between_trials(study, trial):
            if self.should_stop():
                study.stop()

        study = self.create_study()
        try:
            study.optimize(
                objective,
                n_trials=int(self.param("n_trials", 20)),
                timeout=self.params.get("optuna_timeout"),
                callbacks=[stop_between_trials],
                gc_after_trial=False,
            )
        finally:
            self.persist_study(study)
        self.check_stop("between Optuna trials")
        self.study = study
        trials = study.trials
        self.trial_summary = {
            state: sum(t.state.name == state for t in trials) for state in ("COMPLETE", "PRUNED", "FAIL")
        }
        self.best_params = dict(study.best_params)
        if fixed_rounds:
            self.best_params["n_estimators"] = fixed_rounds

        record: dict = {}
        booster, params = self._train(
            lgb, self.best_params, train_set, val_set, [lgb.record_evaluation(record)], with_train_curve=True
        )
        self.model = booster
        self.best_iteration = booster.best_iteration or booster.current_iteration()
        self.library_params = {
            **params,
            "n_estimators": self.best_params["n_estimators"],
            "best_iteration": self.best_iteration,
            "early_stopping": self.early_stopping(),
            "fixed_rounds": fixed_rounds,
            "search_space": {k: list(v) for k, v in space.items()},
            "sampler": {"name": "TPESampler", "seed": int(self.seed), "n_startup_trials": self.startup_trials()},
            "pruner": "MedianPruner",
            "sample_weight": sample_weight is not None,
        }
        self.history = {
            "train_loss": [float(v) for v in record["train"]["multi_logloss"]],
            "val_loss": [float(v) for v in record["val"]["multi_logloss"]],
        }
        return self

    def _predict_proba(self, X):
        return np.asarray(
            self.model.predict(np.asarray(X, dtype=np.float32), num_iteration=self.best_iteration), dtype=np.float64
        )

    def evidence(self) -> dict:
        return {
            "reg_alpha": self.library_params.get("reg_alpha"),
            "reg_lambda": self.library_params.get("reg_lambda"),
            "best_params": getattr(self, "best_params", self.library_params.get("best_params")),
            "n_trials": getattr(self, "trial_summary", self.library_params.get("trials")),
            "best_iteration": self.library_params.get("best_iteration"),
            "early_stopping": int(bool(self.library_params.get("early_stopping", True))),
            "sampler": self.library_params.get("sampler"),
            **self.leaf_statistics(),
        }

    def leaf_statistics(self) -> dict:
        """What the L1/L2 leaf penalties did to the trees used for prediction: the share of leaves whose value is
        exactly 0 (L1 zeroes a leaf whose gradient sum is below reg_alpha), the mean |leaf value| (both shrink
        it), the number of splits. The first iteration's trees also carry the class priors (boost_from_average),
        so they are left out of the leaf figures when there are later ones; ``trees`` counts every tree used."""
        if self.model is None:
            return {}
        trees = self.model.dump_model(num_iteration=self.best_iteration)["tree_info"]
        measured = trees[N_CLASSES:] if len(trees) > N_CLASSES else trees
        leaves, splits = [], 0
        for tree in measured:
            stack = [tree["tree_structure"]]
            while stack:
                node = stack.pop()
                if "leaf_value" in node:
                    leaves.append(float(node["leaf_value"]))
                else:
                    splits += 1
                    stack += [node["left_child"], node["right_child"]]
        values = np.abs(np.asarray(leaves))
        return {
            "trees": len(trees),
            "leaves": int(values.size),
            "splits": int(splits),
            "zero_leaf_share": float(np.mean(values == 0.0)) if values.size else 0.0,
            "mean_abs_leaf": float(values.mean()) if values.size else 0.0,
        }

    def feature_importance(self) -> list[float]:
        return [float(v) for v in self.model.feature_importance(importance_type="gain", iteration=self.best_iteration)]

    def save_model(self, directory) -> list[str]:
        self.model.save_model(str(directory / MODEL_FILE), num_iteration=self.best_iteration)
        return [MODEL_FILE]

    def load_model(self, directory):
        import lightgbm as lgb

        return lgb.Booster(model_file=str(directory / MODEL_FILE))
