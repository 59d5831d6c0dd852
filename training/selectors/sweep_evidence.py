"""A sweep's points grouped by their values (one run per seed), the best group, and the evidence behind it.

A **group** is the runs of one set of swept values (``Sweep.seeds`` of them). It counts once every seed's run
succeeded and was recorded; its objective is the mean of its runs' objectives. A group with a failed or cancelled
run is left out of the choice (and counted). The evidence is read from the runs' stored validation and test
predictions (``training.ml.sweep_evidence``): per regime and model the seed-mean validation log loss with its
interval (moving-block over rows, widened by the seeds' spread), and the best group's paired difference to the
runner-up, to the least-regularized group and to every other group; after the choice, the same comparison on
the held-out test block, which played no part in it.
"""

from __future__ import annotations

import math
from statistics import fmean, stdev

from training.models import Sweep, SweepPoint, TrainingRun

MSG_NO_EVIDENCE = "no evidence that any point differs from the best (every paired interval includes 0)"
MSG_EVIDENCE = "the best point is better than {better} of {others} other point(s) on the same validation rows"
MSG_FAILED_IGNORED = "{count} point(s) left out of the choice: a run failed or was cancelled"
MSG_TEST_LABEL = "held-out test block, after the choice — not used to choose"
MSG_NO_PREDICTIONS = "the runs' stored predictions are not available"
ENSEMBLE = "ensemble"


def _key(values: dict) -> tuple:
    return tuple(sorted(values.items()))


def point_groups(*, sweep: Sweep, points: list[SweepPoint]) -> list[dict]:
    groups: dict[tuple, dict] = {}
    for point in sorted(points, key=lambda p: p.index):
        group = groups.setdefault(_key(point.values), {"values": point.values, "points": []})
        group["points"].append(point)
    out = []
    for group in groups.values():
        members = group["points"]
        done = [
            p
            for p in members
            if p.recorded and p.run.status == TrainingRun.Status.SUCCEEDED and p.objective is not None
        ]
        complete = len(done) == len(members) and len(members) >= max(1, sweep.seeds or 1)
        objectives = [p.objective for p in done]
        out.append(
            {
                **group,
                "index": members[0].index,
                "complete": complete,
                "failed": any(
                    p.run.status in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELLED) for p in members
                ),
                "objective": fmean(objectives) if complete else None,
                "objective_seed_sd": stdev(objectives) if complete and len(objectives) > 1 else 0.0,
                "point": members[0],
            }
        )
    return out


def sweep_best_group(*, sweep: Sweep, points: list[SweepPoint]) -> dict | None:
    complete = [g for g in point_groups(sweep=sweep, points=points) if g["complete"]]
    return min(complete, key=lambda g: (g["objective"], g["index"])) if complete else None


def _strength(groups: list[dict], params: list[str]) -> dict[int, float]:
    """Each group's strength: the sum over the swept parameters of its value's rank (as the trading evidence)."""
    ranks = {g["index"]: 0.0 for g in groups}
    for param in params:
        values = sorted({g["values"].get(param) for g in groups if g["values"].get(param) is not None})
        for g in groups:
            if g["values"].get(param) in values:
                ranks[g["index"]] += values.index(g["values"][param])
    return ranks


def _horizon(sweep: Sweep, run: TrainingRun) -> int:
    from training.ml.presets import get_preset

    labels = (run.result or {}).get("labels") or {}
    return int(labels.get("horizon") or get_preset(sweep.preset)["horizon"])


def _rows(group: dict, split: str):
    from training.artifact_store import run_dir
    from training.ml.sweep_evidence import RowLosses, seed_mean

    parts = []
    for point in group["points"]:
        regimes = [r for r, info in (point.summary or {}).get("regimes", {}).items() if info.get("status") == "trained"]
        directory = run_dir(point.run) if point.run.artifacts_path else None
        if directory is None:
            return None
        rows = RowLosses.load(directory, regimes, split=split)
        if not rows.losses:
            return None
        parts.append(rows)
    return seed_mean(parts)


def _seed_se(group: dict) -> float:
    return group["objective_seed_sd"] / math.sqrt(len(group["points"])) if group["objective_seed_sd"] else 0.0


def _curves(group: dict, rows, *, horizon: int, seed: int) -> dict:
    """Per regime and model: seed-mean validation log loss, its interval, the seeds' spread, gap and effect."""
    from training.ml.sweep_evidence import interval

    out: dict = {}
    for regime, models in rows.losses.items():
        for model, losses in models.items():
            per_seed = [
                ((p.summary.get("regimes", {}).get(regime) or {}).get("models") or {}).get(model) or {}
                for p in group["points"]
            ]
            seed_values = [e["validation_log_loss"] for e in per_seed if e.get("validation_log_loss") is not None]
            spread = stdev(seed_values) if len(seed_values) > 1 else 0.0
            gaps = [e["gap"] for e in per_seed if e.get("gap") is not None]
            effects: dict = {}
            for e in per_seed:
                for name, value in (e.get("effect") or {}).items():
                    effects.setdefault(name, []).append(value)
            out.setdefault(regime, {})[model] = {
                "validation_log_loss": float(losses.mean()),
                "band": interval(losses, horizon=horizon, seed=seed, seed_spread=spread / math.sqrt(len(per_seed))),
                "seed_spread": spread,
                "seeds": len(seed_values),
                "gap": fmean(gaps) if gaps else None,
                "effect": {name: fmean(v) for name, v in effects.items()},
            }
    return out


