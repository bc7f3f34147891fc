"""Builds predictors from model settings: `implementation` is `module:Class`."""

from __future__ import annotations

import importlib
import itertools
import re
import sys
import types
from pathlib import Path

from app.model_settings import ModelSettings
from app.predictors.base import MODEL_FAILURES, Predictor

_PACKAGE_ROOT = "oipserve_models"
_serial = itertools.count()


class ImplementationError(Exception):
    """The implementation named by a model's settings cannot be imported or is no Predictor."""


def _module_in(folder: Path, module: str) -> bool:
    top = module.split(".")[0]
    return (folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file()


def _folder_package(settings: ModelSettings, folder: Path) -> str:
    """A fresh package whose path is `folder`, so that model code of different models (or of
    a reloaded model) never collides in sys.modules and may import its siblings relatively."""
    if _PACKAGE_ROOT not in sys.modules:
        root = types.ModuleType(_PACKAGE_ROOT)
        root.__path__ = []
        sys.modules[_PACKAGE_ROOT] = root
    safe = re.sub(r"\W", "_", f"{settings.name}_{settings.version}")
    name = f"{_PACKAGE_ROOT}.{safe}_{next(_serial)}"
    package = types.ModuleType(name)
    package.__path__ = [str(folder)]
    sys.modules[name] = package
    return name


def import_implementation(settings: ModelSettings) -> type[Predictor]:
    """The Predictor subclass that `settings.implementation` names."""
    module_name, _, class_name = settings.implementation.partition(":")
    if not module_name or not class_name:
        raise ImplementationError(
            f"implementation {settings.implementation!r} must be 'module:Class'"
        )
    for folder in (settings.path, settings.model_folder):
        if _module_in(folder, module_name):
            module_name = f"{_folder_package(settings, folder)}.{module_name}"
            break
    try:
        module = importlib.import_module(module_name)
    except MODEL_FAILURES as error:
        raise ImplementationError(
            f"cannot import {settings.implementation!r}: {type(error).__name__}: {error}"
        ) from error
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Predictor)):
        raise ImplementationError(
            f"{settings.implementation!r} is not a subclass of app.predictors.Predictor"
        )
    return cls


def build_predictor(settings: ModelSettings) -> Predictor:
    """An instance of the model's predictor class, not yet loaded."""
    return import_implementation(settings)(settings)
