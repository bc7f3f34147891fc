"""Predictors: the plugin interface for models, and the loader that builds them."""

from app.predictors.base import Predictor, Tensors
from app.predictors.loader import ImplementationError, build_predictor

__all__ = ["ImplementationError", "Predictor", "Tensors", "build_predictor"]