def sweep_evidence(*, sweep: Sweep, points: list[SweepPoint]) -> dict:
    """The groups with their curves, the best group, its paired differences and the verdict; the test comparison
    to the least-regularized group (labeled as not used for the choice); how many groups were left out."""
    from training.ml.sweep_evidence import NO_EVIDENCE, paired_difference

    groups = point_groups(sweep=sweep, points=points)
    complete = [g for g in groups if g["complete"]]
    model = sweep.objective_model or ENSEMBLE
    out = {
        "model": model,
        "groups": groups,
        "left_out": sum(1 for g in groups if g["failed"]),
        "best": None,
        "best_vs_runner_up": None,
        "best_vs_least_regularized": None,
        "test_best_vs_least_regularized": None,
        "vs_others": [],
        "least_regularized": None,
        "no_evidence": None,
        "verdict": "",
        "note": "",
    }
    if out["left_out"]:
        out["note"] = MSG_FAILED_IGNORED.format(count=out["left_out"])
    if not complete:
        return out
    horizon, seed = _horizon(sweep, complete[0]["point"].run), int(sweep.seed)
    rows = {g["index"]: _rows(g, "validation") for g in complete}
    for g in complete:
        g["curves"] = _curves(g, rows[g["index"]], horizon=horizon, seed=seed) if rows[g["index"]] else {}
    ranked = sorted(complete, key=lambda g: (g["objective"], g["index"]))
    best = ranked[0]
    out["best"] = best
    if any(r is None for r in rows.values()):
        out["verdict"] = MSG_NO_PREDICTIONS
        return out
    strength = _strength(complete, sweep.params)
    least = min(complete, key=lambda g: (strength[g["index"]], g["index"]))

    def compare(other: dict, split_rows=None) -> dict | None:
        a, b = (split_rows or rows)[best["index"]], (split_rows or rows)[other["index"]]
        spread = math.hypot(_seed_se(best), _seed_se(other))
        found = paired_difference(a, b, model=model, horizon=horizon, seed=seed, seed_spread=spread)
        return None if found is None else {**found, "other_index": other["index"], "other_values": other["values"]}

    others = ranked[1:]
    out["vs_others"] = [c for c in (compare(g) for g in others) if c]
    out["best_vs_runner_up"] = compare(others[0]) if others else None
    out["least_regularized"] = least
    if least is not best:
        out["best_vs_least_regularized"] = compare(least)
        test_rows = {g["index"]: _rows(g, "test") for g in (best, least)}
        if all(test_rows.values()):
            found = compare(least, test_rows)
            out["test_best_vs_least_regularized"] = found and {**found, "label": MSG_TEST_LABEL}
    if others:
        better = sum(1 for c in out["vs_others"] if c["verdict"] == "better")
        out["no_evidence"] = all(c["verdict"] == NO_EVIDENCE for c in out["vs_others"])
        out["verdict"] = (
            MSG_NO_EVIDENCE if out["no_evidence"] else MSG_EVIDENCE.format(better=better, others=len(others))
        )
    return out


def _difference_text(name: str, c: dict | None) -> str:
    if c is None:
        return f"{name}: —"
    return (
        f"{name}: {c['difference']:+.5f} [{c['ci95_low']:+.5f}, {c['ci95_high']:+.5f}] on {c['rows']} rows "
        f"({c['verdict']})"
    )


def evidence_lines(evidence: dict) -> list[str]:
    """The evidence as text lines (the ``sweep`` command; the page shows the same numbers)."""
    lines = [f"objective model: {evidence['model']}"]
    if evidence["verdict"]:
        lines.append(f"verdict: {evidence['verdict']}")
    lines.append(_difference_text("best − runner-up (validation)", evidence["best_vs_runner_up"]))
    lines.append(_difference_text("best − least regularized (validation)", evidence["best_vs_least_regularized"]))
    test = evidence["test_best_vs_least_regularized"]
    lines.append(_difference_text(f"best − least regularized ({MSG_TEST_LABEL})", test))
    if evidence["note"]:
        lines.append(evidence["note"])
    return lines


