import pytest

from training.ml.backends import registered_backends
from training.ml.presets import PRESETS, get_preset


def test_presets_cover_every_backend_and_grow():
    for name, preset in PRESETS.items():
        assert set(preset["models"]) == set(registered_backends()), name
    assert PRESETS["smoke"]["max_rows"] and PRESETS["quick"]["max_rows"] is None
    assert (
        PRESETS["smoke"]["models"]["lightgbm"]["n_trials"]
        < PRESETS["quick"]["models"]["lightgbm"]["n_trials"]
        < PRESETS["full"]["models"]["lightgbm"]["n_trials"]
    )


def test_get_preset_returns_a_copy_and_rejects_unknown_names():
    get_preset("smoke")["models"]["lstm"]["epochs"] = 999
    assert PRESETS["smoke"]["models"]["lstm"]["epochs"] != 999
    with pytest.raises(KeyError, match="known presets: smoke, quick, full"):
        get_preset("huge")
