"""The regularization advisor's suggestions for a finished run: per regime and model, each rule its backend declares
(``Backend.advice``) read against that model's measured facts (``training.ml.advisor``), with a pre-filled sweep
around the current value."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

from django.urls import reverse

from training.models import TrainingRun


def trained_backend_models(result) -> Iterator[tuple[str, str, object, type]]:
    """(regime, model key, its ``ModelResult``, its backend class) for every model of every trained regime of a
    ``RunResult`` whose backend is registered (a model of a backend since removed is left out)."""
    from training.ml.backends import get_backend

    for regime, section in result.ensembles.items():
        if not section.trained:
            continue
        for key, model in section.models.items():
            try:
                cls = get_backend(key)
            except KeyError:
                continue
            yield regime, key, model, cls


def run_advice(*, run: TrainingRun, parsed=None) -> list[dict]:
    """``parsed`` is ``run_result(run)`` when the caller has it (the run page parses the result once)."""
    from training.ml.advisor import advise, model_facts
    from training.ml.results import RunResult

    if run.status != TrainingRun.Status.SUCCEEDED or not run.result:
        return []
    result = parsed[0] if parsed is not None and parsed[0] is not None else RunResult.from_dict(run.result)
    config = (run.snapshot or {}).get("config") or {}
    out = []
    for regime, key, model, cls in trained_backend_models(result):
        facts = model_facts(
            gap=model.train_val_gap.log_loss if model.train_val_gap else None,
            collapsed=model.collapsed,
            evidence=model.evidence.to_dict(),
            reg=config.get(cls.config_section) or {},
        )
        for suggestion in advise(cls.advice, facts, section=cls.config_section):
            url = ""
            if suggestion["sweep_axis"]:
                query = {
                    "profile": run.profile_id,
                    "preset": run.preset,
                    "symbol": run.symbol,
                    "axes": "\n".join([suggestion["sweep_axis"], *suggestion["sweep_holds"]]),
                }
                url = f"{reverse('training:sweep_new')}?{urlencode(query)}"
            out.append({"regime": regime, "model": key, **suggestion, "sweep_url": url})
    return out
