"""Where an explainer's method and background come from: the built-in methods, a user's
`module:Class`, the background file and the feature names."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from app.explainers.kernel_shap import KernelShap
from app.explainers.method import ExplainerMethod
from app.explainers.occlusion import Occlusion
from app.predictors.base import MODEL_FAILURES

BUILT_IN: dict[str, type[ExplainerMethod]] = {"occlusion": Occlusion, "kernel_shap": KernelShap}
BACKGROUND_FILES = ("background.csv", "background.npy")


def method_class(kind: str) -> type[ExplainerMethod]:
    """The method an explainer's `type` names: a built-in one or a user's `module:Class`;
    ValueError saying why it cannot be had."""
    if kind in BUILT_IN:
        return BUILT_IN[kind]
    module_name, _, class_name = kind.partition(":")
    if not module_name or not class_name:
        raise ValueError(
            f"explainer type {kind!r} is neither 'occlusion', 'kernel_shap' nor 'module:Class'"
        )
    try:
        found = getattr(importlib.import_module(module_name), class_name, None)
    except MODEL_FAILURES as error:
        raise ValueError(f"cannot import {kind!r}: {type(error).__name__}: {error}") from error
    if not (isinstance(found, type) and issubclass(found, ExplainerMethod)):
        raise ValueError(f"{kind!r} is not a subclass of app.explainers.ExplainerMethod")
    return found


def read_background(folder: Path, named: object) -> tuple[np.ndarray | None, list[str] | None]:
    """The background rows (float64) of the explainer in `folder`, from the file its
    `background` parameter names or from background.csv / background.npy, and the feature
    names a CSV's header gives; (None, None) without a file."""
    if named is not None:
        path = folder / str(named)
        if not path.is_file():
            raise ValueError(f"background file {path} does not exist")
    else:
        found = [folder / name for name in BACKGROUND_FILES if (folder / name).is_file()]
        if not found:
            return None, None
        path = found[0]
    names = None
    if path.suffix == ".npy":
        rows = np.load(path, allow_pickle=False)
    else:
        first = path.read_text().partition("\n")[0].split(",")
        try:
            [float(value) for value in first]
        except ValueError:
            names = [value.strip() for value in first]
        rows = np.loadtxt(path, delimiter=",", skiprows=1 if names else 0, ndmin=2)
    if rows.ndim != 2 or not rows.size:
        raise ValueError(f"{path}: background data must be rows of features")
    return rows.astype(np.float64), names


def feature_names(
    parameter: object, from_file: list[str] | None, count: int | None
) -> list[str] | None:
    """The feature names the `feature_names` parameter (a list, or text split at commas)
    or the background's header declares; ValueError unless there are `count` of them (when
    the background says how many features there are)."""
    if parameter is None:
        names = from_file
    elif isinstance(parameter, str):
        names = [name.strip() for name in parameter.split(",")]
    elif isinstance(parameter, list):
        names = [str(name) for name in parameter]
    else:
        raise ValueError("feature_names must be a list or comma-separated text")
    if names is not None and count is not None and len(names) != count:
        raise ValueError(f"{len(names)} feature names for {count} features")
    return names