def sweep_curve_charts(*, sweep: Sweep, evidence: dict) -> list[dict]:
    """Per swept parameter and regime: per model the seed-mean validation log loss of every complete point whose
    other swept values equal the best point's, with its interval, seed spread and gap. ``x`` is the value's log10
    position (0 one decade left of the smallest positive value, ``zero_at``) for a log axis that can show 0."""
    best = evidence["best"]
    groups = [g for g in evidence["groups"] if g["complete"] and g.get("curves")]
    charts = []
    for param in sweep.params:
        others = [o for o in sweep.params if o != param]
        chosen = [g for g in groups if best is None or all(g["values"].get(o) == best["values"].get(o) for o in others)]
        values = [g["values"][param] for g in chosen]
        positive = [v for v in values if v > 0]
        zero_at = math.log10(min(positive)) - 1 if positive else 0.0

        def position(value: float, zero_at: float = zero_at) -> float:
            return math.log10(value) if value > 0 else zero_at

        for regime in sorted({r for g in chosen for r in g["curves"]}):
            series: dict = {}
            for g in sorted(chosen, key=lambda g: g["values"][param]):
                for model, c in (g["curves"].get(regime) or {}).items():
                    series.setdefault(model, []).append(
                        {
                            "x": position(g["values"][param]),
                            "value": g["values"][param],
                            "point": g["index"],
                            "y": c["validation_log_loss"],
                            "low": c["band"][0],
                            "high": c["band"][1],
                            "seed_spread": c["seed_spread"],
                            "seeds": c["seeds"],
                            "gap": c["gap"],
                        }
                    )
            charts.append(
                {
                    "param": param,
                    "regime": regime,
                    "objective_model": evidence["model"],
                    "series": series,
                    "best_x": position(best["values"][param]) if best else None,
                    "zero_at": zero_at if 0 in values else None,
                    "slice": {o: best["values"].get(o) for o in others} if best else {},
                }
            )
    return charts


def sweep_history(*, sweep: Sweep, evidence: dict) -> dict:
    """The optimization history (each finished point's objective in creation order, the best so far) and, for an
    optuna sweep, Optuna's parameter importance."""
    rows, best = [], None
    for g in sorted(evidence["groups"], key=lambda g: g["index"]):
        if g["objective"] is None:
            continue
        best = g["objective"] if best is None else min(best, g["objective"])
        rows.append({"point": g["index"], "objective": g["objective"], "best_so_far": best, "values": g["values"]})
    importance = None
    if sweep.mode == Sweep.Mode.OPTUNA and sweep.optuna_study_name:
        from training.services.sweep_optuna import study_importance

        importance = study_importance(name=sweep.optuna_study_name, seed=sweep.seed)
    return {"history": rows, "importance": importance, "params": sweep.params}


MSG_HELD_OFF = (
    "{text}: {model} trained without early stopping at every point ({fact} {low:g}–{high:g}, the preset's maximum): "
    "the swept penalties are the only regularizer this curve shows"
)
MSG_EARLY_STOPPING_AT_WORK = (
    "{model}: early stopping kept {fact} {low:g}–{high:g} in {fired} of {fits} regime fit(s) ({rule}): it does most "
    "of the regularizing there, so the swept penalty changes little{instead}"
)
MSG_HOLD_INSTEAD = "; add the axis line {section}.early_stopping=off to see L1/L2 alone"


def sweep_mechanism(*, sweep: Sweep, points: list[SweepPoint]) -> list[str]:
    """What else regularizes the swept models, from each finished point's recorded mechanism evidence (LightGBM's
    best iteration, Keras' best epoch) read with the backend's own mechanism rules (``Backend.advice``): a line per
    swept model (one an axis reaches) where early stopping stopped early in some regime fit, or where the sweep
    held it off."""
    from training.ml.advisor import MECHANISM
    from training.ml.backends import get_backend

    held = {key: h for h in sweep.holds or [] if h.get("setting") == "early_stopping" for key in h.get("models", [])}
    reached = {key for axis in sweep.axes or [] for key in axis.get("reaches") or []} | set(held)
    effects: dict[str, list[dict]] = {}
    for point in points:
        if not point.recorded or point.run.status != TrainingRun.Status.SUCCEEDED:
            continue
        for info in (point.summary or {}).get("regimes", {}).values():
            for key, entry in (info.get("models") or {}).items():
                if key != ENSEMBLE and (not reached or key in reached):
                    effects.setdefault(key, []).append(entry.get("effect") or {})
    lines = []
    for key, fits in effects.items():
        try:
            cls = get_backend(key)
        except KeyError:
            continue
        if key in held:
            fact = cls.mechanism_evidence[0] if cls.mechanism_evidence else ""
            values = [e[fact] for e in fits if isinstance(e.get(fact), (int, float))]
            if values:
                lines.append(
                    MSG_HELD_OFF.format(text=held[key]["text"], model=key, fact=fact, low=min(values), high=max(values))
                )
            continue
        for rule in (r for r in cls.advice if r.direction == MECHANISM):
            fired = [e for e in fits if rule.fires(e)]
            if not fired:
                continue
            fact = rule.when[-1].fact
            values = [e[fact] for e in fired]
            instead = MSG_HOLD_INSTEAD.format(section=cls.config_section) if "early_stopping" in cls.holds else ""
            lines.append(
                MSG_EARLY_STOPPING_AT_WORK.format(
                    model=key,
                    fact=fact,
                    low=min(values),
                    high=max(values),
                    fired=len(fired),
                    fits=len(fits),
                    rule=f"{fact} {rule.when[-1].op} {rule.when[-1].value:g}",
                    instead=instead,
                )
            )
    return lines
