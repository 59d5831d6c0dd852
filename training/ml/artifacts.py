"""Saving and reloading a run's models.

Layout under the run's ``artifacts_dir``::

    manifest.json                 library versions, features, label and regime definitions, preset, config,
                                  sha256 of every file
    <regime>/ensemble.json        base models, feature names, lookback, regularization, params
    <regime>/<model>/...          the backend's native files (LightGBM text model, .keras, TabNet zip, joblib)
    <regime>/stacker.json         the chosen combiner and its calibration (plain numbers, see ``stacking``)
    <regime>/test_predictions.npz the test-block positions and probabilities, to check a reload against
    *.png                         report plots

``load_ensemble(path)`` reloads one regime directory; ``LoadedEnsemble.predict_candles(candles, positions)``
recomputes the features and returns the ensemble's probabilities for those bars.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

import numpy as np

MANIFEST = "manifest.json"
CORE_LIBRARIES = ("numpy", "pandas", "scikit-learn", "ta", "joblib", "matplotlib")  # data, features, stacking, plots


def libraries() -> list[str]:
    """The engine's own libraries, then each registered backend framework's (as the backend declares them)."""
    from .backends import frameworks

    names = list(CORE_LIBRARIES)
    for framework in frameworks():
        names += [name for name in framework.libraries if name not in names]
    return names


def library_versions() -> dict[str, str | None]:
    import platform

    out = {"python": platform.python_version()}
    for name in libraries():
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory, info: dict) -> dict:
    directory = Path(directory)
    files = {
        str(p.relative_to(directory)): sha256(p)
        for p in sorted(directory.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }
    manifest = {**info, "files": files}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def verify_manifest(directory) -> list[str]:
    """Files whose sha256 no longer matches the manifest (empty when intact)."""
    directory = Path(directory)
    manifest = json.loads((directory / MANIFEST).read_text())
    return [
        name
        for name, digest in manifest["files"].items()
        if not (directory / name).is_file() or sha256(directory / name) != digest
    ]


class LoadedEnsemble:
    def __init__(self, directory: Path, spec: dict, models: dict, stacker) -> None:
        self.directory = directory
        self.spec = spec
        self.models = models
        self.stacker = stacker

    @property
    def feature_names(self) -> list[str]:
        return self.spec["feature_names"]

    def base_proba(self, matrix, positions) -> dict[str, np.ndarray]:
        out = {}
        for key, backend in self.models.items():
            if self.spec["input_kinds"][key] == "sequence":
                X = matrix.windows(positions, self.feature_names, self.spec["lookback"], self.spec["scaling"])
            else:
                X = matrix.tabular(positions, self.feature_names, self.spec["scaling"])
            out[key] = np.asarray(backend.predict_proba(X), dtype=float)
        return out

    def predict_proba(self, matrix, positions) -> np.ndarray:
        """``matrix``: a ``FeatureMatrix`` over the whole series; ``positions``: the bars to predict."""
        return self.stacker.predict_proba(self.base_proba(matrix, positions))

    def predict_candles(self, candles, positions) -> np.ndarray:
        from .dataset import FeatureMatrix
        from .features import compute_features

        frame = compute_features(candles)
        return self.predict_proba(FeatureMatrix.from_frame(frame, list(frame.columns)), positions)

    def saved_test_predictions(self) -> dict[str, np.ndarray]:
        with np.load(self.directory / "test_predictions.npz") as data:
            return {k: data[k] for k in data.files}


def load_ensemble(path) -> LoadedEnsemble:
    from .backends import get_backend
    from .stacking import STACKER_FILE, Stacker

    directory = Path(path)
    spec = json.loads((directory / "ensemble.json").read_text())
    models = {}
    for key in spec["models"]:
        cls = get_backend(key)
        models[key] = cls.load(directory / key, spec["regularization"][key], spec["params"].get(key))
    stacker = Stacker.from_dict(json.loads((directory / STACKER_FILE).read_text()))
    return LoadedEnsemble(directory, spec, models, stacker)
