"""What the DataPlane reads of a loaded model version on every request, read from its
predictor once: the signature requests are checked against and, for the predict lane, the
predictor's `predict` ready to await."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from app.predictors.base import Predictor, Tensors, as_coroutine_function
from app.signatures import Signature

if TYPE_CHECKING:
    from app.registry import ModelVersion

Predict = Callable[[Tensors], Awaitable[Tensors]]


class Plan:
    """How one loaded version is served."""

    __slots__ = ("batched", "predict", "signature")

    def __init__(self, entry: ModelVersion, predictor: Predictor) -> None:
        self.signature = Signature(predictor.metadata())
        self.predict: Predict | None = (
            as_coroutine_function(predictor.predict) if predictor.predict_only else None
        )
        """The lane's `predict`, None for a predictor that implements `infer` (its answers
        are not only predict's arrays)."""
        settings = entry.settings
        self.batched = settings is not None and bool(settings.max_batch_size)
        """Whether the first dimension of the first input is the batch size."""


def plan_of(entry: ModelVersion, predictor: Predictor) -> Plan:
    """The version's plan, made at its first request."""
    plan = entry.plan
    if plan is None:
        plan = entry.plan = Plan(entry, predictor)
    return plan
