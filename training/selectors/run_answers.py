"""The three answers at the top of the run page, read from the typed result and the run page's regime tables:

1. **Does the system beat the baselines?** Each trained regime's ensemble against its best baseline (the
   bootstrap record: "Δ test log loss vs <baseline>" with its 95 % interval) and the system's after-cost verdict.
2. **Did regularization help?** Per backend, what its evidence measured in the generic fields its class declares
   (``penalty_share``, ``zero_share``; ``Backend.evidence_fields``) and the same-model train−validation log-loss
   gap, averaged over the trained regimes, with the advisor's suggestions and the latest sweep of a parameter of
   this profile in that backend's section (``latest_sweeps``, read live).
3. **Is anything wrong?** Collapsed models, no skill, a calibration temperature at its search bound, the backends'
   own measured warnings, skipped regimes; the holes in the data (live) are added by the template.

Generic: no backend is named here; a backend's meaning comes from its class in the registry.
"""

from __future__ import annotations

import statistics

from training.ml.backends import get_backend
from training.ml.backends.evidence import PENALTY_SHARE, ZERO_SHARE
from training.ml.calibration import T_BOUNDS
from training.ml.results import RunResult
from training.selectors.run_advice import trained_backend_models

CAP_TOLERANCE = 1e-3  # a fitted temperature within 0.1 % of a bound of its search is at that bound
MSG_AT_CAP = (
    "{regime}: calibration temperature {temperature:.3f} is at the {side} of its search range [{low:g}, {high:g}]: "
    "the ensemble's probabilities {meaning}"
)
MSG_SKIPPED = "{regime}: not trained — {reason}"
MSG_NOTHING_WRONG = "Nothing found: no collapse, no missing skill, calibration inside its range, every regime trained."
CAP_MEANING = {
    "upper bound": "are flattened as far as the fit allows (far over-confident members)",
    "lower bound": "are sharpened as far as the fit allows (far under-confident members)",
}


def calibration_at_cap(calibration) -> dict | None:
    """The bound a fitted temperature sits at (``{"temperature", "side", "bound"}``), or None inside the range."""
    temperature = ((calibration.parameter or {}).get("temperature")) if calibration is not None else None
    if temperature is None:
        return None
    for side, bound in (("lower bound", T_BOUNDS[0]), ("upper bound", T_BOUNDS[1])):
        if abs(temperature - bound) <= CAP_TOLERANCE * bound:
            return {"temperature": temperature, "side": side, "bound": bound}
    return None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def baselines_answer(regimes: list[dict], trading: dict | None) -> dict:
    """Per trained regime its verdict (the regime table's), and the system's after-cost line."""
    lines = [
        {"regime": r["regime"], "status": r["status"], "reason": r["reason"], **r["verdict"]}
        for r in regimes
        if r["status"] != "trained" or r["verdict"].get("source") != "none"
    ]
    counts: dict[str, int] = {}
    for line in lines:
        if "verdict" in line:
            counts[line["verdict"]] = counts.get(line["verdict"], 0) + 1
    system = None
    if trading:
        record = trading["record"]
        after = record.after_costs
        system = {
            "verdict": record.verdict,
            "sharpe": after.stats.sharpe,
            "low": after.sharpe_ci95_low,
            "high": after.sharpe_ci95_high,
            "cost_bps": after.cost_bps,
            "n_trials": record.deflation.n_trials if record.deflation else None,
            "dsr": record.deflation.dsr if record.deflation else None,
        }
    return {"lines": lines, "counts": counts, "system": system}


def regularization_answer(result: RunResult, advice: list[dict]) -> list[dict]:
    """One row per backend that trained: its generic evidence and same-model gap averaged over the regimes it
    trained in, the advisor's suggestions for it, and its profile section (to find its sweeps)."""
    per_backend: dict[str, dict] = {}
    for regime, key, model, cls in trained_backend_models(result):
        row = per_backend.setdefault(
            key,
            {"model": key, "section": cls.config_section, "regimes": [], PENALTY_SHARE: [], ZERO_SHARE: []},
        )
        row.setdefault("gaps", [])
        row["regimes"].append(regime)
        fields = cls.generic_evidence(model.evidence)
        for name in (PENALTY_SHARE, ZERO_SHARE):
            if name in fields:
                row[name].append(float(fields[name]))
        if model.train_val_gap is not None and model.train_val_gap.log_loss is not None:
            row["gaps"].append(float(model.train_val_gap.log_loss))
    rows = []
    for key, row in per_backend.items():
        suggestions = [a for a in advice if a["model"] == key]
        rows.append(
            {
                "model": key,
                "section": row["section"],
                "regimes": row["regimes"],
                "penalty_share": _mean(row[PENALTY_SHARE]),
                "zero_share": _mean(row[ZERO_SHARE]),
                "gap": _mean(row["gaps"]),
                "advice": suggestions,
                "advice_directions": sorted({a["direction"] for a in suggestions}),
            }
        )
    return rows


