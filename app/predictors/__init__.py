"""Predictors: the plugin interface for models, and the loader that builds them."""

from app.predictors.base import Predictor
from app.predictors.loader import ImplementationError, build_predictor
from app.protocol.payload import Tensors

__all__ = ["ImplementationError", "Predictor", "Tensors", "build_predictor"]
