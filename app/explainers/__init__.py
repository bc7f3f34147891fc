"""Explainers: servables that say why a model (or a pipeline) answered what it did.

A model folder whose `model-settings.json` declares `"explainer": {"type": ..., "modelRef":
...}` is served by `Explainer` (app/explainers/servable.py), which calls its target through
the in-process client. Methods: `occlusion` (numpy), `kernel_shap` (the `shap` library) or a
user's `ExplainerMethod` subclass named `module:Class`.
"""

from app.explainers.method import ExplainerMethod, Explanation, Predict

__all__ = ["ExplainerMethod", "Explanation", "Predict"]