def label_rule_short(labels: dict) -> str:
    """What is predicted, in one line from the label fields: the classes, the horizon and the threshold."""
    classes = " / ".join(str(v) for _, v in sorted((labels.get("classes") or {}).items(), key=lambda kv: int(kv[0])))
    horizon = labels.get("horizon")
    text = f"{classes} over the next {horizon} bars"
    if labels.get("k") is not None and labels.get("vol_window"):
        text += (
            f": up if the {horizon}-bar log return is above {labels['k']:g} × the {labels['vol_window']}-bar "
            f"volatility × √{horizon}, down if below minus that, else flat"
        )
    return text


def _grouped(found: list[dict]) -> list[dict]:
    """Problems that read the same in several regimes, once with the regimes listed (``regime: text`` → one)."""
    out: dict[tuple, dict] = {}
    for problem in found:
        where, _, rest = problem["text"].partition(": ")
        regime, slash, model = where.partition("/")
        key = (problem["kind"], model, rest)
        if key in out:
            out[key]["regimes"].append(regime)
        else:
            out[key] = {**problem, "regimes": [regime], "rest": rest, "model": model if slash else ""}
    grouped = []
    for entry in out.values():
        regimes = ", ".join(entry["regimes"])
        where = f"{regimes}/{entry['model']}" if entry["model"] else regimes
        grouped.append({"kind": entry["kind"], "text": f"{where}: {entry['rest']}", "regimes": entry["regimes"]})
    return grouped


def problems_answer(result: RunResult, regimes: list[dict]) -> list[dict]:
    """What is wrong, from the result: collapsed or skill-less models and ensembles (their flags), a calibration
    temperature at its bound, the backends' declared measured warnings, regimes not trained; a problem that reads
    the same in several regimes is listed once with them."""
    found = []
    for table in regimes:
        regime = table["regime"]
        if table["status"] != "trained":
            found.append({"kind": "skipped", "text": MSG_SKIPPED.format(regime=regime, reason=table["reason"])})
            continue
        for line in table["lines"]:
            for flag in line["flags"]:
                if flag["kind"] == "collapsed":
                    found.append({"kind": "collapsed", "text": f"{regime}/{line['name']}: {flag['text']}"})
        section = result.ensembles[regime]
        cap = calibration_at_cap(section.ensemble.calibration if section.ensemble else None)
        if cap is not None:
            low, high = T_BOUNDS
            text = MSG_AT_CAP.format(regime=regime, low=low, high=high, meaning=CAP_MEANING[cap["side"]], **cap)
            found.append({"kind": "calibration", "text": text})
        for key, model in section.models.items():
            try:
                cls = get_backend(key)
            except KeyError:
                continue
            found += [{"kind": "warning", "text": text} for text in cls.warnings_for(f"{regime}/{key}", model.evidence)]
    return _grouped(found)


def latest_sweeps(*, profile_id: int, sections: list[str]) -> list[dict]:
    """Per profile section, the latest sweep of this profile with an axis in that section (``section.param``) or
    on a base parameter (no section: it reaches every backend); one entry per sweep with the sections it is the
    latest for. Read live: sweeps are added after a run finishes."""
    from training.models import Sweep

    found: dict[str, tuple] = {}
    wanted = set(sections)
    for sweep in Sweep.objects.filter(profile_id=profile_id).only("id", "name", "axes", "created_at")[:200]:
        for param in sweep.params:
            prefix = param.split(".", 1)[0] if "." in param else None
            for section in sorted(wanted - set(found)):
                if prefix is None or prefix == section:
                    found[section] = (sweep, param)
        if len(found) == len(wanted):
            break
    entries: dict[int, dict] = {}
    for section, (sweep, param) in sorted(found.items()):
        entry = entries.setdefault(sweep.pk, {"id": sweep.pk, "name": sweep.name, "params": [], "sections": []})
        entry["sections"].append(section)
        if param not in entry["params"]:
            entry["params"].append(param)
    return list(entries.values())
