import pytest

from training.ml.backends import registered_backends
from training.ml.presets import PRESETS, get_preset
from training.ml.regimes import REGIMES


def test_presets_cover_every_backend_their_ensembles_use_and_grow():
    for name in ("smoke", "quick", "full"):
        assert set(PRESETS[name]["models"]) == set(registered_backends()), name
    assert PRESETS["tiny"]["n_folds"] == 1
    assert {tuple(keys) for keys in PRESETS["tiny"]["ensembles"].values()} == {("logreg",)}
    assert set(PRESETS["tiny"]["ensembles"]) == set(REGIMES)
    assert PRESETS["smoke"]["max_rows"] and PRESETS["quick"]["max_rows"] is None
    assert (
        PRESETS["smoke"]["models"]["lightgbm"]["n_trials"]
        < PRESETS["quick"]["models"]["lightgbm"]["n_trials"]
        < PRESETS["full"]["models"]["lightgbm"]["n_trials"]
    )


def test_get_preset_returns_a_copy_and_rejects_unknown_names():
    get_preset("smoke")["models"]["lstm"]["epochs"] = 999
    assert PRESETS["smoke"]["models"]["lstm"]["epochs"] != 999
    with pytest.raises(KeyError, match="known presets: tiny, smoke, quick, full"):
        get_preset("huge")
