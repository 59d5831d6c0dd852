"""Helpers shared by the profile tests: every declared field with an out-of-range example, admin POST data
and report-row look-up."""

from training.ml.regularization import BASE_LABEL, BASE_PARAMS, MSG_OUT_OF_RANGE, iter_override_params


def declared_fields():
    """(field name, RegParam, label) for every base and per-backend parameter."""
    rows = [(p.name, p, BASE_LABEL) for p in BASE_PARAMS]
    rows += [(field, p, spec.label) for spec, p, field in iter_override_params()]
    return rows


def out_of_range_cases():
    cases = []
    for field, p, label in declared_fields():
        examples = p.interval.out_of_range_examples()
        assert examples, f"{field} declares no bound"
        for value in examples:
            message = MSG_OUT_OF_RANGE.format(name=p.name, label=label, interval=p.interval, value=value)
            cases.append(pytest_param(field, value, message))
    return cases


def pytest_param(field, value, message):
    import pytest

    return pytest.param(field, value, message, id=f"{field}={value:g}")


def blank_post(profile=None, **changes) -> dict:
    """Admin change-form POST data for ``profile`` (or the model defaults), with ``changes`` applied."""
    data = {"name": "p", "description": ""}
    for p in BASE_PARAMS:
        data[p.name] = p.default
    for _, _, field in iter_override_params():
        data[field] = ""
    if profile is not None:
        data["name"] = profile.name
        data["description"] = profile.description
        for p in BASE_PARAMS:
            data[p.name] = getattr(profile, p.name)
        for _, _, field in iter_override_params():
            value = getattr(profile, field)
            data[field] = "" if value is None else value
        if profile.pk is not None:  # the version the change page showed: the row's current one
            from training.models import RegularizationProfile

            data["seen_version"] = RegularizationProfile.objects.get(pk=profile.pk).version
    data.update(changes)
    return {k: ("" if v is None else str(v)) for k, v in data.items()}


def row(report, backend, name):
    """The row of parameter ``name`` in ``backend``'s section of a regularization report."""
    return next(r for r in report["backends"][backend]["params"] if r["name"] == name)
